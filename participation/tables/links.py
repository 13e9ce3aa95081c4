"""Public entry points of tables de quartier: short links and QR posters (each active table,
each of its meetings to come), and what a neighbourhood page lists."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from ..extensions import db
from ..links.services import Target
from . import services
from .models import MeetingStatus, NeighbourhoodTable, table_neighbourhoods


def public_targets(contract):
    now = services.local_now()
    tables = db.session.scalars(sa.select(NeighbourhoodTable).where(
        NeighbourhoodTable.contract_id == contract.id, NeighbourhoodTable.active).order_by(NeighbourhoodTable.id))
    for table in tables:
        yield Target(f"/t/{table.id}", table.name, table.scope, table.scope_label)
        for meeting in table.meetings:
            if meeting.starts_at >= now and meeting.status is not MeetingStatus.cancelled:
                when = meeting.starts_at.strftime("%d/%m/%Y %H:%M")
                yield Target(f"/t/m/{meeting.id}", f"{table.name} — {when}", table.scope, table.name)


def openings(neighbourhood):
    """Active tables that include this neighbourhood, with their next meeting."""
    from flask_babel import gettext as _

    from ..core.content_i18n import preload
    from ..core.i18n import current_locale
    from ..core.templating import tr
    from ..territories.views import Opening
    from .public import meeting_day

    tables = list(db.session.scalars(
        sa.select(NeighbourhoodTable).join(table_neighbourhoods, table_neighbourhoods.c.table_id == NeighbourhoodTable.id)
        .where(table_neighbourhoods.c.neighbourhood_id == neighbourhood.id, NeighbourhoodTable.active)
        .order_by(NeighbourhoodTable.name, NeighbourhoodTable.id)
    ))
    preload(tables, current_locale())
    now = services.local_now()
    result = []
    for table in tables:
        coming = [m for m in services.upcoming(table, now) if m.status is not MeetingStatus.cancelled]
        status = _("Next meeting: %(date)s", date=meeting_day(coming[0])) if coming else _("No meeting planned.")
        result.append(Opening(str(tr(table, "name")), url_for("tables.table", table_id=table.id),
                              _("Table de quartier"), status))
    return result

