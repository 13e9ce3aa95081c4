"""Recording observations during a walk: the participants' form behind the walk's QR key and the
staff form; one observation per submission (a retry is not a second one), numbers in order,
photos re-encoded without EXIF, the location from a stop, the device or the map, and every bad
input answered with a clear message and nothing stored."""
from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.walks import services
from participation.walks.models import LocationSource, Observation, Walk, WalkStatus

from ..conftest import csrf_from

FACILITATOR = "animatrice@amp.demo"


@pytest.fixture
def walk(app, demo) -> Walk:
    """A planned walk in Frais Vallon, recording open, with a located stop and one without."""
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    w = services.create_walk(hood, "Marche de test", date.today())
    services.add_waypoint(w, "Place du marché", 43.3301, 5.4102)
    services.add_waypoint(w, "Entrée du parc")
    db.session.commit()
    return w


def _url(walk, key=None, lang="en"):
    return f"/w/{walk.id}/record/{key or walk.record_key}?lang={lang}"


def _staff_url(walk, lang="en"):
    return f"/admin/walks/{walk.id}/record?lang={lang}"


def _client_id(page: str) -> str:
    return re.search(r'name="client_id" value="([^"]+)"', page).group(1)


def _form(client, url) -> dict:
    """The hidden fields of a freshly served form."""
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": csrf_from(page), "client_id": _client_id(page)}


def _post(client, url, form=None, photos=(), **fields):
    data = dict(form or _form(client, url))
    data.update({k: str(v) for k, v in fields.items()})
    if photos:
        data["photo"] = [(io.BytesIO(raw), name) for raw, name, _caption in photos]
        data["caption"] = [caption for _raw, _name, caption in photos]
    return client.post(url, data=data, content_type="multipart/form-data")


def _observations(walk) -> list[Observation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Observation).where(Observation.walk_id == walk.id)
                                   .order_by(Observation.number)))


