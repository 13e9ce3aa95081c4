"""Anonymous by design: what the tables can hold, single-use codes that no session can use
twice, screened free text, photos without their metadata, points rounded, retries not
doubled, and nothing written when anything is refused."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import MultiDict

from participation.questionnaires import codes
from participation.questionnaires.models import Answer, AnswerCodeUse, Moderation, Response

from ..conftest import count
from .test_answering import (
    Resident, answer_barometer, answer_with_code, barometer, build_questionnaire, code_consultation, demo_code,
    form_fields, new_responses,
)

FORBIDDEN_NAMES = ("ip", "addr", "agent", "user", "account", "staff", "created", "time", "session", "cookie")


@pytest.fixture
def q(demo):
    return barometer()


@pytest.fixture
def coded(demo):
    return code_consultation()


def rows() -> tuple[int, int, int]:
    return count(Response), count(Answer), count(AnswerCodeUse)


# --- what the tables can hold -----------------------------------------------------------


@pytest.mark.parametrize("model", [Response, Answer])
def test_no_column_holds_a_time_more_precise_than_a_day(model):
    for column in model.__table__.columns:
        assert not isinstance(column.type, (sa.DateTime, sa.Time, sa.Interval)), column.name


@pytest.mark.parametrize("model", [Response, Answer])
def test_no_column_holds_an_address_an_agent_or_an_account(model):
    for column in model.__table__.columns:
        assert not any(word in column.name.lower().split("_") for word in FORBIDDEN_NAMES), column.name
        assert not any(fk.column.table.name == "users" for fk in column.foreign_keys), column.name


def test_code_marker_holds_the_codes_id_only():
    columns = list(AnswerCodeUse.__table__.columns)
    assert [c.name for c in columns] == ["code_id"]
    assert {fk.column.table.name for fk in columns[0].foreign_keys} == {"questionnaire_codes"}


def test_responses_and_codes_share_no_key():
    for model in (Response, Answer):
        targets = {fk.column.table.name for c in model.__table__.columns for fk in c.foreign_keys}
        assert not targets & {"questionnaire_codes", "questionnaire_code_uses", "questionnaire_code_batches"}


# --- single-use codes -------------------------------------------------------------------


def test_a_code_cannot_answer_twice_from_two_sessions(app, coded):
    code = demo_code(coded, 3)
    first, second = Resident(app.test_client(), coded, lang="en"), Resident(app.test_client(), coded, lang="en")
    for r in (first, second):  # both pass the start page before either sends
        r.open(f"?code={code}")
        r.start()
        r.next({r.field("H1"): "morning"})
    assert first.send().status_code == 302
    before = rows()
    refused = second.send()
    assert refused.status_code == 422
    assert "already been used" in second.html
    assert rows() == before


def test_a_code_used_meanwhile_is_refused_by_the_database(app, coded, monkeypatch):
    """Two sends racing: both see the code unused; the marker's primary key refuses the second."""
    code = demo_code(coded, 4)
    first, second = Resident(app.test_client(), coded, lang="en"), Resident(app.test_client(), coded, lang="en")
    for r in (first, second):
        r.open(f"?code={code}")
        r.start()
        r.next({r.field("H1"): "morning"})
    assert first.send().status_code == 302
    monkeypatch.setattr(codes, "is_used", lambda found: False)
    before = rows()
    refused = second.send()
    assert refused.status_code == 422
    assert "already been used" in second.html
    assert rows() == before


def test_using_a_code_writes_its_marker(client, coded):
    answer_with_code(client, coded, demo_code(coded, 5))
    found = codes.find_code(coded, demo_code(coded, 5))
    assert codes.is_used(found)
    assert count(AnswerCodeUse) == 1


def test_sending_without_a_code_is_refused_and_writes_nothing(client, coded):
    r, _sent = answer_with_code(client, coded, demo_code(coded, 6))
    r2 = Resident(client, coded)
    r2.open(f"?code={demo_code(coded, 7)}")
    r2.start()
    r2.next({r2.field("H1"): "evening"})
    before = rows()
    page = r2.send({"code": ""})
    assert page.status_code == 422
    assert rows() == before


