"""Moderating a walk in the back office: the observations by number with their photos and what to
check on a photo, the "to check" filter, publishing / keeping private an observation and each
photo (which changes what the public walk page shows), captions as alternative text, deleting
(after a confirmation; the other numbers stay), and editing an observation (theme, smiley,
location, photos)."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Neighbourhood
from participation.extensions import db
from participation.walks import services
from participation.walks.models import LocationSource, Moderation, Observation, ObservationPhoto, Walk, WalkStatus

from ..conftest import csrf_from

# --- builders, shared with test_recommendations and test_follow_up ---

FAC = "animatrice@amp.demo"
FRAIS_VALLON, NARBONNE = "QN01322M", "QN01101M"


def png(colour: str = "green", size=(24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def make_walk(qpv: str = FRAIS_VALLON, title: str = "Marche test", *, observations: int = 3, photos: int = 1,
              walked: bool = True):
    """A walk with one stop and `observations` observations (No. 1…), each with `photos` photos,
    all to check; walked unless told otherwise."""
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
    walk = services.create_walk(hood, title, date.today() - timedelta(days=5))
    services.add_waypoint(walk, "Arrêt de bus", 43.3300, 5.4200)
    colours = ["red", "green", "blue", "yellow", "purple", "orange"]
    for n in range(observations):
        shots = [(services.process_photos([png(colours[(n + k) % len(colours)], (20 + n, 10 + k))])[0],
                  f"Photo {n + 1}.{k + 1}") for k in range(photos)]
        services.record_observation(walk, services.ObservationInput(
            client_id=f"{title[:8].replace(' ', '-')}-{qpv}-{n:04d}", theme_id=walk.themes[n % 3].id, rating=n % 5 + 1,
            seen=f"Constat numéro {n + 1}", quote=f"Citation {n + 1}", lat=43.3301 + n / 1000, lon=5.4201,
            accuracy_m=8, location_source=LocationSource.gps),
            shots)
    if walked:
        services.set_status(walk, WalkStatus.walked)
    db.session.flush()
    return walk


@pytest.fixture
def walk(demo):
    walk = make_walk()
    db.session.commit()
    return walk


def _obs(walk, number) -> Observation:
    """Observation No. `number`, as the database has it now (after the requests' commits)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Observation).filter_by(walk_id=walk.id, number=number))


def _page(client, walk, query="") -> str:
    return client.get(f"/admin/walks/{walk.id}/observations?lang=en{query}").get_data(as_text=True)


def _post(client, url, data=None, page=None):
    html = client.get(page or "/admin/?lang=en").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **(data or {})})


def test_the_moderation_page_lists_each_observation_by_number_with_its_photos(client, auth, walk):
    auth.login(FAC)
    resp = client.get(f"/admin/walks/{walk.id}/observations?lang=en")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for n in (1, 2, 3):
        assert f'id="o{n}"' in html and f"Constat numéro {n}" in html and f"Citation {n}" in html
    assert "Very bad" in html and "Bad" in html  # the smiley scale in words
    assert "Position of the device · accurate to 8 m" in html  # where the location came from
    assert '<svg id="review-map"' in html
    photo = _obs(walk, 1).photos[0]
    assert f'src="/w/photos/{photo.id}.jpg?size=thumb"' in html
    assert 'alt="Photo 1.1"' in html


def test_the_moderation_page_says_what_to_look_for_on_a_photo(client, auth, walk):
    auth.login(FAC)
    html = _page(client, walk)
    assert "no face that can be recognised, unless the person agreed" in html
    assert "no number plate" in html
    assert "no personal details" in html


def test_the_to_check_filter_leaves_out_what_was_checked(client, auth, walk):
    first = _obs(walk, 1)
    first.moderation = Moderation.published
    first.photos[0].moderation = Moderation.hidden
    db.session.commit()
    auth.login(FAC)
    html = _page(client, walk, "&show=pending")
    assert 'id="o1"' not in html
    assert 'id="o2"' in html and 'id="o3"' in html
    assert "To check (2)" in html


def test_an_observation_with_a_photo_to_check_is_still_to_check(client, auth, walk):
    first = _obs(walk, 1)
    first.moderation = Moderation.published
    db.session.commit()
    auth.login(FAC)
    assert 'id="o1"' in _page(client, walk, "&show=pending")


