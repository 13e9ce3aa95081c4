"""Access-matrix cases for exploratory walks, merged into tests/core/test_access_matrix.py.

`fixtures(amp, nar)` creates, in Frais Vallon (Marseille) and in Grand Narbonne, a walked walk
with a theme, a waypoint, one observation with a photo (both to check), a recommendation, and
a follow-up walk; ids under keys prefixed `w_` (`w_own…`, `w_nar…`). Each part module
(access_cases_<part>.py) holds the EXPECTED entries of its routes."""
from __future__ import annotations

import importlib
import importlib.util

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Manage a Frais Vallon walk: contract admins and the Marseille facilitator.
W_MANAGE = {"root", "amp_admin", "fac"}
#: Record observations on a tablet: managers and the Frais Vallon mediator.
W_RECORD = W_MANAGE | {"med"}
#: Figures and staff exports: managers and the contract's evaluator.
W_FIGURES = W_MANAGE | {"eva"}
W_FOREIGN = {"root", "nar_admin"}

NEIGHBOURHOODS = {"own": "QN01322M", "nar": "QN01101M"}


def fixtures(amp, nar) -> dict:
    import io
    from datetime import date, timedelta

    import sqlalchemy as sa
    from PIL import Image

    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.followup.services import ensure_default_institutions, institutions_of
    from participation.walks import services
    from participation.walks.models import WalkStatus

    buf = io.BytesIO()
    Image.new("RGB", (16, 12), "green").save(buf, "PNG")
    out = {}
    for key, code in NEIGHBOURHOODS.items():
        hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))
        walk = services.create_walk(hood, f"Marche matrice {key}", date.today() - timedelta(days=3))
        point = services.add_waypoint(walk, "Arrêt de bus", 43.32, 5.41)
        photo = services.process_photos([buf.getvalue()])[0]
        obs, _ = services.record_observation(
            walk, services.ObservationInput(client_id=f"matrix-{key}-0001", theme_id=walk.themes[0].id, rating=2,
                                            seen="Lampadaire cassé", lat=43.3201, lon=5.4102),
            [(photo, "Un lampadaire")])
        services.set_status(walk, WalkStatus.walked)
        ensure_default_institutions(hood.commune.contract)
        institution = institutions_of(hood.commune.contract.id)[0]
        rec = services.add_recommendation(walk, "Réparer l'éclairage", institution=institution,
                                          due_on=date.today() + timedelta(days=60), observation_ids=[obs.id])
        follow = services.create_follow_up(walk, date.today() + timedelta(days=90))
        out.update({
            f"w_{key}": walk.id, f"w_{key}_theme": walk.themes[0].id, f"w_{key}_point": point.id,
            f"w_{key}_obs": obs.id, f"w_{key}_photo": obs.photos[0].id, f"w_{key}_rec": rec.followup_id,
            f"w_{key}_follow": follow.id, f"w_{key}_key": walk.record_key,
        })
    return out


def on(path_tpl: str, own, method: str = "GET", foreign=W_FOREIGN):
    """`path_tpl` with {walk} {theme} {point} {obs} {photo} {rec} {follow} {key} of the Frais
    Vallon walk, then of the Narbonne one."""
    def build(key):
        return lambda f: path_tpl.format(**{name: f[f"w_{key}_{name}"] for name in (
            "theme", "point", "obs", "photo", "rec", "follow", "key")}, walk=f[f"w_{key}"])
    return [("own", method, build("own"), own), ("foreign", method, build("nar"), foreign)]


_PARTS = [importlib.import_module(f"{__package__}.access_cases_{name}") for name in ("public", "record", "admin", "review", "figures")
          if importlib.util.find_spec(f"{__package__}.access_cases_{name}") is not None]
EXPECTED: dict = {}
for _part in _PARTS:
    assert not set(_part.EXPECTED) & set(EXPECTED), "an endpoint has two expectations"
    EXPECTED.update(_part.EXPECTED)
