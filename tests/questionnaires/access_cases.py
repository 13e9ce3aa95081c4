"""Access-matrix cases of questionnaire routes added for field mode, merged into
tests/core/test_access_matrix.py (the older questionnaire cases live there, with the fixtures
`own_q` (the demo barometer, Marseille) and `nar_q` (a questionnaire of Narbonne) used here)."""
from __future__ import annotations

#: Collect answers: managers of the barometer, and the Frais Vallon mediator (it covers her area).
Q_ENTRY = {"root", "amp_admin", "fac", "med"}
Q_FOREIGN = {"root", "nar_admin"}


def fixtures(amp, nar) -> dict:
    return {}


def _on_questionnaire(path_tpl: str, own, method: str = "GET"):
    return [("own", method, lambda f: path_tpl.format(q=f["own_q"]), own),
            ("foreign", method, lambda f: path_tpl.format(q=f["nar_q"]), Q_FOREIGN)]


EXPECTED: dict = {
    # The field-mode page: read it (to take it offline), or post it online without JavaScript.
    "questionnaires_admin.field_form": [
        *_on_questionnaire("/admin/questionnaires/{q}/field", Q_ENTRY),
        *_on_questionnaire("/admin/questionnaires/{q}/field", Q_ENTRY, "POST"),
    ],
}
