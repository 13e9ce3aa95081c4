"""A group records at the same moment: eight phones sending different observations get the
numbers 1 to 8 without a gap or a double; eight copies of one submission (a retry storm on a
poor connection) make exactly one observation.

Runs on PostgreSQL only (TEST_POSTGRES_URL): SQLite serialises every write of the whole database,
so nothing there ever races; the numbering relies on PostgreSQL's row lock on the walk."""
from __future__ import annotations

import io
import re
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Neighbourhood
from participation.extensions import db
from participation.walks import services
from participation.walks.models import Observation

from ..conftest import csrf_from
from ..dbutil import backend

pytestmark = pytest.mark.skipif(
    backend() != "postgresql",
    reason="concurrent recording needs PostgreSQL (set TEST_POSTGRES_URL): SQLite runs one write at a time",
)

N = 8


@pytest.fixture
def walk_ids(app, demo):
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    walk = services.create_walk(hood, "Marche simultanée", date.today())
    db.session.commit()
    return walk.id, walk.record_key


def _phones(app, walk_id, key) -> list[tuple[object, str, str]]:
    """N phones with the form open: (client, csrf token, client_id of their form)."""
    out = []
    for _ in range(N):
        client = app.test_client()
        page = client.get(f"/w/{walk_id}/record/{key}?lang=en").get_data(as_text=True)
        out.append((client, csrf_from(page), re.search(r'name="client_id" value="([^"]+)"', page).group(1)))
    return out


def _run(posts) -> tuple[list[int], list[str]]:
    barrier = threading.Barrier(len(posts))
    statuses, errors = [], []

    def go(post):
        try:
            barrier.wait(timeout=30)
            statuses.append(post().status_code)
        except Exception as e:  # reported below: the test must see any failure
            errors.append(repr(e))

    threads = [threading.Thread(target=go, args=(p,)) for p in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses, errors


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "orange").save(buf, "PNG")
    return buf.getvalue()


def _numbers(walk_id) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Observation.number).where(Observation.walk_id == walk_id)
                                   .order_by(Observation.number)))


def test_eight_phones_at_once_get_numbers_one_to_eight(app, walk_ids):
    walk_id, key = walk_ids
    url = f"/w/{walk_id}/record/{key}"

    def post(i, client, token, client_id):
        return lambda: client.post(url, data={"csrf_token": token, "client_id": client_id, "seen": f"Point {i}"})

    statuses, errors = _run([post(i, *phone) for i, phone in enumerate(_phones(app, walk_id, key))])
    assert not errors, errors
    assert statuses == [303] * N, statuses
    assert _numbers(walk_id) == list(range(1, N + 1))


def test_eight_copies_of_one_submission_make_one_observation(app, walk_ids):
    walk_id, key = walk_ids
    url = f"/w/{walk_id}/record/{key}"
    phones = _phones(app, walk_id, key)
    shared_id = phones[0][2]
    photo = _png()

    def post(client, token, _own_id):
        return lambda: client.post(url, content_type="multipart/form-data", data={
            "csrf_token": token, "client_id": shared_id, "seen": "Le même envoi", "rating": "2",
            "photo": [(io.BytesIO(photo), "p.png")], "caption": ["Une photo"]})

    statuses, errors = _run([post(*phone) for phone in phones])
    assert not errors, errors
    assert statuses == [303] * N, statuses
    assert _numbers(walk_id) == [1]
