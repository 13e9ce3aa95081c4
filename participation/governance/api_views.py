"""The evaluators' read-only JSON API (`/api/v1`): the contract and its référentiel, the figures
of a selection (the exports' rows, protected the same way) and the published verbatims.

Authentication is a token in `Authorization: Bearer <token>` (governance/tokens.py) and nothing
else: no cookie opens it (a logged-in browser gets 401 like anyone), so there is no CSRF to
check and the views are exempt. A token reads its own contract only (403 elsewhere). Answers
are never cached (`no-store`); errors are JSON `{"error": message, "status": code}`, the
message in the language asked for (`?lang=` or Accept-Language): every error under /api/v1,
an unknown address or method (the catch-all route `no_route`) and a bug (500) included."""
from __future__ import annotations

from datetime import date
from functools import wraps

import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..core.content_i18n import preload, translate
from ..core.errors import MESSAGES, unavailable_response
from ..core.i18n import current_locale
from ..core.permissions import public
from ..core.territories import Category, Commune, Contract, Indicator
from ..extensions import csrf, db, limiter
from . import exports, openapi, tokens
from . import metrics as m
from .report import COLUMNS, BadSelection, Selection, build_report, report_rows, selection_from_args
from .views import api_bp

SELECTION_ARGS = ("commune", "neighbourhood", "from", "to", "category")


def error(status: int, message: str, **headers):
    response = jsonify({"error": str(message), "status": status})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response


def _unauthorized(message: str):
    return error(401, message, **{"WWW-Authenticate": 'Bearer realm="governance"'})


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_required(view):
    """The view gets the contract named by `slug` when the request carries a valid token for it."""

    @wraps(view)
    def wrapper(slug: str, **kwargs):
        raw = _bearer()
        if raw is None:
            return _unauthorized(_("This API needs a token: send it in the Authorization header as "
                                   "“Bearer <token>”. Evaluators make one on the governance pages."))
        token = tokens.verify(raw)
        if token is None:
            db.session.rollback()
            return _unauthorized(_("This token is not valid: it may have been revoked, or its holder may no "
                                   "longer evaluate the contract."))
        db.session.commit()  # the day it was last used
        contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug[:64]))
        if contract is None:
            return error(404, _("There is no contract at this address."))
        if token.contract_id != contract.id:
            return error(403, _("This token opens another contract's figures."))
        response = view(contract, **kwargs)
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Authorization")
        return response

    return wrapper


def _api_limit():
    return current_app.config.get("GOVERNANCE_API_LIMIT", "120 per minute")


#: What the catch-all route answers to: every method, so that no request under /api/v1 falls
#: through to the app's HTML error pages.
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _message(code: int, default=None) -> str:
    """The message of an error, in the language asked for (read when the error is answered)."""
    if code == 404:
        return _("There is nothing at this address in the API. Its routes are described at /api/v1/openapi.json.")
    if code == 405:
        return _("The API only reads: this address answers GET requests only.")
    if code in MESSAGES:
        return str(MESSAGES[code][1])
    return str(default if default is not None else MESSAGES[500][1])


@api_bp.errorhandler(HTTPException)
def _http_error(e):
    """Errors raised inside the API's views or before them (rate limit, 400, 404…) in JSON too."""
    code = e.code or 500
    response = error(code, _message(code, e.description))
    if code == 429 and getattr(e, "retry_after", None):
        response.headers["Retry-After"] = str(e.retry_after)
    if code == 405 and getattr(e, "valid_methods", None):
        response.headers["Allow"] = ", ".join(e.valid_methods)
    return response


@api_bp.errorhandler(Exception)
def _unexpected(e):
    """A bug inside the API: logged, and a JSON 500 rather than the app's HTML page. A database
    that cannot serve for a moment is not a bug: a JSON 503 with Retry-After (core/errors.py)."""
    unavailable = unavailable_response(e)
    if unavailable is not None:
        return unavailable
    current_app.logger.exception("Unhandled error in the governance API")
    db.session.rollback()
    return error(500, _message(500))


