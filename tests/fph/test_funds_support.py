"""Shared builders for the FPH tests (funds, applications, grants, photos). No tests here."""
from __future__ import annotations

import io
import secrets
from datetime import date

import sqlalchemy as sa

from participation.core.territories import Neighbourhood
from participation.extensions import db
from participation.fph import money, services
from participation.fph.models import AppStatus, Fund, SourceKind

MALPASSE = "QN01323M"
FRAIS_VALLON = "QN01322M"
RAZIMBAUD = "QN01101M"
COM = "comite@amp.demo"
FAC = "animatrice@amp.demo"
MED = "mediateur@amp.demo"
EVA = "evaluation@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"


def hood(qpv: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))


#: Distinct from the demo fund ("FPH Malpassé Corot 2026", same neighbourhood and year).
TEST_FUND = "FPH test Malpassé 2026"


def make_fund(qpvs=(MALPASSE,), envelope: int = 10000, ceiling: int = 1500, accepting: bool = True,
              name: str = TEST_FUND, rules: str = "Projets collectifs d'habitants.") -> Fund:
    fund = services.create_fund([hood(q) for q in qpvs], services.FundSettings(
        name=name, year=2026, ceiling=ceiling, rules=rules, accepting=accepting))
    if envelope:
        services.add_source(fund, SourceKind.state, "État", envelope)
    db.session.commit()
    return fund


def data(**overrides) -> services.ApplicationData:
    values = dict(title="Fête de fin d'année", audience="Les enfants du bâtiment B",
                  description="Un goûter et des jeux dans la cour.", place="Cour du bâtiment B",
                  starts_on=date(2026, 6, 20), ends_on=date(2026, 6, 20), neighbourhood_id=None,
                  lines=[("Goûter", 120), ("Jeux", 80)], collective="Les voisins du B",
                  contact_name="Awa Traoré", contact_phone="0612345678", contact_email="awa@example.org")
    values.update(overrides)
    return services.ApplicationData(**values)


def make_application(fund: Fund, **overrides):
    """(application, follow secret), committed."""
    application, secret, _new = services.submit_application(fund, data(**overrides), nonce=secrets.token_urlsafe(18))
    db.session.commit()
    return application, secret


def grant(application, amount: int, conditions: str = "") -> None:
    """What a committee decision does (the committee module's job), for these tests."""
    services.set_status(application, AppStatus.eligible)
    services.set_status(application, AppStatus.scheduled)
    assert money.commit_grant(application.fund, amount)
    application.granted_amount = amount
    application.conditions = conditions
    application.decided_on = date.today()
    services.set_status(application, AppStatus.granted)
    application.bilan_due_on = services.bilan_due_on(application)
    db.session.commit()


def form(**overrides) -> dict:
    """A valid public application form (two budget lines)."""
    values = {
        "title": "Fête de fin d'année", "audience": "Les enfants du bâtiment B", "starts_on": "2026-06-20",
        "ends_on": "2026-06-20", "place": "Cour du bâtiment B", "description": "Un goûter et des jeux dans la cour.",
        "lines-0-what": "Goûter", "lines-0-amount": "120", "lines-1-what": "Jeux", "lines-1-amount": "80",
        "collective": "Les voisins du B", "contact_name": "Awa Traoré", "contact_phone": "0612345678",
        "contact_email": "", "consent": "y", "nonce": secrets.token_urlsafe(18),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def count_where(model, *criteria) -> int:
    """Rows of `model` matching `criteria`: the test's own objects (the demo data has its own)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria))


def login(auth, email: str):
    resp = auth.login(email)
    assert resp.status_code == 302
    return resp


def jpeg_with_exif() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (64, 48), "green")
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x0131] = "TrackMe 1.0"  # Software
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert b"SecretCamera" in buf.getvalue()
    return buf.getvalue()
