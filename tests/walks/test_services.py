"""The rules of the walks' services: the default grid and its translations, recording
observations (idempotent on the form's id, numbered, never empty, positions whole, photos
limited), the walkers' profile, statuses, the grid and the route, recommendations in the shared
follow-up, follow-up walks and their point checks."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.content_i18n import set_translation, translate, translations_of
from participation.core.territories import Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.followup.models import FollowUp, Kind, Status
from participation.followup.services import ensure_default_institutions, institutions_of
from participation.walks import services
from participation.walks.labels import DEFAULT_THEMES
from participation.walks.models import (
    LocationSource, Moderation, Observation, PointCheck, PointOutcome, Walk, WalkStatus,
)
from participation.walks.services import MAX_PHOTOS, ObservationInput, WalkError

from ..conftest import count

DAY = date(2026, 5, 12)
FAC = "animatrice@amp.demo"


def observations_of(walk) -> int:
    """Observations of this walk (the demo has walks of its own)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Observation).filter_by(walk_id=walk.id))


def hood(code="QN01322M") -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def user(email=FAC) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


@pytest.fixture
def walk(demo):
    w = services.create_walk(hood(), "Marche des femmes", DAY, user=user())
    services.add_waypoint(w, "Centre social", 43.32455, 5.40440)
    services.add_waypoint(w, "École", 43.32680, 5.40740)
    services.add_waypoint(w, "Square")  # a name, no coordinates
    return w


@pytest.fixture
def other_walk(demo):
    w = services.create_walk(hood("QN01323M"), "Marche des jeunes", DAY)
    services.add_waypoint(w, "Stade", 43.331, 5.414)
    return w


def theme(walk, code="lighting"):
    return next(t for t in walk.themes if t.code == code)


_colour = iter(range(10_000))


def photo(caption="Une photo"):
    n = next(_colour)
    buf = io.BytesIO()
    # Colours far apart, so that no two pictures are the same JPEG once re-encoded.
    Image.new("RGB", (16, 12), ((n * 53) % 256, (n * 97 + 40) % 256, (n * 29 + 80) % 256)).save(buf, "PNG")
    return services.process_photos([buf.getvalue()])[0], caption


def data(client_id="form-0000001", **fields) -> ObservationInput:
    fields.setdefault("seen", "Lampadaire cassé")
    return ObservationInput(client_id=client_id, **fields)


def record(walk, client_id, **fields):
    obs, _created = services.record_observation(walk, data(client_id, **fields))
    return obs


def error(code):
    return pytest.raises(WalkError, match=f"^{code}$")


# --- the walk and its default grid -------------------------------------------------------


def test_a_new_walk_gets_the_nine_default_themes_in_order(walk):
    assert [t.code for t in walk.themes] == [code for code, _n, _p in DEFAULT_THEMES]
    assert [t.position for t in walk.themes] == list(range(9))
    assert all(t.name and t.prompts for t in walk.themes)


def test_default_themes_are_translated_into_every_shipped_language(app, walk):
    others = set(app.config["LANGUAGES"]) - {walk.original_locale}
    for t in walk.themes:
        stored = translations_of(t)
        assert {locale for (field, locale) in stored if field == "name"} == others
        assert {locale for (field, locale) in stored if field == "prompts"} == others
    assert str(translate(theme(walk), "name", "en")) == "Lighting"


def test_the_grid_is_written_in_the_walks_language(demo):
    w = services.create_walk(hood(), "Walk", DAY, locale="en")
    assert theme(w).name == "Lighting" and theme(w).original_locale == "en"
    assert "en" not in {locale for (_f, locale) in translations_of(theme(w))}


def test_the_staff_member_who_creates_a_walk_facilitates_it(walk):
    assert [u.email for u in walk.facilitators] == [FAC]


def test_a_walk_needs_a_title(demo):
    with error("no_title"):
        services.create_walk(hood(), "  ", DAY)


def test_a_facilitator_must_work_in_the_walks_contract(walk):
    with error("facilitator_elsewhere"):
        services.set_facilitators(walk, [user("admin@narbonne.demo")])
    services.set_facilitators(walk, [user("mediateur@amp.demo")])
    assert [u.email for u in walk.facilitators] == ["mediateur@amp.demo"]