def _methods_elsewhere() -> list[str]:
    """The methods another route of the app answers at this address (for a 405 and its `Allow`)."""
    adapter = current_app.create_url_adapter(request)
    allowed = []
    for method in ALL_METHODS[:-1]:
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
            continue
        if endpoint != request.endpoint:
            allowed.append(method)
    return [*allowed, "OPTIONS"] if allowed else []


@api_bp.route("", endpoint="no_route", methods=ALL_METHODS)
@api_bp.route("/", endpoint="no_route", methods=ALL_METHODS)
@api_bp.route("/<path:rest>", endpoint="no_route", methods=ALL_METHODS)
@public  # answers only errors, in JSON
def no_route(rest: str = ""):
    """Any address or method under /api/v1 that no endpoint answers: a JSON 404, or a JSON 405
    when an endpoint answers the address with another method. (A blueprint's error handlers
    never see the 404 and 405 of unmatched URLs: this route makes every URL under /api/v1 match.)"""
    allowed = _methods_elsewhere()
    if allowed and request.method == "OPTIONS":
        # (Flask's automatic OPTIONS answer would list this route's methods: the API's routes
        # leave OPTIONS to this one, which lists only what really answers.)
        response = current_app.response_class(status=204)
        response.headers["Allow"] = ", ".join(allowed)
        return response
    if allowed:
        return error(405, _message(405), Allow=", ".join(allowed))
    return error(404, _message(404))


# --- what the answers hold ---------------------------------------------------------------------


def _number(x):
    return None if x is None else (int(x) if float(x).is_integer() else x)


def _contract_json(contract: Contract) -> dict:
    return {"slug": contract.slug, "name": contract.name, "region": contract.region,
            "period_start": contract.period_start, "period_end": contract.period_end}


def selection_json(selection: Selection) -> dict:
    locale = current_locale()
    c, n, cat = selection.commune, selection.neighbourhood, selection.category
    if n is not None:
        level, code = "neighbourhood", n.qpv_code
    elif c is not None:
        level, code = "commune", c.insee_code
    else:
        level, code = "contract", selection.contract.slug
    return {
        "area": {"level": level, "code": code, "name": selection.area_label},
        "commune": {"id": c.id, "insee_code": c.insee_code, "name": c.name} if c is not None else None,
        "neighbourhood": {"id": n.id, "qpv_code": n.qpv_code, "name": n.name} if n is not None else None,
        "from": selection.year_from,
        "to": selection.year_to,
        "category": ({"id": cat.id, "code": cat.code, "name": str(translate(cat, "name", locale))}
                     if cat is not None else None),
    }


def _selection(contract: Contract):
    """The selection asked for, or a 400 answer."""
    args = {k: v for k, v in request.args.items() if k in SELECTION_ARGS}
    try:
        return selection_from_args(contract, args), None
    except BadSelection as exc:
        return None, error(400, str(exc))


# --- endpoints ------------------------------------------------------------------------------------


