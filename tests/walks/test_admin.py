"""Back office of exploratory walks: preparing a walk (default grid, only neighbourhoods one
manages), the scoped list, editing details and facilitators, the walkers' profile, the status
rules and the participants' recording QR."""
from __future__ import annotations

import pytest

import base64
from datetime import date, timedelta

import sqlalchemy as sa

from participation.core.qr import qr_svg
from participation.core.territories import Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.walks import services
from participation.walks.models import GroupType, Moderation, TimeOfDay, Walk, WalkProfileCount, WalkStatus

from ..conftest import count, csrf_from

pytestmark = pytest.mark.usefixtures("without_demo_walks")

ADMIN = "admin@amp.demo"
FAC = "animatrice@amp.demo"  # facilitator, commune of Marseille
MED = "mediateur@amp.demo"  # mediator, Frais Vallon
EVA = "evaluation@amp.demo"  # evaluator, whole contract
NAR_ADMIN = "admin@narbonne.demo"
FRAIS_VALLON, ENCAGNANE, RAZIMBAUD = "QN01322M", "QN01302M", "QN01101M"


def nb(code: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def user(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def make_walk(code: str = FRAIS_VALLON, title: str = "Marche du soir", days: int = 10, locale: str = "fr",
              **fields) -> Walk:
    walk = services.create_walk(nb(code), title, date.today() + timedelta(days=days), locale=locale, **fields)
    db.session.commit()
    return walk


def walked_walk_with_observation(moderation: Moderation = Moderation.pending) -> Walk:
    walk = make_walk(days=-2)
    obs, _created = services.record_observation(
        walk, services.ObservationInput(client_id="test-obs-0001", theme_id=walk.themes[0].id, rating=2,
                                        seen="Lampadaire cassé", lat=43.32, lon=5.41))
    services.moderate_observation(obs, moderation)
    services.set_status(walk, WalkStatus.walked)
    db.session.commit()
    return walk


def fresh(walk_id: int) -> Walk:
    db.session.expire_all()
    return db.session.get(Walk, walk_id)


def login(auth, email: str = FAC):
    assert auth.login(email).status_code == 302


def post(client, path: str, data: dict | None = None, prefix: str | None = None):
    """POST with the session's CSRF token (also under the form's prefix); English answers."""
    token = csrf_from(client.get("/admin/walks/?lang=en").get_data(as_text=True))
    payload = {"csrf_token": token}
    if prefix:
        payload[f"{prefix}-csrf_token"] = token
    for key, value in (data or {}).items():
        payload[f"{prefix}-{key}" if prefix else key] = value
    return client.post(path, data=payload)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def new_walk_data(**overrides) -> dict:
    data = {"neighbourhood": str(nb(FRAIS_VALLON).id), "title": "Marche des femmes", "original_locale": "fr",
            "walked_on": (date.today() + timedelta(days=14)).isoformat(), "starts_at": "18:30",
            "time_of_day": "night", "group_type": "women", "meeting_point": "Devant le centre social",
            "description": "", "guides": "Centre social Frais Vallon"}
    return {**data, **overrides}


def post_create(client, data):
    page = client.get("/admin/walks/new?lang=en")
    assert page.status_code == 200
    return client.post("/admin/walks/new", data={"csrf_token": csrf_from(text(page)), **data})


# --- creating a walk ----------------------------------------------------------------------


def test_creating_a_walk_adds_the_default_grid_of_nine_themes(demo, client, auth):
    login(auth)
    resp = post_create(client, new_walk_data())
    assert resp.status_code == 302
    walk = db.session.scalar(sa.select(Walk).filter_by(title="Marche des femmes"))
    assert resp.headers["Location"].endswith(f"/admin/walks/{walk.id}")
    assert len(walk.themes) == 9
    assert [t.position for t in walk.themes] == list(range(9))


def test_creating_a_walk_saves_its_details(demo, client, auth):
    login(auth)
    post_create(client, new_walk_data())
    walk = db.session.scalar(sa.select(Walk).filter_by(title="Marche des femmes"))
    assert (walk.neighbourhood.qpv_code, walk.starts_at, walk.time_of_day, walk.group_type) == (
        FRAIS_VALLON, "18:30", TimeOfDay.night, GroupType.women)
    assert walk.meeting_point == "Devant le centre social"
    assert walk.status is WalkStatus.planned


def test_the_walk_is_written_in_the_language_chosen(demo, client, auth):
    login(auth)
    post_create(client, new_walk_data(original_locale="en"))
    walk = db.session.scalar(sa.select(Walk).filter_by(title="Marche des femmes"))
    assert walk.original_locale == "en"
    assert walk.themes[0].name == "Lighting"


def test_whoever_prepares_a_walk_is_its_facilitator(demo, client, auth):
    login(auth)
    post_create(client, new_walk_data())
    walk = db.session.scalar(sa.select(Walk).filter_by(title="Marche des femmes"))
    assert [u.email for u in walk.facilitators] == [FAC]


def test_a_facilitator_cannot_prepare_a_walk_outside_their_commune(demo, client, auth):
    login(auth)
    resp = post_create(client, new_walk_data(neighbourhood=str(nb(ENCAGNANE).id)))
    assert resp.status_code == 422
    assert "You cannot prepare a walk in a neighbourhood where you do not run participation." in text(resp)
    assert count(Walk) == 0


def test_the_creation_form_offers_only_the_neighbourhoods_one_manages(demo, client, auth):
    login(auth)
    page = text(client.get("/admin/walks/new?lang=en"))
    assert "Frais Vallon" in page and "Malpassé Corot" in page
    assert "Encagnane" not in page and "Razimbaud" not in page


def test_a_contract_admin_may_prepare_a_walk_anywhere_in_the_contract(demo, client, auth):
    login(auth, ADMIN)
    resp = post_create(client, new_walk_data(neighbourhood=str(nb(ENCAGNANE).id)))
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Walk.neighbourhood_id)) == nb(ENCAGNANE).id


