"""The OpenAPI 3.1 description of the governance API (served at /api/v1/openapi.json).

It is written for developers, in English (the API's own messages follow the language asked
for). tests/governance/test_api.py checks that every route of `governance_api` is described
here, so a new endpoint without its description fails the build."""
from __future__ import annotations

from ..core import disclosure
from . import metrics as m
from .report import COLUMNS

VERSION = "1.0.0"

DESCRIPTION = f"""Read-only figures of a contrat de ville for its evaluators: the contract and its référentiel,
the figures of a selection (area, years, défi or orientation) and the residents' published words.

**Authentication**: an API token, made by an evaluator or admin of the whole contract on the
governance pages, sent as `Authorization: Bearer <token>`. A token reads its own contract only;
cookies never open this API. Answers are not cacheable (`Cache-Control: no-store`).

**Disclosure control**: every figure is protected before it leaves the app. A count of fewer than
{disclosure.MIN_CELL} people is replaced by `"{disclosure.SUPPRESSED}"`, and so is any figure that would let a
reader work one out (secondary suppression); an amount of money needs at least {m.MIN_RECIPIENTS} recipients;
rates and means are shown only when the counts behind them are; free text is published only after
moderation. The figures are the same, cell for cell, as the CSV, XLSX, data package and PDF exports.

**Language**: labels and messages follow `?lang=` (fr, ar, en, es, pt, tr) or `Accept-Language`.

**Errors**: every error under `/api/v1` is JSON (`Error`: the message and the HTTP status), including
an unknown address (404), a method other than GET (405, with `Allow`) and an error on our side (500)."""

_SELECTION_PARAMS = [
    {"name": "commune", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "Id of a commune of the contract (see the contract's `communes`)."},
    {"name": "neighbourhood", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "Id of a neighbourhood (QPV) of the contract; its commune is implied."},
    {"name": "from", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "First year (default: the contract's first year)."},
    {"name": "to", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "Last year (default: this year, within the contract's period)."},
    {"name": "category", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "Id of a défi or orientation of the référentiel: its indicators and the figures of the "
                    "mechanisms whose items carry a category, limited to it and its sub-themes."},
]
_LANG = {"name": "lang", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["fr", "ar", "en", "es", "pt", "tr"]},
         "description": "Language of labels and messages."}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "The contract's identifier (e.g. `aix-marseille-provence`)."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {
        400: "A query argument is wrong (the message says which, in the language asked for).",
        401: "No token, or a token that is not valid (revoked, or its holder no longer evaluates the contract).",
        403: "The token belongs to another contract.",
        404: "No contract has this identifier.",
        429: "Too many requests: wait and try again.",
    }
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


