"""Interface language: ?lang=, then cookie, then Accept-Language, then French."""
import re

import pytest


def html_lang(resp):
    return re.search(r'<html lang="([^"]+)" dir="([^"]+)">', resp.get_data(as_text=True)).groups()


def test_french_by_default(client):
    assert html_lang(client.get("/")) == ("fr", "ltr")


def test_accept_language_is_used_when_nothing_else_says(client):
    assert html_lang(client.get("/", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})) == ("tr", "ltr")
    assert html_lang(client.get("/", headers={"Accept-Language": "de-DE"})) == ("fr", "ltr")


def test_query_parameter_wins_and_is_remembered_in_a_cookie(client):
    resp = client.get("/?lang=ar", headers={"Accept-Language": "es"})
    assert html_lang(resp) == ("ar", "rtl")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("lang=ar") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # next visit: no parameter, the cookie beats Accept-Language
    assert html_lang(client.get("/accessibilite", headers={"Accept-Language": "es"})) == ("ar", "rtl")


def test_unknown_language_is_ignored(client):
    resp = client.get("/?lang=xx")
    assert html_lang(resp) == ("fr", "ltr")
    assert "Set-Cookie" not in resp.headers or "lang=" not in resp.headers["Set-Cookie"]


def test_switcher_names_each_language_in_itself_and_keeps_the_page(client):
    html = client.get("/c/aix-marseille-provence?q=aix").get_data(as_text=True)
    for code, name in [("fr", "Français"), ("ar", "العربية"), ("en", "English"), ("es", "Español"), ("pt", "Português"), ("tr", "Türkçe")]:
        assert f'lang="{code}" hreflang="{code}"' in html
        assert f">{name}</a>" in html
    assert 'href="/c/aix-marseille-provence?q=aix&amp;lang=ar"' in html


@pytest.mark.parametrize("lang", ["fr", "ar", "en", "es", "pt", "tr"])
def test_every_shipped_language_translates_the_interface(client, lang):
    html = client.get(f"/accessibilite?lang={lang}").get_data(as_text=True)
    english = "Accessibility statement"
    if lang == "en":
        assert english in html
    else:
        assert english not in html, f"{lang} page still shows English"


def test_responses_vary_on_language_inputs(client):
    vary = client.get("/").headers.get_all("Vary")
    assert "Accept-Language" in ", ".join(vary) and "Cookie" in ", ".join(vary)
