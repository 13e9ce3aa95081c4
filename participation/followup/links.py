"""Public entry points of the follow-up: the contract's register, for short links and QR posters
(registered with `links.services.register_targets(public_targets)`)."""
from flask_babel import gettext as _

from ..core.territories import Scope
from ..links.services import Target


def public_targets(contract):
    yield Target(
        path=f"/c/{contract.slug}/follow-up",
        title=_("Follow-up of demands to institutions — %(contract)s", contract=contract.name),
        scope=Scope(contract.id),
        group=contract.name,
    )