def test_a_mediator_cannot_prepare_a_walk(demo, client, auth):
    login(auth, MED)
    assert client.get("/admin/walks/new").status_code == 403


def test_a_walk_without_a_title_is_refused(demo, client, auth):
    login(auth)
    resp = post_create(client, new_walk_data(title=""))
    assert resp.status_code == 422
    assert count(Walk) == 0


def test_a_walk_without_a_date_is_refused(demo, client, auth):
    login(auth)
    resp = post_create(client, new_walk_data(walked_on=""))
    assert resp.status_code == 422
    assert "Enter the date of the walk." in text(resp)


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_only_walks_in_ones_scope(demo, client, auth):
    make_walk(title="Marche de Frais Vallon")
    make_walk(RAZIMBAUD, title="Marche de Razimbaud")
    login(auth)
    page = text(client.get("/admin/walks/?lang=en"))
    assert "Marche de Frais Vallon" in page
    assert "Marche de Razimbaud" not in page


def test_the_list_separates_coming_and_past_walks(demo, client, auth):
    make_walk(title="Marche à venir", days=5)
    make_walk(title="Marche passée", days=-30)
    login(auth)
    page = text(client.get("/admin/walks/?lang=en"))
    assert page.index("Coming walks") < page.index("Marche à venir") < page.index("Past walks") < page.index(
        "Marche passée")


def test_the_list_counts_the_observations_to_check(demo, client, auth):
    walked_walk_with_observation()
    login(auth)
    assert "1 to check" in text(client.get("/admin/walks/?lang=en"))


def test_the_list_offers_to_prepare_a_walk_only_to_managers(demo, client, auth):
    login(auth, MED)
    page = text(client.get("/admin/walks/?lang=en"))
    assert "Prepare a walk" not in page


def test_a_committee_member_has_no_walks_list(demo, client, auth):
    login(auth, "comite@amp.demo")
    assert client.get("/admin/walks/").status_code == 403


# --- the walk's page ------------------------------------------------------------------------


def test_an_unknown_walk_is_not_found(demo, client, auth):
    login(auth)
    assert client.get("/admin/walks/999999").status_code == 404


def test_the_page_of_a_walk_to_come_says_to_prepare_it(demo, client, auth):
    walk = make_walk()
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}?lang=en"))
    assert "Prepare the route and the grid, then print the recording sheet" in page


def test_the_page_of_a_walked_walk_counts_the_observations_to_check(demo, client, auth):
    walk = walked_walk_with_observation()
    login(auth)
    assert "1 observation to check" in text(client.get(f"/admin/walks/{walk.id}?lang=en"))


def test_the_page_lists_the_observations_by_number_under_the_map(demo, client, auth):
    walk = walked_walk_with_observation()
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}?lang=en"))
    assert '<svg id="walk-map"' in page
    assert '<li value="1">' in page and "Lampadaire cassé" in page


def test_a_mediator_sees_the_walk_without_its_forms(demo, client, auth):
    walk = make_walk()
    login(auth, MED)
    resp = client.get(f"/admin/walks/{walk.id}?lang=en")
    assert resp.status_code == 200
    assert f"/admin/walks/{walk.id}/edit" not in text(resp)
    assert f"/admin/walks/{walk.id}/record-sheet" in text(resp)


# --- details and facilitators ---------------------------------------------------------------


def details(walk: Walk, **overrides) -> dict:
    data = {"title": walk.title, "walked_on": walk.walked_on.isoformat(), "starts_at": "", "time_of_day": "day",
            "group_type": "mixed", "meeting_point": "", "description": "", "guides": "", "summary": ""}
    return {**data, **overrides}


