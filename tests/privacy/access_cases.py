"""Access-matrix cases of the privacy pages (merged into tests/core/test_access_matrix.py).

The notice is public. The contract's privacy back office (notice, resident requests) is for the
admins of the whole contract; a staff account's access report and erasure for whoever may manage
the account (admin over every grant of it), as for disabling it. "Allowed" means the route is
reached: erasing oneself or a contract's last admin is then refused with a message (302)."""
from __future__ import annotations

from ..core.matrix_users import EVERYONE

AMP_ADMINS = {"root", "amp_admin"}
NAR_ADMINS = {"root", "nar_admin"}


def fixtures(amp, nar) -> dict:
    import sqlalchemy as sa

    from participation.core.users import User
    from participation.extensions import db

    user = lambda email: db.session.scalar(sa.select(User.id).filter_by(email=email))  # noqa: E731
    return {"privacy_amp": amp.id, "privacy_nar": nar.id, "privacy_amp_slug": amp.slug,
            "privacy_med": user("mediateur@amp.demo"), "privacy_sophie": user("admin@narbonne.demo")}


def _on_contract(path_tpl: str, method: str = "GET"):
    return [("own", method, lambda f: path_tpl.format(f["privacy_amp"]), AMP_ADMINS),
            ("foreign", method, lambda f: path_tpl.format(f["privacy_nar"]), NAR_ADMINS)]


def _on_staff(path_tpl: str, method: str = "GET"):
    return [("own", method, lambda f: path_tpl.format(f["privacy_med"]), AMP_ADMINS),
            ("foreign", method, lambda f: path_tpl.format(f["privacy_sophie"]), NAR_ADMINS)]


EXPECTED: dict = {
    "privacy.general": [("-", "GET", lambda f: "/privacy", EVERYONE)],
    "privacy.notice": [("-", "GET", lambda f: f"/c/{f['privacy_amp_slug']}/privacy", EVERYONE)],
    "privacy.overview": _on_contract("/admin/contracts/{}/privacy"),
    "privacy.notice_edit": [*_on_contract("/admin/contracts/{}/privacy/notice"),
                            *_on_contract("/admin/contracts/{}/privacy/notice", "POST")],
    "privacy.people": _on_contract("/admin/contracts/{}/privacy/people?q=someone%40example.org"),
    "privacy.people_report": _on_contract("/admin/contracts/{}/privacy/people/report.json?q=someone%40example.org"),
    "privacy.people_erase": _on_contract("/admin/contracts/{}/privacy/people/erase", "POST"),
    "privacy.staff_report": _on_staff("/admin/staff/{}/privacy/report.json"),
    "privacy.staff_erase": _on_staff("/admin/staff/{}/privacy/erase", "POST"),
}