# --- recording observations ---------------------------------------------------------------


def test_an_observation_is_recorded_pending_and_numbered(walk):
    obs, created = services.record_observation(walk, data(theme_id=theme(walk).id, rating=1))
    assert created and obs.number == 1 and obs.moderation is Moderation.pending
    assert obs.theme.code == "lighting" and obs.rating == 1


def test_observations_are_numbered_one_two_three(walk):
    assert [record(walk, f"form-{i:07d}").number for i in range(3)] == [1, 2, 3]


def test_numbers_are_per_walk(walk, other_walk):
    record(walk, "form-0000001")
    assert record(other_walk, "form-0000001").number == 1


def test_the_same_form_sent_twice_is_one_observation(walk):
    first, created = services.record_observation(walk, data(theme_id=theme(walk).id, lat=43.3253, lon=5.4054))
    again, created_again = services.record_observation(walk, data(theme_id=theme(walk).id, lat=43.3253, lon=5.4054))
    assert created and not created_again and again.id == first.id
    assert observations_of(walk) == 1


def test_the_same_form_with_its_photos_sent_twice_is_one_observation(walk):
    pictures = [photo(), photo()]
    first, _ = services.record_observation(walk, data(), pictures)
    again, created = services.record_observation(walk, data(), pictures)
    assert not created and again.id == first.id and len(again.photos) == 2


def test_a_form_id_sent_again_with_other_content_is_refused(walk):
    record(walk, "form-0000001", seen="Lampadaire cassé")
    with error("client_id_reused"):
        record(walk, "form-0000001", seen="Poubelles pleines")
    assert observations_of(walk) == 1


def test_a_form_id_sent_again_with_another_photo_is_refused(walk):
    services.record_observation(walk, data(), [photo()])
    with error("client_id_reused"):
        services.record_observation(walk, data(), [photo()])


def test_a_malformed_form_id_is_refused(walk):
    for bad in ("short", "a" * 65, "form id with spaces", ""):
        with error("bad_client_id"):
            record(walk, bad)


def test_an_empty_observation_is_refused(walk):
    with error("empty_observation"):
        record(walk, "form-0000001", seen="   ")
    assert observations_of(walk) == 0


def test_a_photo_alone_is_an_observation(walk):
    obs, created = services.record_observation(walk, data(seen=""), [photo("Le passage souterrain")])
    assert created and obs.photos[0].caption == "Le passage souterrain"


def test_half_a_position_is_refused(walk):
    with error("half_position"):
        record(walk, "form-0000001", lat=43.32, lon=None)
    with error("half_position"):
        record(walk, "form-0000002", lat=None, lon=5.40)


def test_a_position_off_the_earth_is_refused(walk):
    with error("bad_position"):
        record(walk, "form-0000001", lat=91.0, lon=5.40)


def test_a_theme_of_another_walk_is_refused(walk, other_walk):
    with error("unknown_theme"):
        record(walk, "form-0000001", theme_id=theme(other_walk).id)


def test_a_stop_of_another_walk_is_refused(walk, other_walk):
    with error("unknown_waypoint"):
        record(walk, "form-0000001", waypoint_id=other_walk.waypoints[0].id)


def test_a_rating_off_the_scale_is_refused(walk):
    with error("bad_rating"):
        record(walk, "form-0000001", rating=6)


def test_a_stop_of_the_route_gives_its_coordinates(walk):
    stop = walk.waypoints[1]
    obs = record(walk, "form-0000001", waypoint_id=stop.id, location_source=LocationSource.waypoint)
    assert (obs.lat, obs.lon) == (stop.lat, stop.lon)


def test_the_devices_position_wins_over_the_stop(walk):
    obs = record(walk, "form-0000001", waypoint_id=walk.waypoints[1].id, lat=43.3253, lon=5.4054)
    assert (obs.lat, obs.lon) == (43.3253, 5.4054)


def test_a_stop_without_coordinates_leaves_the_observation_unplaced(walk):
    obs = record(walk, "form-0000001", waypoint_id=walk.waypoints[2].id)
    assert obs.lat is None and not obs.located


