"""Translated error pages. htmx requests get the same page; htmx shows nothing for 4xx by default,
so `static/js/app.js` swaps the error page's message in.

A database that cannot serve for a while (restarting, unreachable, read-only, full, locked) is
not a bug: the person gets a 503 that says nothing was saved and to try again shortly, with
`Retry-After`, in JSON under the APIs, instead of the generic 500. Nothing half-written can
remain: a request writes in one transaction (one commit per request), and the handler rolls
it back. See docs/resilience.md for the scenarios this was proved against."""
from __future__ import annotations

import sqlite3

from flask import current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("This page does not exist or has moved. Check the address or go back to the home page.")),
    405: (_l("Not allowed"), _l("This action is not possible on this page.")),
    413: (_l("File too large"), _l("What you sent is too large. Try a smaller file or a lower photo resolution.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side. Nothing you did caused it; please try again in a moment.")),
    503: (_l("Service briefly unavailable"),
          _l("The service is briefly unavailable. Nothing was saved. Please try again in a minute.")),
}

#: Seconds a client is asked to wait after a 503 (a PostgreSQL restart takes a few seconds; a
#: full disk needs a person, and clients asking again every half-minute cost nothing).
RETRY_AFTER = 30

#: PostgreSQL SQLSTATE classes that say "the server cannot serve now", not "this request is
#: wrong": 08 connection, 40 transaction rollback (serialization, deadlock), 53 insufficient
#: resources (disk full, out of memory, too many connections), 57 operator intervention
#: (shutdown, restart, statement cancelled), 58 system error (I/O).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
#: 25006: a write in a read-only transaction (a standby, or `default_transaction_read_only`);
#: 55P03: a lock not available in time.
TRANSIENT_SQLSTATES = frozenset({"25006", "55P03"})
#: SQLite's result codes of the same kind (the extended ones start with these names).
TRANSIENT_SQLITE = ("SQLITE_READONLY", "SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR",
                    "SQLITE_CANTOPEN")
#: The same by message, for a Python whose sqlite3 errors carry no result code name.
TRANSIENT_SQLITE_MESSAGES = ("readonly database", "database or disk is full", "database is locked",
                             "database table is locked", "disk i/o error", "unable to open database file")


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` means the database cannot serve for now (503), rather than a bug (500).

    "no such table" is an sqlite3.OperationalError too, and a schema out of step is a bug: hence
    the codes and messages rather than the exception classes alone."""
    seen = 0
    while exc is not None and seen < 5:  # a service may re-raise a database error as its cause
        if isinstance(exc, sa_exc.TimeoutError):  # no connection free in the pool in time
            return True
        if isinstance(exc, sa_exc.DBAPIError):
            if exc.connection_invalidated:  # SQLAlchemy saw a disconnect
                return True
            if _transient_dbapi_error(exc.orig):
                return True
        exc, seen = exc.__cause__, seen + 1
    return False


def _transient_dbapi_error(orig) -> bool:
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
    if type(orig).__module__.startswith("psycopg"):
        # No SQLSTATE: psycopg never reached the server (refused, reset, closed mid-query).
        import psycopg

        return isinstance(orig, psycopg.OperationalError)
    if isinstance(orig, sqlite3.DatabaseError):
        name = getattr(orig, "sqlite_errorname", "") or ""
        if name.startswith(TRANSIENT_SQLITE):
            return True
        text = str(orig).lower()
        return any(m in text for m in TRANSIENT_SQLITE_MESSAGES)
    return False


def render_error(code: int, detail=None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def is_api_request() -> bool:
    """The JSON APIs: the evaluators' /api/v1 and the field outbox's /field/api."""
    return request.path.startswith(("/api/", "/field/api/"))


def unavailable_response(exc: BaseException):
    """The 503 for `exc` when it means the database cannot serve (rolled back, logged once),
    else None. Blueprints with a catch-all handler of their own call this first."""
    if not database_unavailable(exc):
        return None
    from ..extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone: discard it without a round trip
        try:
            db.session.invalidate()
        except Exception:  # noqa: BLE001
            current_app.logger.debug("invalidating the session failed", exc_info=True)
    # One line, no traceback: an operational state, not a bug, and it lasts for many requests.
    first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1]
    current_app.logger.error("Database unavailable, answered 503 to %s %s: %s: %s", request.method, request.path,
                             type(getattr(exc, "orig", None) or exc).__name__, first_line[0] if first_line else "")
    title, message = MESSAGES[503]
    if is_api_request():
        if request.path.startswith("/field/api/"):
            # The outbox's shape (field/api_views.py): a status word and a message it shows.
            response = jsonify({"status": "unavailable", "message": str(message)})
        else:
            # The governance API's shape (governance/api_views.py `error`).
            response = jsonify({"error": str(message), "status": 503})
    else:
        response = current_app.make_response((_unavailable_page(title, message), 503))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unavailable_page(title, message) -> str:
    # The page must not need the database it reports on: base.html asks for the current user
    # (a query) when it is not loaded yet, so the page is drawn for an anonymous visitor.
    g._login_user = current_app.login_manager.anonymous_user()
    try:
        return render_template("errors/unavailable.html", code=503, title=title, message=message,
                               retry_after=RETRY_AFTER)
    except Exception:  # noqa: BLE001 - a template that needs the database after all: still say it
        current_app.logger.exception("The 503 page could not be drawn")
        return (f'<!doctype html><meta charset="utf-8"><title>{escape(title)}</title>'
                f'<h1>{escape(title)}</h1><p class="error-message">{escape(message)}</p>')


def _release_session(exc) -> None:
    """End the request's transaction before Flask-SQLAlchemy's own teardown does (teardowns run
    last-registered first). When PostgreSQL goes away after the answer is made (a restart, a
    crash), that final ROLLBACK fails; raised from the teardown, the error would replace the
    finished answer by the server's bare 500. The connection is dead either way: drop it
    without a round trip (the pool opens a new one), and the answer stands."""
    from ..extensions import db

    try:
        db.session.rollback()
    except Exception as e:  # noqa: BLE001 - whatever the driver says, the connection is unusable
        current_app.logger.warning("Database connection lost at the end of a request (%s): discarded",
                                   type(getattr(e, "orig", None) or e).__name__)
        try:
            db.session.invalidate()
        except Exception:  # noqa: BLE001
            current_app.logger.debug("invalidating the session failed", exc_info=True)


def init_app(app) -> None:
    app.teardown_appcontext(_release_session)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        from flask_babel import gettext as _

        return render_error(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code == 500:
            # An exception outside the view (an after-request hook, an error handler) reaches
            # here wrapped in an InternalServerError.
            unavailable = unavailable_response(getattr(e, "original_exception", None))
            if unavailable is not None:
                return unavailable
        if e.code not in MESSAGES:
            return e
        return render_error(e.code)

    @app.errorhandler(Exception)
    def unexpected(e):
        unavailable = unavailable_response(e)
        if unavailable is not None:
            return unavailable
        app.logger.exception("Unhandled error")
        from ..extensions import db

        db.session.rollback()
        return render_error(500)
