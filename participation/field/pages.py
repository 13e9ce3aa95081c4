"""Field-mode pages: the tablet's home (outbox, forms to take offline), the page shown offline,
the service worker and the web app manifest.

The service worker is rendered from `templates/field/sw.js`: its cache names carry a hash of
the files it keeps (the shell), so a deploy that changes one of them makes new caches, and the
worker deletes the old ones when it takes over."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.permissions import public, staff_required
from ..core.users import utcnow
from . import api_views, registry, services
from .views import bp

#: Static files kept by the service worker: what every page and every form taken offline needs.
SHELL_SUFFIXES = (".css", ".js", ".svg", ".png")
#: The app's colours (static/css/app.css: --accent, --paper), for the manifest and <meta>.
THEME_COLOUR = "#0b4f9c"
BACKGROUND_COLOUR = "#ffffff"
#: The service worker's own source and the page it shows offline: part of its version too.
SW_TEMPLATES = ("field/sw.js", "field/offline.html", "field/_outbox_status.html", "base.html")


def _shell_files(app) -> list[str]:
    root = Path(app.static_folder)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.suffix in SHELL_SUFFIXES)


def _shell_version(app) -> str:
    """A hash of the shell's contents, computed once per process (a deploy restarts it)."""
    cached = app.extensions.get("field_shell_version")
    if cached:
        return cached
    digest = hashlib.sha256()
    root = Path(app.static_folder)
    for name in _shell_files(app):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    for name in SW_TEMPLATES:
        source, _filename, _uptodate = app.jinja_env.loader.get_source(app.jinja_env, name)
        digest.update(name.encode() + b"\0" + source.encode())
    version = digest.hexdigest()[:16]
    app.extensions["field_shell_version"] = version
    return version


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and (current_user.is_superadmin or current_user.grants))


@bp.app_template_global("outbox_form_version")
def outbox_form_version(kind: str) -> int:
    """The current version of an offline form (for `outbox_attrs`)."""
    adapter = registry.get(kind)
    return adapter.form_version if adapter else 1


@bp.app_template_global("field_client_config")
def field_client_config() -> dict | None:
    """What outbox.js needs on every staff page (base.html puts it in a JSON script tag)."""
    if not _is_staff():
        return None
    try:
        ends = api_views.shift_ends_at()
    except SQLAlchemyError:  # an error page after a failed transaction still renders
        ends = None
    return {
        "user_id": current_user.id,
        # When this page was made (server clock): outbox.js lets a newer page, never a copy kept
        # offline earlier, say which account uses the tablet.
        "rendered_at": utcnow().isoformat(timespec="milliseconds") + "Z",
        "shift_ends_at": ends.isoformat() + "Z" if ends else None,
        "photo_max_side": services.DEVICE_PHOTO_SIDE,
        "locale": current_locale(),
        "sw": url_for("field.service_worker"),
        "home": url_for("field.home"),
        "after_logout": url_for("core.home"),
        "login": url_for("accounts.login", next=url_for("field.home")),
        "api": {
            "config": url_for("field.api_config"),
            # + "<client_id>/<slot>"
            "photos": url_for("field.api_photo", client_id="x", slot=0).removesuffix("x/0"),
            "submissions": url_for("field.api_submit"),
        },
    }


@bp.get("/field/")
@staff_required
def home():
    groups = []
    for adapter in registry.adapters():
        forms = adapter.offline_forms(current_user)
        if forms:
            groups.append((str(adapter.label), forms))
    groups.sort(key=lambda g: g[0].casefold())
    return render("field/home.html", groups=groups, shift_ends_at=api_views.shift_ends_at())


@bp.get("/field/offline")
@public
def offline():
    """Shown by the service worker for a page that is not on the device, or after the shift."""
    return render("field/offline.html", shift_over=request.args.get("reason") == "shift")


@bp.get("/sw.js")
@public
def service_worker():
    app = current_app._get_current_object()
    shell = [url_for("static", filename=name) for name in _shell_files(app)]
    shell += [url_for("field.offline"), url_for("field.offline", reason="shift"), url_for("field.manifest")]
    body = render_template(
        "field/sw.js", version=_shell_version(app), shell=shell, home_url=url_for("field.home"),
        offline_url=url_for("field.offline"), shift_over_url=url_for("field.offline", reason="shift"),
        api_prefix="/field/api/", static_prefix=app.static_url_path + "/")
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    # Browsers check for a new worker on navigations; a cached copy would hide a deploy.
    response.headers["Cache-Control"] = "no-cache"
    # Served from the root so that it may control every page (forms live under /admin/, /t/...).
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
@public
def manifest():
    locale = current_locale()
    icon = lambda name: url_for("static", filename=f"field/{name}")  # noqa: E731
    data = {
        "id": url_for("field.home"),
        "name": _("Participation: field mode"),
        "short_name": _("Field mode"),
        "description": _("Collect answers, observations and attendance without a connection; send them later."),
        "start_url": url_for("field.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "lang": locale,
        "dir": text_direction(locale),
        "icons": [
            {"src": icon("icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": icon("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": icon("icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = current_app.response_class(current_app.json.dumps(data), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
