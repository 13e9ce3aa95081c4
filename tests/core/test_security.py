"""Security headers, strict CSP without inline code, CSRF, translated error pages, health."""
import re

import pytest
from flask import abort

from participation.core.security import CSP

from ..conftest import make_app

PUBLIC_PAGES = ["/", "/c/aix-marseille-provence", "/q/QN01322M", "/p/FRVAX26/poster", "/accessibilite", "/login", "/nope"]
STAFF_PAGES = ["/admin/", "/admin/staff", "/admin/staff/new", "/admin/links", "/admin/links/new"]


def test_strict_security_headers_on_every_page(client, demo):
    for path in PUBLIC_PAGES:
        h = client.get(path).headers
        assert h["Content-Security-Policy"] == CSP
        assert "script-src 'self';" in CSP and "style-src 'self';" in CSP and "frame-ancestors 'none'" in CSP
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "same-origin"


#: A JSON data block is never run (the browser only parses it when a script asks): allowed, with
#: nothing but JSON in it (Jinja's tojson escapes <, > and &, so it cannot close the tag).
DATA_BLOCK = re.compile(r'<script type="application/json" id="[a-z-]+">[^<]*</script>')


def assert_no_inline_code(html: str, path: str):
    html = DATA_BLOCK.sub("", html)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script on {path}: {tag}"
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), f"inline script body on {path}"
    assert "<style" not in html, f"inline <style> on {path}"
    assert not re.search(r'\sstyle="', html), f"style attribute on {path}"
    assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"


def test_no_inline_script_or_style_anywhere(client, auth, demo):
    for path in PUBLIC_PAGES:
        assert_no_inline_code(client.get(path).get_data(as_text=True), path)
    auth.login("admin@amp.demo")
    for path in STAFF_PAGES + ["/admin/contracts/1/referentiel"]:
        assert_no_inline_code(client.get(path).get_data(as_text=True), path)


def test_htmx_is_vendored_and_configured_for_the_csp(client):
    html = client.get("/").get_data(as_text=True)
    assert '/static/vendor/htmx-2.0.11/htmx.min.js' in html
    assert '"includeIndicatorStyles":false' in html and '"allowEval":false' in html and '"selfRequestsOnly":true' in html
    assert client.get("/static/vendor/htmx-2.0.11/htmx.min.js").status_code == 200


def test_staff_htmx_requests_carry_the_csrf_token(client, auth, demo):
    auth.login("admin@amp.demo")
    html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", html)


def test_every_post_needs_a_csrf_token(client, auth, demo):
    auth.login("admin@amp.demo")
    for path in ["/logout", "/admin/links/1/deactivate", "/admin/staff/1/grants", "/admin/contracts/1/referentiel/new"]:
        assert client.post(path, data={}).status_code == 400, path
    # the header form (htmx) is accepted
    token = auth.csrf("/admin/")
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302


@pytest.mark.parametrize(
    "lang,text,direction",
    [("fr", "Page introuvable", "ltr"), ("en", "Page not found", "ltr"), ("ar", "rtl", "rtl")],
)
def test_error_pages_are_translated(client, lang, text, direction):
    resp = client.get(f"/no-such-page?lang={lang}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert f'dir="{direction}"' in html and text in html
    assert "Page not found" not in html or lang == "en"


def _app_with_failing_routes():
    app = make_app("sqlite://")

    @app.get("/boom")
    def boom():
        raise RuntimeError("bug")

    @app.get("/teapot/<int:code>")
    def status(code):
        abort(code)

    return app


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429])
def test_each_error_page_has_its_own_message(code):
    client = _app_with_failing_routes().test_client()
    resp = client.get(f"/teapot/{code}?lang=en")
    assert resp.status_code == code
    assert f"Error code: {code}" in resp.get_data(as_text=True)


def test_unexpected_errors_show_a_translated_500_page_without_details():
    client = _app_with_failing_routes().test_client()
    resp = client.get("/boom?lang=es")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "RuntimeError" not in html and "Traceback" not in html
    assert 'lang="es"' in html and "Error code: 500" not in html


def test_too_large_uploads_get_413(app, client):
    resp = client.post("/login?lang=en", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1), content_type="application/octet-stream")
    assert resp.status_code == 413
    assert "File too large" in resp.get_data(as_text=True)


@pytest.mark.parametrize("lang,title,rtl", [("fr", "Fichier trop lourd", False), ("ar", "الملف كبير جدًا", True)])
def test_the_page_nginx_shows_for_a_too_large_body_is_the_translated_413(client, lang, title, rtl):
    """nginx refuses a body over client_max_body_size before the app sees it; its `error_page 413`
    fetches /errors/too-large (docs/deploy.md) so the resident reads the app's page, in their language."""
    resp = client.get(f"/errors/too-large?lang={lang}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert f'<html lang="{lang}" dir="{"rtl" if rtl else "ltr"}">' in html
    assert "File too large" not in html  # translated, not the English text
    if title:
        assert title in html
    assert "413" in html


def test_healthz_reports_an_unreachable_database():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["database"] == "unreachable"


def test_static_assets_are_versioned_and_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(/static/[^"]+\?v=[0-9a-f]{10})"', html)
    assert len(urls) == 4, urls  # favicon, css, htmx, app.js
    resp = client.get(urls[0])
    assert resp.status_code == 200 and "max-age=31536000" in resp.headers["Cache-Control"]


def test_a_configured_tile_server_is_the_only_origin_added_to_images():
    from participation.core.security import csp_for

    policy = csp_for("https://tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy
    assert policy.replace(" https://tiles.example.org", "") == CSP
    assert csp_for(None) == CSP


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://{s}.tiles.example/{z}/{x}/{y}.png", "tiles/{z}"])
def test_a_tile_url_that_is_not_a_fixed_http_origin_is_refused(url):
    from participation.core.security import csp_for

    with pytest.raises(ValueError):
        csp_for(url)


def test_a_nul_byte_in_a_repeated_field_is_refused_too(client):
    from werkzeug.datastructures import MultiDict

    resp = client.post("/login", data=MultiDict([("caption", "ok"), ("caption", "bad\x00")]))
    assert resp.status_code == 400


def test_whole_numbers_longer_than_any_id_are_not_numbers():
    from participation.core.numbers import MAX_DIGITS, MAX_INT, parse_int

    # every integer column is a PostgreSQL INTEGER: a larger value would fail there (a 500)
    assert parse_int(str(MAX_INT)) == MAX_INT
    assert parse_int(str(MAX_INT + 1)) is None
    assert parse_int("9" * MAX_DIGITS) is None
    assert parse_int("9" * (MAX_DIGITS + 1)) is None
    assert parse_int("9" * 5000) is None