def test_an_address_alone_gives_no_coordinates(walk):
    obs = record(walk, "form-0000001", address="Sortie du métro", location_source=LocationSource.address)
    assert obs.lat is None and obs.address == "Sortie du métro"


def test_the_accuracy_is_dropped_without_a_position(walk):
    obs = record(walk, "form-0000001", accuracy_m=12)
    assert obs.accuracy_m is None
    assert record(walk, "form-0000002", accuracy_m=12, lat=43.3, lon=5.4).accuracy_m == 12


def test_at_most_max_photos_per_observation(walk):
    with error("too_many_photos"):
        services.record_observation(walk, data(), [photo() for _ in range(MAX_PHOTOS + 1)])
    obs, _ = services.record_observation(walk, data("form-0000002"), [photo() for _ in range(MAX_PHOTOS)])
    assert len(obs.photos) == MAX_PHOTOS
    with error("too_many_photos"):
        services.add_photos(obs, [photo()])


def test_the_same_photo_twice_is_kept_once(walk):
    picture = photo()
    obs, _ = services.record_observation(walk, data(), [picture, picture])
    assert len(obs.photos) == 1
    services.add_photos(obs, [picture])
    assert len(obs.photos) == 1


def test_photos_are_kept_in_the_private_store(app, walk):
    obs, _ = services.record_observation(walk, data(), [photo()])
    store = services.photo_store()
    assert store.exists(obs.photos[0].sha)
    assert not str(store.path(obs.photos[0].sha)).startswith(app.config["UPLOAD_DIR"].rstrip("/") + "/")


def test_staff_are_recorded_as_recorders_participants_never(walk):
    staff_obs, _ = services.record_observation(walk, data("form-0000001"), user=user())
    key_obs, _ = services.record_observation(walk, data("form-0000002"), with_key=True)
    assert staff_obs.recorded_by_id == user().id and key_obs.recorded_by_id is None


def test_the_walks_key_records_only_while_recording_is_open(walk):
    walk.recording_open = False
    with error("recording_closed"):
        services.record_observation(walk, data(), with_key=True)
    obs, created = services.record_observation(walk, data(), user=user())  # staff still can
    assert created


def test_nothing_is_recorded_once_the_report_is_published(walk):
    obs = record(walk, "form-0000001")
    services.moderate_observation(obs, Moderation.published)
    services.set_status(walk, WalkStatus.walked)
    services.set_status(walk, WalkStatus.published)
    with error("walk_published"):
        record(walk, "form-0000002")


def test_a_removed_observations_number_is_not_reused(walk):
    """remove_observation promises "its number is not reused": removing the last one must not
    hand its number to the next observation (a printed map would point at the wrong one)."""
    record(walk, "form-0000001")
    last = record(walk, "form-0000002")
    services.remove_observation(last)
    assert record(walk, "form-0000003").number == 3


def test_an_edited_observation_keeps_the_rules(walk, other_walk):
    obs = record(walk, "form-0000001")
    with error("unknown_theme"):
        services.edit_observation(obs, theme_id=theme(other_walk).id, rating=None, seen="x", quote="", address="")
    with error("empty_observation"):
        services.edit_observation(obs, theme_id=None, rating=None, seen=" ", quote="", address="")
    services.edit_observation(obs, theme_id=theme(walk, "safety").id, rating=2, seen="Sombre", quote="J'ai peur",
                              address="")
    assert (obs.theme.code, obs.rating, obs.seen, obs.quote) == ("safety", 2, "Sombre", "J'ai peur")


def test_a_location_is_whole_or_none(walk):
    obs = record(walk, "form-0000001")
    with error("half_position"):
        services.set_location(obs, 43.3, None, LocationSource.map)
    services.set_location(obs, 43.3, 5.4, LocationSource.map)
    assert obs.location_source is LocationSource.map
    services.set_location(obs, None, None, LocationSource.map)
    assert obs.location_source is LocationSource.none


def test_only_published_observations_and_photos_are_public(walk):
    obs, _ = services.record_observation(walk, data(), [photo(), photo()])
    assert not services.is_public(obs) and services.public_photos(obs) == []
    services.moderate_observation(obs, Moderation.published)
    services.moderate_photo(obs.photos[0], Moderation.published, caption="  Le banc  ")
    services.moderate_photo(obs.photos[1], Moderation.hidden)
    assert services.is_public(obs) and services.public_photos(obs) == [obs.photos[0]]
    assert obs.photos[0].caption == "Le banc"


