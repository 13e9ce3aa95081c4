"""Guards found in review: an application on a committee agenda is the committee's to move; a
withdrawn one leaves the agendas still to decide; a fund never moves to another contract; the
applicants' own bilan text goes public only once staff have read it and closed the project."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db
from participation.fph import committee, services
from participation.fph.models import AgendaEntry, AppStatus, CommitteeSession

from .test_funds_support import FAC, RAZIMBAUD, grant, hood, login, make_application, make_fund


def _scheduled(fund):
    application, _secret = make_application(fund)
    services.set_status(application, AppStatus.eligible)
    session = CommitteeSession(fund_id=fund.id, held_on=date(2026, 12, 10))
    db.session.add(session)
    db.session.flush()
    committee.add_to_agenda(session, application)
    db.session.commit()
    return application, session


def test_eligibility_cannot_be_changed_while_on_a_committee_agenda(client, auth, demo):
    application, _session = _scheduled(make_fund())
    with pytest.raises(services.ServiceError):
        services.set_eligibility(application, True)
    db.session.rollback()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{application.id}/eligibility", {"decision": "eligible"})
    assert resp.status_code in (302, 422)
    db.session.refresh(application)
    assert application.status is AppStatus.scheduled


def test_a_withdrawn_application_leaves_the_agenda_of_a_session_to_come(demo):
    application, session = _scheduled(make_fund())
    services.withdraw(application, "Nous avons trouvé une autre aide.")
    db.session.commit()
    assert application.status is AppStatus.withdrawn
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AgendaEntry)
                             .where(AgendaEntry.session_id == session.id)) == 0


def test_a_fund_is_never_moved_to_another_contract(demo):
    fund = make_fund()
    contract_id = fund.contract_id
    with pytest.raises(services.ServiceError):
        services.set_neighbourhoods(fund, [hood(RAZIMBAUD)])
    assert fund.contract_id == contract_id


def test_fund_settings_with_neighbourhoods_of_two_contracts_are_refused_not_a_500(client, auth, demo):
    from participation.core.users import User

    fund = make_fund()
    root = User(email="root@platform.test", name="Root", is_superadmin=True)
    root.set_password("a-long-test-password")
    db.session.add(root)
    db.session.commit()
    auth.login("root@platform.test", "a-long-test-password")
    resp = auth.post(f"/admin/fph/{fund.id}/settings", {
        "name": "FPH", "year": "2026", "ceiling": "1000", "quorum": "3", "bilan_days": "30", "decision_mode": "vote",
        "neighbourhoods": [str(hood("QN01323M").id), str(hood(RAZIMBAUD).id)], "rules": ""})
    assert resp.status_code == 422
    db.session.refresh(fund)
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    assert fund.contract_id == amp.id and fund.name != "FPH"


def test_the_bilan_text_is_public_only_once_the_project_is_closed(client, demo):
    fund = make_fund()
    application, _secret = make_application(fund, title="Jardin partagé")
    grant(application, 500)
    services.record_bilan(application, summary="Trente voisins ont planté des tomates.", participants=30, spent=480)
    db.session.commit()
    assert "Trente voisins" not in client.get(f"/fph/{fund.id}/projects").get_data(as_text=True)
    services.close(application)
    db.session.commit()
    assert "Trente voisins" in client.get(f"/fph/{fund.id}/projects").get_data(as_text=True)