# --- free text, photos, points ----------------------------------------------------------


def test_free_text_with_an_email_or_a_phone_is_stored_masked_and_pending(client, q):
    r = Resident(client, q)
    r.start()
    r.next({r.field("Q1"): "4", r.field("Q3"): ["other"], r.field("Q3", "other"): "appelez le 06 12 34 56 78"})
    r.next({r.field("Q4"): "no"})
    r.next({r.field("Q9"): "Écrivez à nadia.b@example.org svp", r.field("Q10"): "+33 6 12 34 56 78"})
    r.next()
    r.send()
    (response,) = new_responses()
    texts = [a for a in response.answers if a.text is not None]
    assert len(texts) == 3
    for a in texts:
        assert "example.org" not in a.text and "34 56" not in a.text
        assert a.moderation == Moderation.pending
    assert any("[e-mail]" in a.text for a in texts)


@pytest.fixture
def photo_questionnaire(demo):
    return build_questionnaire(sections=[
        [("P1", "photo", [], {})],
        [("L1", "location", [], {})],
    ])


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (43.0, 20.0, 12.0)}  # GPS
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_a_photo_is_stored_without_its_metadata_and_waits_for_moderation(app, client, photo_questionnaire):
    from participation.questionnaires.services import photo_store

    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the upload does carry metadata
    r = Resident(client, photo_questionnaire)
    r.start()
    r.next({r.field("P1", "caption"): ""}, files={r.field("P1", "file"): (io.BytesIO(original), "IMG_0001.jpg")})
    r.next({r.field("L1", "lat"): "43.3312345", r.field("L1", "lng"): "5.4198765", r.field("L1", "place"): "le parc"})
    r.send()
    (response,) = new_responses()
    photo = next(a for a in response.answers if a.photo_sha256)
    assert photo.text == "" and photo.moderation == Moderation.pending
    stored = photo_store().open(photo.photo_sha256)
    assert stored != original
    assert not Image.open(io.BytesIO(stored)).getexif()
    # Staff only: the public photo route does not know it.
    assert client.get(f"/media/{photo.photo_sha256}.jpg").status_code == 404


def test_a_photo_travels_as_its_hash_only(client, photo_questionnaire):
    r = Resident(client, photo_questionnaire)
    r.start()
    r.next(files={r.field("P1", "file"): (io.BytesIO(jpeg_with_gps()), "IMG_0001.jpg")})
    _action, fields = form_fields(r.html, "q-form")
    carried = dict(fields)[r.field("P1", "photo")]
    assert len(carried) == 64 and all(c in "0123456789abcdef" for c in carried)


def test_the_resident_sees_their_photo_back_privately(client, photo_questionnaire):
    r = Resident(client, photo_questionnaire)
    r.start()
    r.next(files={r.field("P1", "file"): (io.BytesIO(jpeg_with_gps()), "IMG_0001.jpg")})
    r.back()  # the photo's own screen shows it back
    preview = re.search(r'<img class="q-photo-preview" src="([^"]+)"', r.html)
    assert preview, "the screen shows no preview of the photo"
    shown = client.get(preview.group(1).replace("&amp;", "&"))
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert "no-store" in shown.headers["Cache-Control"]
    assert not Image.open(io.BytesIO(shown.data)).getexif()


def test_a_photo_hash_that_is_not_stored_is_refused_at_send(client, photo_questionnaire):
    r = Resident(client, photo_questionnaire)
    r.start()
    r.next({r.field("P1", "photo"): "b" * 64})
    r.next()
    before = rows()
    page = r.send()
    assert page.status_code == 422
    assert rows() == before


