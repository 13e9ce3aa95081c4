"""The sync endpoint, as the outbox uses it, with walk observations: each submission recorded
exactly once whatever is sent again; a reused id with other content is a conflict; photos
staged once by hash, EXIF-free; every malformed or unauthorised call refused with a clear,
translated message and nothing written."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.field.models import Receipt, StagedPhoto
from participation.walks import services as walks
from participation.walks.models import Observation, Walk, WalkStatus

from .conftest import MEDIATOR, Outbox, jpeg, new_id, photo_refs


@pytest.fixture
def walk(app, demo) -> Walk:
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    w = walks.create_walk(hood, "Marche du terrain", date.today())
    db.session.commit()
    return w


@pytest.fixture
def foreign_walk(app, demo) -> Walk:
    """A walk in Narbonne: outside the Marseille mediator's scope."""
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01101M"))
    w = walks.create_walk(hood, "Marche de Narbonne", date.today())
    db.session.commit()
    return w


def item(walk: Walk, client_id: str | None = None, seen: str = "Un lampadaire cassé", photos=None, **extra) -> dict:
    fields = [["theme", str(walk.themes[0].id)], ["rating", "2"], ["seen", seen], ["quote", ""], ["address", ""],
              ["waypoint", ""], ["lat", "43.3301"], ["lon", "5.4102"], ["accuracy", "12"],
              ["location_source", "gps"]]
    fields += [["caption", f"Photo {slot}"] for slot in (photos or {})]
    return {"client_id": client_id or new_id(), "kind": "walk_observation", "form_version": 1,
            "target": {"walk_id": walk.id}, "fields": fields, "photos": photo_refs(photos or {}),
            "locale": "fr", "created_at": "2026-11-23T09:15:00Z", **extra}


def observations(walk) -> list[Observation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Observation).filter_by(walk_id=walk.id).order_by(Observation.number)))


def receipts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Receipt))


def test_config_gives_the_outbox_a_token_the_limits_and_the_form_versions(outbox, app):
    data = outbox.client.get("/field/api/config").get_json()
    assert data["csrf_token"] and data["user"]["name"] == "Karim Haddad"
    assert data["max_request_bytes"] == app.config["MAX_CONTENT_LENGTH"]
    assert data["max_photo_bytes"] == app.config["MAX_PHOTO_BYTES"]
    assert data["forms"]["walk_observation"] == 1
    assert data["shift_ends_at"].endswith("Z")


def test_a_submission_is_recorded_once_and_its_replay_adds_nothing(outbox, walk):
    sent = item(walk)
    first = outbox.send(sent)
    assert first.status_code == 201 and first.get_json()["status"] == "created"
    assert "no. 1" in first.get_json()["message"]
    again = outbox.send(sent)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert [o.seen for o in observations(walk)] == ["Un lampadaire cassé"]
    assert receipts() == 1
    obs = observations(walk)[0]
    mediator = db.session.scalar(sa.select(User).filter_by(email=MEDIATOR))
    assert obs.client_id == sent["client_id"] and obs.recorded_by_id == mediator.id


def test_the_devices_clock_is_not_part_of_the_content(outbox, walk):
    sent = item(walk)
    assert outbox.send(sent).status_code == 201
    assert outbox.send({**sent, "created_at": "2026-11-24T10:00:00Z"}).get_json()["status"] == "duplicate"


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(outbox, walk):
    sent = item(walk)
    outbox.send(sent)
    resp = outbox.send(item(walk, client_id=sent["client_id"], seen="Autre chose"))
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["status"] == "conflict" and "export it to a file" in body["message"]
    assert [o.seen for o in observations(walk)] == ["Un lampadaire cassé"]


def test_a_conflict_message_is_translated(outbox, walk):
    sent = item(walk)
    outbox.send(sent)
    resp = outbox.submit(item(walk, client_id=sent["client_id"], seen="Autre chose"), lang="fr")
    assert "exportez" in resp.get_json()["message"].lower()


def test_photos_are_staged_once_by_hash_and_lose_their_exif(outbox, walk, app):
    photo = jpeg(exif_make="PhoneMaker")
    sent = item(walk, photos={0: photo})
    assert outbox.put_photo(sent["client_id"], 0, photo).status_code == 201
    assert outbox.put_photo(sent["client_id"], 0, photo).get_json()["status"] == "duplicate"
    other = jpeg("red")
    resp = outbox.put_photo(sent["client_id"], 0, other)
    assert resp.status_code == 409 and resp.get_json()["status"] == "conflict"
    assert outbox.submit(sent).status_code == 201
    obs = observations(walk)[0]
    assert [p.caption for p in obs.photos] == ["Photo 0"]
    stored = Image.open(io.BytesIO(walks.photo_store().open(obs.photos[0].sha)))
    assert stored.format == "JPEG" and not stored.getexif()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedPhoto)) == 0  # dropped once recorded


def test_a_photo_damaged_on_the_way_is_refused_and_can_be_sent_again(outbox, walk):
    photo = jpeg()
    client_id = new_id()
    resp = outbox.put_photo(client_id, 0, photo[:-10], sha=hashlib.sha256(photo).hexdigest())
    assert resp.status_code == 422 and resp.get_json()["status"] == "corrupt"
    assert outbox.put_photo(client_id, 0, photo).status_code == 201


