"""Back office of questionnaires: builder, codes, assisted and paper entry, results, exports."""
from flask import Blueprint

from . import models  # noqa: F401

bp = Blueprint("questionnaires_admin", __name__, url_prefix="/admin/questionnaires")
