"""Governance blueprints: the dashboard and exports for staff (`governance`, /admin/governance),
the evaluators' read-only JSON API (`governance_api`, /api/v1, token auth, no cookies)."""
from __future__ import annotations

from flask import Blueprint

from . import models  # noqa: F401  (tables known to the metadata and the migrations)

bp = Blueprint("governance", __name__, url_prefix="/admin/governance")
api_bp = Blueprint("governance_api", __name__, url_prefix="/api/v1")


def routes() -> list[Blueprint]:
    from . import api_views, dashboard_views, export_views, referentiel_views  # noqa: F401  (routes)

    return [bp, api_bp]
