"""Questionnaire answers in field mode: the whole questionnaire on one page, filled in for one
person at a time and queued on a tablet; sent later to the sync API, each form is recorded once,
as assisted or paper, with the help flags, through the same rules as every channel (conditions,
validation, closing, versions), and with nothing that leads from the receipt to the answers.
Without JavaScript the same page posts online."""
from __future__ import annotations

import hashlib
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.channels import Channel
from participation.core.territories import Commune
from participation.core.users import User
from participation.extensions import db
from participation.field.models import Receipt
from participation.questionnaires import builder, field, results as res, services
from participation.questionnaires.models import Questionnaire, Response, Status

from ..conftest import count
from ..field.conftest import MEDIATOR, Outbox, jpeg, new_id
from .test_answering import barometer, build_questionnaire, code_consultation, demo_code, form_fields, frais_vallon_id

KIND = "questionnaire_response"


@pytest.fixture
def outbox(client, auth, demo):
    assert auth.login(MEDIATOR).status_code == 302
    return Outbox(client)


@pytest.fixture
def q(demo) -> Questionnaire:
    return barometer()


@pytest.fixture
def photo_q(demo) -> Questionnaire:
    """Two sections: the second (a photo and a place) only if P1 is "yes"."""
    return build_questionnaire(
        [[("P1", "yes_no", ["yes", "no"], {"required": True})],
         [("P2", "photo", [], {}), ("P3", "location", [], {}), ("P4", "number", [], {})]],
        section_conditions={1: ("P1", ["yes"])},
    )


@pytest.fixture
def narbonne_q(demo) -> Questionnaire:
    narbonne = db.session.scalar(sa.select(Commune).filter_by(insee_code="11262"))
    foreign = builder.create_questionnaire(narbonne, "Enquête de Narbonne", "fr")
    builder.add_question(foreign.current_version.sections[0], {"kind": "single", "text": "Votre avis ?"},
                         ["Oui", "Non"])
    builder.set_status(foreign, Status.open)
    db.session.commit()
    return foreign


def name_of(questionnaire: Questionnaire, code: str, part: str = "", version=None) -> str:
    version = version or questionnaire.current_version
    question = next(x for x in version.questions if x.code == code)
    return f"q{question.id}_{part}" if part else f"q{question.id}"


def fields(questionnaire, answers: dict, mode="assisted", help=(), version=None, **extra) -> list[list[str]]:
    """The form's fields as the outbox sends them. `answers`: {code or (code, part): value(s)}."""
    out = [["client_id", "ignored-by-the-server"], ["nonce", "n" * 24],
           ["version", str((version or questionnaire.current_version).id)]]
    if mode:
        out.append(["mode", mode])
    out += [["help", h] for h in help]
    for key, value in answers.items():
        code, part = key if isinstance(key, tuple) else (key, "")
        for v in value if isinstance(value, list) else [value]:
            out.append([name_of(questionnaire, code, part, version), v])
    out += [[k, v] for k, v in extra.items()]
    return out


def item(questionnaire, answers: dict, client_id=None, photos=(), version=None, created_at=None, **kw) -> dict:
    version = version or questionnaire.current_version
    return {"client_id": client_id or new_id(), "kind": KIND, "form_version": 1,
            "target": {"questionnaire_id": questionnaire.id, "version_id": version.id},
            "fields": fields(questionnaire, answers, version=version, **kw), "photos": list(photos),
            "locale": "fr", "created_at": created_at or datetime.now(timezone.utc).isoformat()}


BAROMETER = {"Q1": "4", "Q4": "yes", "Q5": "fs", "Q10": "calme"}


def responses() -> int:
    return count(Response)


def newest() -> Response:
    """The response recorded by the test (demo responses have no nonce)."""
    db.session.expire_all()
    found = list(db.session.scalars(sa.select(Response).where(Response.nonce_hash.is_not(None))))
    assert len(found) == 1
    return found[0]


def answers_of(response: Response) -> dict[str, list]:
    out: dict[str, list] = {}
    for a in response.answers:
        value = next(v for v in (a.option and a.option.code, a.photo_sha256, a.text, a.number) if v is not None)
        out.setdefault(a.question.code, []).append(value)
    return out


# --- the sync API ---------------------------------------------------------------------------


