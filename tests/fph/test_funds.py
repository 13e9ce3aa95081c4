"""Funds in the back office: creation and scope, sources and the envelope, members, the
scoped index, who edits and who only reads."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.extensions import db
from participation.fph import money, services
from participation.fph.models import CommitteeMember, Fund, FundingSource, MemberRole, SourceKind

from ..conftest import count
from .test_funds_support import (
    COM, EVA, FAC, FRAIS_VALLON, MALPASSE, MED, NAR_ADMIN, RAZIMBAUD, TEST_FUND, count_where, hood, login, make_fund,
)

NEW_FUND = "FPH test nouveau 2026"  # not the demo fund's name


def _new_fund(auth, *hoods, **extra):
    payload = {"name": NEW_FUND, "year": "2026", "ceiling": "1500", "quorum": "3", "bilan_days": "60",
               "decision_mode": "vote", "accepting": "y", "neighbourhoods": [str(hood(q).id) for q in hoods], **extra}
    return auth.post("/admin/fph/new", payload, form_page="/admin/fph/new")


def test_a_fund_of_one_neighbourhood_is_scoped_to_it(client, auth, demo):
    login(auth, FAC)
    before = count(Fund)
    resp = _new_fund(auth, MALPASSE)
    assert resp.status_code == 302 and count(Fund) == before + 1
    fund = db.session.scalar(sa.select(Fund).filter_by(name=NEW_FUND))
    assert fund.neighbourhood_id == hood(MALPASSE).id and fund.commune_id == hood(MALPASSE).commune_id
    assert fund.ceiling == 1500 and fund.accepting and fund.envelope == 0


def test_a_fund_of_two_neighbourhoods_of_a_commune_is_scoped_to_the_commune(client, auth, demo):
    login(auth, FAC)
    assert _new_fund(auth, MALPASSE, FRAIS_VALLON).status_code == 302
    fund = db.session.scalar(sa.select(Fund).filter_by(name=NEW_FUND))
    assert fund.neighbourhood_id is None and fund.commune_id == hood(MALPASSE).commune_id
    assert {n.qpv_code for n in fund.neighbourhoods} == {MALPASSE, FRAIS_VALLON}


def test_a_fund_needs_a_neighbourhood(client, auth, demo):
    login(auth, FAC)
    before = count(Fund)
    resp = _new_fund(auth)
    assert resp.status_code == 422 and count(Fund) == before


def test_a_neighbourhood_outside_the_users_area_is_not_offered(client, auth, demo):
    login(auth, FAC)
    before = count(Fund)
    resp = _new_fund(auth, RAZIMBAUD)
    assert resp.status_code == 422 and count(Fund) == before


@pytest.mark.parametrize("field,value", [("ceiling", "0"), ("ceiling", "abc"), ("year", "٢٠٢٦"), ("quorum", "-1"),
                                         ("decision_mode", "dice"), ("bilan_days", "99999999999999999999")])
def test_junk_fund_settings_are_422(client, auth, demo, field, value):
    login(auth, FAC)
    before = count(Fund)
    assert _new_fund(auth, MALPASSE, **{field: value}).status_code == 422
    assert count(Fund) == before


def test_sources_add_up_to_the_envelope(client, auth, demo):
    fund = make_fund(envelope=0)
    login(auth, FAC)
    for kind, amount in (("state", "6000"), ("tfpb", "2500")):
        resp = auth.post(f"/admin/fph/{fund.id}/sources", {"source-kind": kind, "source-label": "x", "source-amount": amount,
                                                         "source-csrf_token": auth.csrf("/admin/")})
        assert resp.status_code == 302
    db.session.refresh(fund)
    assert fund.envelope == 8500 and count_where(FundingSource, FundingSource.fund_id == fund.id) == 2


def test_removing_a_source_below_what_is_granted_is_refused(client, auth, demo):
    fund = make_fund(envelope=0)
    services.add_source(fund, SourceKind.state, "État", 3000)
    tfpb = services.add_source(fund, SourceKind.tfpb, "Bailleur", 2000)
    assert money.commit_grant(fund, 4000)
    db.session.commit()
    login(auth, FAC)
    client.get("/admin/?lang=en")
    resp = auth.post(f"/admin/fph/{fund.id}/sources", {"action": "remove", "source_id": str(tfpb.id)})
    assert resp.status_code == 422
    assert "cannot be lower than what is already granted" in resp.get_data(as_text=True)
    db.session.refresh(fund)
    assert fund.envelope == 5000 and count_where(FundingSource, FundingSource.fund_id == fund.id) == 2


def test_the_service_refuses_to_lower_the_envelope_below_the_grants(demo):
    fund = make_fund(envelope=1000)
    assert money.commit_grant(fund, 900)
    source = db.session.scalar(sa.select(FundingSource).filter_by(fund_id=fund.id))
    with pytest.raises(services.ServiceError) as e:
        services.remove_source(fund, source)
    assert e.value.code == "envelope_below_committed"


@pytest.mark.parametrize("amount", ["", "-1", "x", "1,5"])
def test_junk_source_amounts_are_422(client, auth, demo, amount):
    fund = make_fund(envelope=0)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/{fund.id}/sources", {"source-kind": "state", "source-amount": amount,
                                                     "source-csrf_token": auth.csrf("/admin/")})
    assert resp.status_code == 422 and count_where(FundingSource, FundingSource.fund_id == fund.id) == 0


@pytest.mark.parametrize("source_id", ["", "abc", "999999"])
def test_removing_a_junk_source_id_is_422(client, auth, demo, source_id):
    fund = make_fund()
    login(auth, FAC)
    assert auth.post(f"/admin/fph/{fund.id}/sources", {"action": "remove", "source_id": source_id}).status_code == 422
    assert count_where(FundingSource, FundingSource.fund_id == fund.id) == 1


def test_members_are_added_and_made_inactive(client, auth, demo):
    fund = make_fund()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/{fund.id}/members", {"member-name": "Mme Benali", "member-role": "chair",
                                                     "member-user": "", "member-csrf_token": auth.csrf("/admin/")})
    assert resp.status_code == 302
    member = db.session.scalar(sa.select(CommitteeMember).filter_by(fund_id=fund.id))
    assert member.role == MemberRole.chair and member.active
    assert auth.post(f"/admin/fph/{fund.id}/members", {"action": "toggle", "member_id": str(member.id)}).status_code == 302
    db.session.refresh(member)
    assert member.active is False


def test_a_member_may_be_linked_to_a_staff_account(client, auth, demo):
    from participation.core.users import User

    fund = make_fund()
    com = db.session.scalar(sa.select(User).filter_by(email=COM))
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/{fund.id}/members", {"member-name": "Fatou", "member-role": "resident",
                                                     "member-user": str(com.id), "member-csrf_token": auth.csrf("/admin/")})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(CommitteeMember.user_id).filter_by(fund_id=fund.id)) == com.id


def test_the_index_lists_only_funds_of_the_users_area(client, auth, demo):
    make_fund(name="Fonds de Malpassé")
    make_fund(qpvs=(RAZIMBAUD,), name="Fonds de Razimbaud")
    login(auth, FAC)
    html = client.get("/admin/fph/").get_data(as_text=True)
    assert "Fonds de Malpassé" in html and "Fonds de Razimbaud" not in html


def test_a_mediator_sees_a_wider_fund_covering_her_area(client, auth, demo):
    make_fund(qpvs=(MALPASSE, FRAIS_VALLON), name="Fonds des quartiers nord")
    make_fund(name="Fonds de Malpassé")
    login(auth, MED)
    html = client.get("/admin/fph/").get_data(as_text=True)
    assert "Fonds des quartiers nord" in html and "Fonds de Malpassé" not in html


def test_an_evaluator_reads_the_fund_without_edit_forms(client, auth, demo):
    fund = make_fund()
    login(auth, EVA)
    html = client.get(f"/admin/fph/{fund.id}").get_data(as_text=True)
    assert TEST_FUND in html
    assert f"/admin/fph/{fund.id}/sources" not in html and f"/admin/fph/{fund.id}/settings" not in html


def test_the_fund_page_shows_envelope_granted_available_and_paid(client, auth, demo):
    fund = make_fund(envelope=10000)
    assert money.commit_grant(fund, 1200)
    db.session.commit()
    login(auth, FAC)
    html = client.get(f"/admin/fph/{fund.id}?lang=en").get_data(as_text=True)
    assert "10,000" in html and "1,200" in html and "8,800" in html


def test_settings_are_saved(client, auth, demo):
    fund = make_fund()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/{fund.id}/settings", {
        "name": "FPH Malpassé 2026", "year": "2026", "ceiling": "1000", "quorum": "4", "bilan_days": "30",
        "decision_mode": "consensus", "neighbourhoods": [str(hood(MALPASSE).id)], "rules": "Nouvelles règles"})
    assert resp.status_code == 302
    db.session.refresh(fund)
    assert (fund.ceiling, fund.quorum, fund.bilan_days, fund.accepting) == (1000, 4, 30, False)


def test_the_narbonne_admin_cannot_open_a_marseille_fund(client, auth, demo):
    fund = make_fund()
    login(auth, NAR_ADMIN)
    assert client.get(f"/admin/fph/{fund.id}").status_code == 403


def test_the_fund_page_counts_applications_by_status(client, auth, demo):
    from .test_funds_support import make_application

    fund = make_fund()
    make_application(fund)
    second, _s = make_application(fund)
    services.set_status(second, services.S.eligible)
    db.session.commit()
    login(auth, FAC)
    html = client.get(f"/admin/fph/{fund.id}?lang=en").get_data(as_text=True)
    assert "Received: 1" in html and "Eligible: 1" in html
