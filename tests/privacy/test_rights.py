"""Rights of access and erasure: resident contacts (search, JSON report, erasure that keeps the
records and every ballot) and staff accounts (report, anonymisation, the refusals)."""
from __future__ import annotations

import html
import json

import pytest
import sqlalchemy as sa

from participation.budgets.demo import VOTE_TITLE
from participation.budgets.models import Ballot, BallotChoice, Process, Proposal, VoteRecord
from participation.budgets import services as budgets
from participation.core.audit import AuditEvent, record
from participation.core.channels import Channel
from participation.core.territories import Contract
from participation.core.users import RoleGrant, StaffSession, User
from participation.extensions import db
from participation.fph.models import Application, Fund
from participation.privacy import rights

AMP_ADMIN = "admin@amp.demo"
MEDIATOR = "mediateur@amp.demo"


def contract(slug="aix-marseille-provence") -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=slug))


def user(email) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


# --- normalisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,kind,value", [
    ("  Elodie@Example.ORG ", "email", "elodie@example.org"),
    ("+33 6 12 34 56 78", "phone", "0612345678"),
    ("06.12.34.56.78", "phone", "0612345678"),
    ("0033 612345678", "phone", "0612345678"),
    ("  ÉLODIE   martin ", "name", "elodie martin"),
])
def test_queries_are_normalised(raw, kind, value):
    assert rights.parse_query(raw) == rights.Query(kind, value)


@pytest.mark.parametrize("raw", ["", "  ", "ab", "12 34", "@", "a@", "x" * 2])
def test_vague_queries_are_refused(raw):
    with pytest.raises(rights.RightsError):
        rights.parse_query(raw)


# --- resident contacts ---------------------------------------------------------------------------


@pytest.fixture
def voted(demo):
    """The demo's vote: the author of idea #1 left contacts, and the idea has counted ballots."""
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    idea = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id, number=1))
    other = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id, number=2))
    idea.contact_name, idea.contact, idea.contact_consent = "Élodie Martin", "Elodie@example.org", True
    other.contact_name, other.contact, other.contact_consent = "Paul Roy", "06 11 22 33 44", True
    for i in range(3):
        ballot = Ballot(process_id=process.id, locator=f"privacy-test-{i}", receipt=f"PRIV{i}", channel=Channel.web)
        ballot.choices = [BallotChoice(proposal_id=idea.id, value=1)]
        db.session.add(ballot)
        db.session.add(VoteRecord(process_id=process.id, voter_key=f"browser:privacy-{i}", channel=Channel.web))
    fund = db.session.scalar(sa.select(Fund).where(Fund.contract_id == process.contract_id))
    application = fund.applications[0]
    application.contact_email = "ELODIE@example.org"
    # The same person in another contract: never found from this one.
    nar_fund = Fund(contract_id=contract("grand-narbonne").id, name="FPH Narbonne", year=2026, original_locale="fr")
    db.session.add(nar_fund)
    db.session.flush()
    db.session.add(Application(fund_id=nar_fund.id, reference="FPH-N-1", title="Projet", amount_requested=300,
                               submitted_on=process.created_at.date(), contact_email="elodie@example.org",
                               original_locale="fr"))
    db.session.commit()
    return {"process": process, "idea": idea, "other": other, "application": application}


def test_search_finds_exact_normalised_matches_of_the_contract_only(voted):
    found = rights.find_contacts(contract(), rights.parse_query("elodie@EXAMPLE.org"))
    assert {f.key for f in found} == {f"proposal:{voted['idea'].id}", f"application:{voted['application'].id}"}
    assert [f.key for f in rights.find_contacts(contract(), rights.parse_query("+33 6 11 22 33 44"))] == [
        f"proposal:{voted['other'].id}"]
    assert [f.key for f in rights.find_contacts(contract(), rights.parse_query("elodie martin"))] == [
        f"proposal:{voted['idea'].id}"]
    # Exact only: part of an address or a name finds nothing.
    assert rights.find_contacts(contract(), rights.parse_query("elodie")) == []
    assert rights.find_contacts(contract(), rights.parse_query("lodie@example.org")) == []