def test_the_config_announces_the_questionnaire_form(outbox):
    assert outbox.client.get("/field/api/config").get_json()["forms"][KIND] == 1


def test_a_queued_response_is_recorded_once_and_its_replay_adds_nothing(outbox, q):
    before = responses()
    sent = item(q, BAROMETER)
    first = outbox.send(sent)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "created"
    assert responses() == before + 1
    again = outbox.send(sent)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert responses() == before + 1
    assert answers_of(newest()) == {"Q1": ["4"], "Q4": ["yes"], "Q5": ["fs"], "Q10": ["calme"]}


def test_two_forms_of_the_same_page_are_two_responses(outbox, q):
    """The outbox resets the form: the same nonce may come twice, each form is still recorded."""
    before = responses()
    assert outbox.send(item(q, BAROMETER)).status_code == 201
    assert outbox.send(item(q, {**BAROMETER, "Q10": "vivant"})).status_code == 201
    assert responses() == before + 2


def test_the_same_id_with_other_answers_is_a_conflict_and_changes_nothing(outbox, q):
    sent = item(q, BAROMETER)
    outbox.send(sent)
    before = responses()
    resp = outbox.send(item(q, {**BAROMETER, "Q1": "1"}, client_id=sent["client_id"]))
    assert resp.status_code == 409 and resp.get_json()["status"] == "conflict"
    assert responses() == before
    assert answers_of(newest())["Q1"] == ["4"]


def test_a_bad_answer_is_refused_with_a_translated_message_and_nothing_is_stored(outbox, q):
    before = responses()
    resp = outbox.send(item(q, {**BAROMETER, "Q7": "beaucoup"}), lang="fr")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["status"] == "rejected"
    assert "Écrivez un nombre" in body["message"] and "Q7" in body["message"]
    assert body["fields"] == {"Q7": "Écrivez un nombre, par exemple 3 ou 2,5."}
    assert responses() == before and count(Receipt) == 0


def test_a_required_question_left_empty_is_refused_when_assisted(outbox, q):
    before = responses()
    resp = outbox.send(item(q, {"Q4": "no"}))
    assert resp.status_code == 422 and "Q1" in resp.get_json()["fields"]
    assert responses() == before


def test_a_paper_form_may_leave_a_required_question_empty(outbox, q):
    resp = outbox.send(item(q, {"Q4": "no"}, mode="paper", paper_date=date.today().isoformat(), form_locale="fr"))
    assert resp.status_code == 201, resp.get_json()
    assert answers_of(newest()) == {"Q4": ["no"]}


def test_the_way_of_collecting_must_be_said(outbox, q):
    resp = outbox.send(item(q, BAROMETER, mode=None))
    assert resp.status_code == 422 and "mode" in resp.get_json()["fields"]


def test_a_questionnaire_of_another_scope_is_forbidden(outbox, narbonne_q):
    before = responses()
    question = narbonne_q.current_version.questions[0]
    sent = item(narbonne_q, {question.code: question.options[0].code})
    resp = outbox.send(sent)
    assert resp.status_code == 403 and resp.get_json()["status"] == "forbidden"
    assert responses() == before and count(Receipt) == 0


def test_an_unknown_questionnaire_is_forbidden(outbox, q):
    sent = item(q, BAROMETER)
    sent["target"] = {"questionnaire_id": 999999, "version_id": 1}
    assert outbox.send(sent).status_code == 403


def test_a_questionnaire_closed_since_the_form_was_taken_offline_is_refused(outbox, q):
    sent = item(q, BAROMETER)
    q.status = Status.closed
    db.session.commit()
    before = responses()
    resp = outbox.send(sent)
    assert resp.status_code == 422
    assert "no longer open" in resp.get_json()["message"]
    assert responses() == before and count(Receipt) == 0


def test_a_questionnaire_past_its_closing_day_is_refused(outbox, q):
    sent = item(q, BAROMETER)
    q.closes_on = date.today() - timedelta(days=1)
    q.opens_on = None
    db.session.commit()
    assert outbox.send(sent).status_code == 422