def test_publishing_an_observation_shows_it_on_the_public_walk_page(client, auth, walk):
    auth.login(FAC)
    second = _obs(walk, 2)
    resp = _post(client, f"/admin/walks/observations/{second.id}/moderate", {"decision": "published"})
    assert resp.status_code == 302
    assert _obs(walk, 2).moderation is Moderation.published
    auth.logout()
    public = client.get(f"/w/{walk.id}?lang=en").get_data(as_text=True)
    assert "Constat numéro 2" in public
    assert "Constat numéro 1" not in public and "Constat numéro 3" not in public


def test_keeping_an_observation_private_removes_it_from_the_public_page(client, auth, walk):
    second = _obs(walk, 2)
    second.moderation = Moderation.published
    db.session.commit()
    auth.login(FAC)
    _post(client, f"/admin/walks/observations/{second.id}/moderate", {"decision": "hidden"})
    assert _obs(walk, 2).moderation is Moderation.hidden
    auth.logout()
    assert "Constat numéro 2" not in client.get(f"/w/{walk.id}?lang=en").get_data(as_text=True)


def test_an_unknown_moderation_decision_is_refused_with_a_message(client, auth, walk):
    auth.login(FAC)
    first = _obs(walk, 1)
    resp = _post(client, f"/admin/walks/observations/{first.id}/moderate", {"decision": "everyone"})
    assert resp.status_code == 422
    assert "Choose: publish, keep private, or check later." in resp.get_data(as_text=True)
    assert _obs(walk, 1).moderation is Moderation.pending


def test_publishing_every_ticked_observation_at_once(client, auth, walk):
    auth.login(FAC)
    ids = [_obs(walk, 1).id, _obs(walk, 3).id]
    html = _page(client, walk)
    resp = client.post(f"/admin/walks/{walk.id}/observations",
                       data={"csrf_token": csrf_from(html), "observations": [str(i) for i in ids]})
    assert resp.status_code == 302
    assert [_obs(walk, n).moderation for n in (1, 2, 3)] == [Moderation.published, Moderation.pending,
                                                             Moderation.published]
    # Their photos still need their own check.
    assert _obs(walk, 1).photos[0].moderation is Moderation.pending


def test_publishing_at_once_refuses_an_observation_of_another_walk(client, auth, walk):
    other = make_walk(title="Autre marche", observations=1)
    db.session.commit()
    auth.login(FAC)
    html = _page(client, walk)
    resp = client.post(f"/admin/walks/{walk.id}/observations",
                       data={"csrf_token": csrf_from(html), "observations": [str(_obs(walk, 1).id),
                                                                              str(_obs(other, 1).id)]})
    assert resp.status_code == 422
    assert "Choose observations of this walk." in resp.get_data(as_text=True)
    assert _obs(walk, 1).moderation is Moderation.pending
    assert _obs(other, 1).moderation is Moderation.pending


