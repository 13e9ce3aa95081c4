"""Factories for the follow-up tests: the demo contracts with their usual institutions, and
demands placed in a territory and moved to a status on given days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from participation.core.territories import Commune, Contract, Neighbourhood, Scope
from participation.extensions import db
from participation.followup import services
from participation.followup.models import FollowUp, Institution, Kind, Status

TODAY = date.today()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def scope_of(contract: Contract, insee: str | None = None, qpv: str | None = None) -> Scope:
    if qpv:
        return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv)).scope
    if insee:
        return db.session.scalar(sa.select(Commune).filter_by(contract_id=contract.id, insee_code=insee)).scope
    return Scope(contract.id)


def institution(contract: Contract, kind_name: str = "CAF") -> Institution:
    return db.session.scalar(sa.select(Institution).filter_by(contract_id=contract.id, name=kind_name))


def make_demand(contract: Contract, title: str, *, qpv: str | None = None, insee: str | None = None,
                kind: Kind = Kind.interpellation, to: Institution | None = None, category_id: int | None = None,
                steps: tuple = (), user=None) -> FollowUp:
    """A demand created as a draft, then moved through `steps`: (status, day, extra kwargs)."""
    item = services.create(kind, scope_of(contract, insee, qpv), title, body="Le texte de la demande.",
                           institution=to or institution(contract), category_id=category_id, user=user,
                           on=steps[0][1] if steps else None)
    for step in steps:
        status, on, *rest = step
        services.move(item, status, on=on, user=user, **(rest[0] if rest else {}))
    return item


def sent(days: int, due_in: int | None = None) -> tuple:
    """The sending step, `days` ago, an answer expected `due_in` days later (default: the institution's)."""
    extra = {"answer_due_on": days_ago(days) + timedelta(days=due_in)} if due_in is not None else {}
    return (Status.sent, days_ago(days), extra)


@dataclass
class World:
    amp: Contract
    nar: Contract


@pytest.fixture
def world(demo) -> World:
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    for contract in (amp, nar):
        services.ensure_default_institutions(contract)
    db.session.commit()
    return World(amp, nar)
