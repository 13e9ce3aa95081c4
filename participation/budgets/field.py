"""Field mode for participatory budgets: ideas a mediator enters with a resident (or types from
a paper form) on a tablet with no connection (kind "budget_proposal"), sent later through
`field.services.receive`.

The offline form is the public proposal page itself (`budgets.propose`), marked for the outbox
only when the person logged in enters ideas for residents. Each queued idea is recorded once
(the field receipt), with its channel (assisted or paper), the kinds of help given, and the
staff member who entered it, exactly as the page records it online."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.users import User
from ..extensions import db
from ..field.registry import Applied, FieldForbidden, FieldRejected, OfflineForm, Submission
from . import messages, services
from .forms import MAX_PHOTOS
from .models import Process

FIELD_KIND = KIND = "budget_proposal"
FIELD_FORM_VERSION = FORM_VERSION = 1
#: The file input of the proposal form.
PHOTOS = "photos"


class BudgetProposals:
    kind = KIND
    label = _l("Participatory budget ideas")
    form_version = FORM_VERSION
    versions = frozenset({FORM_VERSION})

    def apply(self, submission: Submission, user: User) -> Applied:
        from .views import can_enter_for_residents, entry_mode, proposal_form, proposal_values

        process = submission.target_row("process_id", Process)
        if process is None or not can_enter_for_residents(user, process):
            raise FieldForbidden(_("You may not enter ideas for this participatory budget."))
        if not process.allows("submit"):
            raise FieldRejected(messages.rule_error(services.RuleError("not_open"))[0])
        form = proposal_form(process, submission.fields)
        if not form.validate():
            problems = {name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}
            raise FieldRejected(next(iter(problems.values())), fields=problems)
        photos = [photo for _slot, photo in submission.photos.get(PHOTOS, [])]
        if len(photos) > MAX_PHOTOS:
            raise FieldRejected(_("At most 3 photos."), fields={PHOTOS: _("At most 3 photos.")})
        channel, helped = entry_mode(form)
        try:
            proposal = services.submit_proposal(process, channel=channel, entered_by=user, assistance=helped,
                                                original_locale=submission.locale, **proposal_values(form))
        except services.RuleError as e:
            raise FieldRejected(messages.rule_error(e)[0]) from None
        services.attach_photos(proposal, photos)
        return Applied(_("%(process)s: idea no. %(number)s published.", process=process.title, number=proposal.number),
                       ref=f"{KIND}:{proposal.id}")

    def offline_forms(self, user: User) -> list[OfflineForm]:
        from ..core import permissions as perm

        processes = db.session.scalars(
            sa.select(Process)
            .where(perm.scope_clause(user, perm.FIELD_ROLES, Process.contract_id, Process.commune_id,
                                     Process.neighbourhood_id))
            .order_by(Process.id)
        )
        return [
            OfflineForm(kind=KIND, title=process.title, detail=process.scope_label,
                        url=url_for("budgets.propose", process_id=process.id))
            for process in processes if process.allows("submit")
        ]


ADAPTER = BudgetProposals()
