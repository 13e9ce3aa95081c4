"""Public pages of exploratory walks: the walks of a contract, a walk's page (an invitation while
planned; then checked observations only, coarsened, on the map and as a numbered list, with
their recommendations), a follow-up walk point by point, the public list of observations and
its filters, and photos (public only once checked; staff of the walk see any)."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.content_i18n import set_translation
from participation.core.territories import Neighbourhood
from participation.extensions import db
from participation.followup import services as followups
from participation.followup.models import Status
from participation.walks import services
from participation.walks.geo import coarsen
from participation.walks.models import (
    GroupType, LocationSource, Moderation, Observation, PointOutcome, TimeOfDay, Walk, WalkStatus,
)

FAC = "animatrice@amp.demo"
MED = "mediateur@amp.demo"
COMMITTEE = "comite@amp.demo"
FRAIS_VALLON = "QN01322M"
SLUG = "aix-marseille-provence"
#: Observation 1's exact position: must never appear in a public output.
EXACT = (43.332211, 5.412345)
EXACT_STRINGS = ("43.332211", "5.412345")


# --- builders (shared with test_report and test_exports) ---------------------------------


def png(colour: str = "green", size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def photo(colour: str = "green", caption: str = ""):
    return services.process_photos([png(colour)])[0], caption


def _record(walk, key: str, theme, rating, seen: str, *, quote="", at=None, photos=(), address=""):
    lat, lon = at or (None, None)
    obs, _ = services.record_observation(walk, services.ObservationInput(
        client_id=f"public-test-{walk.id}-{key}", theme_id=theme.id if theme else None, rating=rating, seen=seen,
        quote=quote, lat=lat, lon=lon, address=address,
        location_source=LocationSource.gps if at else LocationSource.address), list(photos))
    return obs


def make_walk(*, status: WalkStatus = WalkStatus.published, title: str = "Marche test des voisines",
              qpv: str = FRAIS_VALLON) -> Walk:
    """A women's walk after dark with three observations:
    1 published (exact position EXACT, a published photo "Lampadaire éteint"),
    2 still to check ("Texte en attente secret", a position),
    3 published without a position, its photo still to check ("Une poubelle cachée")."""
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
    walk = services.create_walk(hood, title, date.today() - timedelta(days=5), meeting_point="Devant le centre social",
                                description="Une marche entre voisines.", starts_at="18:30",
                                group_type=GroupType.women, time_of_day=TimeOfDay.night)
    lighting, cleanliness = walk.themes[0], walk.themes[1]
    services.add_waypoint(walk, "Station de métro", 43.3300, 5.4100)
    first = _record(walk, "0001", lighting, 1, "Lampadaire cassé devant le 12", quote="On a peur le soir",
                    at=EXACT, photos=[photo("green", "Lampadaire éteint")])
    _record(walk, "0002", cleanliness, 4, "Texte en attente secret", at=(43.3331, 5.4150))
    third = _record(walk, "0003", cleanliness, 2, "Poubelles débordantes", address="12 rue des Lilas",
                    photos=[photo("blue", "Une poubelle cachée")])
    for obs in (first, third):
        services.moderate_observation(obs, Moderation.published)
    services.moderate_photo(first.photos[0], Moderation.published)
    if status is not WalkStatus.planned:
        services.set_status(walk, WalkStatus.walked)
    if status is WalkStatus.published:
        services.set_status(walk, WalkStatus.published)
    db.session.commit()
    return walk


def obs(walk: Walk, number: int) -> Observation:
    return db.session.scalar(sa.select(Observation).filter_by(walk_id=walk.id, number=number))


def an_institution(walk: Walk):
    followups.ensure_default_institutions(walk.contract)
    return followups.active_institutions(walk.contract_id)[0]


def add_recommendations(walk: Walk):
    """"Réparer l'éclairage" (sent, overdue answer, on observations 1 and 2) and a draft
    "Brouillon de recommandation" (never public)."""
    institution = an_institution(walk)
    sent = services.add_recommendation(walk, "Réparer l'éclairage", institution=institution,
                                       due_on=date.today() + timedelta(days=30),
                                       observation_ids=[obs(walk, 1).id, obs(walk, 2).id])
    followups.move(sent.followup, Status.sent, on=date.today() - timedelta(days=90))
    draft = services.add_recommendation(walk, "Brouillon de recommandation", institution=institution,
                                        observation_ids=[obs(walk, 3).id])
    db.session.commit()
    return sent, draft


def make_follow_up(walk: Walk) -> Walk:
    """A follow-up walk that found point 1 improved (with a note) and point 3 unchanged."""
    follow = services.create_follow_up(walk, date.today() - timedelta(days=1), "Marche de suivi des voisines")
    services.check_point(follow, obs(walk, 1), PointOutcome.improved, "Le lampadaire a été réparé.")
    services.check_point(follow, obs(walk, 3), PointOutcome.unchanged)
    services.check_point(follow, obs(walk, 2), PointOutcome.worse, "Note sur un point non publié")
    services.set_status(follow, WalkStatus.walked)
    db.session.commit()
    return follow


def page(client, path: str, lang: str = "en") -> str:
    resp = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


# --- the walks of a contract -------------------------------------------------------------


def test_the_walks_index_lists_coming_walks_and_published_reports(client, demo):
    published = make_walk(title="Marche au rapport publié")
    hood = published.neighbourhood
    coming = services.create_walk(hood, "Marche à venir", date.today() + timedelta(days=10))
    db.session.commit()
    html = page(client, f"/c/{SLUG}/walks")
    coming_part, reports_part = html.split('id="reports"')
    assert f'href="/w/{coming.id}"' in coming_part
    assert f'href="/w/{published.id}/report"' in reports_part


def test_the_walks_index_of_an_unknown_contract_is_not_found(client, demo):
    assert client.get("/c/nowhere/walks").status_code == 404


# --- a walk's page -----------------------------------------------------------------------


def test_a_planned_walk_page_is_an_invitation_with_time_and_meeting_point(client, demo):
    walk = make_walk(status=WalkStatus.planned)
    html = page(client, f"/w/{walk.id}")
    assert "Devant le centre social" in html and "18:30" in html
    assert "Women" in html and "After dark" in html
    assert f"/w/{walk.id}/report" not in html  # no report yet


def test_the_walk_page_shows_published_observations_only(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    assert "Lampadaire cassé devant le 12" in html and "Poubelles débordantes" in html
    assert "On a peur le soir" in html
    assert "Texte en attente secret" not in html


def test_the_walk_page_lists_observations_by_their_map_number(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    assert '<svg id="walk-map"' in html
    assert 'id="obs-1"' in html and 'id="obs-3"' in html and 'id="obs-2"' not in html
    assert "Not on the map (no position)" in html  # observation 3 has no position


def test_the_walk_page_says_the_rating_in_words(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    assert "Very bad" in html and "Bad" in html


def test_the_walk_page_never_shows_exact_coordinates(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    for exact in EXACT_STRINGS:
        assert exact not in html


def test_the_walk_page_never_shows_a_typed_address_or_who_recorded(client, auth, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    assert "12 rue des Lilas" not in html
    assert "public-test-" not in html  # no form id


def test_the_walk_page_shows_published_photos_only_with_their_caption_as_alt(client, demo):
    walk = make_walk()
    first, third = obs(walk, 1), obs(walk, 3)
    html = page(client, f"/w/{walk.id}")
    assert f'src="/w/photos/{first.photos[0].id}.jpg?size=thumb"' in html
    assert 'alt="Lampadaire éteint" loading="lazy"' in html
    assert f"/w/photos/{third.photos[0].id}.jpg" not in html
    assert "Une poubelle cachée" not in html


def test_the_walk_page_lists_sent_recommendations_with_status_and_link_never_drafts(client, demo):
    walk = make_walk()
    sent, _draft = add_recommendations(walk)
    html = page(client, f"/w/{walk.id}")
    assert "Réparer l&#39;éclairage" in html
    assert f'href="/follow-up/{sent.followup_id}"' in html
    assert "followup-status--sent" in html and "Overdue" in html
    assert "Brouillon de recommandation" not in html


def test_a_recommendation_lists_only_public_observation_numbers(client, demo):
    walk = make_walk()
    add_recommendations(walk)
    html = page(client, f"/w/{walk.id}")
    rec = html.split('class="walk-recs"')[1]
    assert '<a href="#obs-1">1</a>' in rec and "#obs-2" not in rec


def test_the_walk_page_links_to_the_report_once_published(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}")
    assert f'href="/w/{walk.id}/report"' in html and f'href="/w/{walk.id}/report.pdf?lang=en"' in html


def test_a_walked_walk_links_to_its_report_preview_for_managers_only(client, auth, demo):
    walk = make_walk(status=WalkStatus.walked)
    assert f"/w/{walk.id}/report" not in page(client, f"/w/{walk.id}")
    auth.login(FAC)
    assert f'href="/w/{walk.id}/report"' in page(client, f"/w/{walk.id}")


def test_the_walk_page_shows_content_in_the_readers_language(client, demo):
    walk = make_walk()
    set_translation(walk, "title", "ar", "مسيرة الجارات")
    set_translation(obs(walk, 1), "seen", "ar", "عمود إنارة مكسور")
    db.session.commit()
    html = page(client, f"/w/{walk.id}", lang="ar")
    assert 'dir="rtl"' in html
    assert "مسيرة الجارات" in html and "عمود إنارة مكسور" in html
    assert "Lampadaire cassé devant le 12" not in html


def test_an_unknown_walk_is_not_found(client, demo):
    assert client.get("/w/999999").status_code == 404
    assert client.get(f"/w/{2**40}").status_code == 404


# --- follow-up walks ---------------------------------------------------------------------


def test_a_follow_up_walk_shows_point_by_point_what_was_found(client, demo):
    walk = make_walk()
    add_recommendations(walk)
    follow = make_follow_up(walk)
    html = page(client, f"/w/{follow.id}")
    points = html.split('id="points"')[1]
    assert 'id="point-1"' in points and 'id="point-3"' in points
    assert "Done: it has improved" in points and "Le lampadaire a été réparé." in points
    assert "Nothing has changed" in points
    assert "Réparer l&#39;éclairage" in points and "followup-status--sent" in points
    assert f'href="/w/{walk.id}"' in html


def test_a_follow_up_walk_leaves_out_points_that_were_not_published(client, demo):
    walk = make_walk()
    follow = make_follow_up(walk)
    html = page(client, f"/w/{follow.id}")
    assert 'id="point-2"' not in html
    assert "Note sur un point non publié" not in html and "Texte en attente secret" not in html


def test_the_original_walk_links_to_its_follow_up_walks(client, demo):
    walk = make_walk()
    follow = make_follow_up(walk)
    html = page(client, f"/w/{walk.id}")
    assert f'href="/w/{follow.id}"' in html and "Marche de suivi des voisines" in html


# --- the public list of observations -----------------------------------------------------


def test_the_public_list_shows_published_observations_of_every_walk(client, demo):
    make_walk(title="Première marche")
    second = make_walk(title="Deuxième marche")
    html = page(client, f"/c/{SLUG}/walks/observations")
    assert html.count("Lampadaire cassé devant le 12") == 2
    assert "Texte en attente secret" not in html
    assert "Deuxième marche" in html and f'href="/w/{second.id}"' in html


def test_the_public_list_never_shows_exact_coordinates(client, demo):
    make_walk()
    html = page(client, f"/c/{SLUG}/walks/observations")
    for exact in EXACT_STRINGS:
        assert exact not in html


def test_the_public_list_filters_by_theme(client, demo):
    make_walk()
    html = page(client, f"/c/{SLUG}/walks/observations?theme=lighting")
    assert "Lampadaire cassé devant le 12" in html and "Poubelles débordantes" not in html


def test_the_public_list_filters_by_walk_and_keeps_its_numbers(client, demo):
    make_walk(title="Première marche")
    second = make_walk(title="Deuxième marche")
    html = page(client, f"/c/{SLUG}/walks/observations?walk={second.id}")
    assert html.count("Lampadaire cassé devant le 12") == 1
    assert 'id="obs-3"' in html  # the walk's own numbers


def test_the_public_list_filters_by_neighbourhood(client, demo):
    make_walk()
    corot = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01323M"))
    html = page(client, f"/c/{SLUG}/walks/observations?neighbourhood={corot.id}")
    assert "Lampadaire cassé devant le 12" not in html
    assert "No observation matches these filters." in html


def test_a_nonsense_filter_is_reported_beside_its_field_and_ignored(client, demo):
    make_walk()
    html = page(client, f"/c/{SLUG}/walks/observations?theme=nope&walk=abc&neighbourhood=99999999999")
    assert "Choose a theme from the list." in html and "Choose a walk from the list." in html
    assert "Choose a neighbourhood from the list." in html
    assert "Lampadaire cassé devant le 12" in html


def test_the_public_list_offers_downloads_with_its_filters(client, demo):
    make_walk()
    html = page(client, f"/c/{SLUG}/walks/observations?theme=lighting")
    assert f"/c/{SLUG}/walks/observations.geojson?theme=lighting" in html
    assert f"/c/{SLUG}/walks/actions.csv?theme=lighting" in html


def test_the_public_list_answers_htmx_with_the_results_only(client, demo):
    make_walk()
    resp = client.get(f"/c/{SLUG}/walks/observations?lang=en", headers={"HX-Request": "true",
                                                                        "HX-Target": "walk-results"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html and "Lampadaire cassé" in html


# --- photos ------------------------------------------------------------------------------


def test_a_published_photo_of_a_published_observation_is_public(client, demo):
    walk = make_walk()
    resp = client.get(f"/w/photos/{obs(walk, 1).photos[0].id}.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.data.startswith(b"\xff\xd8")
    assert "public" in resp.headers["Cache-Control"]


def test_a_thumbnail_is_a_smaller_jpeg(client, demo):
    from participation.walks.public import THUMB_SIDE

    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=FRAIS_VALLON))
    walk = services.create_walk(hood, "Grande photo", date.today())
    big = services.process_photos([png("red", (1200, 900))])[0]
    o = _record(walk, "big", walk.themes[0], 3, "Vue", photos=[(big, "Grande")])
    services.moderate_observation(o, Moderation.published)
    services.moderate_photo(o.photos[0], Moderation.published)
    db.session.commit()
    resp = client.get(f"/w/photos/{o.photos[0].id}.jpg?size=thumb")
    assert resp.status_code == 200
    assert max(Image.open(io.BytesIO(resp.data)).size) == THUMB_SIDE


def test_an_unpublished_photo_is_not_found_publicly(client, demo):
    walk = make_walk()
    assert client.get(f"/w/photos/{obs(walk, 3).photos[0].id}.jpg").status_code == 404


def test_a_published_photo_of_an_unpublished_observation_is_not_found_publicly(client, demo):
    walk = make_walk()
    first = obs(walk, 1)
    first.moderation = Moderation.pending
    db.session.commit()
    assert client.get(f"/w/photos/{first.photos[0].id}.jpg?size=thumb").status_code == 404


@pytest.mark.parametrize("email", [FAC, MED])
def test_staff_of_the_walk_see_a_photo_still_to_check(client, auth, demo, email):
    walk = make_walk()
    auth.login(email)
    resp = client.get(f"/w/photos/{obs(walk, 3).photos[0].id}.jpg")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"


def test_staff_elsewhere_do_not_see_a_photo_still_to_check(client, auth, demo):
    walk = make_walk()
    auth.login(COMMITTEE)
    assert client.get(f"/w/photos/{obs(walk, 3).photos[0].id}.jpg").status_code == 404


def test_an_unknown_photo_or_size_is_not_found(client, demo):
    walk = make_walk()
    assert client.get("/w/photos/999999.jpg").status_code == 404
    assert client.get(f"/w/photos/{obs(walk, 1).photos[0].id}.jpg?size=huge").status_code == 404


def test_a_photo_lost_from_the_disk_is_not_found_rather_than_an_error(client, demo):
    walk = make_walk()
    ph = obs(walk, 1).photos[0]
    services.photo_store().path(ph.sha).unlink()
    assert client.get(f"/w/photos/{ph.id}.jpg").status_code == 404
    assert client.get(f"/w/photos/{ph.id}.jpg?size=thumb").status_code == 404


def test_coarsened_positions_are_about_a_hundred_metres_away_at_most(app):
    from participation.walks.geo import distance_m

    assert distance_m(EXACT, coarsen(*EXACT)) < 75


@pytest.mark.parametrize("page", ["/w/{id}", "/w/{id}/report", "/w/{id}/report.pdf",
                                  "/c/aix-marseille-provence/walks/observations",
                                  "/c/aix-marseille-provence/walks/observations?walk={id}"])
def test_every_public_map_is_drawn_from_coarsened_positions(client, demo, monkeypatch, page):
    """Public pages print map units, not coordinates: what proves they are coarsened is that
    the map is built with public=True, and that its points are where the coarsened ones fall."""
    from participation.walks import maps
    from participation.walks.geo import coarsen

    walk = make_walk()
    calls = []
    real_build = maps.build

    def spy(*args, **kwargs):
        built = real_build(*args, **kwargs)
        calls.append((kwargs.get("public"), built))
        return built

    monkeypatch.setattr(maps, "build", spy)
    assert client.get(page.format(id=walk.id)).status_code == 200
    assert calls and all(public is True for public, _m in calls)
    if "walk=" in page or page.startswith("/w/"):
        built = calls[0][1]
        first = next(m for m in built.markers if m.number == 1)
        assert (first.x, first.y) == built.frame.project(*coarsen(*EXACT))
        assert (first.x, first.y) != built.frame.project(*EXACT)
