"""The evaluators' read-only JSON API: a bearer token and nothing else opens it (no cookie, no
CSRF), for its own contract only; the figures are the CSV export's rows, cell for cell; only
published verbatims; errors in JSON with a translated message; and the OpenAPI document
describes every route of the API (a new route without a description fails here)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract, Indicator, IndicatorSource, Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.governance import tokens, verbatims
from participation.governance.models import ApiToken, VerbatimOrigin, VerbatimStatus
from participation.governance.report import COLUMNS

from ..conftest import Auth

AMP = "aix-marseille-provence"
NAR = "grand-narbonne"
EVA = "evaluation@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"
PUBLISHED = "Les jeunes ont enfin un local le samedi."
PENDING = "Il faudrait plus de bancs."


def user(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def contract(slug: str = AMP) -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=slug))


@pytest.fixture
def token(app, demo) -> str:
    """An evaluator's token on the demo contract (the raw token, as shown once)."""
    _row, raw = tokens.issue(user(EVA), contract(), "Tableur de la commission")
    db.session.commit()
    return raw


@pytest.fixture
def api(client):
    def get(path: str, token: str | None = None, **headers):
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.get(path, headers=headers)

    return get


def figures_url(**args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"lang": "en", **args}.items())
    return f"/api/v1/contracts/{AMP}/figures?{query}"


API_PATHS = [f"/api/v1/contracts/{AMP}", f"/api/v1/contracts/{AMP}/figures", f"/api/v1/contracts/{AMP}/verbatims"]


# --- who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", API_PATHS)
def test_without_a_token_the_answer_is_401_in_json_with_a_bearer_challenge(app, demo, api, path):
    resp = api(path + "?lang=en")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.is_json and "Bearer <token>" in resp.json["error"] and resp.json["status"] == 401


@pytest.mark.parametrize("header", ["Bearer pgov_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer " + "x" * 5000, "pgov_abc"])
def test_a_wrong_token_is_401(app, demo, api, token, header):
    resp = api(figures_url(), Authorization=header)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in resp.json


def test_a_revoked_token_is_401(app, demo, api, token):
    assert api(figures_url(), token).status_code == 200
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == tokens.digest(token)))
    tokens.revoke(row)
    db.session.commit()
    resp = api(figures_url(), token)
    assert resp.status_code == 401
    assert "not valid" in resp.json["error"]


def test_a_token_stops_working_when_its_holder_loses_the_role(app, demo, api, token):
    eva = user(EVA)
    for grant in list(eva.grants):
        db.session.delete(grant)
    db.session.commit()
    assert api(figures_url(), token).status_code == 401


def test_a_token_of_another_contract_is_403(app, demo, api):
    _row, raw = tokens.issue(user(NAR_ADMIN), contract(NAR), "Narbonne")
    db.session.commit()
    for path in API_PATHS:
        resp = api(path + "?lang=en", raw)
        assert resp.status_code == 403
        assert resp.json["error"] == "This token opens another contract's figures."
    assert api(f"/api/v1/contracts/{NAR}/figures", raw).status_code == 200


def test_a_logged_in_browser_without_a_token_is_401(app, demo, client):
    """Cookies never open the API (no CSRF to worry about: nothing a page can make a browser send opens it)."""
    assert Auth(client).login(EVA).status_code == 302
    assert client.get("/admin/").status_code == 200
    for path in API_PATHS:
        assert client.get(path).status_code == 401


def test_an_unknown_contract_is_404_in_json(app, demo, api, token):
    resp = api("/api/v1/contracts/no-such-contract/figures?lang=en", token)
    assert resp.status_code == 404 and resp.json["error"] == "There is no contract at this address."


def test_the_api_only_reads(app, demo, client, token):
    headers = {"Authorization": f"Bearer {token}"}
    for method in (client.post, client.put, client.delete, client.patch):
        assert method(f"/api/v1/contracts/{AMP}/figures", headers=headers, json={}).status_code == 405


# --- every error is JSON ----------------------------------------------------------------------------

