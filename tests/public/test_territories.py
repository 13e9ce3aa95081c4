"""Public territory pages: a contract with its neighbourhood search, one neighbourhood,
and their 404s. Residents have no account, so every request here is anonymous."""
from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale, gettext

from participation.core.territories import Neighbourhood
from participation.extensions import db

from ..conftest import count

AMP = "/c/aix-marseille-provence"
NARBONNE = "/c/grand-narbonne"

AMP_CODES = {
    "QN01306M", "QN01319M", "QN01322M", "QN01323M", "QN01340M",  # Marseille
    "QN01301M", "QN01302M", "QN01303M", "QN01304M",  # Aix-en-Provence
    "QN01350M", "QN01351M",  # Miramas
    "QN01360M", "QN01361M",  # Salon-de-Provence
    "QN01370M",  # Vitrolles
}
NARBONNE_CODES = {"QN01101M", "QN01102M", "QN01103M"}

QPV_LINK_RE = re.compile(r'href="/q/([A-Z0-9]+)"')


def listed_codes(resp) -> set[str]:
    """QPV codes of the neighbourhoods the page links to."""
    return set(QPV_LINK_RE.findall(resp.get_data(as_text=True)))


def translated(app, locale: str, msgid: str, **variables) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid, **variables)


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


# --- the contract page -------------------------------------------------------


@pytest.mark.parametrize(
    "path, own, other",
    [(AMP, AMP_CODES, NARBONNE_CODES), (NARBONNE, NARBONNE_CODES, AMP_CODES)],
    ids=["amp", "narbonne"],
)
def test_contract_page_lists_only_its_own_neighbourhoods(client, demo, path, own, other):
    resp = client.get(path)

    assert resp.status_code == 200
    assert listed_codes(resp) == own
    assert not listed_codes(resp) & other


def test_contract_page_does_not_show_neighbourhood_names_of_the_other_contract(client, demo):
    body = text_of(client.get(NARBONNE))

    assert "Razimbaud" in body
    assert "Frais Vallon" not in body and "Marseille" not in body


def test_search_by_neighbourhood_name_keeps_only_matching_neighbourhoods(client, demo):
    resp = client.get(AMP, query_string={"q": "Frais"})

    assert resp.status_code == 200
    assert listed_codes(resp) == {"QN01322M"}


def test_search_by_neighbourhood_name_ignores_case(client, demo):
    assert listed_codes(client.get(AMP, query_string={"q": "frais vallon"})) == {"QN01322M"}


def test_search_by_commune_name_lists_the_neighbourhoods_of_that_commune(client, demo):
    assert listed_codes(client.get(AMP, query_string={"q": "Miramas"})) == {"QN01350M", "QN01351M"}


def test_search_by_qpv_code_finds_that_neighbourhood(client, demo):
    assert listed_codes(client.get(AMP, query_string={"q": "QN01360M"})) == {"QN01360M"}


def test_search_never_returns_neighbourhoods_of_another_contract(client, demo):
    # "Razimbaud" exists, but in Narbonne: searching it from the AMP page finds nothing.
    resp = client.get(AMP, query_string={"q": "Razimbaud"})

    assert resp.status_code == 200
    assert listed_codes(resp) == set()


def test_search_without_match_says_so(client, app, demo):
    resp = client.get(AMP, query_string={"q": "Nowhere at all"})

    assert listed_codes(resp) == set()
    assert translated(app, "fr", "No neighbourhood matches “%(query)s”.", query="Nowhere at all") in text_of(resp)


def test_htmx_search_returns_only_the_list_fragment(client, demo):
    resp = client.get(AMP, query_string={"q": "Frais"}, headers={"HX-Request": "true"})

    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert listed_codes(resp) == {"QN01322M"}


def test_contract_page_answer_varies_on_hx_request(client, demo):
    for headers in ({}, {"HX-Request": "true"}):
        resp = client.get(AMP, headers=headers)
        assert any("HX-Request" in v for v in resp.headers.get_all("Vary")), headers


def test_full_contract_page_includes_the_search_form_and_the_list(client, demo):
    body = client.get(AMP).get_data(as_text=True)

    assert body.lstrip().lower().startswith("<!doctype html>")
    assert 'id="neighbourhood-list"' in body and 'name="q"' in body


def test_contract_page_shows_totals_of_its_own_territory(client, demo):
    body = text_of(client.get(NARBONNE))
    # Narbonne: 1 commune, 3 QPV, 3 300 + 4 200 + 2 900 inhabitants.
    assert re.search(r"<dd>\s*1\s*</dd>", body)
    assert re.search(r"<dd>\s*3\s*</dd>", body)
    assert "10 400" in body


# --- neighbourhood page --------------------------------------------------------