def test_a_file_that_is_not_a_photo_is_refused_on_its_screen(client, photo_questionnaire):
    r = Resident(client, photo_questionnaire)
    r.start()
    page = r.next(files={r.field("P1", "file"): (io.BytesIO(b"%PDF-1.4 not a photo"), "doc.pdf")})
    assert page.status_code == 422
    assert r.step() == f"s{photo_questionnaire.current_version.sections[0].id}"


def test_a_point_is_stored_rounded_to_about_100_m(client, photo_questionnaire):
    r = Resident(client, photo_questionnaire)
    r.start()
    r.next()
    r.next({r.field("L1", "lat"): "43.3312345", r.field("L1", "lng"): "5.4198765", r.field("L1", "place"): "le parc"})
    r.send()
    (response,) = new_responses()
    point = next(a for a in response.answers if a.latitude is not None)
    assert (point.latitude, point.longitude) == (43.331, 5.42)
    assert point.text == "le parc" and point.moderation == Moderation.pending


# --- retries and refusals ---------------------------------------------------------------


def test_a_retried_post_with_the_same_nonce_creates_no_second_response(client, q):
    r = Resident(client, q)
    answer_barometer(r)
    r.next()
    action, fields = form_fields(r.html, "q-form")
    data = MultiDict(fields)
    data["go"] = "send"
    assert client.post(action, data=data).status_code == 302
    before = rows()
    again = client.post(action, data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/thanks")
    assert rows() == before


def test_a_send_without_a_nonce_writes_nothing(client, q):
    r = Resident(client, q)
    answer_barometer(r)
    r.next()
    before = rows()
    page = r.send({"nonce": ""})
    assert page.status_code == 422
    assert rows() == before


@pytest.mark.parametrize("tamper", [
    {"p_residence": "999999"},  # a neighbourhood outside the list
    {"p_age": "centenarian"},
])
def test_tampered_profile_writes_nothing(client, q, tamper):
    r = Resident(client, q)
    answer_barometer(r)
    r.next()
    before = rows()
    page = r.send(tamper)
    assert page.status_code == 422
    assert rows() == before


@pytest.mark.parametrize("answers", [
    lambda r: {r.field("Q1"): "42"},  # not an option
    lambda r: {r.field("Q7"): "1e999"},
    lambda r: {r.field("Q3"): ["shops", "green", "youth", "health"]},
    lambda r: {r.field("Q8"): "yesterday"},
])
def test_an_invalid_answer_anywhere_writes_nothing_at_send(client, q, answers):
    r = Resident(client, q)
    answer_barometer(r)
    r.next()
    before = rows()
    page = r.send(answers(r))
    assert page.status_code == 422
    assert rows() == before



def test_photos_of_questionnaires_never_sent_are_purged_and_sent_ones_kept(app, runner, photo_questionnaire):
    import os

    from participation.questionnaires.services import photo_store

    before = set(photo_store().directory.glob("??/*.jpg"))  # other tests' photos, all recent
    sent, unsent = Resident(app.test_client(), photo_questionnaire), Resident(app.test_client(), photo_questionnaire)
    for r, colour in ((sent, "red"), (unsent, "blue")):
        r.start()
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), colour).save(buf, "JPEG")
        r.next(files={r.field("P1", "file"): (io.BytesIO(buf.getvalue()), "photo.jpg")})
    sent.next({sent.field("L1", "place"): "le parc"})
    assert sent.send().status_code == 302
    (kept,) = [a.photo_sha256 for resp in new_responses() for a in resp.answers if a.photo_sha256]
    files = set(photo_store().directory.glob("??/*.jpg")) - before
    assert len(files) == 2
    for f in files:  # both older than the grace period
        os.utime(f, (f.stat().st_atime - 3 * 86400, f.stat().st_mtime - 3 * 86400))
    result = runner.invoke(args=["purge-unsent-photos", "--hours", "48"])
    assert "1 unsent photos deleted." in result.output
    assert [f.stem for f in set(photo_store().directory.glob("??/*.jpg")) - before] == [kept]
