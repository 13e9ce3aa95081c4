"""Demo data of the référentiel's governance side, for the Aix-Marseille-Provence contract: the
baromètre's indicators (I-CADRE, I-SECU, made by the questionnaires' demo) computed from its
tagged questions, with baselines and targets; indicators computed from the other mechanisms;
two indicators entered by hand (unemployment, poverty) with values per neighbourhood and their
sources; and a few verbatims.

Only governance rows are written (indicator fields, indicators, values, verbatims): no answer,
meeting or other mechanism's row. Values are illustrations in the range of published QPV
figures, not the official ones. Running it twice changes nothing.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..core.territories import Category, Commune, Contract, Direction, Indicator, IndicatorSource, Neighbourhood
from ..extensions import db
from .models import IndicatorValue, Verbatim, VerbatimOrigin, VerbatimStatus, scope_key

#: (code, name, category, unit, metric, option codes, scale, direction, baseline, baseline year, target,
#: target year, period): the baromètre's indicators get their metric only if they have none yet.
COMPUTED = [
    ("I-CADRE", "Part des habitants satisfaits de leur cadre de vie", "O2", "%", "questionnaires.share", ["4", "5"],
     "0 à 100 % (plutôt ou très satisfait·e)", Direction.up, 38.0, 2024, 50.0, 2030, 1),
    ("I-SECU", "Part des habitants qui se sentent en sécurité le soir", "D3", "%", "questionnaires.share", ["4", "5"],
     "0 à 100 % (bien ou très bien)", Direction.up, 31.0, 2024, 45.0, 2030, 1),
    ("I-TABLES", "Participations aux tables de quartier", "D9", "participations", "tables.participations", None,
     "", Direction.up, 120.0, 2024, 400.0, 2030, 1),
    ("I-REPONSES", "Réponses aux questionnaires du contrat", "D9", "réponses", "questionnaires.responses", None,
     "", Direction.up, 200.0, 2024, 1000.0, 2030, 1),
    ("I-FPH", "Montant accordé aux projets d'habitants (FPH)", "O4", "€", "fph.granted", None,
     "", Direction.up, 15000.0, 2024, 40000.0, 2030, 1),
    ("I-DELAI", "Délai médian de réponse des institutions aux interpellations", "D5", "jours",
     "followup.answer_days", None, "", Direction.down, 75.0, 2024, 45.0, 2030, 1),
    ("I-MARCHES", "Participants aux marches exploratoires", "D3", "participants", "walks.participants", None,
     "", Direction.up, 40.0, 2024, 150.0, 2030, 1),
    ("I-BUDGET", "Votants au budget participatif", "D9", "votants", "budgets.voters", None,
     "", Direction.up, 300.0, 2025, 1200.0, 2030, 1),
]

#: (code, name, category, unit, scale, direction, baseline, baseline year, target, target year, period, description)
ENTERED = [
    ("I-CHOMAGE", "Taux de chômage des 15-64 ans", "O3", "%", "0 à 100 %", Direction.down, 28.9, 2024, 24.0, 2030, 1,
     "Part des actifs de 15 à 64 ans au chômage au sens du recensement, par quartier prioritaire."),
    ("I-PAUVRETE", "Part des ménages sous le seuil de pauvreté", "D4", "%", "0 à 100 %", Direction.down, 45.8, 2024,
     40.0, 2030, 1, "Part des ménages dont le niveau de vie est sous 60 % du niveau de vie médian (Filosofi)."),
]

#: Illustrative values per neighbourhood (QPV code) for 2024, and the drift per year.
UNEMPLOYMENT_2024 = {
    "QN01306M": 31.5, "QN01319M": 29.8, "QN01322M": 33.2, "QN01323M": 35.1, "QN01340M": 37.4,
    "QN01301M": 22.6, "QN01302M": 26.9, "QN01303M": 21.4, "QN01304M": 25.3,
    "QN01350M": 27.7, "QN01351M": 24.9, "QN01360M": 28.4, "QN01361M": 23.1, "QN01370M": 26.2,
}
UNEMPLOYMENT_DRIFT = -0.8
UNEMPLOYMENT_SOURCE = "INSEE, recensement de la population {year} (estimation QPV)"
POVERTY = {
    "QN01306M": 46.0, "QN01319M": 44.5, "QN01322M": 49.3, "QN01323M": 51.8, "QN01340M": 54.6,
    "QN01301M": 36.2, "QN01302M": 41.0, "QN01303M": 34.7, "QN01304M": 39.5,
}
POVERTY_SOURCE = "INSEE, Filosofi {year}"
CONTRACT_UNEMPLOYMENT = {2024: 28.9, 2025: 28.0, 2026: 27.4}

#: (text, locale, year, QPV code or None, indicator code or None, category code or None, origin, status)
VERBATIMS = [
    ("Le soir, on rentre vite : il n'y a plus de lumière après le parking.", "fr", 2025, "QN01322M", "I-SECU", "D3",
     VerbatimOrigin.walk, VerbatimStatus.published),
    ("Depuis qu'il y a la médiatrice, je sors plus tranquille.", "fr", 2026, "QN01323M", "I-SECU", None,
     VerbatimOrigin.table, VerbatimStatus.published),
    ("Le quartier est vivant, mais les espaces verts sont laissés à l'abandon.", "fr", 2026, "QN01319M", "I-CADRE",
     None, VerbatimOrigin.questionnaire, VerbatimStatus.published),
    ("نحب حيّنا، لكن المصعد معطّل منذ أشهر.", "ar", 2026, "QN01322M", "I-CADRE", "O2",
     VerbatimOrigin.table, VerbatimStatus.published),
    ("J'ai envoyé vingt CV, personne ne répond quand on donne l'adresse du quartier.", "fr", 2025, "QN01340M",
     "I-CHOMAGE", "O3", VerbatimOrigin.table, VerbatimStatus.published),
    ("À la table, on a enfin eu une réponse de la métropole sur les encombrants.", "fr", 2026, None, None, "D9",
     VerbatimOrigin.table, VerbatimStatus.published),
    ("Avec le projet FPH, les mamans ont monté un atelier couture au centre social.", "fr", 2025, "QN01306M", None,
     "D9", VerbatimOrigin.fph, VerbatimStatus.published),
    ("Les fins de mois, on choisit entre la cantine et l'électricité.", "fr", 2026, "QN01302M", "I-PAUVRETE", "D4",
     VerbatimOrigin.other, VerbatimStatus.pending),
    ("Le gardien du bâtiment C ne fait rien, il faut le renvoyer.", "fr", 2025, "QN01322M", None, "D2",
     VerbatimOrigin.questionnaire, VerbatimStatus.rejected),
]


def _get(model, **lookup):
    return db.session.scalar(sa.select(model).filter_by(**lookup))


def _indicator(amp: Contract, code: str, name: str, category_code: str, unit: str) -> tuple[Indicator, bool]:
    indicator = _get(Indicator, contract_id=amp.id, code=code)
    if indicator is not None:
        return indicator, False
    category = _get(Category, contract_id=amp.id, code=category_code)
    indicator = Indicator(contract_id=amp.id, code=code, name=name, unit=unit, original_locale="fr",
                          category_id=category.id if category else None)
    db.session.add(indicator)
    return indicator, True


def _measure(indicator: Indicator, source, metric, option_codes, scale, direction, baseline, baseline_year,
             target, target_year, period) -> None:
    indicator.source, indicator.metric, indicator.option_codes = source, metric, option_codes
    indicator.scale, indicator.direction, indicator.period_years = scale, direction, period
    indicator.baseline, indicator.baseline_year = baseline, baseline_year
    indicator.target, indicator.target_year = target, target_year


def _computed(amp: Contract) -> None:
    for code, name, category, unit, metric, codes, scale, direction, base, base_year, target, target_year, period in COMPUTED:
        indicator, created = _indicator(amp, code, name, category, unit)
        # The baromètre's indicators exist already: complete them once, never over an edit.
        if created or (indicator.metric is None and indicator.baseline is None):
            _measure(indicator, IndicatorSource.computed, metric, codes, scale, direction, base, base_year, target,
                     target_year, period)
    db.session.flush()


def _entered(amp: Contract) -> dict[str, Indicator]:
    out = {}
    for code, name, category, unit, scale, direction, base, base_year, target, target_year, period, description in ENTERED:
        indicator, created = _indicator(amp, code, name, category, unit)
        if created:
            indicator.description = description
            _measure(indicator, IndicatorSource.entered, None, None, scale, direction, base, base_year, target,
                     target_year, period)
        out[code] = indicator
    db.session.flush()
    return out


def _value(indicator: Indicator, commune_id, neighbourhood_id, year: int, value: float, note: str) -> None:
    key = scope_key(commune_id, neighbourhood_id)
    if _get(IndicatorValue, indicator_id=indicator.id, scope_key=key, year=year) is None:
        db.session.add(IndicatorValue(indicator_id=indicator.id, commune_id=commune_id, neighbourhood_id=neighbourhood_id,
                                      scope_key=key, year=year, value=value, source_note=note))


def _values(amp: Contract, indicators: dict[str, Indicator]) -> None:
    hoods = {n.qpv_code: n for n in db.session.scalars(
        sa.select(Neighbourhood).join(Commune).where(Commune.contract_id == amp.id))}
    for year in (2024, 2025, 2026):
        note = UNEMPLOYMENT_SOURCE.format(year=year)
        for qpv, rate in UNEMPLOYMENT_2024.items():
            if qpv in hoods:
                n = hoods[qpv]
                _value(indicators["I-CHOMAGE"], n.commune_id, n.id, year, round(rate + UNEMPLOYMENT_DRIFT * (year - 2024), 1),
                       note)
        _value(indicators["I-CHOMAGE"], None, None, year, CONTRACT_UNEMPLOYMENT[year], note)
    for year, shift in ((2024, 0.0), (2025, -0.6)):
        for qpv, share in POVERTY.items():
            if qpv in hoods:
                n = hoods[qpv]
                _value(indicators["I-PAUVRETE"], n.commune_id, n.id, year, round(share + shift, 1),
                       POVERTY_SOURCE.format(year=year - 1))
    db.session.flush()


def _verbatims(amp: Contract) -> None:
    for text, locale, year, qpv, indicator_code, category_code, origin, status in VERBATIMS:
        if _get(Verbatim, contract_id=amp.id, text=text) is not None:
            continue
        n = _get(Neighbourhood, qpv_code=qpv) if qpv else None
        indicator = _get(Indicator, contract_id=amp.id, code=indicator_code) if indicator_code else None
        category = _get(Category, contract_id=amp.id, code=category_code) if category_code else None
        db.session.add(Verbatim(
            contract_id=amp.id, indicator_id=indicator.id if indicator else None,
            category_id=category.id if category else None, commune_id=n.commune_id if n else None,
            neighbourhood_id=n.id if n else None, text=text, locale=locale, year=year, origin=origin, status=status))
    db.session.flush()


def load(contracts) -> None:
    amp = contracts["amp"]
    _computed(amp)
    _values(amp, _entered(amp))
    _verbatims(amp)