def test_paper_forms_may_be_typed_in_after_closing_as_in_paper_entry(outbox, q):
    sent = item(q, BAROMETER, mode="paper", paper_date=(date.today() - timedelta(days=3)).isoformat(),
                form_locale="ar")
    q.status = Status.closed
    db.session.commit()
    assert outbox.send(sent).status_code == 201


def test_assisted_answers_keep_the_channel_and_the_kinds_of_help(outbox, q):
    assert outbox.send(item(q, BAROMETER, help=("read_aloud", "translated"))).status_code == 201
    r = newest()
    assert r.channel == Channel.assisted and r.submitted_on == date.today() and r.locale == "fr"
    assert (r.helped_read_aloud, r.helped_translated, r.helped_written_for) == (True, True, False)
    assert {a.channel for a in r.answers} == {Channel.assisted}


def test_paper_answers_keep_the_channel_the_day_and_the_language_of_the_form(outbox, q):
    day = date.today() - timedelta(days=2)
    sent = item(q, BAROMETER, mode="paper", help=("read_aloud",), paper_date=day.isoformat(), form_locale="ar")
    assert outbox.send(sent).status_code == 201
    r = newest()
    assert r.channel == Channel.paper and r.submitted_on == day and r.locale == "ar"
    # Help is given with a person, never to a paper form.
    assert not (r.helped_read_aloud or r.helped_translated or r.helped_written_for)


def test_a_paper_date_in_the_future_is_refused(outbox, q):
    sent = item(q, BAROMETER, mode="paper", paper_date=(date.today() + timedelta(days=2)).isoformat(), form_locale="fr")
    resp = outbox.send(sent)
    assert resp.status_code == 422 and "paper_date" in resp.get_json()["fields"]


def test_the_profile_and_the_neighbourhood_are_recorded(outbox, q):
    sent = item(q, BAROMETER, p_age="25_39", p_gender="woman", p_residence=str(frais_vallon_id()))
    resp = outbox.send(sent)
    assert resp.status_code == 201, resp.get_json()
    r = newest()
    assert r.age_band.value == "25_39" and r.gender.value == "woman" and r.neighbourhood_id == frais_vallon_id()


def test_the_receipt_leads_to_no_response_and_nobody_is_recorded(outbox, q):
    sent = item(q, BAROMETER)
    body = outbox.send(sent).get_json()
    assert body["ref"] is None
    receipt = db.session.scalar(sa.select(Receipt))
    assert receipt.ref is None and receipt.client_id == sent["client_id"]
    r = newest()
    # The response's nonce is drawn at random: neither the device's id nor the form's nonce.
    assert r.nonce_hash not in {services.nonce_hash(q, sent["client_id"]), services.nonce_hash(q, "n" * 24)}
    columns = {c.name for c in Response.__table__.columns} | {c.name for c in Receipt.__table__.columns}
    assert not {"user_id", "recorded_by_id", "created_by_id", "ip"} & columns


def test_answers_the_conditions_skip_are_dropped_and_the_message_says_so(outbox, q):
    resp = outbox.send(item(q, {**BAROMETER, "Q4": "no", "Q5": "fs"}))
    assert resp.status_code == 201
    assert "Q5" in resp.get_json()["message"] and "left out" in resp.get_json()["message"]
    assert "Q5" not in answers_of(newest())


def test_a_section_skipped_by_its_condition_drops_its_answers(outbox, photo_q):
    resp = outbox.send(item(photo_q, {"P1": "no", ("P3", "place"): "Place du marché", "P4": "3"}))
    assert resp.status_code == 201
    message = resp.get_json()["message"]
    assert "2 answers were left out" in message and "P3" in message and "P4" in message
    assert answers_of(newest()) == {"P1": ["no"]}


def test_an_invalid_answer_to_a_skipped_question_does_not_block(outbox, photo_q):
    resp = outbox.send(item(photo_q, {"P1": "no", "P4": "many"}))
    assert resp.status_code == 201 and "P4" in resp.get_json()["message"]


