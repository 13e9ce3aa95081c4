"""The tables de quartier blueprints. Routes live in the modules that `routes()` imports:
public.py (table and meeting pages, .ics), admin_views.py (tables, meetings, agenda, minutes),
attendance_views.py (QR check-in, paper sign-in counts), interpellation_views.py (a table's
interpellations)."""
import importlib

from flask import Blueprint

from ..core.demo import register_loader as register_demo_loader
from ..links.services import register_targets
from ..territories.views import register_openings
from . import demo
from .links import openings, public_targets

bp = Blueprint("tables", __name__)
admin_bp = Blueprint("tables_admin", __name__, url_prefix="/admin/tables")

register_demo_loader(demo.load, demo.notes)
register_targets(public_targets)
register_openings(openings)

#: Route modules, imported by routes() (each attaches its views to bp / admin_bp).
ROUTE_MODULES = ("public", "admin_views", "attendance_views", "interpellation_views")


def routes() -> tuple[Blueprint, Blueprint]:
    """The two blueprints with every route attached (the route modules import them), and the
    field-mode adapter of attendance counts."""
    from ..field import registry
    from .field import ADAPTER

    for name in ROUTE_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    registry.register(ADAPTER)
    return bp, admin_bp