# --- the walkers' profile -----------------------------------------------------------------


def test_the_profile_keeps_counts_not_names(walk):
    services.set_profile(walk, 14, {("age_band", "25_39"): 5, ("age_band", "60_74"): 0, ("gender", "woman"): 14})
    assert walk.participants == 14
    assert {(p.dimension, p.value, p.count) for p in walk.profile_counts} == {
        ("age_band", "25_39", 5), ("gender", "woman", 14)}


def test_a_new_profile_replaces_the_old_one(walk):
    services.set_profile(walk, 14, {("gender", "woman"): 14})
    services.set_profile(walk, 12, {("gender", "woman"): 10, ("gender", "man"): 2})
    assert sorted((p.value, p.count) for p in walk.profile_counts) == [("man", 2), ("woman", 10)]


def test_a_breakdown_above_the_total_is_refused(walk):
    with error("too_many_participants"):
        services.set_profile(walk, 10, {("age_band", "25_39"): 6, ("age_band", "40_59"): 5})


def test_each_dimension_may_add_up_to_the_total(walk):
    services.set_profile(walk, 10, {("age_band", "25_39"): 10, ("gender", "woman"): 10})
    assert walk.participants == 10


def test_negative_counts_are_refused(walk):
    with error("negative"):
        services.set_profile(walk, -1, {})
    with error("negative"):
        services.set_profile(walk, 10, {("gender", "man"): -2})


def test_an_unknown_profile_category_is_a_programming_error(walk):
    with pytest.raises(ValueError):
        services.set_profile(walk, 10, {("religion", "x"): 2})


# --- statuses -----------------------------------------------------------------------------


def test_a_planned_walk_cannot_publish_its_report(walk):
    obs = record(walk, "form-0000001")
    services.moderate_observation(obs, Moderation.published)
    with error("not_walked"):
        services.set_status(walk, WalkStatus.published)


def test_a_report_needs_a_public_observation(walk):
    record(walk, "form-0000001")
    services.set_status(walk, WalkStatus.walked)
    with error("nothing_to_publish"):
        services.set_status(walk, WalkStatus.published)


def test_publishing_dates_the_report_and_withdrawing_goes_back_to_walked(walk):
    services.moderate_observation(record(walk, "form-0000001"), Moderation.published)
    services.set_status(walk, WalkStatus.walked)
    services.set_status(walk, WalkStatus.published, today=date(2026, 6, 1))
    assert walk.published_on == date(2026, 6, 1)
    services.set_status(walk, WalkStatus.walked)
    assert walk.status is WalkStatus.walked


def test_planned_and_walked_go_both_ways(walk):
    services.set_status(walk, WalkStatus.walked)
    services.set_status(walk, WalkStatus.planned)
    assert walk.status is WalkStatus.planned


def test_a_published_report_goes_back_to_walked_not_to_planned(walk):
    """set_status documents "planned ⇄ walked → published → back to walked": a walk whose
    report was public has been walked, it cannot become planned again in one step."""
    services.moderate_observation(record(walk, "form-0000001"), Moderation.published)
    services.set_status(walk, WalkStatus.walked)
    services.set_status(walk, WalkStatus.published)
    with pytest.raises(WalkError):
        services.set_status(walk, WalkStatus.planned)


# --- the grid ------------------------------------------------------------------------------


def test_a_group_adds_a_theme_at_the_end_of_its_grid(walk):
    added = services.add_theme(walk, "  Commerces ", "Sont-ils ouverts le soir ?")
    assert (added.name, added.code, added.position) == ("Commerces", "", 9)


def test_a_theme_needs_a_name_unique_in_the_grid_whatever_the_case(walk):
    with error("no_theme_name"):
        services.add_theme(walk, " ")
    services.add_theme(walk, "Commerces")
    with error("theme_exists"):
        services.add_theme(walk, "commerces")
    with error("theme_exists"):
        services.update_theme(theme(walk), "COMMERCES", "")