def test_photos_are_stored_like_photo_answers_and_lose_their_exif(outbox, photo_q):
    photo = jpeg(exif_make="PhoneMaker")
    file_input = name_of(photo_q, "P2", "file")
    sent = item(photo_q, {"P1": "yes", ("P2", "caption"): "Le banc cassé", ("P3", "place"): "Square"},
                photos=[{"slot": 0, "name": file_input, "sha": hashlib.sha256(photo).hexdigest()}])
    resp = outbox.send(sent, photos={0: photo})
    assert resp.status_code == 201, resp.get_json()
    answer = next(a for a in newest().answers if a.question.code == "P2")
    assert answer.text == "Le banc cassé" and answer.photo_sha256
    stored = Image.open(io.BytesIO(services.photo_store().open(answer.photo_sha256)))
    assert stored.format == "JPEG" and not stored.getexif()


def test_a_paper_form_holds_no_photo(outbox, photo_q):
    photo = jpeg()
    sent = item(photo_q, {"P1": "yes"}, mode="paper", paper_date=date.today().isoformat(), form_locale="fr",
                photos=[{"slot": 0, "name": name_of(photo_q, "P2", "file"),
                         "sha": hashlib.sha256(photo).hexdigest()}])
    resp = outbox.send(sent, photos={0: photo})
    assert resp.status_code == 422 and "P2" in resp.get_json()["fields"]


def test_an_answer_code_is_used_once(outbox, demo):
    coded = code_consultation()
    code = demo_code(coded)
    first = outbox.send(item(coded, {"H1": "morning"}, code=code))
    assert first.status_code == 201, first.get_json()
    second = outbox.send(item(coded, {"H1": "evening"}, code=code), lang="fr")
    assert second.status_code == 422 and "code" in second.get_json()["fields"]
    assert outbox.send(item(coded, {"H1": "evening"})).status_code == 422


# --- versions -------------------------------------------------------------------------------


def new_version(q, change) -> None:
    """A structural change on the answered version: version 2, a copy of it."""
    old = q.current_version
    change(q)
    db.session.commit()
    assert q.current_version.id != old.id


def test_answers_on_an_older_version_are_carried_onto_the_current_one_by_code(outbox, q):
    old = q.current_version
    ranks = {("Q6", f"o{o.id}"): str(i) for i, o in enumerate(
        next(x for x in old.questions if x.code == "Q6").options, 1)}
    sent = item(q, {**BAROMETER, **ranks}, version=old)
    new_version(q, lambda q: builder.add_question(q.current_version.sections[2],
                                                  {"kind": "short_text", "text": "Autre ?"}))
    resp = outbox.send(sent)
    assert resp.status_code == 201, resp.get_json()
    r = newest()
    assert r.version_id == q.current_version.id
    got = answers_of(r)
    assert got["Q1"] == ["4"] and got["Q5"] == ["fs"] and got["Q10"] == ["calme"]
    assert sorted(got["Q6"]) == ["clean", "jobs", "safety"]
    assert all(a.question.version_id == q.current_version.id for a in r.answers)


def test_answers_to_a_question_removed_since_are_left_out_and_said(outbox, q):
    sent = item(q, BAROMETER, version=q.current_version)
    new_version(q, lambda q: builder.delete_question(next(x for x in q.current_version.questions if x.code == "Q10")))
    resp = outbox.send(sent)
    assert resp.status_code == 201
    assert "Q10" in resp.get_json()["message"] and "removed" in resp.get_json()["message"]
    assert "Q10" not in answers_of(newest())


def test_an_answer_whose_option_was_removed_since_is_refused_not_reassigned(outbox, q):
    sent = item(q, {**BAROMETER, "Q3": ["youth", "green"]}, version=q.current_version)
    q3 = next(x for x in q.current_version.questions if x.code == "Q3")
    new_version(q, lambda q: builder.delete_option(next(o for o in q3.options if o.code == "youth")))
    before = responses()
    resp = outbox.send(sent)
    assert resp.status_code == 422 and "Q3" in resp.get_json()["fields"]
    assert "no longer the same" in resp.get_json()["message"]
    assert responses() == before


def test_an_answer_whose_question_changed_kind_is_refused(outbox, photo_q):
    sent = item(photo_q, {"P1": "yes", "P4": "3"})
    # Answered, so the change makes version 2.
    outbox.send(item(photo_q, {"P1": "no"}))
    p4 = next(x for x in photo_q.current_version.questions if x.code == "P4")
    data = {"kind": "short_text", "text": p4.text, "code": "P4"}
    new_version(photo_q, lambda q: builder.update_question(p4, data))
    resp = outbox.send(sent)
    assert resp.status_code == 422 and "P4" in resp.get_json()["fields"]
    assert "no longer the same" in resp.get_json()["message"]


