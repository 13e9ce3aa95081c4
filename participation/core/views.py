"""Site-wide pages: home, health check, accessibility statement."""
import sqlalchemy as sa
from flask import Blueprint, jsonify

from ..extensions import db
from .htmx import render
from .permissions import public
from .territories import Contract

bp = Blueprint("core", __name__)


@bp.get("/")
@public
def home():
    contracts = list(db.session.scalars(sa.select(Contract).order_by(Contract.name)))
    return render("core/home.html", contracts=contracts)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/accessibilite")
@public
def accessibility():
    return render("core/accessibility.html")
