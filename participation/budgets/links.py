"""Public entry points of participatory budgets: short links and QR posters, and what a
neighbourhood page lists as open."""
import sqlalchemy as sa
from flask import url_for

from ..extensions import db
from ..links.services import Target
from ..territories.views import Opening
from .models import Process


def public_targets(contract):
    from .models import Proposal

    for process in db.session.scalars(sa.select(Process).where(Process.contract_id == contract.id).order_by(Process.id)):
        yield Target(f"/b/{process.id}", process.title, process.scope, process.scope_label)
        yield Target(f"/b/{process.id}/vote", f"{process.title} — vote", process.scope, process.scope_label)
        # Each visible idea can get its own QR (e.g. a poster at the place it would change).
        for proposal in db.session.scalars(
            sa.select(Proposal).where(Proposal.process_id == process.id, Proposal.is_hidden.is_(False),
                                      Proposal.merged_into_id.is_(None)).order_by(Proposal.number)
        ):
            yield Target(f"/b/{process.id}/p/{proposal.number}", f"#{proposal.number} {proposal.title}", process.scope,
                         process.title)


def openings(neighbourhood):
    """Processes covering this neighbourhood that are not closed, newest first."""
    from ..core.content_i18n import preload
    from ..core.i18n import current_locale
    from ..core.templating import tr
    from .labels import PHASES
    from .models import Phase

    scope = neighbourhood.scope
    processes = list(db.session.scalars(
        sa.select(Process)
        .where(
            Process.contract_id == scope.contract_id,
            sa.or_(Process.commune_id.is_(None), Process.commune_id == scope.commune_id),
            sa.or_(Process.neighbourhood_id.is_(None), Process.neighbourhood_id == scope.neighbourhood_id),
            Process.phase != Phase.closed,
        )
        .order_by(Process.id.desc())
    ))
    preload(processes, current_locale())
    from flask_babel import gettext as _

    result = [
        Opening(
            str(tr(p, "title")),
            url_for("budgets.process", process_id=p.id, status="selected")
            if p.phase in (Phase.results, Phase.implementation)
            else url_for("budgets.process", process_id=p.id),
            _("Participatory budget"),
            str(PHASES[p.phase]),
        )
        for p in processes
    ]
    # The follow-up of projects selected for this neighbourhood, with their latest step.
    from .labels import MILESTONES
    from .models import Proposal

    selected = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id, Proposal.is_selected.is_(True))
        .order_by(Proposal.id.desc())
    ))
    preload(selected, current_locale())
    for proposal in selected:
        last = proposal.milestones[-1] if proposal.milestones else None
        result.append(Opening(
            str(tr(proposal, "title")),
            url_for("budgets.proposal", process_id=proposal.process_id, number=proposal.number),
            _("Project selected by the vote"),
            f"{MILESTONES[last.status]} ({last.happened_on.isoformat()})" if last else _("Selected"),
        ))
    return result