# --- what a mediator may take offline -------------------------------------------------------


def test_offline_forms_are_the_open_questionnaires_the_user_may_enter(app, demo, narbonne_q):
    mediator = db.session.scalar(sa.select(User).filter_by(email=MEDIATOR))
    closed = build_questionnaire([[("C1", "yes_no", ["yes", "no"], {})]], status=Status.closed)
    with app.test_request_context("/"):
        forms = field.ADAPTER.offline_forms(mediator)
    urls = {f.url for f in forms}
    assert f"/admin/questionnaires/{barometer().id}/field" in urls
    assert f"/admin/questionnaires/{narbonne_q.id}/field" not in urls
    assert f"/admin/questionnaires/{closed.id}/field" not in urls
    assert all(f.kind == KIND for f in forms)


# --- the page, with and without JavaScript ---------------------------------------------------


@pytest.fixture
def mediator(client, auth, demo):
    assert auth.login(MEDIATOR).status_code == 302
    client.get("/admin/?lang=en")
    return client


def page_fields(client, questionnaire) -> tuple[str, str, dict]:
    html = client.get(f"/admin/questionnaires/{questionnaire.id}/field").get_data(as_text=True)
    action, pairs = form_fields(html, "qf-form")
    return html, action, dict(pairs)


def test_the_page_holds_the_whole_questionnaire_marked_for_the_outbox(mediator, q):
    html, action, data = page_fields(mediator, q)
    assert f'data-outbox="{KIND}"' in html and 'data-outbox-version="1"' in html
    assert f'data-outbox-target=\'{{"questionnaire_id": {q.id}, "version_id": {q.current_version.id}}}\'' in html
    assert 'name="client_id"' in html and "data-outbox-title=" in html
    for question in q.current_version.questions:
        assert f'id="q{question.id}"' in html or f'id="q{question.id}-input"' in html
    for section in q.current_version.sections:
        assert section.title in html
    assert 'value="assisted"' in html and 'value="paper"' in html and 'name="help"' in html
    assert 'name="p_age"' in html and 'name="p_residence"' in html
    # The condition of Q5 is said in words.
    assert "Only if the answer to" in html


def test_the_page_shows_photo_inputs_with_capture(mediator, photo_q):
    html, _action, _data = page_fields(mediator, photo_q)
    assert f'name="{name_of(photo_q, "P2", "file")}"' in html and 'capture="environment"' in html


def online(client, questionnaire, answers: dict, files=None, **extra):
    html, action, data = page_fields(client, questionnaire)
    data = {k: v for k, v in data.items() if not k.startswith("q")}
    data.update(extra)
    for key, value in answers.items():
        code, part = key if isinstance(key, tuple) else (key, "")
        data[name_of(questionnaire, code, part)] = value
    for name, upload in (files or {}).items():
        data[name] = upload
    return client.post(action, data=data, content_type="multipart/form-data")


def test_without_javascript_the_page_records_the_answers_online(mediator, q):
    before = responses()
    resp = online(mediator, q, BAROMETER, mode="assisted", help=["written_for"])
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"/admin/questionnaires/{q.id}/field")
    assert "mode=assisted" in resp.headers["Location"]
    assert responses() == before + 1
    r = newest()
    assert r.channel == Channel.assisted and r.helped_written_for
    page = mediator.get(resp.headers["Location"]).get_data(as_text=True)
    assert "answers recorded (assisted entry)" in page
    assert 'id="qf-mode-assisted" name="mode" value="assisted" checked' in page


def test_without_javascript_a_bad_answer_shows_the_page_again_with_the_message(mediator, q):
    before = responses()
    resp = online(mediator, q, {**BAROMETER, "Q7": "beaucoup"}, mode="assisted")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Write a number, for example 3 or 2.5." in html and "Nothing was saved" in html
    assert 'value="calme"' in html  # what was typed is kept
    assert responses() == before