def test_a_photo_is_public_only_once_it_and_its_observation_are_published(client, auth, walk):
    first = _obs(walk, 1)
    photo_id = first.photos[0].id
    first.moderation = Moderation.published
    db.session.commit()
    auth.login(FAC)
    assert client.get(f"/w/photos/{photo_id}.jpg").status_code == 200  # staff see it
    auth.logout()
    assert client.get(f"/w/photos/{photo_id}.jpg").status_code == 404
    auth.login(FAC)
    resp = _post(client, f"/admin/walks/photos/{photo_id}/moderate",
                 {f"p{photo_id}-decision": "published", f"p{photo_id}-caption": "Photo 1.1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ObservationPhoto, photo_id).moderation is Moderation.published
    auth.logout()
    assert client.get(f"/w/photos/{photo_id}.jpg").status_code == 200


def test_keeping_a_photo_private_stops_serving_it_to_the_public(client, auth, walk):
    first = _obs(walk, 1)
    first.moderation = Moderation.published
    first.photos[0].moderation = Moderation.published
    photo_id = first.photos[0].id
    db.session.commit()
    auth.login(FAC)
    _post(client, f"/admin/walks/photos/{photo_id}/moderate", {f"p{photo_id}-decision": "hidden",
                                                              f"p{photo_id}-caption": "Photo 1.1"})
    auth.logout()
    db.session.expire_all()
    assert db.session.get(ObservationPhoto, photo_id).moderation is Moderation.hidden
    assert client.get(f"/w/photos/{photo_id}.jpg").status_code == 404


def test_the_caption_is_edited_and_becomes_the_alt_text(client, auth, walk):
    photo_id = _obs(walk, 1).photos[0].id
    auth.login(FAC)
    resp = _post(client, f"/admin/walks/photos/{photo_id}/moderate",
                 {f"p{photo_id}-decision": "caption", f"p{photo_id}-caption": "  Lampadaire éteint rue Dupin  "})
    assert resp.status_code == 302
    db.session.expire_all()
    photo = db.session.get(ObservationPhoto, photo_id)
    assert photo.caption == "Lampadaire éteint rue Dupin"
    assert photo.moderation is Moderation.pending  # saving the caption decides nothing
    assert 'alt="Lampadaire éteint rue Dupin"' in _page(client, walk)


def test_a_too_long_caption_is_refused_and_nothing_changes(client, auth, walk):
    photo_id = _obs(walk, 1).photos[0].id
    auth.login(FAC)
    resp = _post(client, f"/admin/walks/photos/{photo_id}/moderate",
                 {f"p{photo_id}-decision": "published", f"p{photo_id}-caption": "x" * 301})
    assert resp.status_code == 422
    db.session.expire_all()
    photo = db.session.get(ObservationPhoto, photo_id)
    assert (photo.caption, photo.moderation) == ("Photo 1.1", Moderation.pending)


def test_deleting_asks_for_a_confirmation_first(client, auth, walk):
    auth.login(FAC)
    second = _obs(walk, 2)
    resp = _post(client, f"/admin/walks/observations/{second.id}/delete")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Delete observation 2?" in html and 'name="confirm" value="yes"' in html
    assert _obs(walk, 2) is not None


def test_deleting_keeps_the_numbers_of_the_other_observations(client, auth, walk):
    auth.login(FAC)
    second = _obs(walk, 2)
    resp = _post(client, f"/admin/walks/observations/{second.id}/delete", {"confirm": "yes"})
    assert resp.status_code == 302
    numbers = list(db.session.scalars(sa.select(Observation.number).filter_by(walk_id=walk.id)
                                      .order_by(Observation.number)))
    assert numbers == [1, 3]
    html = _page(client, walk)
    assert 'id="o1"' in html and 'id="o3"' in html and 'id="o2"' not in html


def test_staff_of_another_contract_cannot_moderate(client, auth, walk):
    auth.login("admin@narbonne.demo")
    first = _obs(walk, 1)
    resp = _post(client, f"/admin/walks/observations/{first.id}/moderate", {"decision": "published"})
    assert resp.status_code == 403
    assert _obs(walk, 1).moderation is Moderation.pending


# --- editing an observation ----------------------------------------------------------------


def _edit(client, obs, **fields):
    url = f"/admin/walks/observations/{obs.id}?lang=en"
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "theme": str(obs.theme_id or ""), "rating": str(obs.rating or ""),
            "seen": obs.seen, "quote": obs.quote, "address": obs.address, "where": "keep", "waypoint": "",
            "lat": "", "lon": "", "caption": "", **fields}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_edit_page_offers_the_smiley_scale_as_radio_buttons_with_words(client, auth, walk):
    auth.login(FAC)
    html = client.get(f"/admin/walks/observations/{_obs(walk, 1).id}?lang=en").get_data(as_text=True)
    assert '<fieldset id="rating"' in html and "<legend>Rating</legend>" in html
    for words in ("Very bad", "Bad", "So-so", "Good", "Very good", "Not rated"):
        assert words in html
    assert html.count('type="radio" name="rating"') == 6 or html.count('name="rating" type="radio"') == 6


def test_editing_changes_theme_rating_text_and_quote(client, auth, walk):
    auth.login(FAC)
    obs = _obs(walk, 1)
    theme = walk.themes[4]
    resp = _edit(client, obs, theme=str(theme.id), rating="4", seen="Éclairage réparé", quote="Enfin !",
                 address="12 rue Dupin")
    assert resp.status_code == 302
    obs = _obs(walk, 1)
    assert (obs.theme_id, obs.rating, obs.seen, obs.quote, obs.address) == (
        theme.id, 4, "Éclairage réparé", "Enfin !", "12 rue Dupin")


def test_a_theme_of_another_walk_is_refused(client, auth, walk):
    other = make_walk(NARBONNE, "Marche de Narbonne", observations=0)
    db.session.commit()
    auth.login(FAC)
    obs = _obs(walk, 1)
    before = obs.theme_id
    resp = _edit(client, obs, theme=str(other.themes[0].id))
    assert resp.status_code == 422
    assert "Choose a theme of this walk&#39;s grid." in resp.get_data(as_text=True)
    assert _obs(walk, 1).theme_id == before


def test_a_rating_off_the_scale_is_refused_with_a_message(client, auth, walk):
    auth.login(FAC)
    resp = _edit(client, _obs(walk, 1), rating="9")
    assert resp.status_code == 422
    assert "Choose a face on the scale, or none." in resp.get_data(as_text=True)
    assert _obs(walk, 1).rating == 1


def test_typed_coordinates_become_the_location(client, auth, walk):
    auth.login(FAC)
    resp = _edit(client, _obs(walk, 1), where="coordinates", lat="43,3312", lon="5.4188")
    assert resp.status_code == 302
    obs = _obs(walk, 1)
    assert (obs.lat, obs.lon, obs.location_source) == (43.3312, 5.4188, LocationSource.map)


def test_half_a_position_is_refused_and_nothing_is_written(client, auth, walk):
    auth.login(FAC)
    resp = _edit(client, _obs(walk, 1), where="coordinates", lat="43.3312", lon="", seen="Changé")
    assert resp.status_code == 422
    assert "Give both the latitude and the longitude, or neither." in resp.get_data(as_text=True)
    obs = _obs(walk, 1)
    assert (obs.seen, obs.lat) == ("Constat numéro 1", 43.3301)


def test_a_stop_of_the_route_becomes_the_location(client, auth, walk):
    auth.login(FAC)
    stop = walk.waypoints[0]
    resp = _edit(client, _obs(walk, 2), where="waypoint", waypoint=str(stop.id))
    assert resp.status_code == 302
    obs = _obs(walk, 2)
    assert (obs.lat, obs.lon, obs.location_source, obs.waypoint_id) == (43.33, 5.42, LocationSource.waypoint,
                                                                        stop.id)


def test_keeping_the_location_changes_nothing_of_it(client, auth, walk):
    auth.login(FAC)
    _edit(client, _obs(walk, 1), seen="Autre texte", lat="1", lon="2")
    obs = _obs(walk, 1)
    assert (obs.seen, obs.lat, obs.location_source) == ("Autre texte", 43.3301, LocationSource.gps)


def test_the_text_may_be_cleared_when_a_photo_is_added(client, auth, walk):
    auth.login(FAC)
    obs = _obs(walk, 1)
    obs.photos.clear()
    db.session.commit()
    assert _edit(client, _obs(walk, 1), seen="").status_code == 422  # nothing left to say what was seen
    resp = _edit(client, _obs(walk, 1), seen="", photos=[(io.BytesIO(png("white", (30, 20))), "lamp.png")])
    assert resp.status_code == 302
    obs = _obs(walk, 1)
    assert (obs.seen, len(obs.photos)) == ("", 1)


def test_adding_a_photo_stores_it_to_check_with_its_caption(client, auth, walk):
    auth.login(FAC)
    resp = _edit(client, _obs(walk, 1), photos=[(io.BytesIO(png("white", (30, 20))), "lamp.png")],
                 caption="Le lampadaire de jour")
    assert resp.status_code == 302
    photos = _obs(walk, 1).photos
    assert len(photos) == 2
    assert (photos[1].caption, photos[1].moderation) == ("Le lampadaire de jour", Moderation.pending)


def test_a_file_that_is_not_a_photo_is_refused_with_a_translated_message(client, auth, walk):
    auth.login(FAC)
    resp = _edit(client, _obs(walk, 1), photos=[(io.BytesIO(b"%PDF-1.4 not a picture"), "doc.jpg")],
                 seen="Ne doit pas être enregistré")
    assert resp.status_code == 422
    assert "This file is not a photo" in resp.get_data(as_text=True)
    obs = _obs(walk, 1)
    assert len(obs.photos) == 1 and obs.seen == "Constat numéro 1"


def test_an_unknown_observation_is_not_found(client, auth, walk):
    auth.login(FAC)
    assert client.get("/admin/walks/observations/999999").status_code == 404



def test_the_number_of_a_deleted_last_observation_is_not_given_again(client, auth, walk):
    auth.login(FAC)
    last = _obs(walk, 3)
    walk_id = walk.id
    _post(client, f"/admin/walks/observations/{last.id}/delete", {"confirm": "yes"})
    db.session.expunge_all()
    walk = db.session.get(Walk, walk_id)
    obs, _created = services.record_observation(walk, services.ObservationInput(
        client_id="after-delete-0001", seen="Nouveau constat"))
    assert obs.number == 4
