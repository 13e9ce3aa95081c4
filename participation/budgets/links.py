"""Public entry points of participatory budgets, offered for short links and QR posters."""
import sqlalchemy as sa

from ..extensions import db
from ..links.services import Target
from .models import Process


def public_targets(contract):
    for process in db.session.scalars(sa.select(Process).where(Process.contract_id == contract.id).order_by(Process.id)):
        yield Target(f"/b/{process.id}", process.title, process.scope, process.scope_label)
        yield Target(f"/b/{process.id}/vote", f"{process.title} — vote", process.scope, process.scope_label)
