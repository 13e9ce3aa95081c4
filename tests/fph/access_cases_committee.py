"""Access-matrix cases for the committee routes (sessions, decisions, minutes, figures), merged
into tests/core/test_access_matrix.py; also the small factories the committee tests share.

`fixtures(amp, nar)` creates, in the demo contract, a fund for Malpassé Corot (QN01323M, where
the matrix user `com` sits on the committee) with a session and a scheduled application, and
the same in Grand Narbonne; `EXPECTED` maps each endpoint to [(label, method, url builder(fixtures),
users allowed)]."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from participation.core.territories import Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.fph import money
from participation.fph.models import (
    AgendaEntry,
    Application,
    AppStatus,
    CommitteeMember,
    CommitteeSession,
    DecisionMode,
    Fund,
    FundingSource,
    MemberRole,
    SessionStatus,
    SourceKind,
)

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

# --- factories (models directly, money through money.py) -------------------------------------


def make_fund(qpv: str = "QN01323M", *, envelope: int = 10000, ceiling: int = 1500, quorum: int = 3,
              mode: DecisionMode = DecisionMode.vote, name: str = "FPH test", year: int = 2026) -> Fund:
    n = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
    fund = Fund(contract_id=n.commune.contract_id, commune_id=n.commune_id, neighbourhood_id=n.id, name=name,
                year=year, ceiling=ceiling, quorum=quorum, decision_mode=mode)
    fund.neighbourhoods = [n]
    db.session.add(fund)
    db.session.flush()
    db.session.add(FundingSource(fund_id=fund.id, kind=SourceKind.state, label="État", amount=envelope))
    db.session.flush()
    assert money.set_envelope(fund, envelope)
    return fund


def add_members(fund: Fund, voting: int = 4, observers: int = 1, user_email: str | None = None) -> list[CommitteeMember]:
    """`voting` voting members (the first is the chair, linked to `user_email`) and observers."""
    members = []
    for i in range(voting):
        user = db.session.scalar(sa.select(User).filter_by(email=user_email)) if (i == 0 and user_email) else None
        members.append(CommitteeMember(fund_id=fund.id, name=f"Membre {i + 1}",
                                       role=MemberRole.chair if i == 0 else MemberRole.resident,
                                       user_id=user.id if user else None))
    for i in range(observers):
        members.append(CommitteeMember(fund_id=fund.id, name=f"Observateur {i + 1}", role=MemberRole.observer))
    db.session.add_all(members)
    db.session.flush()
    return members


def make_application(fund: Fund, title: str = "Fête des voisins", amount: int = 800,
                     status: AppStatus = AppStatus.eligible, number: int | None = None) -> Application:
    number = number or (db.session.scalar(sa.select(sa.func.count()).select_from(Application)
                                          .where(Application.fund_id == fund.id)) + 1)
    app = Application(fund_id=fund.id, reference=f"FPH-{fund.year}-{number:03d}", title=title,
                      amount_requested=amount, status=status, submitted_on=date(2026, 3, 1),
                      starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 30),
                      collective="Collectif des voisins", contact_name="Nadia B.", contact_phone="06 12 34 56 78",
                      contact_email="nadia@example.org")
    db.session.add(app)
    db.session.flush()
    return app


def make_session(fund: Fund, apps=(), held_on: date = date(2026, 4, 10), present=(),
                 status: SessionStatus = SessionStatus.planned) -> CommitteeSession:
    """A session with `apps` on its agenda (scheduled) and `present` members attending."""
    from participation.fph.models import SessionAttendance

    session = CommitteeSession(fund_id=fund.id, held_on=held_on, place="Centre social", status=status)
    db.session.add(session)
    db.session.flush()
    for i, app in enumerate(apps, 1):
        db.session.add(AgendaEntry(session_id=session.id, application_id=app.id, position=i))
        app.status = AppStatus.scheduled
    for m in present:
        db.session.add(SessionAttendance(session_id=session.id, member_id=m.id))
    db.session.flush()
    db.session.expire(session)
    return session


# --- access matrix ------------------------------------------------------------------------------


def fixtures(amp, nar) -> dict:
    out = {}
    for key, qpv, email in (("own", "QN01323M", "comite@amp.demo"), ("nar", "QN01101M", None)):
        fund = make_fund(qpv, name=f"FPH {key}")
        members = add_members(fund, user_email=email)
        eligible = make_application(fund, "Atelier cuisine", 500)
        scheduled = make_application(fund, "Fresque", 900)
        session = make_session(fund, [scheduled], present=members[:4])
        out.update({f"fc_{key}_fund": fund.id, f"fc_{key}_session": session.id, f"fc_{key}_app": scheduled.id,
                    f"fc_{key}_eligible": eligible.id})
    return out


SITTERS = {"root", "amp_admin", "fac", "com"}
MANAGERS = {"root", "amp_admin", "fac"}
FIGURES = {"root", "amp_admin", "fac", "eva"}
NAR = {"root", "nar_admin"}


def _cases(path: str, own: set, method: str = "GET"):
    """`path` with {fund}, {session}, {app} taken from the own (Malpassé Corot) or foreign fixtures."""
    def url(key):
        return lambda f: path.format(fund=f[f"fc_{key}_fund"], session=f[f"fc_{key}_session"], app=f[f"fc_{key}_app"])

    return [("own", method, url("own"), own), ("foreign", method, url("nar"), NAR)]


EXPECTED: dict = {
    "fph_admin.sessions": [*_cases("/admin/fph/{fund}/sessions", SITTERS),
                           *_cases("/admin/fph/{fund}/sessions", MANAGERS, "POST")],
    "fph_admin.session": _cases("/admin/fph/sessions/{session}", SITTERS),
    "fph_admin.session_agenda": _cases("/admin/fph/sessions/{session}/agenda", MANAGERS, "POST"),
    "fph_admin.session_attendance": _cases("/admin/fph/sessions/{session}/attendance", SITTERS, "POST"),
    "fph_admin.session_recusal": _cases("/admin/fph/sessions/{session}/recusals", SITTERS, "POST"),
    "fph_admin.session_decide": _cases("/admin/fph/sessions/{session}/decide/{app}", SITTERS, "POST"),
    "fph_admin.session_close": _cases("/admin/fph/sessions/{session}/close", MANAGERS, "POST"),
    "fph_admin.session_minutes": [*_cases("/admin/fph/sessions/{session}/minutes", SITTERS),
                                  *_cases("/admin/fph/sessions/{session}/minutes", MANAGERS, "POST")],
    "fph_admin.figures": _cases("/admin/fph/{fund}/figures", FIGURES),
}
