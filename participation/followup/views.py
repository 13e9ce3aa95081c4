"""The follow-up blueprints (interpellations and recommendations addressed to institutions).
Routes live in the modules that `routes()` imports: public.py (public register, one page per
demand) and admin_views.py (institutions list, follow-up steps)."""
import importlib

from flask import Blueprint

from ..links.services import register_targets
from .links import public_targets

bp = Blueprint("followup", __name__)
admin_bp = Blueprint("followup_admin", __name__, url_prefix="/admin/followup")

register_targets(public_targets)


@bp.app_template_global()
def followup_status_label(status) -> str:
    from .labels import STATUSES

    return str(STATUSES[status])


#: Route modules, imported by routes() (each attaches its views to bp / admin_bp).
ROUTE_MODULES = ("public", "admin_views")


def routes() -> tuple[Blueprint, Blueprint]:
    """The two blueprints with every route attached (the route modules import them)."""
    for name in ROUTE_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return bp, admin_bp
