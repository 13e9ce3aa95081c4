"""Budget ideas entered in the field (kind "budget_proposal"): a mediator's idea, entered with a
resident or typed from a paper form on a tablet with no connection, is published once whatever
is sent again, with its channel and the kinds of help given, counted apart; the proposal page is
the offline form, marked for the outbox only for staff who enter ideas for residents."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import MultiDict

from participation.budgets import services
from participation.budgets.demo import IDEAS_TITLE, VOTE_TITLE
from participation.budgets.field import ADAPTER
from participation.budgets.models import Channel, Phase, Process, Proposal
from participation.core.channels import Assistance
from participation.core.photos import PhotoStore
from participation.core.territories import Contract
from participation.core.users import User
from participation.extensions import db
from participation.field.models import Receipt

from ..conftest import csrf_from
from ..field.conftest import Outbox, jpeg, new_id, photo_refs

MED = "mediateur@amp.demo"  # mediator, Frais Vallon


@pytest.fixture
def ideas(demo) -> Process:
    return db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))


@pytest.fixture
def outbox(client, auth, demo) -> Outbox:
    auth.login(MED)
    return Outbox(client)


def item(process, client_id=None, title="Un abri à vélos", photos=None, entry="assisted", helped=("read_aloud",),
         **extra) -> dict:
    fields = [["client_id", ""], ["entry", entry], *[["help", h] for h in helped], ["title", title],
              ["description", "Un abri couvert pour les vélos, près de l'école."], ["category", ""],
              ["neighbourhood", ""], ["address", "Place de l'école"], ["latitude", ""], ["longitude", ""],
              ["estimated_cost", "8000"], ["contact_name", ""], ["contact", ""]]
    for name, value in extra.items():
        fields = [pair for pair in fields if pair[0] != name] + [[name, value]]
    cid = client_id or new_id()
    fields[0][1] = cid
    return {"client_id": cid, "kind": "budget_proposal", "form_version": 1, "target": {"process_id": process.id},
            "fields": fields, "photos": photo_refs(photos or {}, name="photos"), "locale": "ar",
            "created_at": "2026-11-23T10:00:00Z"}


def proposals(process) -> list[Proposal]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Proposal).filter_by(process_id=process.id).order_by(Proposal.number)))


def receipts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Receipt))


# --- the sync API ---------------------------------------------------------------------------


def test_the_config_offers_budget_proposals(outbox):
    assert outbox.client.get("/field/api/config").get_json()["forms"]["budget_proposal"] == 1


def test_an_assisted_idea_is_published_once_with_the_help_given(outbox, ideas):
    sent = item(ideas, helped=("read_aloud", "translated"))
    first = outbox.submit(sent)
    assert first.status_code == 201 and first.get_json()["status"] == "created"
    assert "idea no. 1 published" in first.get_json()["message"]
    again = outbox.submit(sent)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    [proposal] = proposals(ideas)
    mediator = db.session.scalar(sa.select(User).filter_by(email=MED))
    assert proposal.title == "Un abri à vélos" and proposal.estimated_cost == 8000
    assert proposal.channel is Channel.assisted and proposal.entered_by_id == mediator.id
    assert proposal.assistance == {Assistance.read_aloud, Assistance.translated}
    assert proposal.original_locale == "ar"
    assert first.get_json()["ref"] == f"budget_proposal:{proposal.id}" and receipts() == 1


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(outbox, ideas):
    sent = item(ideas)
    outbox.submit(sent)
    resp = outbox.submit(item(ideas, client_id=sent["client_id"], title="Autre chose"))
    assert resp.status_code == 409 and resp.get_json()["status"] == "conflict"
    assert [p.title for p in proposals(ideas)] == ["Un abri à vélos"]


def test_a_paper_idea_is_marked_paper_without_help(outbox, ideas):
    assert outbox.submit(item(ideas, entry="paper", helped=())).status_code == 201
    [proposal] = proposals(ideas)
    assert proposal.channel is Channel.paper and proposal.assistance == frozenset()
    assert proposal.entered_by_id is not None


def test_help_on_a_paper_idea_is_refused_next_to_its_field(outbox, ideas):
    resp = outbox.submit(item(ideas, entry="paper", helped=("written_for",)))
    body = resp.get_json()
    assert resp.status_code == 422 and "help" in body["fields"]
    assert "untick them for a paper form" in body["message"]
    assert proposals(ideas) == [] and receipts() == 0


@pytest.mark.parametrize("change, field", [
    ({"title": "Ab"}, "title"),
    ({"helped": ("sang_for",)}, "help"),
    ({"entry": "telepathy"}, "entry"),
    ({"contact": "06 12 34 56 78"}, "contact_consent"),
])
def test_an_invalid_idea_is_refused_with_a_translated_message_and_nothing_stored(outbox, ideas, change, field):
    resp = outbox.submit(item(ideas, **change), lang="fr")
    body = resp.get_json()
    assert resp.status_code == 422 and body["status"] == "rejected"
    assert field in body["fields"] and body["message"]
    assert proposals(ideas) == [] and receipts() == 0


def test_a_refusal_is_in_the_devices_language(outbox, ideas):
    sent = item(ideas, title="Ab")
    english = outbox.submit(sent, lang="en").get_json()["fields"]["title"]
    french = outbox.submit(sent, lang="fr").get_json()["fields"]["title"]
    assert english != french and "3" in french


def test_a_missing_description_is_refused(outbox, ideas):
    sent = item(ideas)
    sent["fields"] = [pair for pair in sent["fields"] if pair[0] != "description"]
    resp = outbox.submit(sent)
    assert resp.status_code == 422 and "description" in resp.get_json()["fields"]


def test_an_idea_for_another_contracts_budget_is_forbidden(outbox, demo):
    narbonne = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    other = services.create_process(narbonne, "Budget participatif de Narbonne", 20000, "fr")
    db.session.commit()
    resp = outbox.submit(item(other))
    assert resp.status_code == 403 and resp.get_json()["status"] == "forbidden"
    assert resp.get_json()["message"] == "You may not enter ideas for this participatory budget."
    assert proposals(other) == []


def test_an_idea_for_a_budget_no_longer_taking_ideas_is_refused(outbox, ideas):
    services.move_phase(ideas, Phase.feasibility)
    db.session.commit()
    resp = outbox.submit(item(ideas))
    assert resp.status_code == 422 and resp.get_json()["message"] == "This phase does not accept new ideas."
    assert proposals(ideas) == [] and receipts() == 0


def test_photos_are_attached_once_without_their_location(outbox, ideas, app):
    photos = {0: jpeg(exif_make="PhoneMaker"), 1: jpeg("blue")}
    sent = item(ideas, photos=photos)
    assert outbox.send(sent, photos).status_code == 201
    assert outbox.send(sent, photos).get_json()["status"] == "duplicate"
    [proposal] = proposals(ideas)
    assert [p.position for p in proposal.photos] == [0, 1]
    stored = Image.open(io.BytesIO(PhotoStore(app.config["UPLOAD_DIR"]).open(proposal.photos[0].sha256)))
    assert stored.format == "JPEG" and not stored.getexif()


def test_more_than_three_photos_are_refused(outbox, ideas):
    photos = {slot: jpeg(color) for slot, color in enumerate(("red", "green", "blue", "white"))}
    resp = outbox.send(item(ideas, photos=photos), photos)
    assert resp.status_code == 422 and "photos" in resp.get_json()["fields"]
    assert proposals(ideas) == []


def test_channels_and_help_are_counted_apart(client, outbox, ideas):
    outbox.submit(item(ideas, helped=("read_aloud", "translated")))
    outbox.submit(item(ideas, helped=("read_aloud",), title="Des bancs"))
    outbox.submit(item(ideas, entry="paper", helped=(), title="Un jardin"))
    services.submit_proposal(ideas, title="En ligne", description="Une idée envoyée en ligne.")
    db.session.commit()
    assert services.proposal_channels(ideas) == {
        "web": 1, "assisted": 2, "paper": 1,
        "help": {Assistance.read_aloud: 2, Assistance.translated: 1, Assistance.written_for: 0}}


def test_the_database_refuses_help_on_an_idea_that_was_not_assisted(ideas):
    with pytest.raises(services.RuleError):
        services.submit_proposal(ideas, channel=Channel.paper, assistance={Assistance.translated},
                                 title="Un abri", description="Un abri pour l'arrêt de bus.")
    proposal = services.submit_proposal(ideas, channel=Channel.paper, title="Un abri",
                                        description="Un abri pour l'arrêt de bus.")
    proposal.helped_translated = True
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- the page: the offline form -----------------------------------------------------------------


def _form(page: str) -> str:
    return re.search(r"<form[^>]*enctype=\"multipart/form-data\".*?</form>", page, re.S).group(0)


def test_the_proposal_page_is_marked_for_the_outbox_for_staff_only(client, auth, ideas):
    public = client.get(f"/b/{ideas.id}/propose?lang=en").get_data(as_text=True)
    assert "data-outbox" not in public and 'name="help"' not in public
    auth.login(MED)
    page = client.get(f"/b/{ideas.id}/propose?lang=en").get_data(as_text=True)
    form = _form(page)
    assert 'data-outbox="budget_proposal"' in form and 'data-outbox-version="1"' in form
    assert f"data-outbox-target='{{\"process_id\": {ideas.id}}}'" in form
    assert f'data-outbox-title="Idea for {IDEAS_TITLE}"' in form
    assert 'name="help" type="checkbox" value="read_aloud"' in form or 'value="read_aloud"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="assisted"|<input[^>]*value="assisted"[^>]*checked', form)


def test_the_pages_fields_are_what_the_adapter_reads(client, outbox, ideas):
    """The outbox sends every field of the form: sent as the page has them, they are accepted."""
    form = _form(client.get(f"/b/{ideas.id}/propose").get_data(as_text=True))
    names = []
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name and name.group(1) != "csrf_token" and 'type="file"' not in tag and name.group(1) not in names:
            names.append(name.group(1))
    assert {"title", "description", "entry", "help", "estimated_cost"} <= set(names)
    values = {"title": "Un abri", "description": "Un abri pour l'arrêt de bus.", "entry": "assisted",
              "help": "written_for"}
    sent = item(ideas)
    sent["fields"] = [[n, values.get(n, "")] for n in names if n != "contact_consent"]
    assert outbox.submit(sent).status_code == 201
    assert proposals(ideas)[0].assistance == {Assistance.written_for}


def test_without_javascript_a_mediator_enters_a_paper_idea(client, auth, ideas):
    auth.login(MED)
    page = client.get(f"/b/{ideas.id}/propose").get_data(as_text=True)
    resp = client.post(f"/b/{ideas.id}/propose", data={
        "csrf_token": csrf_from(page), "entry": "paper", "title": "Un abri",
        "description": "Un abri pour l'arrêt de bus."})
    assert resp.status_code == 302
    [proposal] = proposals(ideas)
    assert proposal.channel is Channel.paper and proposal.entered_by_id is not None


def test_without_javascript_a_mediator_says_what_help_they_gave(client, auth, ideas):
    auth.login(MED)
    page = client.get(f"/b/{ideas.id}/propose").get_data(as_text=True)
    client.post(f"/b/{ideas.id}/propose", data=MultiDict([
        ("csrf_token", csrf_from(page)), ("entry", "assisted"), ("help", "read_aloud"), ("help", "written_for"),
        ("title", "Un abri"), ("description", "Un abri pour l'arrêt de bus.")]))
    [proposal] = proposals(ideas)
    assert proposal.channel is Channel.assisted
    assert proposal.assistance == {Assistance.read_aloud, Assistance.written_for}


def test_a_resident_cannot_mark_their_own_idea_assisted_or_paper(client, ideas):
    page = client.get(f"/b/{ideas.id}/propose").get_data(as_text=True)
    client.post(f"/b/{ideas.id}/propose", data={
        "csrf_token": csrf_from(page), "entry": "paper", "help": "translated", "title": "Un abri",
        "description": "Un abri pour l'arrêt de bus."})
    [proposal] = proposals(ideas)
    assert proposal.channel is Channel.web and proposal.assistance == frozenset()
    assert proposal.entered_by_id is None


# --- offline forms ------------------------------------------------------------------------------


def test_offline_forms_are_the_budgets_taking_ideas_this_user_may_enter_for(app, ideas):
    vote = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    narbonne = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    other = services.create_process(narbonne, "Budget participatif de Narbonne", 20000, "fr")
    db.session.commit()
    mediator = db.session.scalar(sa.select(User).filter_by(email=MED))
    with app.test_request_context("/field/"):
        forms = ADAPTER.offline_forms(mediator)
    urls = [f.url for f in forms]
    assert f"/b/{ideas.id}/propose" in urls
    assert f"/b/{vote.id}/propose" not in urls and f"/b/{other.id}/propose" not in urls
    mine = next(f for f in forms if f.url == f"/b/{ideas.id}/propose")
    assert mine.kind == "budget_proposal" and mine.title == IDEAS_TITLE


def test_the_proposals_page_says_how_the_ideas_came_in(app, demo, auth):
    """Managers see online, assisted and paper ideas counted apart, with the kinds of help."""
    import sqlalchemy as sa

    from participation.budgets import services
    from participation.budgets.models import Process, Proposal
    from participation.core.channels import Assistance, Channel
    from participation.extensions import db

    process = next(p for p in db.session.scalars(sa.select(Process)) if p.allows("submit"))
    before = services.proposal_channels(process)
    services.submit_proposal(process, channel=Channel.assisted, title="Un banc à l'ombre", description="Pour les aînés",
                             assistance=frozenset({Assistance.read_aloud}), original_locale="fr")
    db.session.commit()
    auth.login("admin@amp.demo")
    page = auth.client.get(f"/admin/budgets/{process.id}/proposals?lang=en").get_data(as_text=True)
    assert (f"How the ideas came in: {before['web']} online, {before['assisted'] + 1} with a mediator, "
            f"{before['paper']} from paper forms.") in page
    assert f"read aloud ({before['help'][Assistance.read_aloud] + 1})" in page
    assert "assisted (read aloud)" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).filter_by(process_id=process.id))
