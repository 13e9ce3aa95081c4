"""Staff login: hashing, errors, rate limits, server-side sessions that can be ended."""
import pytest
import sqlalchemy as sa

from config import DEV_SECRET, ProductionConfig
from participation import create_app
from participation.core.users import StaffSession, User
from participation.extensions import db

from ..conftest import Auth, csrf_from


def _user(email):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).filter_by(email=email))


def test_passwords_are_stored_as_salted_scrypt_hashes(app, demo):
    user = _user("admin@amp.demo")
    assert user.password_hash.startswith("scrypt:")
    assert demo.DEMO_PASSWORD not in user.password_hash
    assert app.config["PASSWORD_HASH_METHOD"].startswith("scrypt")


def test_production_hashing_uses_the_full_scrypt_cost():
    from config import Config

    assert Config.PASSWORD_HASH_METHOD == "scrypt"  # werkzeug's default n=32768


def test_login_opens_the_back_office(client, auth, demo):
    resp = auth.login("admin@amp.demo")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/")
    assert "Amina Benali" in client.get("/admin/").get_data(as_text=True)


def test_login_is_case_insensitive_on_the_email(client, auth, demo):
    assert auth.login("Admin@AMP.demo").status_code == 302


@pytest.mark.parametrize("email,password", [("admin@amp.demo", "wrong-password"), ("nobody@amp.demo", "whatever-pass")])
def test_wrong_credentials_give_one_clear_message(client, auth, demo, email, password):
    resp = client.post("/login?lang=en", data={"email": email, "password": password, "csrf_token": auth.csrf()})
    assert resp.status_code == 422
    assert "Wrong email or password." in resp.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # still logged out


def test_login_without_csrf_token_is_refused(client, demo):
    resp = client.post("/login", data={"email": "admin@amp.demo", "password": demo.DEMO_PASSWORD})
    assert resp.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_login_is_rate_limited(client, auth, demo):
    token = auth.csrf()
    statuses = [
        client.post("/login", data={"email": "admin@amp.demo", "password": "nope-nope", "csrf_token": token}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]
    page = client.post("/login?lang=en", data={"email": "x@y.fr", "password": "x", "csrf_token": token})
    assert "Too many attempts" in page.get_data(as_text=True)


def test_next_parameter_cannot_send_to_another_site(client, auth, demo):
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        resp = client.post(
            f"/login?next={target}", data={"email": "admin@amp.demo", "password": demo.DEMO_PASSWORD, "csrf_token": auth.csrf()}
        )
        assert resp.headers["Location"].endswith("/admin/"), target
        auth.logout()
    resp = client.post(
        "/login?next=/admin/links", data={"email": "admin@amp.demo", "password": demo.DEMO_PASSWORD, "csrf_token": auth.csrf()}
    )
    assert resp.headers["Location"] == "/admin/links"


def test_logout_ends_the_session_on_the_server(app, client, auth, demo):
    auth.login("admin@amp.demo")
    stolen = client.get_cookie("session").value  # e.g. copied from a shared tablet
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin/").status_code == 302  # sent to the login page
    assert db.session.scalar(sa.select(sa.func.count()).where(StaffSession.revoked_at.is_(None))) == 0


def test_disabling_an_account_ends_its_sessions(app, client, auth, demo):
    auth.login("mediateur@amp.demo")
    assert client.get("/admin/").status_code == 200
    admin = Auth(app.test_client())
    admin.login("admin@amp.demo")
    mediator = _user("mediateur@amp.demo")
    resp = admin.post(f"/admin/staff/{mediator.id}/enabled", form_page=f"/admin/staff/{mediator.id}")
    assert resp.status_code == 302
    assert _user("mediateur@amp.demo").is_enabled is False
    assert client.get("/admin/").status_code == 302
    again = client.post("/login", data={"email": "mediateur@amp.demo", "password": demo.DEMO_PASSWORD, "csrf_token": auth.csrf()})
    assert again.status_code == 422


def test_session_cookie_flags(app, client, auth, demo):
    resp = auth.login("admin@amp.demo")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", DEV_SECRET)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "short")
    with pytest.raises(RuntimeError):
        create_app(ProductionConfig)


def test_an_account_whose_roles_were_all_removed_can_still_log_out(client, auth, demo):
    from participation.core.users import RoleGrant

    user = _user("comite@amp.demo")
    auth.login("comite@amp.demo")
    db.session.execute(sa.delete(RoleGrant).where(RoleGrant.user_id == user.id))
    db.session.commit()
    assert client.get("/admin/").status_code == 403
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_logging_out_does_not_use_up_the_login_budget(client, auth, demo):
    for _ in range(6):
        assert auth.login("admin@amp.demo").status_code == 302
        assert auth.logout().status_code == 302


def _change(client, current, new, confirm=None):
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    return client.post(
        "/account/password?lang=en",
        data={"current": current, "new": new, "confirm": confirm or new, "csrf_token": token},
    )


def test_changing_the_password_ends_the_other_sessions(app, client, auth, demo):
    other = Auth(app.test_client())
    other.login("mediateur@amp.demo")  # e.g. the shared tablet
    auth.login("mediateur@amp.demo")
    resp = _change(client, demo.DEMO_PASSWORD, "a brand new long password")
    assert resp.status_code == 302
    assert client.get("/admin/").status_code == 200  # this session stays open
    assert other.client.get("/admin/").status_code == 302  # the other one has ended
    assert _user("mediateur@amp.demo").check_password("a brand new long password")


@pytest.mark.parametrize(
    "current,new,confirm,message",
    [
        ("wrong-current-pass", "a brand new long password", None, "This is not your current password."),
        (None, "short", None, "Use between 12 and 200 characters."),
        (None, "a brand new long password", "another long password", "The two new passwords are different."),
    ],
)
def test_a_refused_password_change_changes_nothing(client, auth, demo, current, new, confirm, message):
    auth.login("mediateur@amp.demo")
    before = _user("mediateur@amp.demo").password_hash
    resp = _change(client, current or demo.DEMO_PASSWORD, new, confirm)
    assert resp.status_code == 422
    assert message.lower() in resp.get_data(as_text=True).lower()
    assert _user("mediateur@amp.demo").password_hash == before


def test_a_session_ends_on_the_server_after_one_shift(app, client, auth, demo):
    from datetime import timedelta

    auth.login("mediateur@amp.demo")
    assert client.get("/admin/").status_code == 200
    hours = app.config["STAFF_SESSION_HOURS"]
    db.session.execute(sa.update(StaffSession).values(created_at=StaffSession.created_at - timedelta(hours=hours, minutes=1)))
    db.session.commit()
    assert client.get("/admin/").status_code == 302