@api_bp.get("/contracts/<slug>", provide_automatic_options=False)
@public  # no account, no cookie: the bearer token (token_required) is the key
@limiter.limit(_api_limit)
@token_required
def contract(contract: Contract):
    """The contract, its communes and neighbourhoods with their codes, its référentiel (défis,
    orientations, sub-themes) and indicators, and the metrics the figures use."""
    locale = current_locale()
    communes = list(db.session.scalars(sa.select(Commune).where(Commune.contract_id == contract.id)
                                       .order_by(Commune.name, Commune.id)))
    categories = list(db.session.scalars(sa.select(Category).where(Category.contract_id == contract.id)
                                         .order_by(Category.kind, Category.position, Category.code)))
    indicators = list(db.session.scalars(sa.select(Indicator).where(Indicator.contract_id == contract.id)
                                         .order_by(Indicator.code)))
    preload([*categories, *indicators], locale)
    by_id = {c.id: c for c in categories}
    return jsonify({
        "contract": _contract_json(contract),
        "communes": [{"id": c.id, "insee_code": c.insee_code, "name": c.name,
                      "neighbourhoods": [{"id": n.id, "qpv_code": n.qpv_code, "name": n.name,
                                          "population": n.population} for n in c.neighbourhoods]}
                     for c in communes],
        "categories": [{"id": c.id, "code": c.code, "kind": c.kind.value,
                        "parent_code": by_id[c.parent_id].code if c.parent_id in by_id else None,
                        "name": str(translate(c, "name", locale)),
                        "description": str(translate(c, "description", locale))} for c in categories],
        "indicators": [{"id": i.id, "code": i.code, "name": str(translate(i, "name", locale)),
                        "description": str(translate(i, "description", locale)), "unit": i.unit, "scale": i.scale,
                        "category_code": by_id[i.category_id].code if i.category_id in by_id else None,
                        "source": i.source.value, "metric": i.metric, "direction": i.direction.value,
                        "baseline": _number(i.baseline), "baseline_year": i.baseline_year,
                        "target": _number(i.target), "target_year": i.target_year,
                        "period_years": i.period_years} for i in indicators],
        "metrics": [{"key": mt.key, "mechanism": mt.mechanism, "kind": mt.kind, "label": str(mt.label),
                     "unit": str(mt.unit), "definition": str(mt.definition)} for mt in m.METRICS.values()],
        "disclosure": exports.disclosure_json(),
    })


@api_bp.get("/contracts/<slug>/figures", provide_automatic_options=False)
@public  # the bearer token is the key (see token_required)
@limiter.limit(_api_limit)
@token_required
def figures(contract: Contract):
    """The selection's figures: the same rows as the CSV export, "s" where suppressed."""
    selection, refused = _selection(contract)
    if refused is not None:
        return refused
    report = build_report(selection, with_profile=False)
    return jsonify({
        "contract": _contract_json(contract),
        "selection": selection_json(selection),
        "extracted_on": date.today().isoformat(),
        "disclosure": exports.disclosure_json(),
        "columns": list(COLUMNS),
        "rows": report_rows(report),
    })


@api_bp.get("/contracts/<slug>/verbatims", provide_automatic_options=False)
@public  # the bearer token is the key (see token_required)
@limiter.limit(_api_limit)
@token_required
def verbatims(contract: Contract):
    """Published verbatims of the selection (nothing pending or rejected), newest first."""
    selection, refused = _selection(contract)
    if refused is not None:
        return refused
    from . import verbatims as verbatim_store

    locale = current_locale()
    items = list(verbatim_store.published_verbatims(
        contract.id, commune_id=selection.commune.id if selection.commune else None,
        neighbourhood_id=selection.neighbourhood.id if selection.neighbourhood else None,
        year_from=selection.year_from, year_to=selection.year_to, category_ids=selection.category_ids))
    preload([*{v.category for v in items if v.category is not None},
             *{v.indicator for v in items if v.indicator is not None}], locale)
    out = []
    for v in items:
        category = v.category if v.category is not None else (v.indicator.category if v.indicator is not None else None)
        out.append({
            "text": v.text,
            "language": v.locale,
            "year": v.year,
            "origin": v.origin.value,
            "commune": {"insee_code": v.commune.insee_code, "name": v.commune.name} if v.commune is not None else None,
            "neighbourhood": ({"qpv_code": v.neighbourhood.qpv_code, "name": v.neighbourhood.name}
                              if v.neighbourhood is not None else None),
            "category": ({"code": category.code, "name": str(translate(category, "name", locale))}
                         if category is not None else None),
            "indicator": ({"code": v.indicator.code, "name": str(translate(v.indicator, "name", locale))}
                          if v.indicator is not None else None),
        })
    return jsonify({"contract": _contract_json(contract), "selection": selection_json(selection),
                    "disclosure": exports.disclosure_json(), "verbatims": out})


@api_bp.get("/openapi.json", endpoint="openapi", provide_automatic_options=False)
@public  # the API's description: no data in it
def openapi_document():
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


for _view in (contract, figures, verbatims, openapi_document, no_route):
    csrf.exempt(_view)
