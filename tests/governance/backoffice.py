"""What the référentiel, verbatim and token tests share: the demo's staff, a logged-in client
per staff member (back office in English), posting a form with its CSRF token, reading a page."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db

from ..conftest import Auth, csrf_from

AMP_ADMIN = "admin@amp.demo"
EVA = "evaluation@amp.demo"
FAC = "animatrice@amp.demo"
MED = "mediateur@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"


@pytest.fixture
def staff(app, demo):
    def login(email):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return login


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})


def contract(slug="aix-marseille-provence") -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=slug))
