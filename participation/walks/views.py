"""The walks blueprints. Routes live in the modules that `routes()` imports: public.py (walk
pages, report HTML and PDF, public map and list of observations, exports), record_views.py
(recording observations on a phone or tablet, by staff or with the walk's QR key),
admin_views.py (walks, grid, route, moderation, recommendations, follow-up walks)."""
import importlib

from flask import Blueprint

from ..core.demo import register_loader as register_demo_loader
from ..followup.access import register_manager_check
from ..links.services import register_targets
from ..territories.views import register_openings
from . import access, demo
from .links import openings, public_targets

bp = Blueprint("walks", __name__)
admin_bp = Blueprint("walks_admin", __name__, url_prefix="/admin/walks")

register_demo_loader(demo.load, demo.notes)
register_targets(public_targets)
register_openings(openings)
# A walk's listed facilitators run its recommendations on the shared follow-up pages.
register_manager_check(access.can_manage_recommendation)

#: Route modules, imported by routes() (each attaches its views to bp / admin_bp).
ROUTE_MODULES = ("public", "record_views", "admin_views", "review_views", "export_views", "figures_views")


def routes() -> tuple[Blueprint, Blueprint]:
    """The two blueprints with every route attached (the route modules import them)."""
    for name in ROUTE_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    from ..field.registry import register
    from .field import ADAPTER

    register(ADAPTER)
    return bp, admin_bp