def _png(color="green", size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_with_gps(size=(2400, 1800)) -> bytes:
    """A camera-like JPEG whose EXIF says where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (43.0, 19.0, 48.0), 3: "E", 4: (5.0, 24.0, 36.0)})
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 140, 160)).save(buf, "JPEG", exif=exif, quality=90)
    raw = buf.getvalue()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825), "the test photo must carry GPS data"
    return raw


def _stored_files() -> set:
    root = services.photo_store().directory
    return {p.name for p in root.rglob("*.jpg")} if root.exists() else set()


def _login(auth, email=FACILITATOR):
    assert auth.login(email).status_code == 302


# --- the form ---------------------------------------------------------------------------


def test_the_key_opens_the_form_with_the_grid_the_scale_and_a_fresh_id(client, walk):
    resp = client.get(_url(walk))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Record an observation" in page and "Marche de test" in page
    assert "Lighting" in page and "Is the street lit everywhere" in page
    assert all(words in page for words in ("Very bad", "So-so", "Very good")) and "😠" in page
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert "Place du marché" in page and "Entrée du parc" in page
    assert _client_id(page) != _client_id(client.get(_url(walk)).get_data(as_text=True))


def test_the_form_has_no_inline_script_nor_style(client, walk):
    page = client.get(_url(walk)).get_data(as_text=True)
    assert "js/walk-record.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page


def test_the_map_is_tappable_and_carries_its_projection(client, walk):
    page = client.get(_url(walk)).get_data(as_text=True)
    assert 'class="walk-map walk-map-tappable"' in page
    assert all(f'data-{name}="' in page for name in ("min-x", "min-y", "scale", "offset-x", "offset-y"))


def test_a_wrong_key_or_an_unknown_walk_is_not_found(client, walk):
    assert client.get(_url(walk, key="not-the-key")).status_code == 404
    assert client.get(f"/w/999999/record/{walk.record_key}").status_code == 404
    form = _form(client, _url(walk))
    assert _post(client, f"/w/{walk.id}/record/not-the-key", form, seen="x").status_code == 404
    assert _observations(walk) == []


def test_the_form_works_in_arabic(client, walk):
    resp = client.get(_url(walk, lang="ar"))
    assert resp.status_code == 200 and 'dir="rtl"' in resp.get_data(as_text=True)


# --- recording --------------------------------------------------------------------------


def test_a_participant_records_an_observation_without_an_account(client, walk):
    theme = walk.themes[0]
    resp = _post(client, _url(walk), theme=theme.id, rating=2, seen="Lampadaire cassé", quote="On a peur le soir")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/w/{walk.id}/record/{walk.record_key}")
    [obs] = _observations(walk)
    assert (obs.number, obs.theme_id, obs.rating, obs.seen, obs.quote) == (1, theme.id, 2, "Lampadaire cassé",
                                                                          "On a peur le soir")
    assert obs.recorded_by_id is None and obs.channel.value == "web" and obs.location_source is LocationSource.none
    assert obs.moderation.value == "pending"


def test_after_recording_the_form_says_so_and_is_fresh(client, walk):
    form = _form(client, _url(walk))
    resp = _post(client, _url(walk), form, seen="Trottoir défoncé")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Observation no. 1 recorded." in page
    assert "1 observation recorded on this walk" in page
    assert _client_id(page) != form["client_id"]


def test_staff_record_on_their_tablet_under_their_name(client, auth, walk):
    _login(auth)
    resp = _post(client, _staff_url(walk), seen="Poubelles débordantes")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/admin/walks/{walk.id}/record")
    [obs] = _observations(walk)
    facilitator = db.session.scalar(sa.select(User).filter_by(email=FACILITATOR))
    assert obs.recorded_by_id == facilitator.id and obs.channel.value == "web"


def test_the_staff_form_needs_a_login(client, walk):
    resp = client.get(_staff_url(walk))
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_numbers_follow_one_another_in_order(client, walk):
    for i in range(5):
        assert _post(client, _url(walk), seen=f"Point {i + 1}").status_code == 303
    observations = _observations(walk)
    assert [o.number for o in observations] == [1, 2, 3, 4, 5]
    assert [o.seen for o in observations] == [f"Point {i}" for i in range(1, 6)]


def test_a_retried_submission_is_one_observation_with_the_same_number(client, walk):
    form = _form(client, _url(walk))
    first = _post(client, _url(walk), form, seen="Banc cassé", photos=[(_png(), "banc.png", "Le banc")])
    again = _post(client, _url(walk), form, seen="Banc cassé", photos=[(_png(), "banc.png", "Le banc")])
    assert first.status_code == again.status_code == 303
    assert "Observation no. 1 recorded." in client.get(again.headers["Location"]).get_data(as_text=True)
    [obs] = _observations(walk)
    assert obs.number == 1 and len(obs.photos) == 1


def test_the_same_id_with_other_content_is_refused(client, walk):
    form = _form(client, _url(walk))
    assert _post(client, _url(walk), form, seen="Banc cassé").status_code == 303
    resp = _post(client, _url(walk), form, seen="Autre chose")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "already sent with different content" in page
    assert "Autre chose" in page and _client_id(page) != form["client_id"]
    assert [o.seen for o in _observations(walk)] == ["Banc cassé"]


# --- refusals ---------------------------------------------------------------------------


def test_closed_recording_refuses_participants(client, walk):
    form = _form(client, _url(walk))
    db.session.get(Walk, walk.id).recording_open = False
    db.session.commit()
    resp = client.get(_url(walk))
    assert resp.status_code == 409 and "Recording is closed for this walk" in resp.get_data(as_text=True)
    resp = _post(client, _url(walk), form, seen="Trop tard")
    assert resp.status_code == 409 and "Recording is closed for this walk" in resp.get_data(as_text=True)
    assert _observations(walk) == []


def test_closed_recording_still_lets_staff_record(client, auth, walk):
    db.session.get(Walk, walk.id).recording_open = False
    db.session.commit()
    _login(auth)
    assert _post(client, _staff_url(walk), seen="Saisi après la marche").status_code == 303
    assert len(_observations(walk)) == 1


def test_a_published_walk_refuses_everyone(client, auth, walk):
    assert _post(client, _url(walk), seen="Avant publication").status_code == 303
    w = db.session.get(Walk, walk.id)
    w.observations[0].moderation = services.Moderation.published
    services.set_status(w, WalkStatus.walked)
    services.set_status(w, WalkStatus.published)
    db.session.commit()
    resp = client.get(_url(walk))
    assert resp.status_code == 409 and "The report of this walk is published" in resp.get_data(as_text=True)
    _login(auth)
    assert client.get(_staff_url(walk)).status_code == 409
    resp = _post(client, _staff_url(walk), {"csrf_token": auth.csrf("/admin/"), "client_id": "abcdefgh12345678"},
                 seen="Après publication")
    assert resp.status_code == 409 and "The report of this walk is published" in resp.get_data(as_text=True)
    assert len(_observations(walk)) == 1


def test_an_empty_observation_is_refused(client, walk):
    resp = _post(client, _url(walk), rating=3)
    assert resp.status_code == 422 and "Say what you saw, or add a photo." in resp.get_data(as_text=True)
    assert _observations(walk) == []


def test_a_latitude_without_longitude_is_refused_and_the_text_kept(client, walk):
    resp = _post(client, _url(walk), seen="Ruelle sombre", lat="43.33", location_source="map")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Give both the latitude and the longitude, or neither." in page and "Ruelle sombre" in page
    assert _observations(walk) == []


def test_a_theme_of_another_walk_is_refused(client, walk):
    other = services.create_walk(db.session.get(Walk, walk.id).neighbourhood, "Autre marche", date.today())
    db.session.commit()
    resp = _post(client, _url(walk), seen="Tags", theme=other.themes[0].id)
    assert resp.status_code == 422
    assert "Choose a theme of this walk's grid." in html.unescape(resp.get_data(as_text=True))
    assert _observations(walk) == []


@pytest.mark.parametrize("field,value", [("rating", "6"), ("rating", "bad"), ("theme", "x"), ("waypoint", "999999"),
                                         ("lat", "nan"), ("client_id", "short")])
def test_a_tampered_field_is_a_clear_422(client, walk, field, value):
    fields = {"seen": "Texte", field: value}
    if field == "lat":
        fields["lon"] = "5.4"
    form = _form(client, _url(walk))
    if field == "client_id":
        form["client_id"] = value
        fields.pop(field)
    resp = _post(client, _url(walk), form, **fields)
    assert resp.status_code == 422 and "Texte" in resp.get_data(as_text=True)
    assert _observations(walk) == []


def test_an_oversize_upload_gets_a_clear_message(app, client, walk, monkeypatch):
    form = _form(client, _url(walk))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    big = b"\xff\xd8\xff" + b"0" * 80_000
    resp = _post(client, _url(walk), form, seen="Grosse photo", photos=[(big, "big.jpg", "")])
    assert resp.status_code == 413 and "What you sent is too large" in resp.get_data(as_text=True)
    assert _observations(walk) == []


# --- photos -----------------------------------------------------------------------------


def test_a_photo_is_stored_without_exif_and_resized_with_its_caption(client, walk):
    resp = _post(client, _url(walk), seen="Lampadaire", photos=[(_jpeg_with_gps(), "IMG_0001.jpg", "Le lampadaire")])
    assert resp.status_code == 303
    [obs] = _observations(walk)
    [photo] = obs.photos
    assert photo.caption == "Le lampadaire"
    stored = Image.open(io.BytesIO(services.photo_store().open(photo.sha)))
    assert stored.format == "JPEG"
    assert max(stored.size) <= services.PHOTO_SIDE and max(stored.size) == services.PHOTO_SIDE
    assert not stored.getexif() and "exif" not in stored.info
    assert (photo.width, photo.height) == stored.size


def test_a_non_image_is_refused_and_nothing_is_stored(client, walk):
    before = _stored_files()
    resp = _post(client, _url(walk), seen="Mon texte tapé", quote="Une phrase",
                 photos=[(_png(), "ok.png", "bonne"), (b"%PDF-1.4 not a photo", "doc.jpg", "mauvaise")])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Photo 2: This file is not a photo." in page
    assert "Mon texte tapé" in page and "Une phrase" in page and "choose them again" in page
    assert _observations(walk) == [] and _stored_files() == before


def test_more_photos_than_allowed_are_refused(client, walk):
    photos = [(_png(color=(i * 40, 0, 0)), f"p{i}.png", "") for i in range(services.MAX_PHOTOS + 1)]
    resp = _post(client, _url(walk), seen="Beaucoup", photos=photos)
    assert resp.status_code == 422 and f"at most {services.MAX_PHOTOS} photos" in resp.get_data(as_text=True)
    assert _observations(walk) == []


def test_empty_photo_rows_are_skipped_and_captions_stay_with_their_photo(client, walk):
    photos = [(b"", "", ""), (_png("red"), "rouge.png", "Rouge"), (b"", "", ""), (_png("blue"), "bleu.png", "Bleu")]
    assert _post(client, _url(walk), photos=photos).status_code == 303
    [obs] = _observations(walk)
    assert sorted(p.caption for p in obs.photos) == ["Bleu", "Rouge"]


# --- location ---------------------------------------------------------------------------


def test_a_stop_of_the_route_gives_its_coordinates(client, walk):
    stop = walk.waypoints[0]
    assert _post(client, _url(walk), seen="Au marché", waypoint=stop.id).status_code == 303
    [obs] = _observations(walk)
    assert (obs.lat, obs.lon, obs.waypoint_id) == (43.3301, 5.4102, stop.id)
    assert obs.location_source is LocationSource.waypoint


def test_a_stop_without_coordinates_is_kept_as_the_place(client, walk):
    stop = walk.waypoints[1]
    assert _post(client, _url(walk), seen="Au parc", waypoint=stop.id).status_code == 303
    [obs] = _observations(walk)
    assert obs.lat is None and obs.waypoint_id == stop.id and obs.location_source is LocationSource.waypoint


def test_the_device_position_is_kept_with_its_accuracy(client, walk):
    resp = _post(client, _url(walk), seen="Ici", lat="43.331234", lon="5.412345", accuracy="12.6",
                 location_source="gps")
    assert resp.status_code == 303
    [obs] = _observations(walk)
    assert (obs.lat, obs.lon, obs.accuracy_m, obs.location_source) == (43.331234, 5.412345, 13, LocationSource.gps)


def test_a_position_without_the_device_is_a_tap_on_the_map(client, walk):
    resp = _post(client, _url(walk), seen="Là", lat="43.33", lon="5.41", accuracy="8", location_source="bogus")
    assert resp.status_code == 303
    [obs] = _observations(walk)
    assert obs.location_source is LocationSource.map and obs.accuracy_m is None


def test_an_address_alone_is_the_location(client, walk):
    assert _post(client, _url(walk), seen="Devant l'école", address="12 rue des Lilas").status_code == 303
    [obs] = _observations(walk)
    assert (obs.address, obs.lat, obs.location_source) == ("12 rue des Lilas", None, LocationSource.address)


# --- what the page shows under the form --------------------------------------------------


def test_participants_see_the_count_and_only_their_own_observations(app, client, walk):
    other_phone = app.test_client()
    assert _post(other_phone, _url(walk), seen="Texte de quelqu'un d'autre").status_code == 303
    assert _post(client, _url(walk), seen="Mon propre texte").status_code == 303
    page = client.get(_url(walk)).get_data(as_text=True)
    assert "2 observations recorded on this walk" in page
    assert "Mon propre texte" in page and "quelqu&#39;un d&#39;autre" not in page and "autre" not in page


def test_staff_see_the_last_observations(client, auth, app, walk):
    assert _post(app.test_client(), _url(walk), seen="Noté par une marcheuse").status_code == 303
    _login(auth)
    page = client.get(_staff_url(walk)).get_data(as_text=True)
    assert "1 observation recorded on this walk" in page and "Noté par une marcheuse" in page


def test_the_map_shows_only_the_listed_points(app, client, walk):
    assert _post(app.test_client(), _url(walk), seen="Ailleurs", lat="43.331", lon="5.411").status_code == 303
    page = client.get(_url(walk)).get_data(as_text=True)
    assert 'class="walk-map-point' not in page
    assert _post(client, _url(walk), seen="Chez moi", lat="43.332", lon="5.412").status_code == 303
    page = client.get(_url(walk)).get_data(as_text=True)
    assert page.count('class="walk-map-point') == 1