def test_neighbourhood_page_shows_its_commune_and_qpv_code(client, demo):
    resp = client.get("/q/QN01322M")

    body = text_of(resp)
    assert resp.status_code == 200
    assert "Frais Vallon" in body
    assert "Marseille" in body
    assert "QN01322M" in body


def test_neighbourhood_page_links_back_to_its_contract(client, demo):
    body = client.get("/q/QN01101M").get_data(as_text=True)

    assert f'href="{NARBONNE}"' in body


def test_neighbourhood_code_in_lower_case_finds_the_page(client, demo):
    resp = client.get("/q/qn01322m")

    assert resp.status_code == 200
    assert "Frais Vallon" in text_of(resp)


# --- not found -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/c/no-such-contract", "/q/QN99999X"], ids=["contract", "neighbourhood"])
def test_unknown_territory_is_a_404(client, demo, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/c/no-such-contract", "/q/QN99999X"], ids=["contract", "neighbourhood"])
def test_404_page_is_translated_and_right_to_left_in_arabic(client, app, demo, path):
    resp = client.get(path, query_string={"lang": "ar"})

    body = text_of(resp)
    assert resp.status_code == 404
    assert re.search(r'<html[^>]*\blang="ar"', body)
    assert re.search(r'<html[^>]*\bdir="rtl"', body)
    title = translated(app, "ar", "Page not found")
    assert title != "Page not found", "the Arabic catalog has no translation of the 404 title"
    assert title in body


ODD_PATHS = {
    "contract-quote": "/c/%27%20OR%20%271%27=%271",
    "contract-long": "/c/" + "x" * 2000,
    "contract-unicode": "/c/march%C3%A9-%F0%9F%8F%A0",
    "neighbourhood-wildcard": "/q/QN0132%25",
    "neighbourhood-underscore": "/q/QN0132_M",
}


@pytest.mark.parametrize("path", ODD_PATHS.values(), ids=ODD_PATHS.keys())
def test_odd_territory_address_is_a_404_never_a_500(client, demo, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/c/grand%00narbonne", "/q/QN01322M%00"])
def test_nul_byte_in_an_address_is_a_clear_400(client, demo, path):
    resp = client.get(path + "?lang=en")
    assert resp.status_code == 400
    assert "Bad request" in resp.get_data(as_text=True)


def test_404_page_in_french_by_default_is_left_to_right(client, app, demo):
    resp = client.get("/c/no-such-contract")

    body = text_of(resp)
    assert resp.status_code == 404
    assert re.search(r'<html[^>]*\bdir="ltr"', body)
    assert translated(app, "fr", "Page not found") in body


# --- odd input in the search -------------------------------------------------------

WEIRD_QUERIES = {
    "very-long": "Frais Vallon " * 2000,
    "single-quote": "' OR '1'='1",
    "sql-comment": "x'; DROP TABLE neighbourhoods; --",
    "double-quote": '"\\"',
    "percent": "%",
    "underscore": "_",
    "wildcards": "%_%_",
    "backslash": "\\",
    "accents": "Malpassé Corot",
    "arabic": "مرسيليا",
    "emoji": "🏠🌳",
    "rtl-override": "\u202eevil",
    "only-spaces": "     ",
    "html": "<script>alert(1)</script>",
}


@pytest.mark.parametrize("query", WEIRD_QUERIES.values(), ids=WEIRD_QUERIES.keys())
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_odd_search_input_never_breaks_the_page(client, demo, query, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    resp = client.get(AMP, query_string={"q": query}, headers=headers)

    assert resp.status_code == 200


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_nul_byte_in_the_search_is_a_clear_400(client, demo, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    resp = client.get(AMP, query_string={"q": "Frais\x00Vallon"}, headers=headers)
    assert resp.status_code == 400


def test_sql_in_the_search_leaves_the_data_alone(client, demo):
    before = count(Neighbourhood)

    client.get(AMP, query_string={"q": "x'; DELETE FROM neighbourhoods; --"})

    db.session.expire_all()
    assert count(Neighbourhood) == before == len(AMP_CODES | NARBONNE_CODES)


def test_search_text_is_escaped_in_the_page(client, demo):
    body = client.get(AMP, query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


@pytest.mark.parametrize("query", ["%", "_", "%_"])
def test_search_treats_like_wildcards_as_plain_characters(client, demo, query):
    # No neighbourhood, commune or QPV code contains "%" or "_": a resident typing one
    # must not get the whole list back.
    assert listed_codes(client.get(AMP, query_string={"q": query})) == set()


def test_search_with_an_accented_name_finds_it(client, demo):
    assert listed_codes(client.get(AMP, query_string={"q": "Malpassé"})) == {"QN01323M"}


def test_back_button_after_an_htmx_search_gets_the_whole_page(client, demo):
    """htmx restores history by asking again with HX-History-Restore-Request: a fragment would
    replace the whole page body."""
    resp = client.get(AMP + "?q=Frais", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" in html and "Frais Vallon" in html
