"""Residents comment on proposals when the phase allows it; contacts typed in are masked."""
import sqlalchemy as sa

from participation.budgets.demo import VOTE_TITLE
from participation.budgets.models import Process, ProcessPhase, ProposalComment
from participation.budgets.services import mask_contacts
from participation.extensions import db

from ..conftest import count, csrf_from


def _allow_comments(title: str) -> Process:
    process = db.session.scalar(sa.select(Process).filter_by(title=title))
    phase = db.session.scalar(sa.select(ProcessPhase).filter_by(process_id=process.id, phase=process.phase))
    phase.allows_comment = True
    db.session.commit()
    return process


def _post(client, process, number, body, name=""):
    page = client.get(f"/b/{process.id}/p/{number}").get_data(as_text=True)
    return client.post(f"/b/{process.id}/p/{number}/comments?lang=en",
                       data={"csrf_token": csrf_from(page), "body": body, "author_name": name})


def test_a_resident_comments_without_an_account(client, demo):
    process = _allow_comments(VOTE_TITLE)
    resp = _post(client, process, 1, "Très bonne idée, il manque de l'ombre l'été.", "Nadia")
    assert resp.status_code == 302
    page = client.get(f"/b/{process.id}/p/1").get_data(as_text=True)
    assert "Très bonne idée" in page and "Nadia" in page
    comment = db.session.scalar(sa.select(ProposalComment))
    assert comment.channel.value == "web" and comment.locale == "en"


def test_comments_are_refused_when_the_phase_does_not_allow_them(client, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    page = client.get(f"/b/{process.id}/p/1").get_data(as_text=True)
    assert 'action="/b/%d/p/1/comments"' % process.id not in page  # no form shown
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(f"/b/{process.id}/p/1/comments?lang=en", data={"csrf_token": token, "body": "Je voudrais commenter."})
    assert resp.status_code == 422
    assert "Comments are not open in this phase." in resp.get_data(as_text=True)
    assert count(ProposalComment) == 0


def test_emails_and_phone_numbers_are_masked():
    text = mask_contacts("Écrivez à jean.dupont@mail.fr ou au 06 12 34 56 78 / +33 6 12 34 56 78. Coût 12000 €, 3 bancs.")
    assert "@" not in text and "06 12" not in text and "+33" not in text
    assert "12000 €, 3 bancs" in text


def test_a_comment_with_contacts_is_published_masked(client, demo):
    process = _allow_comments(VOTE_TITLE)
    _post(client, process, 2, "Appelez-moi au 06 12 34 56 78 pour le jardin.")
    body = db.session.scalar(sa.select(ProposalComment.body))
    assert "06 12" not in body and "pour le jardin" in body


def test_an_empty_comment_is_refused(client, demo):
    process = _allow_comments(VOTE_TITLE)
    assert _post(client, process, 1, " ").status_code == 422
    assert count(ProposalComment) == 0


def test_a_hidden_comment_leaves_the_public_page(client, demo):
    from participation.budgets import services

    process = _allow_comments(VOTE_TITLE)
    _post(client, process, 1, "Un commentaire injurieux.")
    comment = db.session.scalar(sa.select(ProposalComment))
    services.moderate_comment(comment, True, "Propos injurieux")
    db.session.commit()
    page = client.get(f"/b/{process.id}/p/1?lang=en").get_data(as_text=True)
    assert "Un commentaire injurieux." not in page
    assert "1 comment hidden by the moderators." in page