def test_a_theme_is_renamed_with_its_prompts(walk):
    lighting = theme(walk)
    services.update_theme(lighting, "Lumière", "Les lampes marchent-elles ?")
    assert (lighting.name, lighting.prompts) == ("Lumière", "Les lampes marchent-elles ?")


def test_a_theme_used_by_an_observation_cannot_be_removed(walk):
    record(walk, "form-0000001", theme_id=theme(walk).id)
    with error("theme_in_use"):
        services.remove_theme(theme(walk))
    assert len(walk.themes) == 9


def test_removing_an_unused_theme_renumbers_the_grid(walk):
    services.remove_theme(theme(walk, "signage"))
    assert len(walk.themes) == 8 and [t.position for t in walk.themes] == list(range(8))


def test_themes_move_up_and_down_within_the_grid(walk):
    services.move(walk.themes, theme(walk, "cleanliness"), -1)
    assert [t.code for t in sorted(walk.themes, key=lambda t: t.position)][:2] == ["cleanliness", "lighting"]
    services.move(walk.themes, theme(walk, "cleanliness"), -1)  # already first: stays
    assert theme(walk, "cleanliness").position == 0
    services.move(walk.themes, theme(walk, "uses"), +1)  # already last: stays
    assert theme(walk, "uses").position == 8


# --- the route -----------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon", "expected"), [
    ("43,3265", "5,4070", (43.3265, 5.407)),
    (" 43.32651234 ", "5.40700001", (43.326512, 5.407)),
    ("", "", (None, None)),
    (None, None, (None, None)),
])
def test_positions_are_parsed_from_two_fields(lat, lon, expected):
    assert services.parse_position(lat, lon) == expected


@pytest.mark.parametrize(("lat", "lon", "code"), [
    ("43.3", "", "half_position"), ("", "5.4", "half_position"), ("nord", "5.4", "bad_position"),
    ("95", "5.4", "bad_position"), ("43.3", "-181", "bad_position"), ("nan", "nan", "bad_position"),
])
def test_bad_positions_are_refused(lat, lon, code):
    with error(code):
        services.parse_position(lat, lon)


def test_a_stop_needs_a_name(walk):
    with error("no_label"):
        services.add_waypoint(walk, " ", 43.3, 5.4)
    with error("no_label"):
        services.update_waypoint(walk.waypoints[0], "", 43.3, 5.4)


def test_stops_are_added_in_order_and_renumbered_when_one_goes(walk):
    assert [w.position for w in walk.waypoints] == [0, 1, 2]
    services.remove_waypoint(walk.waypoints[0])
    assert [(w.label, w.position) for w in walk.waypoints] == [("École", 0), ("Square", 1)]


def test_stops_move_along_the_route(walk):
    services.move(walk.waypoints, walk.waypoints[2], -2)
    assert [w.label for w in sorted(walk.waypoints, key=lambda w: w.position)] == ["Square", "Centre social", "École"]


# --- recommendations -----------------------------------------------------------------------


@pytest.fixture
def city(walk):
    ensure_default_institutions(walk.contract)
    return next(i for i in institutions_of(walk.contract_id) if i.kind.value == "city")


def test_a_recommendation_is_a_draft_demand_of_kind_recommendation_in_the_walks_place(walk, city):
    rec = services.add_recommendation(walk, "Réparer l'éclairage", body="Trois lampes", institution=city,
                                      due_on=DAY + timedelta(days=60), user=user())
    item = rec.followup
    assert (item.kind, item.status, item.title, item.body) == (Kind.recommendation, Status.draft,
                                                              "Réparer l'éclairage", "Trois lampes")
    assert (item.contract_id, item.commune_id, item.neighbourhood_id) == (walk.contract_id, walk.commune_id,
                                                                          walk.neighbourhood_id)
    assert item.institution_id == city.id and rec.walk_id == walk.id


def test_the_due_date_is_the_demands_action_due_date(walk, city):
    item = services.add_recommendation(walk, "Éclairage", institution=city, due_on=date(2026, 9, 1)).followup
    assert item.action_due_on == date(2026, 9, 1) and item.answer_due_on is None


