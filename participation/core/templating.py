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


def _static_versions(app) -> dict[str, str]:
    """Content hashes of static files: URLs change when a file does, so browsers may cache
    them for a year (cheap phones on prepaid data download the CSS and htmx once)."""
    import hashlib
    from pathlib import Path

    root = Path(app.static_folder)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in root.rglob("*")
        if p.is_file()
    }


def init_app(app) -> None:
    versions = _static_versions(app)
    app.config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", 31536000)

    @app.url_defaults
    def _version_static(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = versions.get(values["filename"])
            if version:
                values["v"] = version

    app.jinja_env.globals.update(
        tr=tr,
        language_name=language_name,
        text_direction=text_direction,
        # A function, not the `current_locale` context variable: imported macros see globals only.
        page_locale=current_locale,
        perm=permissions,
    )
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def inject_user():
        return {"user": current_user}
