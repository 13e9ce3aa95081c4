"""The questionnaire blueprints. Routes live in the modules that `routes()` imports:
answering.py (public: QR / short link, no account), builder_views.py (back office: build,
version, codes), entry_views.py (mediator-assisted and paper entry), results_views.py
(results, moderation, exports)."""
import importlib

from flask import Blueprint

from ..core.demo import register_loader as register_demo_loader
from ..links.services import register_targets
from ..territories.views import register_openings
from . import demo
from .links import openings, public_targets

bp = Blueprint("questionnaires", __name__)
admin_bp = Blueprint("questionnaires_admin", __name__, url_prefix="/admin/questionnaires")

register_demo_loader(demo.load, demo.notes)
register_targets(public_targets)
register_openings(openings)


def routes() -> tuple[Blueprint, Blueprint]:
    """The two blueprints with every route attached (the route modules import them)."""
    for name in ("answering", "builder_views", "entry_views", "field_views", "results_views"):
        importlib.import_module(f"{__package__}.{name}")
    from ..field.registry import register
    from .field import ADAPTER

    register(ADAPTER)
    return bp, admin_bp
