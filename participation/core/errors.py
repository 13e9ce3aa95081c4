"""Translated error pages. htmx requests get the same page; htmx shows nothing for 4xx by default,
so `static/js/app.js` swaps the error page's message in."""
from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("This page does not exist or has moved. Check the address or go back to the home page.")),
    405: (_l("Not allowed"), _l("This action is not possible on this page.")),
    413: (_l("File too large"), _l("What you sent is too large. Try a smaller file or a lower photo resolution.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side. Nothing you did caused it; please try again in a moment.")),
}


def render_error(code: int, detail=None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        from flask_babel import gettext as _

        return render_error(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code not in MESSAGES:
            return e
        return render_error(e.code)

    @app.errorhandler(Exception)
    def unexpected(e):
        app.logger.exception("Unhandled error")
        from ..extensions import db

        db.session.rollback()
        return render_error(500)