UNKNOWN = ["/api/v1/nope", f"/api/v1/contracts/{AMP}/whatever", "/api/v1/contracts/999999999/whatever",
           f"/api/v1/contracts/{AMP}/figures/", "/api/v1/", "/api/v1"]
NOT_FOUND_EN = "There is nothing at this address in the API. Its routes are described at /api/v1/openapi.json."


def assert_json_error(resp, status: int) -> dict:
    assert resp.status_code == status
    assert resp.mimetype == "application/json", resp.get_data(as_text=True)[:200]
    assert resp.headers["Cache-Control"] == "no-store"
    assert set(resp.json) == {"error", "status"} and resp.json["status"] == status and resp.json["error"]
    return resp.json


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_address_is_a_json_404(app, demo, client, token, path):
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        resp = client.get(path, headers={"Accept-Language": "en", **headers})
        assert assert_json_error(resp, 404)["error"] == NOT_FOUND_EN
        # Whatever the method: nothing answers there.
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert_json_error(client.open(path, method=method, headers=headers, json={}), 404)
    assert client.head(path).status_code == 404
    assert client.get("/nope").mimetype == "text/html", "outside the API, pages stay pages"


@pytest.mark.parametrize("path", [*API_PATHS, "/api/v1/openapi.json"])
def test_a_method_other_than_get_is_a_json_405_that_says_what_is_allowed(app, demo, client, token, path):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        resp = client.open(path + "?lang=en", method=method, json={}, headers={"Authorization": f"Bearer {token}"})
        body = assert_json_error(resp, 405)
        assert body["error"] == "The API only reads: this address answers GET requests only."
        assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    # Asking is fine, and the answer lists only what really answers there.
    options = client.options(path)
    assert options.status_code == 204 and options.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/api/v1/nope").status_code == 404


def test_error_messages_follow_accept_language(app, demo, client, token):
    """The messages of the API's own errors and of the app's generic ones, in the language asked for."""
    for lang, expected in (("fr", "Il n'y a pas de contrat à cette adresse."), ("ar", "لا يوجد عقد في هذا العنوان.")):
        resp = client.get("/api/v1/contracts/no-such-contract", headers={"Accept-Language": lang,
                                                                        "Authorization": f"Bearer {token}"})
        assert assert_json_error(resp, 404)["error"] == expected
    # A 400 raised before the view (a NUL byte), with the app's translated message.
    resp = client.get(f"/api/v1/contracts/{AMP}/figures?from=1%00", headers={"Accept-Language": "fr"})
    assert assert_json_error(resp, 400)["error"] == "Votre demande n'a pas pu être comprise. Revenez en arrière et réessayez."
    # The catch-all's messages are read in the request's language.
    for lang, expected_404, expected_405 in (
        ("fr", "Il n'y a rien à cette adresse dans l'API. Ses routes sont décrites à /api/v1/openapi.json.",
         "L'API ne fait que lire\u00a0: cette adresse ne répond qu'aux requêtes GET."),
        ("ar", "لا يوجد شيء في هذا العنوان ضمن واجهة البرمجة. مساراتها موصوفة في /api/v1/openapi.json.",
         "واجهة البرمجة للقراءة فقط: هذا العنوان لا يستجيب إلا لطلبات GET."),
        ("en", NOT_FOUND_EN, "The API only reads: this address answers GET requests only."),
    ):
        assert client.get("/api/v1/nope", headers={"Accept-Language": lang}).json["error"] == expected_404
        assert client.post(f"/api/v1/contracts/{AMP}", headers={"Accept-Language": lang}).json["error"] == expected_405


def test_too_many_calls_in_french(app, demo, api, token):
    app.config["GOVERNANCE_API_LIMIT"] = "1 per minute"
    try:
        assert api(f"/api/v1/contracts/{AMP}", token).status_code == 200
        resp = api(f"/api/v1/contracts/{AMP}", token, **{"Accept-Language": "fr"})
        body = assert_json_error(resp, 429)
        assert body["error"] == "Trop de tentatives en peu de temps. Attendez une minute, puis réessayez."
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        del app.config["GOVERNANCE_API_LIMIT"]


