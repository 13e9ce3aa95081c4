"""The fuzz's own instruments can fail: the write recorder sees a committed write (and only a
committed one), the refusal check tells a form sent back with errors from a page, and the form
harvest finds the real fields of a real form."""
from __future__ import annotations

import sqlalchemy as sa

from participation.core.users import User
from participation.extensions import db

from .harness import WriteRecorder, harvest, is_refusal, login, parse_forms


def _user(email):
    user = User(email=email, name="R")
    user.set_password("a-long-test-password")
    return user


def test_the_recorder_sees_committed_writes_only(app):
    with WriteRecorder(db.engine) as writes:
        db.session.add(_user("recorded@example.test"))
        db.session.commit()
        assert writes.take() == ["users"]
        db.session.execute(sa.update(User).values(name="S"))
        db.session.rollback()
        assert writes.take() == []
        db.session.execute(sa.delete(User))
        db.session.commit()
        assert writes.take() == ["users"]
    db.session.add(_user("unrecorded@example.test"))
    db.session.commit()
    assert writes.take() == []  # listeners removed on exit


def test_the_recorder_sees_a_request_that_writes(app, client):
    """A real request: a login writes its session row, through the app's own sessions."""
    from ..conftest import Auth

    user = User(email="writer@example.test", name="W")
    user.set_password("a-long-test-password")
    db.session.add(user)
    db.session.commit()
    with WriteRecorder(db.engine) as writes:
        resp = Auth(client).login("writer@example.test", "a-long-test-password")
        assert resp.status_code == 302
        assert writes.take(), "a login writes its staff session"
        assert client.get("/login").status_code in (200, 302)
        assert writes.take() == []


class _Resp:
    def __init__(self, status, body="", mimetype="text/html"):
        self.status_code, self._body, self.mimetype = status, body, mimetype

    def get_data(self, as_text=False):
        return self._body


def test_a_refusal_is_a_4xx_or_a_form_with_errors():
    assert is_refusal(_Resp(422)) and is_refusal(_Resp(404))
    assert is_refusal(_Resp(200, '<input aria-invalid="true" name="x">'))
    assert is_refusal(_Resp(200, '<div class="error-summary" role="alert">'))
    assert not is_refusal(_Resp(200, "<p>Merci</p>"))
    assert not is_refusal(_Resp(302))
    assert not is_refusal(_Resp(200, '<div class="flash flash-error" role="alert">Imprimez</div>'))


def test_forms_are_parsed_with_their_fields_and_options():
    html = """<form method="post" action="/x?lang=fr"><input type="hidden" name="csrf_token" value="t">
      <input name="title" required><select name="kind"><option value="a">A</option><option value="b">B</option>
      </select><textarea name="body"></textarea><input type="file" name="photo"><button name="go" value="1">Go</button>
      </form><form><input name="q"></form>"""
    first, second = parse_forms(html, "/page")
    assert first.action == "/x" and first.method == "POST"
    assert set(first.fields) == {"title", "kind", "body", "photo", "go"}  # never the CSRF token
    assert first.fields["kind"].values == ["a", "b"] and first.fields["title"].required
    assert first.fields["photo"].kind == "file"
    assert second.action == "/page" and second.method == "GET"


def test_the_harvest_finds_the_real_form_of_a_route(app, world):
    client, _ = login(app, "anon")
    fields = harvest(client, "anon", f"/b/{world['ideas_process']}/propose", world)
    assert {"title", "description", "photos"} <= set(fields)
    client, _ = login(app, "fac")
    # A POST-only route: its form is on another page (the process's admin page).
    fields = harvest(client, "fac", f"/admin/budgets/{world['ideas_process']}/settings", world)
    assert "title" in fields, sorted(fields)