def test_a_recommendation_links_the_observations_it_answers(walk, city):
    a, b, _c = (record(walk, f"form-000000{i}") for i in range(3))
    rec = services.add_recommendation(walk, "Éclairage", institution=city, observation_ids=[b.id, a.id])
    assert [o.number for o in rec.observations] == [1, 2]
    assert [f.id for f in services.recommendations_for(a)] == [rec.followup_id]
    services.link_observations(rec, [b.id])
    assert [o.number for o in rec.observations] == [2]
    assert services.recommendations_for(a) == []


def test_observations_of_another_walk_are_refused_and_nothing_is_written(walk, other_walk, city):
    foreign = record(other_walk, "form-0000001")
    before = count(FollowUp)
    with error("observation_elsewhere"):
        services.add_recommendation(walk, "Éclairage", institution=city, observation_ids=[foreign.id])
    assert count(FollowUp) == before
    rec = services.add_recommendation(walk, "Éclairage", institution=city)
    with error("observation_elsewhere"):
        services.link_observations(rec, [foreign.id])


def test_a_recommendation_needs_a_title(walk, city):
    with error("no_recommendation_title"):
        services.add_recommendation(walk, "  ", institution=city)


def test_an_institution_of_another_contract_is_refused(walk, other_walk, demo):
    from participation.core.territories import Contract
    from participation.followup.services import FollowUpError

    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    with pytest.raises(FollowUpError):
        services.add_recommendation(walk, "Éclairage", institution=ensure_default_institutions(nar)[0])


# --- follow-up walks -----------------------------------------------------------------------


@pytest.fixture
def follow(walk):
    walk.route_line = [[43.3245, 5.4044], [43.3268, 5.4074]]
    greenery = theme(walk, "greenery")
    services.update_theme(greenery, "Arbres et ombre", "Y a-t-il de l'ombre ?")
    set_translation(greenery, "name", "ar", "الأشجار والظل")
    set_translation(walk.waypoints[0], "label", "ar", "المركز الاجتماعي")
    services.add_theme(walk, "Commerces")
    return services.create_follow_up(walk, DAY + timedelta(days=90), "Marche de suivi", user=user())


def test_a_follow_up_walk_links_the_walk_it_follows(walk, follow):
    assert follow.follows_id == walk.id and follow.follows is walk and walk.follow_ups == [follow]
    assert (follow.neighbourhood_id, follow.status, follow.title) == (walk.neighbourhood_id, WalkStatus.planned,
                                                                      "Marche de suivi")
    assert [u.email for u in follow.facilitators] == [FAC]


def test_a_follow_up_walk_copies_the_grid(walk, follow):
    assert [(t.code, t.name, t.prompts, t.position) for t in follow.themes] == [
        (t.code, t.name, t.prompts, t.position) for t in walk.themes]
    assert {t.id for t in follow.themes}.isdisjoint({t.id for t in walk.themes})


def test_a_follow_up_walk_copies_the_route(walk, follow):
    assert [(w.label, w.lat, w.lon, w.position) for w in follow.waypoints] == [
        (w.label, w.lat, w.lon, w.position) for w in walk.waypoints]
    assert follow.route_line == walk.route_line


def test_a_follow_up_walk_copies_the_translations(follow):
    renamed = next(t for t in follow.themes if t.name == "Arbres et ombre")
    assert str(translate(renamed, "name", "ar")) == "الأشجار والظل"
    assert str(translate(follow.waypoints[0], "label", "ar")) == "المركز الاجتماعي"
    assert str(translate(theme(follow, "lighting"), "name", "en")) == "Lighting"


def test_a_follow_up_walk_takes_the_original_title_by_default(walk):
    assert services.create_follow_up(walk, DAY + timedelta(days=30)).title == walk.title


def test_a_point_check_records_what_was_found(walk, follow):
    point = record(walk, "form-0000001")
    check = services.check_point(follow, point, PointOutcome.improved, "  Lampes changées ")
    assert (check.outcome, check.note, check.walk_id) == (PointOutcome.improved, "Lampes changées", follow.id)


def test_checking_a_point_again_updates_its_one_check(walk, follow):
    point = record(walk, "form-0000001")
    services.check_point(follow, point, PointOutcome.unchanged)
    services.check_point(follow, point, PointOutcome.partly, "Une lampe sur deux")
    checks = db.session.scalar(sa.select(sa.func.count()).select_from(PointCheck).filter_by(walk_id=follow.id))
    assert checks == 1 and follow.point_checks[0].outcome is PointOutcome.partly