def test_the_access_report_holds_that_persons_records_only(voted, auth, client):
    auth.login(AMP_ADMIN)
    resp = client.get(f"/admin/contracts/{contract().id}/privacy/people/report.json?q=elodie@example.org")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    report = json.loads(resp.get_data(as_text=True))
    assert {r["type"] for r in report["records"]} == {"participatory budget idea", "FPH application"}
    text = resp.get_data(as_text=True)
    assert "Paul Roy" not in text and "06 11 22 33 44" not in text and "FPH-N-1" not in text
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="access_report"))
    assert event.contract_id == contract().id and "elodie" not in json.dumps(event.changes).lower()


def test_the_search_page_lists_the_records(voted, auth, client):
    auth.login(AMP_ADMIN)
    page = html.unescape(client.get(f"/admin/contracts/{contract().id}/privacy/people?q=Elodie@example.org")
                         .get_data(as_text=True))
    assert voted["idea"].title in page and voted["application"].reference in page
    assert "Paul Roy" not in page


def test_a_vague_search_gets_a_translated_error_not_a_500(demo, auth, client):
    auth.login(AMP_ADMIN)
    resp = client.get(f"/admin/contracts/{contract().id}/privacy/people?q=ab&lang=en")
    assert resp.status_code == 422
    assert "at least 6 digits" in resp.get_data(as_text=True)
    resp = client.get(f"/admin/contracts/{contract().id}/privacy/people/report.json?q=%40")
    assert resp.status_code == 422


def test_erasing_a_contact_keeps_the_record_and_every_ballot_counted(voted, auth, client):
    process, idea = voted["process"], voted["idea"]
    choices = lambda: sorted(db.session.execute(  # noqa: E731
        sa.select(BallotChoice.ballot_id, BallotChoice.proposal_id, BallotChoice.value)
        .join(Ballot).where(Ballot.process_id == process.id)).all())
    records = lambda: db.session.scalar(  # noqa: E731
        sa.select(sa.func.count()).select_from(VoteRecord).filter_by(process_id=process.id))
    before_choices, before_records = choices(), records()
    tally = lambda: (sorted(map(sorted, (b.items() for b in budgets.ballots_for_tally(process)))),  # noqa: E731
                     budgets.votes_by_channel(process), budgets.turnout_by_neighbourhood(process))
    before_tally = tally()
    assert any(pid == idea.id for _b, pid, _v in before_choices)
    auth.login(AMP_ADMIN)
    path = f"/admin/contracts/{contract().id}/privacy/people"
    resp = auth.post(f"{path}/erase", {"q": "elodie@example.org", "records": [f"proposal:{idea.id}"], "confirm": "y"},
                     form_page=f"{path}?q=elodie@example.org")
    assert resp.status_code == 302
    db.session.expire_all()
    erased = db.session.get(Proposal, idea.id)
    assert (erased.contact, erased.contact_name, erased.contact_consent) == ("", "", False)
    assert erased.title == idea.title
    assert db.session.get(Application, voted["application"].id).contact_email == "ELODIE@example.org"  # not chosen
    assert choices() == before_choices and records() == before_records
    process = db.session.get(Process, process.id)
    assert tally() == before_tally
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="erase", entity="budget_proposals"))
    assert event.entity_id == str(idea.id) and event.contract_id == contract().id


def test_erasing_needs_the_confirmation_box(voted, auth, client):
    auth.login(AMP_ADMIN)
    path = f"/admin/contracts/{contract().id}/privacy/people"
    resp = auth.post(f"{path}/erase?lang=en", {"q": "elodie@example.org", "records": [f"proposal:{voted['idea'].id}"]},
                     form_page=f"{path}?q=elodie@example.org")
    assert resp.status_code == 422 and "Tick the box" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, voted["idea"].id).contact == "Elodie@example.org"


def test_a_record_of_another_contract_cannot_be_erased_from_this_one(voted, auth, client):
    nar_app = db.session.scalar(sa.select(Application).filter_by(reference="FPH-N-1"))
    auth.login(AMP_ADMIN)
    path = f"/admin/contracts/{contract().id}/privacy/people"
    resp = auth.post(f"{path}/erase", {"q": "elodie@example.org", "records": [f"application:{nar_app.id}"],
                                       "confirm": "y"}, form_page=f"{path}?q=elodie@example.org")
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.get(Application, nar_app.id).contact_email == "elodie@example.org"