def test_without_javascript_a_form_sent_twice_is_recorded_once(mediator, q):
    html, action, data = page_fields(mediator, q)
    data = {k: v for k, v in data.items() if not k.startswith("q")}
    data.update({name_of(q, c): v for c, v in BAROMETER.items()}, mode="paper", form_locale="fr",
                paper_date=date.today().isoformat())
    before = responses()
    assert mediator.post(action, data=data).status_code == 302
    again = mediator.post(action, data=data)
    assert again.status_code == 302
    assert responses() == before + 1
    assert "not recorded twice" in mediator.get(again.headers["Location"]).get_data(as_text=True)


def test_without_javascript_a_photo_is_uploaded_with_the_form(mediator, photo_q):
    upload = (io.BytesIO(jpeg(exif_make="PhoneMaker")), "photo.jpg")
    resp = online(mediator, photo_q, {"P1": "yes"}, files={name_of(photo_q, "P2", "file"): upload}, mode="assisted")
    assert resp.status_code == 302
    answer = next(a for a in newest().answers if a.question.code == "P2")
    assert not Image.open(io.BytesIO(services.photo_store().open(answer.photo_sha256))).getexif()


def test_without_javascript_a_refused_form_keeps_its_photo(mediator, photo_q):
    upload = (io.BytesIO(jpeg()), "photo.jpg")
    resp = online(mediator, photo_q, {"P1": "yes", "P4": "many"}, files={name_of(photo_q, "P2", "file"): upload},
                  mode="assisted")
    assert resp.status_code == 422
    assert f'name="{name_of(photo_q, "P2", "photo")}"' in resp.get_data(as_text=True)


def test_the_page_of_a_closed_questionnaire_says_so(mediator, q):
    q.status = Status.closed
    db.session.commit()
    assert mediator.get(f"/admin/questionnaires/{q.id}/field").status_code == 409


def test_the_page_of_another_scope_is_forbidden(mediator, narbonne_q):
    assert mediator.get(f"/admin/questionnaires/{narbonne_q.id}/field").status_code == 403


def test_the_page_renders_in_arabic(mediator, q):
    resp = mediator.get(f"/admin/questionnaires/{q.id}/field?lang=ar")
    assert resp.status_code == 200 and 'dir="rtl"' in resp.get_data(as_text=True)


# --- results ----------------------------------------------------------------------------------


def test_results_count_assisted_and_paper_answers_apart(outbox, photo_q, client, auth):
    for i in range(11):
        assert outbox.send(item(photo_q, {"P1": "no"}, help=("read_aloud",))).status_code == 201
        assert outbox.send(item(photo_q, {"P1": "yes"}, mode="paper", paper_date=date.today().isoformat(),
                                form_locale="fr")).status_code == 201
    db.session.expire_all()
    who = res.respondents(photo_q.current_version)
    channel = who.breakdowns[0]
    assert channel.groups == [Channel.web, Channel.assisted, Channel.paper]
    assert [c.value for c in channel.line.cells] == [0, 11, 11]
    help_line = who.breakdowns[1]
    assert help_line.key == "help" and help_line.line.cells[0].value == 11


def test_answers_collected_offline_before_the_closing_day_count_on_that_day(outbox, q):
    """Collected with a person on the last open day, sent the next morning: not lost."""
    yesterday = date.today() - timedelta(days=1)
    sent = item(q, BAROMETER, created_at=f"{yesterday.isoformat()}T15:00:00+01:00")
    q.opens_on, q.closes_on = yesterday - timedelta(days=30), yesterday
    db.session.commit()
    resp = outbox.send(sent)
    assert resp.status_code == 201, resp.get_json()
    assert newest().submitted_on == yesterday and newest().channel == Channel.assisted


def test_answers_collected_after_the_closing_day_are_refused(outbox, q):
    yesterday = date.today() - timedelta(days=1)
    q.opens_on, q.closes_on = yesterday - timedelta(days=30), yesterday
    db.session.commit()
    before = responses()
    assert outbox.send(item(q, BAROMETER)).status_code == 422
    assert responses() == before


def test_answers_held_on_a_tablet_too_long_are_refused(outbox, q):
    old = date.today() - services.FIELD_SYNC_DAYS - timedelta(days=1)
    before = responses()
    assert outbox.send(item(q, BAROMETER, created_at=f"{old.isoformat()}T10:00:00+00:00")).status_code == 422
    assert responses() == before
