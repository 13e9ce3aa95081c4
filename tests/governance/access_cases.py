"""Access-matrix cases for the référentiel's governance pages (values of entered indicators,
verbatims, API tokens), merged into tests/core/test_access_matrix.py.

`fixtures(amp, nar)` creates in each contract an entered indicator with a value, a pending
verbatim, and an API token of the contract's evaluator (AMP: Jean Rossi) or admin (Narbonne:
Sophie Garcia); ids under keys prefixed `gov_ref_`."""
from __future__ import annotations

#: Read and write values, moderate verbatims, hold tokens: admins and evaluators of the whole
#: contract (a commune's facilitator reads no contract-wide value).
GOV_EDITORS = {"root", "amp_admin", "eva"}
GOV_FOREIGN = {"root", "nar_admin"}


def fixtures(amp, nar) -> dict:
    import sqlalchemy as sa

    from participation.core.territories import Indicator, IndicatorSource
    from participation.core.users import User
    from participation.extensions import db
    from participation.governance import tokens
    from participation.governance.models import IndicatorValue, Verbatim, VerbatimOrigin

    holders = {"amp": "evaluation@amp.demo", "nar": "admin@narbonne.demo"}
    out = {}
    for key, contract in (("amp", amp), ("nar", nar)):
        indicator = Indicator(contract_id=contract.id, code="GOV-MATRIX", name="Indicateur saisi",
                              source=IndicatorSource.entered)
        db.session.add(indicator)
        db.session.flush()
        value = IndicatorValue(indicator_id=indicator.id, scope_key="contract", year=2025, value=12.5,
                               source_note="INSEE")
        verbatim = Verbatim(contract_id=contract.id, indicator_id=indicator.id, text="Des mots", year=2025,
                            origin=VerbatimOrigin.other)
        db.session.add_all([value, verbatim])
        holder = db.session.scalar(sa.select(User).filter_by(email=holders[key]))
        token, _raw = tokens.issue(holder, contract, "Matrice")
        db.session.flush()
        out.update({f"gov_ref_{key}_indicator": indicator.id, f"gov_ref_{key}_value": value.id,
                    f"gov_ref_{key}_verbatim": verbatim.id, f"gov_ref_{key}_token": token.id,
                    f"gov_ref_{key}_contract": contract.id})
    return out


def _on(path_tpl: str, method: str = "GET", own=GOV_EDITORS, foreign=GOV_FOREIGN):
    """`path_tpl` with {indicator} {value} {verbatim} {token} {contract} of AMP, then of Narbonne."""
    def build(key):
        return lambda f: path_tpl.format(**{name: f[f"gov_ref_{key}_{name}"] for name in (
            "indicator", "value", "verbatim", "token", "contract")})
    return [("own", method, build("amp"), own), ("foreign", method, build("nar"), foreign)]


EXPECTED: dict = {
    "governance.indicator_values": [*_on("/admin/governance/indicators/{indicator}/values"),
                                    *_on("/admin/governance/indicators/{indicator}/values", "POST")],
    "governance.indicator_value_delete": _on("/admin/governance/values/{value}/delete", "POST"),
    "governance.verbatims": [*_on("/admin/governance/{contract}/verbatims"),
                             *_on("/admin/governance/{contract}/verbatims", "POST")],
    "governance.verbatim_status": _on("/admin/governance/verbatims/{verbatim}/status", "POST"),
    "governance.tokens": [*_on("/admin/governance/{contract}/tokens"), *_on("/admin/governance/{contract}/tokens", "POST")],
    # The holder (the AMP evaluator; Narbonne's admin) and the contract's admins.
    "governance.token_revoke": _on("/admin/governance/tokens/{token}/revoke", "POST"),
}