def test_a_bug_is_a_json_500_and_rolls_back(app, demo, api, token, monkeypatch):
    from participation.governance import api_views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_views, "build_report", broken)
    resp = api(figures_url(), token)
    body = assert_json_error(resp, 500)
    assert body["error"] == "An error occurred on our side. Nothing you did caused it; please try again in a moment."
    assert "a bug" not in resp.get_data(as_text=True)
    assert api(f"/api/v1/contracts/{AMP}?lang=en", token).status_code == 200


def test_a_use_is_recorded_by_the_day_only(app, demo, api, token):
    assert api(figures_url(), token).status_code == 200
    db.session.expire_all()
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == tokens.digest(token)))
    assert row.last_used_on == date.today()


def test_too_many_calls_get_a_429_in_json(app, demo, api, token):
    app.config["GOVERNANCE_API_LIMIT"] = "2 per minute"
    try:
        assert api(f"/api/v1/contracts/{AMP}", token).status_code == 200
        assert api(f"/api/v1/contracts/{AMP}", token).status_code == 200
        resp = api(f"/api/v1/contracts/{AMP}?lang=en", token)
        assert resp.status_code == 429 and resp.is_json and resp.json["error"]
    finally:
        del app.config["GOVERNANCE_API_LIMIT"]


# --- what it answers ------------------------------------------------------------------------------


def test_the_contract_lists_its_places_referentiel_and_indicators(app, demo, api, token):
    amp = contract()
    ind = Indicator(contract_id=amp.id, code="I-API", name="Taux de réponse", description="Réponses reçues / envoyées.",
                    unit="%", source=IndicatorSource.entered, baseline=30, baseline_year=2024, target=45.5,
                    target_year=2030)
    db.session.add(ind)
    db.session.commit()
    resp = api(f"/api/v1/contracts/{AMP}?lang=en", token)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json
    assert body["contract"]["slug"] == AMP and body["contract"]["period_start"] == amp.period_start
    marseille = next(c for c in body["communes"] if c["insee_code"] == "13055")
    assert {"QN01322M", "QN01323M"} <= {n["qpv_code"] for n in marseille["neighbourhoods"]}
    assert {"D3", "O2"} <= {c["code"] for c in body["categories"]}
    assert {c["kind"] for c in body["categories"]} <= {"challenge", "orientation", "subtheme"}
    mine = next(i for i in body["indicators"] if i["code"] == "I-API")
    assert (mine["description"], mine["baseline"], mine["baseline_year"], mine["target"], mine["target_year"],
            mine["source"]) == ("Réponses reçues / envoyées.", 30, 2024, 45.5, 2030, "entered")
    assert any(m["key"] == "tables.participations" and m["definition"] for m in body["metrics"])
    assert body["disclosure"]["suppressed"] == "s" and body["disclosure"]["min_people"] == 11
    text = json.dumps(body)
    assert "@" not in text  # no staff e-mail (nor anyone's)


def test_the_figures_are_the_csv_rows_for_the_same_selection(app, demo, api, token, client):
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    args = {"commune": hood.commune_id, "from": 2025, "to": 2026}
    resp = api(figures_url(**args), token)
    assert resp.status_code == 200
    body = resp.json
    assert body["columns"] == list(COLUMNS)
    assert body["selection"]["commune"]["insee_code"] == "13055"
    assert (body["selection"]["from"], body["selection"]["to"]) == (2025, 2026)
    assert body["selection"]["area"] == {"level": "commune", "code": "13055", "name": "Marseille"}
    assert "rules" in body["disclosure"] and body["disclosure"]["min_recipients"] == 3
    # The same selection downloaded as CSV by the evaluator (cookies, on the back office).
    assert Auth(client).login(EVA).status_code == 302
    query = "&".join(f"{k}={v}" for k, v in args.items())
    exported = client.get(f"/admin/governance/{contract().id}/export.csv?lang=en&{query}")
    csv_rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    api_rows = [{k: str(v) for k, v in row.items()} for row in body["rows"]]
    assert api_rows == csv_rows
    assert any(r["value"] == "s" for r in body["rows"]), "small counts leave as \"s\""
    assert all(isinstance(r["value"], (int, float)) or r["value"] in ("s", "") for r in body["rows"])


