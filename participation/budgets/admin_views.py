"""Back office of participatory budgets (processes, phases, review, codes, paper ballots, follow-up)."""
from flask import Blueprint

bp = Blueprint("budgets_admin", __name__, url_prefix="/admin/budgets")
