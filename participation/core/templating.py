"""Template globals: content translations, permission checks, language names."""
from flask import current_app
from flask_login import current_user

from . import permissions
from .content_i18n import translate
from .i18n import current_locale, text_direction


def tr(obj, field: str):
    return translate(obj, field, current_locale())


def language_name(code: str) -> str:
    from babel import Locale

    names = current_app.config["LANGUAGES"]
    if code in names:
        return names[code]
    try:
        return Locale.parse(code).get_display_name(code) or code
    except Exception:
        return code


def init_app(app) -> None:
    app.jinja_env.globals.update(
        tr=tr,
        language_name=language_name,
        text_direction=text_direction,
        perm=permissions,
    )
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def inject_user():
        return {"user": current_user}
