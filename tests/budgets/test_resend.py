"""An idea or a comment sent again (a double tap, or the same form re-sent after the answer was
lost on a poor connection) is stored once; a different idea typed into the same page is new."""
from __future__ import annotations

import re

import sqlalchemy as sa

from participation.budgets import services
from participation.budgets.demo import IDEAS_TITLE, VOTE_TITLE
from participation.budgets.models import Process, ProcessPhase, Proposal, ProposalComment
from participation.extensions import db

from ..conftest import csrf_from


def _nonce(page: str) -> str:
    match = re.search(r'<input[^>]*name="nonce"[^>]*>', page)
    assert match, "no nonce in the form"
    value = re.search(r'value="([^"]+)"', match.group(0))
    assert value and len(value.group(1)) >= services.NONCE_MIN_LENGTH
    return value.group(1)


def _ideas() -> Process:
    return db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))


def _ideas_of(process: Process) -> list[Proposal]:
    return list(db.session.scalars(sa.select(Proposal).filter_by(process_id=process.id).order_by(Proposal.number)))


def test_the_same_idea_form_sent_twice_publishes_one_idea(client, demo):
    process = _ideas()
    before = len(_ideas_of(process))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "nonce": _nonce(page), "title": "Des bancs",
            "description": "Des bancs près de l'école."}
    first = client.post(f"/b/{process.id}/propose?lang=en", data=data)
    again = client.post(f"/b/{process.id}/propose?lang=en", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]  # the resident lands on their idea
    ideas = _ideas_of(process)
    assert len(ideas) == before + 1 and [i.title for i in ideas].count("Des bancs") == 1
    shown = client.get(again.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert f"We had already received this idea: it is number {ideas[-1].number}." in shown


def test_a_second_idea_typed_into_the_same_page_is_a_new_idea(client, demo):
    """A form page kept open (or cached for the field) carries the same nonce: the text tells the ideas apart."""
    process = _ideas()
    before = len(_ideas_of(process))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    token, nonce = csrf_from(page), _nonce(page)
    for title in ("Des bancs", "Un abri vélo"):
        resp = client.post(f"/b/{process.id}/propose", data={"csrf_token": token, "nonce": nonce, "title": title,
                                                             "description": "Près de l'école, pour tout le monde."})
        assert resp.status_code == 302
    assert [i.title for i in _ideas_of(process)[before:]] == ["Des bancs", "Un abri vélo"]


def test_each_idea_page_gives_a_new_nonce(client, demo):
    process = _ideas()
    first = _nonce(client.get(f"/b/{process.id}/propose").get_data(as_text=True))
    second = _nonce(client.get(f"/b/{process.id}/propose").get_data(as_text=True))
    assert first != second


def test_an_idea_refused_for_an_error_keeps_its_nonce_and_is_then_published_once(client, demo):
    process = _ideas()
    before = len(_ideas_of(process))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    nonce = _nonce(page)
    refused = client.post(f"/b/{process.id}/propose?lang=en", data={
        "csrf_token": csrf_from(page), "nonce": nonce, "title": "Des bancs", "description": "court"})
    assert refused.status_code == 422 and _nonce(refused.get_data(as_text=True)) == nonce
    assert len(_ideas_of(process)) == before
    data = {"csrf_token": csrf_from(page), "nonce": nonce, "title": "Des bancs", "description": "Des bancs près de l'école."}
    assert client.post(f"/b/{process.id}/propose", data=data).status_code == 302
    assert client.post(f"/b/{process.id}/propose", data=data).status_code == 302
    assert len(_ideas_of(process)) == before + 1


def test_the_service_finds_the_first_idea_and_writes_nothing(app, demo):
    process = _ideas()
    nonce = "n" * 24
    first = services.submit_proposal(process, title="Un banc", description="Un banc à l'ombre.", nonce=nonce)
    db.session.commit()
    try:
        services.submit_proposal(process, title="Un banc", description="Un banc à l'ombre.", nonce=nonce)
    except services.AlreadyReceived as again:
        assert again.record.id == first.id
    else:
        raise AssertionError("the same nonce and text made a second idea")
    # Without a nonce (an old page, a script) nothing is recognised: two sends, two ideas.
    services.submit_proposal(process, title="Un banc", description="Un banc à l'ombre.")
    services.submit_proposal(process, title="Un banc", description="Un banc à l'ombre.")
    db.session.commit()
    assert [i.title for i in _ideas_of(process)].count("Un banc") == 3


def _allow_comments() -> Process:
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    phase = db.session.scalar(sa.select(ProcessPhase).filter_by(process_id=process.id, phase=process.phase))
    phase.allows_comment = True
    db.session.commit()
    return process


def test_the_same_comment_sent_twice_is_published_once(client, demo):
    process = _allow_comments()
    page = client.get(f"/b/{process.id}/p/1").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "nonce": _nonce(page), "body": "Très bonne idée pour l'été.",
            "author_name": "Nadia"}
    first = client.post(f"/b/{process.id}/p/1/comments?lang=en", data=data)
    again = client.post(f"/b/{process.id}/p/1/comments?lang=en", data=data)
    assert first.status_code == again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProposalComment)) == 1
    shown = client.get(again.headers["Location"].split("#")[0] + "?lang=en").get_data(as_text=True)
    assert "We had already received this comment." in shown
    # Another comment from the same page is published.
    data["body"] = "Et des arbres aussi."
    assert client.post(f"/b/{process.id}/p/1/comments", data=data).status_code == 302
    assert sorted(db.session.scalars(sa.select(ProposalComment.body))) == ["Et des arbres aussi.",
                                                                           "Très bonne idée pour l'été."]
