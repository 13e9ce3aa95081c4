"""Access-matrix cases for this feature's routes, merged into tests/core/test_access_matrix.py.

`fixtures(amp, nar)` creates the objects the URLs point at (in the demo contract Aix-Marseille
and in the other contract, Grand Narbonne) and returns their ids; `EXPECTED` maps each
endpoint to [(label, method, url builder(fixtures), users allowed)].

Own: a fund of Malpassé Corot (the committee member's neighbourhood, inside the facilitator's
Marseille; the mediator works in Frais Vallon, outside it) with one application. Foreign: a
fund of Razimbaud (Grand Narbonne) with one application."""
from __future__ import annotations

from ..core.matrix_users import AMP_STAFF, EVERYONE, STAFF  # noqa: F401

#: Edit funds, review, pay, publish photos (admin and facilitator of the scope).
FA_MANAGERS = {"root", "amp_admin", "fac"}
#: Enter an application or a paper bilan (field roles of the scope; the Frais Vallon mediator
#: does not cover Malpassé Corot).
FA_ENTRY = FA_MANAGERS
#: Read the fund and its applications: managers, the committee member, the evaluator.
FA_READERS = FA_MANAGERS | {"com", "eva"}
FA_NAR = {"root", "nar_admin"}
FA_CREATORS = {"root", "amp_admin", "fac", "nar_admin"}


def fixtures(amp, nar) -> dict:
    import secrets

    import sqlalchemy as sa

    from participation.core.territories import Neighbourhood
    from participation.extensions import db
    from participation.fph import services
    from participation.fph.models import SourceKind

    ids = {}
    for key, qpv in (("fa_own", "QN01323M"), ("fa_nar", "QN01101M")):
        hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))
        fund = services.create_fund([hood], services.FundSettings(name=f"FPH {hood.name} 2026", year=2026))
        services.add_source(fund, SourceKind.state, "État", 5000)
        application, secret, _new = services.submit_application(fund, services.ApplicationData(
            title="Fête des voisins", audience="Les habitants", description="Un repas partagé dans la cour.",
            place="Cour", starts_on=None, ends_on=None, neighbourhood_id=hood.id, lines=[("Repas", 300)],
            contact_name="Awa", contact_phone="0600000000"), nonce=secrets.token_urlsafe(18))
        ids[f"{key}_fund"] = fund.id
        ids[f"{key}_app"] = application.id
        ids[f"{key}_secret"] = secret
    return ids


def _on_fund(path_tpl, own, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(fund=f["fa_own_fund"]), own),
        ("foreign", method, lambda f: path_tpl.format(fund=f["fa_nar_fund"]), FA_NAR),
    ]


def _on_app(path_tpl, own, method="POST"):
    return [
        ("own", method, lambda f: path_tpl.format(app=f["fa_own_app"]), own),
        ("foreign", method, lambda f: path_tpl.format(app=f["fa_nar_app"]), FA_NAR),
    ]


def _public(path_tpl, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(fund=f["fa_own_fund"], secret=f["fa_own_secret"]), EVERYONE),
        ("foreign", method, lambda f: path_tpl.format(fund=f["fa_nar_fund"], secret=f["fa_nar_secret"]), EVERYONE),
    ]


EXPECTED: dict = {
    "fph.fund": _public("/fph/{fund}"),
    "fph.projects": _public("/fph/{fund}/projects"),
    "fph.apply": [*_public("/fph/{fund}/apply"), *_public("/fph/{fund}/apply", "POST")],
    # The private link's secret is the capability: anyone holding it follows the application.
    "fph.follow": _public("/fph/a/{secret}"),
    "fph.bilan": _public("/fph/a/{secret}/bilan", "POST"),
    "fph_admin.index": [("-", "GET", lambda f: "/admin/fph/", STAFF)],
    "fph_admin.fund_new": [("-", "GET", lambda f: "/admin/fph/new", FA_CREATORS),
                           ("-", "POST", lambda f: "/admin/fph/new", FA_CREATORS)],
    "fph_admin.fund": _on_fund("/admin/fph/{fund}", FA_READERS),
    "fph_admin.settings": _on_fund("/admin/fph/{fund}/settings", FA_MANAGERS, "POST"),
    "fph_admin.sources": _on_fund("/admin/fph/{fund}/sources", FA_MANAGERS, "POST"),
    "fph_admin.members": _on_fund("/admin/fph/{fund}/members", FA_MANAGERS, "POST"),
    "fph_admin.apply_assisted": [*_on_fund("/admin/fph/{fund}/applications/new", FA_ENTRY),
                                 *_on_fund("/admin/fph/{fund}/applications/new", FA_ENTRY, "POST")],
    "fph_admin.application": _on_app("/admin/fph/applications/{app}", FA_READERS, "GET"),
    "fph_admin.eligibility": _on_app("/admin/fph/applications/{app}/eligibility", FA_MANAGERS),
    "fph_admin.withdraw": _on_app("/admin/fph/applications/{app}/withdraw", FA_MANAGERS),
    "fph_admin.payment": _on_app("/admin/fph/applications/{app}/payments", FA_MANAGERS),
    "fph_admin.bilan_staff": _on_app("/admin/fph/applications/{app}/bilan", FA_ENTRY),
    "fph_admin.photo_publish": _on_app("/admin/fph/applications/{app}/photos", FA_MANAGERS),
    "fph_admin.close": _on_app("/admin/fph/applications/{app}/close", FA_MANAGERS),
}
