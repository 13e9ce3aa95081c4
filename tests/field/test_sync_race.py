"""A retry storm: eight copies of one queued submission arriving at once (two tabs, a sync
started twice, a retry racing the first try) make exactly one observation and one receipt.

Runs on PostgreSQL only (TEST_POSTGRES_URL): SQLite runs one write at a time, so nothing races."""
from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.territories import Neighbourhood
from participation.extensions import db
from participation.field.models import Receipt
from participation.walks import services
from participation.walks.models import Observation

from ..conftest import Auth
from ..dbutil import backend
from .conftest import MEDIATOR, Outbox, new_id

pytestmark = pytest.mark.skipif(
    backend() != "postgresql",
    reason="concurrent sync needs PostgreSQL (set TEST_POSTGRES_URL): SQLite runs one write at a time",
)

N = 8


def test_eight_copies_of_one_submission_at_once_make_one_observation(app, demo):
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    walk = services.create_walk(hood, "Marche simultanée", date.today())
    db.session.commit()
    item = {"client_id": new_id(), "kind": "walk_observation", "form_version": 1, "target": {"walk_id": walk.id},
            "fields": [["seen", "Le même trottoir défoncé"], ["theme", str(walk.themes[0].id)]], "photos": []}
    devices = []
    for _ in range(N):
        client = app.test_client()
        Auth(client).login(MEDIATOR)
        outbox = Outbox(client)
        outbox.token()
        devices.append(outbox)
    barrier = threading.Barrier(N)
    statuses, errors = [], []

    def go(outbox):
        try:
            barrier.wait(timeout=30)
            statuses.append(outbox.submit(item).status_code)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=go, args=(o,)) for o in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(statuses) == [200] * (N - 1) + [201]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation).filter_by(walk_id=walk.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)
                             .filter_by(client_id=item["client_id"])) == 1