def test_editing_a_walk_saves_its_details(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/edit",
                details(walk, title="Marche de nuit", time_of_day="night", group_type="seniors", starts_at="19:00",
                        summary="Trop sombre."), prefix="walk")
    assert resp.status_code == 302
    walk = fresh(walk.id)
    assert (walk.title, walk.time_of_day, walk.group_type, walk.starts_at, walk.summary) == (
        "Marche de nuit", TimeOfDay.night, GroupType.seniors, "19:00", "Trop sombre.")


def test_editing_without_a_title_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/edit", details(walk, title=""), prefix="walk")
    assert resp.status_code == 422
    assert fresh(walk.id).title == "Marche du soir"


def test_staff_of_the_contract_can_be_named_facilitators(demo, client, auth):
    walk = make_walk()
    login(auth)
    med = user(MED)
    resp = post(client, f"/admin/walks/{walk.id}/edit", details(walk, facilitators=str(med.id)), prefix="walk")
    assert resp.status_code == 302
    assert [u.email for u in fresh(walk.id).facilitators] == [MED]


def test_facilitators_are_limited_to_staff_of_the_contract(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/edit",
                details(walk, title="Changé", facilitators=str(user(NAR_ADMIN).id)), prefix="walk")
    assert resp.status_code == 422
    assert "A facilitator must work in this contrat de ville." in text(resp)
    walk = fresh(walk.id)
    assert (walk.title, walk.facilitators) == ("Marche du soir", [])


def test_the_facilitator_choice_offers_only_staff_of_the_contract(demo, client, auth):
    walk = make_walk()
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}?lang=en"))
    assert "Karim Haddad" in page  # mediator of Frais Vallon
    assert "Sophie Garcia" not in page  # admin of Grand Narbonne


def test_a_listed_facilitator_without_a_manager_role_may_edit_the_walk(demo, client, auth):
    walk = make_walk()
    services.set_facilitators(walk, [user(MED)])
    db.session.commit()
    login(auth, MED)
    resp = post(client, f"/admin/walks/{walk.id}/edit", details(walk, title="Par Karim",
                                                                 facilitators=str(user(MED).id)), prefix="walk")
    assert resp.status_code == 302
    assert fresh(walk.id).title == "Par Karim"


# --- walkers' profile ------------------------------------------------------------------------


def test_the_walkers_count_and_profile_are_saved(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/profile",
                {"participants": "12", "age_25_39": "5", "age_60_74": "3", "gender_woman": "12"}, prefix="profile")
    assert resp.status_code == 302
    walk = fresh(walk.id)
    assert walk.participants == 12
    assert {(r.dimension, r.value): r.count for r in walk.profile_counts} == {
        ("age_band", "25_39"): 5, ("age_band", "60_74"): 3, ("gender", "woman"): 12}


def test_the_profile_can_be_saved_again(demo, client, auth):
    walk = make_walk()
    login(auth)
    post(client, f"/admin/walks/{walk.id}/profile", {"participants": "8", "gender_woman": "8"}, prefix="profile")
    resp = post(client, f"/admin/walks/{walk.id}/profile", {"participants": "9", "gender_woman": "7",
                                                            "gender_man": "2"}, prefix="profile")
    assert resp.status_code == 302
    assert {r.value: r.count for r in fresh(walk.id).profile_counts} == {"woman": 7, "man": 2}


def test_a_profile_larger_than_the_total_is_refused_and_nothing_saved(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/profile", {"participants": "5", "gender_woman": "6"},
                prefix="profile")
    assert resp.status_code == 422
    assert "The profile counts more walkers than the total." in text(resp)
    assert fresh(walk.id).participants is None
    assert count(WalkProfileCount) == 0


def test_a_count_that_is_not_a_whole_number_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/profile", {"participants": "douze"}, prefix="profile")
    assert resp.status_code == 422
    assert "Enter a whole number, 0 or more." in text(resp)


def test_a_count_too_large_to_store_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/profile", {"participants": "99999999999"}, prefix="profile")
    assert resp.status_code == 422
    assert fresh(walk.id).participants is None


# --- status ----------------------------------------------------------------------------------


def test_a_walk_is_marked_as_walked(demo, client, auth):
    walk = make_walk(days=0)
    login(auth)
    assert post(client, f"/admin/walks/{walk.id}/status", {"status": "walked"}).status_code == 302
    assert fresh(walk.id).status is WalkStatus.walked


def test_publishing_needs_a_published_observation(demo, client, auth):
    walk = walked_walk_with_observation(Moderation.pending)
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/status", {"status": "published"})
    assert resp.status_code == 422
    assert "Publish at least one observation before publishing the report." in text(resp)
    assert fresh(walk.id).status is WalkStatus.walked


