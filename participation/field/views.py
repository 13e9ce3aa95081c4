"""Field mode's blueprint: pages (pages.py), the sync API (api_views.py), outbox files (import_views.py)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("field", __name__)


def routes() -> list[Blueprint]:
    from . import api_views, import_views, pages  # noqa: F401  (routes)

    return [bp]