def test_a_file_that_is_not_a_picture_is_refused(outbox, walk):
    resp = outbox.put_photo(new_id(), 0, b"%PDF-1.4 not a photo")
    assert resp.status_code == 422 and resp.get_json()["status"] == "rejected"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedPhoto)) == 0


def test_a_submission_whose_photos_have_not_arrived_says_which(outbox, walk):
    sent = item(walk, photos={0: jpeg(), 1: jpeg("blue")})
    outbox.put_photo(sent["client_id"], 0, jpeg())
    resp = outbox.submit(sent)
    assert resp.status_code == 422 and resp.get_json() == {
        "status": "photos_missing", "message": resp.get_json()["message"], "missing": [1]}
    assert observations(walk) == [] and receipts() == 0
    outbox.put_photo(sent["client_id"], 1, jpeg("blue"))
    assert outbox.submit(sent).status_code == 201


def test_a_refused_observation_says_why_per_field_and_stores_nothing(outbox, walk):
    sent = item(walk)
    sent["fields"] = [[k, "9" if k == "rating" else v] for k, v in sent["fields"]]
    resp = outbox.submit(sent)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["status"] == "rejected" and "rating" in body["fields"]
    assert observations(walk) == [] and receipts() == 0


def test_an_observation_without_anything_seen_is_refused(outbox, walk):
    sent = item(walk, seen="")
    resp = outbox.submit(sent)
    assert resp.status_code == 422 and resp.get_json()["message"]
    assert observations(walk) == []


def test_a_walk_outside_the_mediators_scope_is_forbidden(outbox, foreign_walk):
    resp = outbox.submit(item(foreign_walk))
    assert resp.status_code == 403 and resp.get_json()["status"] == "forbidden"
    assert observations(foreign_walk) == [] and receipts() == 0


def test_a_walk_published_since_the_form_was_taken_offline_is_refused(outbox, walk):
    walk.status = WalkStatus.published  # its report went out while the tablet was offline
    db.session.commit()
    resp = outbox.submit(item(walk))
    assert resp.status_code == 422 and resp.get_json()["status"] == "rejected"


def test_an_old_form_version_is_refused_with_advice(outbox, walk):
    resp = outbox.submit(item(walk, form_version=7))
    assert resp.status_code == 422 and resp.get_json()["status"] == "old_form"


@pytest.mark.parametrize("change", [
    {"client_id": "short"}, {"client_id": "../../etc"}, {"form_version": "1"}, {"form_version": True},
    {"target": []}, {"target": {"walk_id": [1]}}, {"fields": {"seen": "x"}}, {"fields": [["seen"]]},
    {"fields": [["seen", 3]]}, {"fields": [["seen", "a\x00b"]]}, {"photos": [{"slot": 0}]},
    {"photos": [{"slot": 99, "name": "photo", "sha": "0" * 64}]},
    {"photos": [{"slot": 0, "name": "photo", "sha": "0" * 64}, {"slot": 0, "name": "photo", "sha": "1" * 64}]},
])
def test_a_malformed_submission_is_a_clear_400(outbox, walk, change):
    resp = outbox.submit({**item(walk), **change})
    assert resp.status_code == 400 and resp.get_json()["status"] == "bad_request"
    assert receipts() == 0


def test_an_unknown_kind_is_refused(outbox, walk):
    resp = outbox.submit({**item(walk), "kind": "telepathy"})
    assert resp.status_code == 422 and resp.get_json()["status"] == "unknown_kind"


def test_a_body_that_is_not_json_is_a_400(outbox, walk):
    resp = outbox.client.post("/field/api/submissions", data="not json", content_type="application/json",
                              headers={"X-CSRFToken": outbox.token()})
    assert resp.status_code == 400


def test_without_a_login_the_api_answers_401_in_json_and_keeps_nothing(client, walk):
    resp = client.get("/field/api/config")
    assert resp.status_code == 401 and resp.get_json()["status"] == "login"


def test_a_revoked_session_gets_401_and_nothing_is_recorded(outbox, walk, app):
    from participation.accounts.services import revoke_all_sessions
    from participation.core.users import User

    token = outbox.token()
    revoke_all_sessions(db.session.scalar(sa.select(User).filter_by(email=MEDIATOR)))
    db.session.commit()
    resp = outbox.client.post("/field/api/submissions", json=item(walk), headers={"X-CSRFToken": token})
    assert resp.status_code == 401
    assert observations(walk) == []


def test_without_the_csrf_token_the_api_answers_in_json(outbox, walk):
    resp = outbox.client.post("/field/api/submissions", json=item(walk))
    assert resp.status_code == 400 and resp.get_json()["status"] == "csrf"