def test_a_planned_walk_cannot_be_published(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/status", {"status": "published"})
    assert resp.status_code == 422
    assert "The walk has not taken place yet." in text(resp)
    assert fresh(walk.id).status is WalkStatus.planned


def test_the_report_is_published_with_a_published_observation(demo, client, auth):
    walk = walked_walk_with_observation(Moderation.published)
    login(auth)
    assert post(client, f"/admin/walks/{walk.id}/status", {"status": "published"}).status_code == 302
    walk = fresh(walk.id)
    assert (walk.status, walk.published_on) == (WalkStatus.published, date.today())


def test_withdrawing_the_report_makes_the_walk_walked_again(demo, client, auth):
    walk = walked_walk_with_observation(Moderation.published)
    services.set_status(walk, WalkStatus.published)
    db.session.commit()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/status", {"status": "walked"})
    assert resp.status_code == 302
    assert fresh(walk.id).status is WalkStatus.walked


def test_an_unknown_status_is_refused(demo, client, auth):
    walk = make_walk()
    login(auth)
    assert post(client, f"/admin/walks/{walk.id}/status", {"status": "archived"}).status_code == 422
    assert fresh(walk.id).status is WalkStatus.planned


# --- recording QR ----------------------------------------------------------------------------


def test_renewing_the_key_changes_it(demo, client, auth):
    walk = make_walk()
    old = walk.record_key
    login(auth)
    assert post(client, f"/admin/walks/{walk.id}/recording", {"action": "renew"}).status_code == 302
    assert fresh(walk.id).record_key not in (old, "")


def test_renewing_the_key_invalidates_the_old_recording_link(demo, client, auth):
    walk = make_walk()
    old = walk.record_key
    assert client.get(f"/w/{walk.id}/record/{old}").status_code == 200
    login(auth)
    post(client, f"/admin/walks/{walk.id}/recording", {"action": "renew"})
    assert client.get(f"/w/{walk.id}/record/{old}").status_code == 404
    assert client.get(f"/w/{walk.id}/record/{fresh(walk.id).record_key}").status_code == 200


def test_recording_with_the_qr_can_be_closed_and_opened_again(demo, client, auth):
    walk = make_walk()
    login(auth)
    post(client, f"/admin/walks/{walk.id}/recording", {"action": "close"})
    assert fresh(walk.id).recording_open is False
    post(client, f"/admin/walks/{walk.id}/recording", {"action": "open"})
    assert fresh(walk.id).recording_open is True


def test_renewing_from_the_sheet_goes_back_to_the_sheet(demo, client, auth):
    walk = make_walk()
    login(auth)
    resp = post(client, f"/admin/walks/{walk.id}/recording", {"action": "renew", "back": "sheet"})
    assert resp.headers["Location"].endswith(f"/admin/walks/{walk.id}/record-sheet")


def test_the_record_sheet_holds_the_qr_of_the_recording_link(demo, client, auth):
    walk = make_walk()
    login(auth, MED)
    resp = client.get(f"/admin/walks/{walk.id}/record-sheet?lang=en")
    assert resp.status_code == 200
    link = f"http://localhost/w/{walk.id}/record/{walk.record_key}"
    assert f'src="data:image/svg+xml;base64,{base64.b64encode(qr_svg(link)).decode()}"' in text(resp)


def test_the_walk_page_shows_the_recording_link_to_those_who_record(demo, client, auth):
    walk = make_walk()
    login(auth, MED)
    assert f"http://localhost/w/{walk.id}/record/{walk.record_key}" in text(client.get(f"/admin/walks/{walk.id}"))


def test_the_record_sheet_is_in_the_walks_language_and_two_more(demo, client, auth):
    walk = make_walk(locale="ar")
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}/record-sheet?lang=en"))
    titles = [line for line in page.splitlines() if 'class="poster-title"' in line]
    assert [t.split('lang="')[1][:2] for t in titles] == ["ar", "en", "fr"]
    assert "Note what you see" in page


def test_the_record_sheet_shows_the_languages_asked_for(demo, client, auth):
    walk = make_walk()
    login(auth)
    page = text(client.get(f"/admin/walks/{walk.id}/record-sheet?lang=en&second=tr&third=es"))
    titles = [line for line in page.splitlines() if 'class="poster-title"' in line]
    assert [t.split('lang="')[1][:2] for t in titles] == ["fr", "tr", "es"]


def test_the_evaluator_cannot_print_the_record_sheet(demo, client, auth):
    walk = make_walk()
    login(auth, EVA)
    assert client.get(f"/admin/walks/{walk.id}/record-sheet").status_code == 403
