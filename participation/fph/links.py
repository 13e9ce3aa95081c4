"""Public entry points of FPH funds: short links and QR posters (fund pages, the application
form, funded projects), and what a neighbourhood page lists as open."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from ..extensions import db
from ..links.services import Target
from .models import Fund, fund_neighbourhoods


def public_targets(contract):
    for fund in db.session.scalars(sa.select(Fund).where(Fund.contract_id == contract.id).order_by(Fund.year.desc(), Fund.id)):
        yield Target(f"/fph/{fund.id}", fund.name, fund.scope, fund.scope_label)
        if fund.accepting:
            yield Target(f"/fph/{fund.id}/apply", f"{fund.name} — apply", fund.scope, fund.scope_label)
        yield Target(f"/fph/{fund.id}/projects", f"{fund.name} — projects", fund.scope, fund.scope_label)


def openings(neighbourhood):
    """Funds of this neighbourhood taking applications, newest first."""
    from flask_babel import gettext as _

    from ..core.content_i18n import preload
    from ..core.i18n import current_locale
    from ..core.templating import tr
    from ..territories.views import Opening

    funds = list(db.session.scalars(
        sa.select(Fund).join(fund_neighbourhoods, fund_neighbourhoods.c.fund_id == Fund.id)
        .where(fund_neighbourhoods.c.neighbourhood_id == neighbourhood.id, Fund.accepting.is_(True))
        .order_by(Fund.year.desc(), Fund.id.desc())
    ))
    preload(funds, current_locale())
    return [Opening(str(tr(f, "name")), url_for("fph.fund", fund_id=f.id), _("FPH (residents' projects fund)"),
                    _("Taking applications")) for f in funds]
