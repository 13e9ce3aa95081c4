"""Field-mode pages: the tablet's home (the forms this account may take offline, the end of the
shift, a page that explains itself without JavaScript), the offline page, the service worker
(headers, what it keeps, a version that follows the shell's contents), the manifest, what
base.html gives staff (and only staff), the logout that clears the device, and the walks' staff
form marked for the outbox while the participants' form is not."""
from __future__ import annotations

import html
import io
import json
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Neighbourhood
from participation.core.users import StaffSession
from participation.extensions import db
from participation.field import pages
from participation.walks import services as walks
from participation.walks.field import FORM_VERSION
from participation.walks.models import Walk, WalkStatus

from .conftest import MEDIATOR

FACILITATOR = "animatrice@amp.demo"


def _walk(qpv: str, title: str, status: WalkStatus | None = None) -> Walk:
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
    walk = walks.create_walk(hood, title, date.today())
    if status is not None:
        walk.status = status
    db.session.commit()
    return walk


@pytest.fixture
def own_walk(app, demo) -> Walk:
    return _walk("QN01322M", "Marche du terrain")  # Frais Vallon: the mediator's neighbourhood


def _text(resp) -> str:
    return resp.get_data(as_text=True)


# --- the field-mode page ---------------------------------------------------------------------


def test_the_field_page_needs_a_staff_login(client, demo):
    resp = client.get("/field/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_field_page_lists_the_forms_this_account_may_take_offline(client, auth, own_walk):
    elsewhere = _walk("QN01101M", "Marche de Narbonne")
    done = _walk("QN01322M", "Marche publiée", WalkStatus.published)
    auth.login(MEDIATOR)
    body = _text(client.get("/field/?lang=en"))
    assert "<h3>Walk observations</h3>" in body
    assert f'data-offline-form="/admin/walks/{own_walk.id}/record"' in body
    assert f'href="/admin/walks/{own_walk.id}/record"' in body
    assert "Marche du terrain" in body
    # Outside the mediator's scope, or closed: not offered.
    assert f"/admin/walks/{elsewhere.id}/record" not in body
    assert f"/admin/walks/{done.id}/record" not in body


def test_each_form_has_a_take_offline_toggle_named_after_it(client, auth, own_walk):
    auth.login(MEDIATOR)
    body = _text(client.get("/field/?lang=en"))
    item = re.search(rf'<li class="field-form" data-offline-form="/admin/walks/{own_walk.id}/record">.*?</li>', body, re.S)
    assert item, body
    link_id = re.search(r'<a href="[^"]+" id="([^"]+)"', item.group(0)).group(1)
    toggle = re.search(r"<button[^>]*data-take-offline[^>]*>", item.group(0)).group(0)
    assert 'aria-pressed="false"' in toggle and f'aria-describedby="{link_id}"' in toggle
    # Shown by JavaScript only: without it there is nothing to keep the form with.
    assert " hidden" in toggle


def test_without_javascript_the_field_page_says_why_and_still_links_the_forms(client, auth, own_walk):
    auth.login(MEDIATOR)
    body = _text(client.get("/field/?lang=en"))
    noscript = re.search(r"<noscript>(.*?)</noscript>", body, re.S).group(1)
    assert "needs JavaScript" in noscript
    # The outbox panel is drawn from the device's storage: hidden until the script shows it.
    assert re.search(r'<section class="field-outbox"[^>]*data-field-outbox hidden>', body)
    assert 'href="/field/import"' in body
    assert f'href="/admin/walks/{own_walk.id}/record"' in body


def test_the_field_page_says_when_the_shift_ends(client, auth, demo):
    auth.login(MEDIATOR)
    started = db.session.scalar(sa.select(StaffSession.created_at).order_by(StaffSession.id.desc()))
    ends = started + timedelta(hours=client.application.config["STAFF_SESSION_HOURS"])
    body = _text(client.get("/field/?lang=en"))
    shift = re.search(r'<p class="field-shift">(.*?)</p>', body, re.S).group(1)
    # Shown in the app's time zone (Europe/Paris): one or two hours after UTC.
    local = [(ends + timedelta(hours=h)).strftime("%-I:%M") for h in (1, 2)]
    assert any(t in shift for t in local), (shift, local)


def test_an_account_without_offline_forms_is_told_so(client, auth, demo):
    auth.login("comite@amp.demo")  # committee member: records nothing in the field
    body = _text(client.get("/field/?lang=en"))
    assert "No form can be taken offline" in body


# --- the offline page ------------------------------------------------------------------------


def test_the_offline_page_is_public_and_points_to_the_field_page(client, demo):
    resp = client.get("/field/offline?lang=en")
    body = _text(resp)
    assert resp.status_code == 200
    assert "<h1 id=\"offline-title\">No connection</h1>" in body and 'href="/field/"' in body


def test_after_the_shift_the_offline_page_asks_to_log_in_again(client, demo):
    body = _text(client.get("/field/offline?reason=shift&lang=en"))
    assert "The shift is over" in body and 'href="/login?next=/field/"' in body


# --- the service worker ------------------------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_uncached(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["Cache-Control"] == "no-cache"


def _shell(body: str) -> list[str]:
    return json.loads(re.search(r"var SHELL_URLS = (\[.*?\]);", body).group(1))


def test_the_service_worker_keeps_the_shell_and_never_the_api(client):
    body = _text(client.get("/sw.js"))
    shell = _shell(body)
    for name in ("css/app.css", "css/field.css", "js/outbox.js", "js/app.js", "vendor/htmx-2.0.11/htmx.min.js",
                 "field/icon-192.png", "js/walk-record.js"):
        assert any(u.startswith(f"/static/{name}?v=") for u in shell), name
    assert {"/field/offline", "/field/offline?reason=shift", "/manifest.webmanifest"} <= set(shell)
    assert not any(u.startswith("/field/api/") for u in shell)
    assert re.search(r'var VERSION = "[0-9a-f]{16}";', body)


def test_the_service_worker_version_follows_the_shell_contents(app, tmp_path):
    """A deploy that changes a shell file gives new cache names (the worker deletes the old)."""
    original_folder = app.static_folder
    before = pages._shell_version(app)
    copy = tmp_path / "static"
    shutil.copytree(original_folder, copy)
    try:
        app.static_folder = str(copy)
        app.extensions.pop("field_shell_version", None)
        assert pages._shell_version(app) == before  # same contents, same version
        (copy / "css" / "app.css").write_text(Path(copy / "css" / "app.css").read_text() + "\n/* new */\n")
        app.extensions.pop("field_shell_version", None)
        assert pages._shell_version(app) != before
    finally:
        app.static_folder = original_folder
        app.extensions["field_shell_version"] = before


# --- the manifest ------------------------------------------------------------------------------


def test_the_manifest_makes_the_field_page_an_installable_app(client):
    resp = client.get("/manifest.webmanifest?lang=en")
    assert resp.status_code == 200 and resp.mimetype == "application/manifest+json"
    data = json.loads(_text(resp))
    assert data["start_url"] == "/field/" and data["scope"] == "/" and data["display"] == "standalone"
    assert data["lang"] == "en" and data["dir"] == "ltr"
    assert data["theme_color"] and data["background_color"] and data["name"] and data["short_name"]
    purposes = {(i["sizes"], i["purpose"]) for i in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes


def test_the_manifest_follows_the_interface_language(client):
    data = json.loads(_text(client.get("/manifest.webmanifest?lang=ar")))
    assert data["lang"] == "ar" and data["dir"] == "rtl"


def test_the_manifest_icons_are_png_files_of_their_size(client):
    for icon in json.loads(_text(client.get("/manifest.webmanifest")))["icons"]:
        resp = client.get(icon["src"])
        assert resp.status_code == 200
        image = Image.open(io.BytesIO(resp.data))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]


# --- base.html: field mode for staff only ----------------------------------------------------------


def _field_config(body: str) -> dict:
    tag = re.search(r'<script type="application/json" id="field-config">(.*?)</script>', body, re.S)
    assert tag, "no field-config"
    return json.loads(html.unescape(tag.group(1)) if "&#" in tag.group(1) else tag.group(1))


def test_staff_pages_carry_the_outbox_its_texts_and_the_manifest(client, auth, demo):
    auth.login(MEDIATOR)
    body = _text(client.get("/admin/?lang=en"))
    assert 'rel="manifest" href="/manifest.webmanifest"' in body
    assert re.search(r'<script src="/static/js/outbox.js\?v=[0-9a-f]+" defer>', body)
    assert "data-outbox-badge" in body and 'aria-live="polite"' in body
    assert "<form method=\"post\" action=\"/logout\" data-logout>" in body
    assert "data-logout-warning" in body
    config = _field_config(body)
    assert config["user_id"] and config["photo_max_side"] == 1600 and config["locale"] == "en"
    assert config["shift_ends_at"].endswith("Z")
    assert config["strings"]["count"] == "Waiting to be sent: {count}"
    assert config["api"]["submissions"] == "/field/api/submissions"


def test_the_photo_address_in_the_config_is_the_api_route(client, auth, demo, app):
    auth.login(MEDIATOR)
    config = _field_config(_text(client.get("/admin/")))
    with app.test_request_context():
        from flask import url_for

        assert config["api"]["photos"] + "abcdefgh-1/3" == url_for("field.api_photo", client_id="abcdefgh-1", slot=3)


def test_the_outbox_texts_are_translated(client, auth, demo):
    auth.login(MEDIATOR)
    french = _field_config(_text(client.get("/admin/?lang=fr")))["strings"]
    english = _field_config(_text(client.get("/admin/?lang=en")))["strings"]
    assert french.keys() == english.keys()
    assert all("{count}" in s["count"] for s in (french, english))


def test_visitors_get_no_outbox_and_no_manifest(client, demo):
    body = _text(client.get("/"))
    assert "outbox.js" not in body and 'rel="manifest"' not in body and "field-config" not in body
    assert '<meta name="theme-color"' in body


def test_an_account_without_roles_gets_no_outbox(client, auth, demo):
    from participation.core.users import User

    nobody = User(email="nobody@amp.test", name="Nobody")
    nobody.set_password("a-long-test-password")
    db.session.add(nobody)
    db.session.commit()
    auth.login("nobody@amp.test", "a-long-test-password")
    body = _text(client.get("/account/password"))
    assert "outbox.js" not in body and "field-config" not in body


def test_logging_out_through_the_outbox_clears_the_device(client, auth, demo):
    auth.login(MEDIATOR)
    resp = client.post("/logout", data={"csrf_token": auth.csrf("/admin/"), "wipe": "1"})
    assert resp.status_code == 302
    assert resp.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_a_logout_posted_before_the_outbox_checked_wipes_nothing(client, auth, demo):
    """The form sent before outbox.js ran (slow page, no JS): unsent entries must survive."""
    auth.login(MEDIATOR)
    resp = auth.logout()
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    assert "Clear-Site-Data" not in resp.headers


def test_a_refused_logout_clears_nothing(client, auth, demo):
    auth.login(MEDIATOR)
    resp = client.post("/logout", data={"csrf_token": "wrong"})
    assert "Clear-Site-Data" not in resp.headers


# --- forms marked for the outbox -------------------------------------------------------------------


def _form_tag(body: str) -> str:
    return re.search(r'<form method="post"[^>]*id="record-form"[^>]*>', body, re.S).group(0)


def test_the_staff_recording_form_is_marked_for_the_outbox(client, auth, own_walk):
    auth.login(MEDIATOR)
    body = _text(client.get(f"/admin/walks/{own_walk.id}/record?lang=en"))
    form = _form_tag(body)
    assert 'data-outbox="walk_observation"' in form
    assert f'data-outbox-version="{FORM_VERSION}"' in form
    target = re.search(r"data-outbox-target='([^']*)'", form).group(1)
    assert json.loads(target) == {"walk_id": own_walk.id}
    assert 'data-outbox-title="Marche du terrain"' in form
    assert "data-outbox-status" in body and 'href="/field/"' in body


def test_the_participants_recording_form_is_not(client, own_walk):
    body = _text(client.get(f"/w/{own_walk.id}/record/{own_walk.record_key}?lang=en"))
    assert "data-outbox" not in _form_tag(body) and "data-outbox-status" not in body


def test_outbox_attributes_escape_their_values(app):
    with app.test_request_context():
        template = app.jinja_env.from_string(
            '{% from "_macros/field.html" import outbox_attrs %}<form {{ outbox_attrs(k, v, t, title) }}>')
        out = template.render(k="walk_observation", v=2, t={"walk_id": 3, "name": "l'école <b>"},
                              title='Marche "du soir" <script>')
    assert "<script>" not in out and "<b>" not in out
    target = re.search(r"data-outbox-target='([^']*)'", out).group(1)
    assert json.loads(html.unescape(target)) == {"walk_id": 3, "name": "l'école <b>"}
    title = re.search(r'data-outbox-title="([^"]*)"', out).group(1)
    assert html.unescape(title) == 'Marche "du soir" <script>'
