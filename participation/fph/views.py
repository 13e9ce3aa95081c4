"""The FPH blueprints. Routes live in the modules that `routes()` imports: public.py (fund
page, application form, funded projects), admin_views.py (funds, applications, payments,
bilans), committee_views.py (sessions, quorum, recusals, decisions)."""
import importlib

from flask import Blueprint

from ..core.demo import register_loader as register_demo_loader
from ..links.services import register_targets
from ..territories.views import register_openings
from . import demo
from .links import openings, public_targets

bp = Blueprint("fph", __name__)
admin_bp = Blueprint("fph_admin", __name__, url_prefix="/admin/fph")

register_demo_loader(demo.load, demo.notes)
register_targets(public_targets)
register_openings(openings)

#: Route modules, imported by routes() (each attaches its views to bp / admin_bp).
ROUTE_MODULES = ("public", "admin_views", "committee_views")


def routes() -> tuple[Blueprint, Blueprint]:
    """The two blueprints with every route attached (the route modules import them)."""
    for name in ROUTE_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return bp, admin_bp