@pytest.mark.parametrize("args,message", [
    ({"from": "abc"}, "“abc” is not a whole number."),
    ({"from": 2031}, "The contract runs from 2024 to 2030: choose years in between."),
    ({"from": 2026, "to": 2025}, "The first year comes after the last one."),
    ({"commune": 999999}, "This commune is not part of the contract."),
])
def test_bad_arguments_are_400_with_the_translated_message(app, demo, api, token, args, message):
    for path in ("figures", "verbatims"):
        query = "&".join(f"{k}={v}" for k, v in {"lang": "en", **args}.items())
        resp = api(f"/api/v1/contracts/{AMP}/{path}?{query}", token)
        assert resp.status_code == 400
        assert resp.json == {"error": message, "status": 400}
        assert resp.headers["Cache-Control"] == "no-store"


def test_only_published_verbatims_are_given(app, demo, api, token):
    amp = contract()
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    ind = Indicator(contract_id=amp.id, code="I-VERB", name="Jeunesse", source=IndicatorSource.entered)
    db.session.add(ind)
    db.session.flush()
    for text, status in ((PUBLISHED, VerbatimStatus.published), (PENDING, VerbatimStatus.pending)):
        v = verbatims.add(amp, text=text, locale="fr", year=2025, origin=VerbatimOrigin.table, neighbourhood=hood,
                          indicator=ind)
        verbatims.set_status(v, status)
    db.session.commit()
    resp = api(f"/api/v1/contracts/{AMP}/verbatims?lang=en&neighbourhood={hood.id}", token)
    assert resp.status_code == 200
    # (the demo's own published words about Frais Vallon come too: keep this test's indicator)
    mine = [v for v in resp.json["verbatims"] if (v["indicator"] or {}).get("code") == "I-VERB"]
    assert PENDING not in {v["text"] for v in resp.json["verbatims"]}
    assert mine == [{
        "text": PUBLISHED, "language": "fr", "year": 2025, "origin": "table",
        "commune": {"insee_code": "13055", "name": "Marseille"},
        "neighbourhood": {"qpv_code": "QN01322M", "name": "Frais Vallon"},
        "category": None, "indicator": {"code": "I-VERB", "name": "Jeunesse"},
    }]
    assert PENDING not in resp.get_data(as_text=True)
    other_years = api(f"/api/v1/contracts/{AMP}/verbatims?from=2024&to=2024", token)
    assert other_years.json["verbatims"] == []


# --- the OpenAPI document -------------------------------------------------------------------------


def _api_rules(app, operations_only: bool = False) -> list:
    """The API's routes; `operations_only` leaves out the catch-all that answers errors only."""
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("governance_api.")
            and not (operations_only and r.endpoint == "governance_api.no_route")]


def test_the_openapi_document_describes_every_route_of_the_api(app, client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    doc = json.loads(resp.get_data(as_text=True))
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    rules = _api_rules(app, operations_only=True)
    assert len(rules) >= 4
    for rule in rules:
        assert rule.rule.startswith("/api/v1/")
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        assert path in doc["paths"], f"{rule.endpoint} ({rule.rule}) is not in the OpenAPI document"
        operations = doc["paths"][path]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in operations, f"{method} {path} is not described"
            op = operations[method.lower()]
            assert "200" in op["responses"]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), f"{path}: path parameters"
            if rule.endpoint != "governance_api.openapi":
                assert op["security"] == [{"bearer": []}] and "401" in op["responses"]
    described = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert len(described) == len(rules), "every described path is a route"
    # Every $ref points at a schema that exists.
    text = json.dumps(doc)
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text):
        assert ref in doc["components"]["schemas"]


def test_the_openapi_document_is_valid(app, client):
    import openapi_spec_validator  # a test dependency (pyproject.toml): CI validates, never skips

    openapi_spec_validator.validate(client.get("/api/v1/openapi.json").json)


def test_every_api_view_is_exempt_from_csrf_and_declared_public(app):
    from participation.extensions import csrf

    for rule in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        assert view.access == "public"
        assert f"{view.__module__}.{view.__name__}" in csrf._exempt_views