# --- staff accounts ----------------------------------------------------------------------------------


def test_the_staff_report_lists_account_roles_sessions_and_actions(demo, auth, client):
    med = user(MEDIATOR)
    record("update", entity="budget_proposals", entity_id=1, user_id=med.id, contract_id=contract().id)
    db.session.add(StaffSession(user_id=med.id))
    db.session.commit()
    auth.login(AMP_ADMIN)
    resp = client.get(f"/admin/staff/{med.id}/privacy/report.json")
    assert resp.status_code == 200
    report = resp.get_json(force=True)
    assert report["account"]["email"] == MEDIATOR
    assert [r["role"] for r in report["roles"]] == ["mediator"]
    assert len(report["sessions"]) == 1
    assert [a["table"] for a in report["actions"]] == ["budget_proposals"]
    assert "password_hash" not in resp.get_data(as_text=True)


def test_erasing_a_staff_account_anonymises_it_and_keeps_what_it_did(demo, auth, client):
    med = user(MEDIATOR)
    record("update", entity="budget_proposals", entity_id=1, user_id=med.id, contract_id=contract().id)
    db.session.commit()
    med_id = med.id
    other = Auth2(client.application.test_client())
    assert other.login(MEDIATOR).status_code == 302
    auth.login(AMP_ADMIN)
    resp = auth.post(f"/admin/staff/{med_id}/privacy/erase", {"confirm": "y"}, form_page=f"/admin/staff/{med_id}")
    assert resp.status_code == 302
    db.session.expire_all()
    med = db.session.get(User, med_id)
    assert med.name == rights.deleted_name(med_id) and "Karim" not in med.name
    assert med.email.endswith("@erased.invalid") and not med.is_enabled and not med.is_superadmin
    assert not med.check_password("demo") and rights.is_erased(med)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleGrant).filter_by(user_id=med_id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)
                             .filter_by(user_id=med_id, revoked_at=None)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .filter_by(user_id=med_id, action="update")) == 1
    assert other.client.get("/admin/").status_code in (302, 401)  # the open session ended
    assert Auth2(client.application.test_client()).login(MEDIATOR).status_code != 302
    # the erasure itself is logged, without the name or e-mail it removed
    db.session.expire_all()
    logged = " ".join(json.dumps(e.changes, ensure_ascii=False) for e in db.session.scalars(sa.select(AuditEvent)))
    assert "Karim" not in logged and MEDIATOR not in logged


def test_an_admin_cannot_erase_themselves(demo, auth, client):
    admin = user(AMP_ADMIN)
    auth.login(AMP_ADMIN)
    resp = auth.post(f"/admin/staff/{admin.id}/privacy/erase?lang=en", {"confirm": "y"}, follow_redirects=True)
    assert "cannot erase your own account" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).email == AMP_ADMIN


def test_the_last_admin_of_a_contract_cannot_be_erased(demo, auth, client, app):
    root = User(email="root@privacy.test", name="Root", is_superadmin=True)
    root.set_password("a-long-test-password")
    db.session.add(root)
    db.session.commit()
    admin = user(AMP_ADMIN)
    auth.login("root@privacy.test", "a-long-test-password")
    resp = auth.post(f"/admin/staff/{admin.id}/privacy/erase?lang=en", {"confirm": "y"}, follow_redirects=True)
    assert "last administrator of a contract" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_enabled


def test_erasing_a_staff_account_needs_the_box(demo, auth, client):
    med = user(MEDIATOR)
    auth.login(AMP_ADMIN)
    resp = auth.post(f"/admin/staff/{med.id}/privacy/erase?lang=en", {}, follow_redirects=True)
    assert "Tick the box" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, med.id).email == MEDIATOR


def test_the_staff_page_offers_the_report_and_the_erasure(demo, auth, client):
    med = user(MEDIATOR)
    auth.login(AMP_ADMIN)
    page = client.get(f"/admin/staff/{med.id}").get_data(as_text=True)
    assert f"/admin/staff/{med.id}/privacy/report.json" in page
    assert f"/admin/staff/{med.id}/privacy/erase" in page


class Auth2:
    """A second browser."""

    def __init__(self, client):
        from ..conftest import Auth

        self.client = client
        self.auth = Auth(client)

    def login(self, email):
        return self.auth.login(email)
