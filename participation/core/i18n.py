"""Interface language: `?lang=` first, then the cookie, then Accept-Language, then French."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, g, request
from flask_babel import get_locale

COOKIE_MAX_AGE = 60 * 60 * 24 * 365


def shipped() -> dict[str, str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = shipped()
    asked = (request.args.get("lang") or "").lower()
    if asked in languages:
        g.lang_from_query = asked
        return asked
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE"], "")
    if cookie in languages:
        return cookie
    best = request.accept_languages.best_match(list(languages))
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale())


def text_direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current_locale()) in current_app.config["RTL_LANGUAGES"] else "ltr"


def url_with_lang(code: str) -> str:
    """The current page in another language (keeps the other query parameters)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def _remember_language(response):
    chosen = g.get("lang_from_query")
    if chosen and request.cookies.get(current_app.config["LANGUAGE_COOKIE"]) != chosen:
        response.set_cookie(
            current_app.config["LANGUAGE_COOKIE"],
            chosen,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def init_app(app) -> None:
    app.after_request(_remember_language)

    @app.context_processor
    def inject_language():
        locale = current_locale()
        return {
            "current_locale": locale,
            "text_dir": text_direction(locale),
            "languages": shipped(),
            "url_with_lang": url_with_lang,
        }