def test_a_new_observation_may_show_the_point_now(walk, follow):
    point = record(walk, "form-0000001")
    now = record(follow, "form-0000002", seen="Lampes neuves")
    check = services.check_point(follow, point, PointOutcome.improved, new_observation=now)
    assert check.new_observation_id == now.id


def test_only_a_follow_up_walk_checks_points(walk, other_walk):
    with error("not_a_follow_up"):
        services.check_point(other_walk, record(walk, "form-0000001"), PointOutcome.improved)


def test_a_follow_up_walk_checks_points_of_the_walk_it_follows_only(walk, other_walk, follow):
    foreign = record(other_walk, "form-0000001")
    with error("observation_elsewhere"):
        services.check_point(follow, foreign, PointOutcome.improved)
    own = record(walk, "form-0000002")
    with error("observation_elsewhere"):
        services.check_point(follow, own, PointOutcome.improved, new_observation=record(walk, "form-0000003"))


def test_point_reviews_list_every_point_with_its_recommendations_and_check(walk, follow, city):
    a, b = record(walk, "form-0000001"), record(walk, "form-0000002")
    rec = services.add_recommendation(walk, "Éclairage", institution=city, observation_ids=[a.id])
    services.check_point(follow, a, PointOutcome.improved)
    reviews = services.point_reviews(follow)
    assert [r.observation.number for r in reviews] == [1, 2]
    assert [f.id for f in reviews[0].recommendations] == [rec.followup_id] and reviews[1].recommendations == []
    assert reviews[0].check.outcome is PointOutcome.improved and reviews[1].check is None


def test_public_point_reviews_show_published_points_only(walk, follow):
    a, _b = record(walk, "form-0000001"), record(walk, "form-0000002")
    services.moderate_observation(a, Moderation.published)
    assert [r.observation.id for r in services.point_reviews(follow, public_only=True)] == [a.id]


def test_a_walk_that_follows_nothing_has_no_point_reviews(walk):
    assert services.point_reviews(walk) == []


def test_removing_the_original_walk_unlinks_its_follow_ups(walk, follow):
    follow_id = follow.id
    db.session.delete(walk)
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Walk, follow_id).follows_id is None


# --- review fixes ----------------------------------------------------------------------------


def test_the_same_form_placed_at_a_stop_sent_twice_is_one_observation(walk):
    stop = walk.waypoints[0]
    first, created = services.record_observation(
        walk, data(waypoint_id=stop.id, location_source=LocationSource.waypoint))
    again, created_again = services.record_observation(
        walk, data(waypoint_id=stop.id, location_source=LocationSource.waypoint))
    assert created and not created_again and again.id == first.id and (first.lat, first.lon) == (stop.lat, stop.lon)
    assert observations_of(walk) == 1


def test_the_default_themes_come_back_beside_a_theme_of_the_group_with_a_default_name(walk):
    lighting = theme(walk)
    services.remove_theme(lighting)
    own = services.add_theme(walk, lighting.name)
    services.add_default_themes(walk)
    assert [t.name.casefold() for t in walk.themes].count(own.name.casefold()) == 1
    assert len(walk.themes) == 9


def test_a_renamed_theme_loses_the_default_code_and_translations(app, walk):
    lighting = theme(walk)
    assert translations_of(lighting)
    services.update_theme(lighting, "Bruit", lighting.prompts)
    assert lighting.code == "" and not any(f == "name" for f, _lo in translations_of(lighting))
    assert any(f == "prompts" for f, _lo in translations_of(lighting))  # the prompts did not change
    assert str(translate(lighting, "name", "ar")) == "Bruit"


def test_an_observation_made_at_a_removed_stop_keeps_its_name_as_address(walk):
    square = walk.waypoints[2]
    obs = record(walk, "form-0000001", waypoint_id=square.id, location_source=LocationSource.waypoint)
    services.remove_waypoint(square)
    assert (obs.waypoint_id, obs.address, obs.location_source) == (None, "Square", LocationSource.address)