def test_a_submission_above_the_size_limit_is_refused_with_the_limit(outbox, walk, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = outbox.put_photo(new_id(), 0, b"\xff" * (limit + 1))
    assert resp.status_code == 413 and resp.get_json()["max_bytes"] == limit


# --- outbox files ------------------------------------------------------------------------


def outbox_file(items: list[dict], photos: dict[str, dict[int, bytes]] | None = None) -> bytes:
    import base64

    out = []
    for it in items:
        blobs = (photos or {}).get(it["client_id"], {})
        out.append({**it, "title": "Marche du terrain",
                    "photos": [{**ref, "data": base64.b64encode(blobs[ref["slot"]]).decode()} for ref in it["photos"]]})
    return json.dumps({"format": "participation-outbox", "version": 1, "exported_at": "2026-11-23T10:00:00Z",
                       "items": out}).encode()


def _import(outbox, raw: bytes):
    from ..conftest import csrf_from

    page = outbox.client.get("/field/import?lang=en").get_data(as_text=True)
    return outbox.client.post("/field/import?lang=en", data={"csrf_token": csrf_from(page),
                                                             "outbox": (io.BytesIO(raw), "outbox.json")},
                              content_type="multipart/form-data")


def test_an_outbox_file_imports_each_entry_once_even_twice_or_after_a_sync(outbox, walk):
    photo = jpeg()
    a, b = item(walk, photos={0: photo}), item(walk, seen="Un banc cassé")
    outbox.send(a, {0: photo})  # the tablet managed to send one before it lost the connection
    raw = outbox_file([a, b], {a["client_id"]: {0: photo}})
    page = _import(outbox, raw).get_data(as_text=True)
    assert "Recorded now: 1. Already received: 1. Not recorded: 0." in page
    page = _import(outbox, raw).get_data(as_text=True)
    assert "Recorded now: 0. Already received: 2. Not recorded: 0." in page
    assert sorted(o.seen for o in observations(walk)) == ["Un banc cassé", "Un lampadaire cassé"]


def test_a_refused_entry_in_a_file_does_not_stop_the_others(outbox, walk, foreign_walk):
    raw = outbox_file([item(foreign_walk), item(walk)])
    resp = _import(outbox, raw)
    page = resp.get_data(as_text=True)
    assert "Recorded now: 1. Already received: 0. Not recorded: 1." in page
    assert "You may not record observations on this walk." in page
    assert len(observations(walk)) == 1 and observations(foreign_walk) == []


@pytest.mark.parametrize("raw", [b"not json", b'{"format": "other", "items": []}', b"\xff\xfe",
                                 b'{"format": "participation-outbox", "version": 99, "items": []}'])
def test_a_file_that_is_not_an_outbox_is_refused_clearly(outbox, raw):
    resp = _import(outbox, raw)
    assert resp.status_code == 422
    assert "outbox" in resp.get_data(as_text=True)


def test_an_import_without_a_file_asks_for_one(outbox):
    from ..conftest import csrf_from

    page = outbox.client.get("/field/import").get_data(as_text=True)
    resp = outbox.client.post("/field/import?lang=en", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 422 and "Choose the file" in resp.get_data(as_text=True)


def test_an_outbox_file_larger_than_a_form_imports(outbox, walk, app):
    """Days of photos make files far above MAX_CONTENT_LENGTH: the import has its own limit."""
    big = item(walk, seen="Un long récit " + "x" * 2000)
    raw = outbox_file([big])
    padding = app.config["MAX_CONTENT_LENGTH"] + 1024 - len(raw)
    data = json.loads(raw)
    data["padding"] = "p" * padding  # an exporter's extra field, ignored
    resp = _import(outbox, json.dumps(data).encode())
    assert resp.status_code == 200, resp.status_code
    assert "Recorded now: 1. Already received: 0. Not recorded: 0." in resp.get_data(as_text=True)


def test_an_import_without_the_csrf_token_is_refused_and_records_nothing(outbox, walk):
    resp = outbox.client.post("/field/import?lang=en", data={"outbox": (io.BytesIO(outbox_file([item(walk)])),
                                                                      "o.json")},
                              content_type="multipart/form-data")
    assert resp.status_code == 400 and observations(walk) == []


def test_deeply_nested_json_is_a_400_not_a_500(outbox, walk):
    body = "[" * 200_000 + "]" * 200_000
    resp = outbox.client.post("/field/api/submissions", data=body, content_type="application/json",
                              headers={"X-CSRFToken": outbox.token()})
    assert resp.status_code == 400
    page = _import(outbox, body.encode())
    assert page.status_code == 422


def test_staged_photos_are_dropped_once_their_submission_is_recorded(outbox, walk):
    """Kept, a staged row would tie the submission's id to the photo's hash."""
    photo = jpeg()
    sent = item(walk, photos={0: photo})
    assert outbox.send(sent, {0: photo}).status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedPhoto)) == 0
    assert outbox.send(sent, {0: photo}).get_json()["status"] == "duplicate"
    assert len(observations(walk)[0].photos) == 1


def test_photo_slots_past_eight_are_accepted_but_not_more_than_eight_photos(outbox, walk):
    refs = [{"slot": 9 + i, "name": "photo", "sha": f"{i:064x}"} for i in range(9)]
    assert outbox.submit({**item(walk), "photos": refs}).status_code == 400
    assert outbox.put_photo(new_id(), 40, jpeg()).status_code == 201