SCHEMAS = {
    "Error": _object({"error": {"type": "string", "description": "What went wrong, in the language asked for."},
                      "status": {"type": "integer"}}),
    "Contract": _object({"slug": {"type": "string"}, "name": {"type": "string"}, "region": {"type": "string"},
                         "period_start": {"type": "integer"}, "period_end": {"type": "integer"}}),
    "Disclosure": _object({
        "suppressed": {"type": "string", "const": disclosure.SUPPRESSED,
                       "description": "What a suppressed figure shows."},
        "min_people": {"type": "integer", "description": "Fewer people than this: suppressed."},
        "min_recipients": {"type": "integer", "description": "Fewer recipients than this share an amount: suppressed."},
        "rules": {"type": "array", "items": {"type": "string"}, "description": "The rules, in words."},
    }),
    "Neighbourhood": _object({"id": {"type": "integer"}, "qpv_code": {"type": "string"}, "name": {"type": "string"},
                              "population": {"type": ["integer", "null"]}}),
    "Commune": _object({"id": {"type": "integer"}, "insee_code": {"type": "string"}, "name": {"type": "string"},
                        "neighbourhoods": {"type": "array", "items": _ref("Neighbourhood")}}),
    "Category": _object({"id": {"type": "integer"}, "code": {"type": "string"},
                         "kind": {"type": "string", "enum": ["challenge", "orientation", "subtheme"],
                                  "description": "challenge: a défi; orientation; subtheme: below one of them."},
                         "parent_code": {"type": ["string", "null"]}, "name": {"type": "string"},
                         "description": {"type": "string"}}),
    "Indicator": _object({
        "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
        "description": {"type": "string", "description": "Its definition."}, "unit": {"type": "string"},
        "scale": {"type": "string"}, "category_code": {"type": ["string", "null"]},
        "source": {"type": "string", "enum": ["computed", "entered"],
                   "description": "computed from the app's data (see `metric`), or entered by hand."},
        "metric": {"type": ["string", "null"], "description": "Key of the metric a computed indicator uses."},
        "direction": {"type": "string", "enum": ["up", "down"], "description": "up: higher is better."},
        "baseline": {"type": ["number", "null"]}, "baseline_year": {"type": ["integer", "null"]},
        "target": {"type": ["number", "null"]}, "target_year": {"type": ["integer", "null"]},
        "period_years": {"type": "integer", "description": "How often it is measured, in years."},
    }),
    "Metric": _object({
        "key": {"type": "string"}, "mechanism": {"type": "string"},
        "kind": {"type": "string", "enum": [m.PEOPLE, m.COUNT, m.AMOUNT, m.RATE, m.MEAN, m.DAYS]},
        "label": {"type": "string"}, "unit": {"type": "string"}, "definition": {"type": "string"},
    }),
    "ContractDetail": _object({
        "contract": _ref("Contract"),
        "communes": {"type": "array", "items": _ref("Commune")},
        "categories": {"type": "array", "items": _ref("Category")},
        "indicators": {"type": "array", "items": _ref("Indicator")},
        "metrics": {"type": "array", "items": _ref("Metric")},
        "disclosure": _ref("Disclosure"),
    }),
    "Selection": _object({
        "area": _object({"level": {"type": "string", "enum": ["neighbourhood", "commune", "contract"]},
                         "code": {"type": "string"}, "name": {"type": "string"}}),
        "commune": _nullable(_object({"id": {"type": "integer"}, "insee_code": {"type": "string"},
                                      "name": {"type": "string"}})),
        "neighbourhood": _nullable(_object({"id": {"type": "integer"}, "qpv_code": {"type": "string"},
                                            "name": {"type": "string"}})),
        "from": {"type": "integer"}, "to": {"type": "integer"},
        "category": _nullable(_object({"id": {"type": "integer"}, "code": {"type": "string"},
                                       "name": {"type": "string"}})),
    }),
    "FigureRow": _object({
        "section": {"type": "string", "enum": ["figures", "comparison", "indicators"],
                    "description": "figures: the selection in total and per year; comparison: each area inside "
                                   "it over the selected years; indicators: the référentiel's indicators per year."},
        "code": {"type": "string", "description": "Metric key or indicator code."},
        "label": {"type": "string"}, "unit": {"type": "string"},
        "kind": {"type": "string", "enum": [m.PEOPLE, m.COUNT, m.AMOUNT, m.RATE, m.MEAN, m.DAYS, "entered"]},
        "level": {"type": "string", "enum": ["neighbourhood", "commune", "contract"]},
        "area_code": {"type": "string", "description": "QPV code, INSEE code, or the contract's identifier."},
        "area": {"type": "string"},
        "year": {"type": ["integer", "string"], "description": "The year, or \"\" for the total over the years."},
        "value": {"anyOf": [{"type": "number"}, {"type": "string", "enum": [disclosure.SUPPRESSED, ""]}],
                  "description": f"The figure, \"{disclosure.SUPPRESSED}\" when suppressed, \"\" when there is "
                                 "no value."},
    }),
    "Figures": _object({
        "contract": _ref("Contract"), "selection": _ref("Selection"),
        "extracted_on": {"type": "string", "format": "date"}, "disclosure": _ref("Disclosure"),
        "columns": {"type": "array", "items": {"type": "string"}, "const": list(COLUMNS)},
        "rows": {"type": "array", "items": _ref("FigureRow")},
    }),
    "Verbatim": _object({
        "text": {"type": "string", "description": "A resident's words, published after moderation."},
        "language": {"type": "string"}, "year": {"type": "integer"},
        "origin": {"type": "string", "enum": ["questionnaire", "table", "walk", "fph", "budget", "other"]},
        "commune": _nullable(_object({"insee_code": {"type": "string"}, "name": {"type": "string"}})),
        "neighbourhood": _nullable(_object({"qpv_code": {"type": "string"}, "name": {"type": "string"}})),
        "category": _nullable(_object({"code": {"type": "string"}, "name": {"type": "string"}})),
        "indicator": _nullable(_object({"code": {"type": "string"}, "name": {"type": "string"}})),
    }),
    "Verbatims": _object({
        "contract": _ref("Contract"), "selection": _ref("Selection"), "disclosure": _ref("Disclosure"),
        "verbatims": {"type": "array", "items": _ref("Verbatim")},
    }),
}


def document() -> dict:
    """The OpenAPI document; paths are relative to the server `/api/v1`."""
    authed = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Participation: governance API", "version": VERSION, "description": DESCRIPTION,
                 "license": {"name": "etalab-2.0", "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}},
        "servers": [{"url": "/api/v1"}],
        "security": authed,
        "paths": {
            "/contracts/{slug}": {"get": {
                "operationId": "getContract", "tags": ["contracts"], "summary": "The contract and its référentiel",
                "description": "Communes and neighbourhoods with their codes and ids (the selection's arguments), "
                               "défis, orientations and sub-themes, indicators with their definition, baseline and "
                               "target, and the metrics the figures use.",
                "parameters": [_SLUG, _LANG], "security": authed,
                "responses": {"200": _json(_ref("ContractDetail"), "The contract."), **_errors(401, 403, 404, 429)},
            }},
            "/contracts/{slug}/figures": {"get": {
                "operationId": "getFigures", "tags": ["figures"], "summary": "Figures of a selection",
                "description": "Every figure of the selection as one row each (the CSV export's rows): headline "
                               "figures in total and per year, the areas inside the selection side by side, and "
                               "the indicators per year.",
                "parameters": [_SLUG, *_SELECTION_PARAMS, _LANG], "security": authed,
                "responses": {"200": _json(_ref("Figures"), "The figures."), **_errors(400, 401, 403, 404, 429)},
            }},
            "/contracts/{slug}/verbatims": {"get": {
                "operationId": "getVerbatims", "tags": ["verbatims"], "summary": "Published verbatims of a selection",
                "description": "Residents' words published after moderation, newest first, with their year, place, "
                               "défi or orientation and indicator. Nothing pending or rejected.",
                "parameters": [_SLUG, *_SELECTION_PARAMS, _LANG], "security": authed,
                "responses": {"200": _json(_ref("Verbatims"), "The verbatims."), **_errors(400, 401, 403, 404, 429)},
            }},
            "/openapi.json": {"get": {
                "operationId": "getOpenApi", "tags": ["meta"], "summary": "This description",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API token of the contract (shown once when made)."}},
            "schemas": SCHEMAS,
        },
    }
