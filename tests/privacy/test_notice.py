"""The privacy notice: a default marked as to be completed, the contract's own text (translated
for residents), the retention periods read from the schedule the purge applies, and the footer
link from public pages."""
from __future__ import annotations

import html

import sqlalchemy as sa

from participation.budgets.demo import VOTE_TITLE
from participation.budgets.models import Process
from participation.core.content_i18n import set_translation
from participation.core.territories import Contract
from participation.extensions import db
from participation.privacy import notice as notices
from participation.privacy.models import PrivacyNotice

AMP = "aix-marseille-provence"


def amp() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=AMP))


def page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, url
    return html.unescape(resp.get_data(as_text=True))


def test_without_a_notice_the_page_says_it_is_to_be_completed(demo, client):
    text = page(client, f"/c/{AMP}/privacy?lang=en")
    assert "To be completed:" in text
    assert "The signatories of the contrat de ville" in text
    for right in ("access:", "rectification:", "erasure:", "objection:", "limitation:", "CNIL"):
        assert right in text


def test_the_retention_periods_come_from_the_schedule(demo, client, app, monkeypatch):
    text = page(client, f"/c/{AMP}/privacy?lang=en")
    assert 'id="retention-budget_vote_records"' in text
    row = text.split('id="retention-budget_vote_records"')[1].split("</tr>")[0]
    assert "3 months" in row
    monkeypatch.setitem(app.config, "RETENTION_BUDGET_VOTE_RECORDS", 5)
    row = page(client, f"/c/{AMP}/privacy?lang=en").split('id="retention-budget_vote_records"')[1].split("</tr>")[0]
    assert "5 months" in row and "3 months" not in row


def test_an_admin_writes_the_notice_and_residents_read_it(demo, auth, client):
    auth.login("admin@amp.demo")
    path = f"/admin/contracts/{amp().id}/privacy/notice"
    resp = auth.post(path, {"controller": "Métropole Aix-Marseille-Provence", "dpo_contact": "dpo@ampmetropole.fr",
                            "purposes": "Faire participer les habitants.\nÉvaluer le contrat.",
                            "legal_basis": "Mission d'intérêt public."}, form_page=path)
    assert resp.status_code == 302
    saved = db.session.scalar(sa.select(PrivacyNotice).filter_by(contract_id=amp().id))
    assert saved.original_locale == "fr" and saved.updated_by.email == "admin@amp.demo"
    text = page(client, f"/c/{AMP}/privacy")
    assert "Métropole Aix-Marseille-Provence" in text and "dpo@ampmetropole.fr" in text
    assert "<p>Faire participer les habitants.</p>" in text and "<p>Évaluer le contrat.</p>" in text
    assert "Mission d'intérêt public." in text
    assert "To be completed" not in page(client, f"/c/{AMP}/privacy?lang=en")


def test_the_notice_is_shown_in_the_residents_language_when_translated(demo, client, auth):
    from participation.core.users import User

    admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
    saved = notices.save(amp(), {"controller": "Métropole", "dpo_contact": "dpo@x.fr",
                                 "purposes": "Faire participer les habitants."}, admin)
    set_translation(saved, "purposes", "en", "Let residents take part.")
    db.session.commit()
    assert "Let residents take part." in page(client, f"/c/{AMP}/privacy?lang=en")
    spanish = page(client, f"/c/{AMP}/privacy?lang=es")
    assert "Faire participer les habitants." in spanish and 'lang="fr"' in spanish


def test_a_too_long_field_is_refused_with_a_message(demo, auth, client):
    auth.login("admin@amp.demo")
    path = f"/admin/contracts/{amp().id}/privacy/notice"
    resp = auth.post(path + "?lang=en", {"controller": "x" * 201}, form_page=path)
    assert resp.status_code == 422
    assert "Please correct the highlighted fields." in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyNotice)) == 0


def test_public_pages_link_to_their_contracts_notice(demo, client):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    assert f'href="/c/{AMP}/privacy"' in page(client, f"/b/{process.id}")
    assert f'href="/c/{AMP}/privacy"' in page(client, f"/c/{AMP}")
    assert 'href="/c/grand-narbonne/privacy"' in page(client, "/c/grand-narbonne")
    assert 'href="/privacy"' in page(client, "/")


def test_the_general_notice_lists_every_contracts_notice(demo, client):
    text = page(client, "/privacy")
    assert f'href="/c/{AMP}/privacy"' in text and 'href="/c/grand-narbonne/privacy"' in text
    assert 'id="retention-budget_contacts"' in text


def test_the_back_office_page_shows_the_schedule_and_its_settings(demo, auth, client):
    auth.login("admin@amp.demo")
    text = page(client, f"/admin/contracts/{amp().id}/privacy?lang=en")
    assert "RETENTION_BUDGET_VOTE_RECORDS" in text
    assert "The notice is not complete" in text
