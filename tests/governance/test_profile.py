"""The participation profile across mechanisms (governance/profile.py): the tables add up, each
mechanism is counted by what it records (the rest "not stated"), the selection of units and
years, the unique-participant estimates, and small counts suppressed."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale

from participation.core.channels import Channel
from participation.core.profiles import AgeBand, Gender
from participation.core.territories import Commune, Contract, Neighbourhood
from participation.extensions import db
from participation.fph.models import AppStatus
from participation.governance import metrics
from participation.governance.profile import (
    AGE_BAND,
    CHANNEL,
    ELSEWHERE,
    GENDER,
    LANGUAGE,
    MECHANISMS,
    NOT_STATED,
    RESIDENCE,
    build_profile,
)
from participation.tables import figures as tables_figures
from participation.tables.attendance import attendee_key

from .test_metrics import (  # noqa: F401  (world is a fixture)
    application,
    checkins,
    make_fund,
    make_meeting,
    make_process,
    make_questionnaire,
    make_table,
    make_walk,
    paper,
    proposal,
    responses,
    votes,
    world,
)

ORDER = [m.key for m in MECHANISMS]
NOW = datetime(2026, 11, 23, 12, 0)


def column(profile, dimension, mechanism) -> dict:
    """{category key: shown value or "s"} of one mechanism's column."""
    d = profile.dimension(dimension)
    j = ORDER.index(mechanism)
    return {c.key: str(line.cells[j]) for c, line in zip(d.categories, d.table.rows)}


def raw_column(profile, dimension, mechanism) -> dict:
    """The non-zero shown cells of a column, as ints."""
    return {k: int(v) for k, v in column(profile, dimension, mechanism).items() if v not in ("0", "s")}


def everyone_in_nord(w):
    """Every mechanism in Nord (n1) in 2025, each category count 0 or at least 11."""
    table = make_table(w, w.n1)
    meeting = make_meeting(table, datetime(2025, 3, 1, 18))
    checkins(meeting, 12, age_band=AgeBand.a25_39, gender=Gender.woman, residence_id=w.n1.id, channel=Channel.web)
    checkins(meeting, 11, channel=Channel.assisted)
    paper(meeting, 14, gender__woman=14)  # tables: 37
    q = make_questionnaire(w, w.n1)
    responses(q, 11, date(2025, 4, 1), age_band=AgeBand.a18_24, gender=Gender.man, neighbourhood_id=w.n1.id,
              locale="fr", channel=Channel.web)
    responses(q, 11, date(2025, 4, 2), locale="ar", channel=Channel.paper)  # questionnaires: 22
    votes(make_process(w, w.n1), 13, date(2025, 5, 1), w.n1)  # budget votes: 13
    make_walk(w, w.n1, date(2025, 6, 1), participants=15, age_band__75_plus=15)  # walks: 15
    ideas = make_process(w, w.n1, "Idées")
    for i in range(12):
        proposal(ideas, date(2025, 2, 1), original_locale="tr", channel=Channel.assisted)  # ideas: 12
    fund = make_fund(w, w.n1, 2025, state=10000)
    for i in range(11):
        application(fund, AppStatus.submitted, original_locale="fr", channel=Channel.web)  # FPH: 11


def test_every_dimension_partitions_the_same_participations_per_mechanism(world):
    everyone_in_nord(world)
    p = build_profile(world.contract, now=NOW)
    totals = [37, 22, 13, 15, 12, 11]
    assert [c.value for c in p.participations.cells] == totals and p.participations.total.value == 110
    for d in p.dimensions:
        assert [c.value for c in d.table.columns.cells] == totals, d.key
        assert d.table.columns.total.value == 110
        assert [c.key for c in d.categories][-1] is NOT_STATED
        for j in range(len(ORDER)):  # each column adds up to its mechanism's participations
            assert sum(line.cells[j].value for line in d.table.rows) == totals[j], (d.key, ORDER[j])
        for line in d.table.rows:
            assert line.total.value == sum(c.value for c in line.cells)


def test_each_mechanism_is_counted_by_what_it_records_and_the_rest_is_not_stated(world):
    everyone_in_nord(world)
    p = build_profile(world.contract, now=NOW)
    n1 = world.n1.id
    assert raw_column(p, AGE_BAND, "tables") == {"25_39": 12, NOT_STATED: 25}
    assert raw_column(p, GENDER, "tables") == {"woman": 26, NOT_STATED: 11}  # check-ins and the paper sheet
    assert raw_column(p, RESIDENCE, "tables") == {n1: 12, NOT_STATED: 25}
    assert raw_column(p, CHANNEL, "tables") == {"web": 12, "assisted": 11, "paper": 14}
    assert raw_column(p, LANGUAGE, "tables") == {NOT_STATED: 37}  # not asked
    assert raw_column(p, AGE_BAND, "questionnaires") == {"18_24": 11, NOT_STATED: 11}
    assert raw_column(p, LANGUAGE, "questionnaires") == {"fr": 11, "ar": 11}
    assert raw_column(p, CHANNEL, "questionnaires") == {"web": 11, "paper": 11}
    assert raw_column(p, RESIDENCE, "budget_votes") == {n1: 13}
    assert raw_column(p, GENDER, "budget_votes") == {NOT_STATED: 13}
    assert raw_column(p, AGE_BAND, "walks") == {"75_plus": 15}
    assert raw_column(p, CHANNEL, "walks") == {NOT_STATED: 15}
    assert raw_column(p, LANGUAGE, "budget_proposals") == {"tr": 12}
    assert raw_column(p, CHANNEL, "budget_proposals") == {"assisted": 12}
    assert raw_column(p, RESIDENCE, "fph_applications") == {NOT_STATED: 11}
    assert raw_column(p, CHANNEL, "fph_applications") == {"web": 11}
    recorded = {d.key: dict(zip(ORDER, d.recorded)) for d in p.dimensions}
    assert recorded[AGE_BAND] == {"tables": True, "questionnaires": True, "budget_votes": False, "walks": True,
                                  "budget_proposals": False, "fph_applications": False}
    assert recorded[LANGUAGE]["questionnaires"] and not recorded[LANGUAGE]["tables"]


def test_categories_are_labelled_and_list_who_is_not_reached(world):
    everyone_in_nord(world)
    p = build_profile(world.contract, now=NOW)
    with force_locale("en"):
        assert [str(c.label) for c in p.dimension(AGE_BAND).categories] == [
            "under 18", "18 to 24", "25 to 39", "40 to 59", "60 to 74", "75 or over", "Not stated"]
        assert [str(c.label) for c in p.dimension(CHANNEL).categories] == ["online", "assisted", "paper", "Not stated"]
        residence = [str(c.label) for c in p.dimension(RESIDENCE).categories]
        assert residence == ["Nord (Alpha)", "Sud (Alpha)", "Centre (Beta)", "Somewhere else", "Not stated"]
        languages = {c.key: str(c.label) for c in p.dimension(LANGUAGE).categories}
        assert languages["ar"] == "العربية" and languages["tr"] == "Türkçe"
        assert str(p.mechanisms[0].label) == "Table meetings"
    assert column(p, AGE_BAND, "tables")["under_18"] == "0"  # nobody under 18: shown, it tells who is missing


def test_the_selection_keeps_its_units_and_years_only(world):
    everyone_in_nord(world)
    sud = make_questionnaire(world, world.n2)
    responses(sud, 20, date(2025, 4, 1), locale="es")
    responses(sud, 30, date(2026, 4, 1), locale="es")
    units = metrics.contract_units(world.contract)
    nord = build_profile(world.contract, metrics.unit_ids_in(units, None, world.n1.id), units=units, now=NOW)
    assert nord.participations.cells[ORDER.index("questionnaires")].value == 22
    assert [c.key for c in nord.dimension(RESIDENCE).categories] == [world.n1.id, ELSEWHERE, NOT_STATED]
    alpha = build_profile(world.contract, metrics.unit_ids_in(units, world.alpha.id, None), units=units, now=NOW)
    assert alpha.participations.cells[ORDER.index("questionnaires")].value == 72
    only_2025 = build_profile(world.contract, metrics.unit_ids_in(units, world.alpha.id, None), 2025, 2025,
                              units=units, now=NOW)
    assert only_2025.participations.cells[ORDER.index("questionnaires")].value == 42
    assert raw_column(only_2025, LANGUAGE, "questionnaires") == {"fr": 11, "ar": 11, "es": 20}
    beta = build_profile(world.contract, metrics.unit_ids_in(units, world.beta.id, None), units=units, now=NOW)
    assert all(c.value == 0 for c in beta.participations.cells)
    before = build_profile(world.contract, None, 2010, 2024, now=NOW)  # clipped to the contract's period
    assert (before.year_from, before.year_to) == (2024, 2024)
    assert before.participations.total.value == 0


def test_small_counts_are_suppressed_with_their_secondary_cells(world):
    table = make_table(world, world.n1)
    meeting = make_meeting(table, datetime(2025, 3, 1, 18))
    checkins(meeting, 5, age_band=AgeBand.a25_39)
    checkins(meeting, 25, age_band=AgeBand.a60_74)
    checkins(meeting, 20)
    q = make_questionnaire(world, world.n1)
    responses(q, 30, date(2025, 4, 1), age_band=AgeBand.a60_74)
    responses(q, 15, date(2025, 4, 1), age_band=AgeBand.a25_39)
    make_walk(world, world.n1, date(2025, 6, 1), participants=7)
    p = build_profile(world.contract, now=NOW)
    ages = column(p, AGE_BAND, "tables")
    assert ages["25_39"] == "s"
    # The tables' total (50) is published by the grid: a second tables cell goes with the 5.
    assert sum(1 for v in ages.values() if v == "s") >= 2
    assert str(p.participations.cells[ORDER.index("tables")]) == "50"
    # Seven walkers: the grid hides them, so does the profile, and their whole column goes.
    walks = ORDER.index("walks")
    assert str(p.participations.cells[walks]) == "s"
    assert all(v == "s" for v in column(p, AGE_BAND, "walks").values())
    assert all(v == "s" for v in column(p, CHANNEL, "walks").values())
    assert str(p.unique[walks].estimate) == "s"
    # The same totals are hidden in every dimension's table.
    for d in p.dimensions:
        assert [str(c) for c in d.table.columns.cells] == [str(c) for c in p.participations.cells]


def test_a_total_hidden_by_the_metric_grid_is_hidden_in_the_profile(world):
    nord, sud = make_table(world, world.n1), make_table(world, world.n2)
    checkins(make_meeting(nord, datetime(2025, 3, 1, 18)), 7)
    checkins(make_meeting(nord, datetime(2026, 3, 1, 18)), 20)
    checkins(make_meeting(sud, datetime(2025, 3, 1, 18)), 30)
    checkins(make_meeting(sud, datetime(2026, 3, 1, 18)), 30)
    units = metrics.contract_units(world.contract)
    g = metrics.grid(world.contract, metrics.METRICS["tables.participations"], units=units)
    selection = metrics.unit_ids_in(units, None, world.n1.id)
    assert g.value(selection, [2025, 2026]).suppressed  # 27 over two years, but the 7 of 2025 is hidden
    p = build_profile(world.contract, selection, 2025, 2026, units=units, grids={"tables.participations": g}, now=NOW)
    assert str(p.participations.cells[ORDER.index("tables")]) == "s"
    assert str(p.unique[ORDER.index("tables")].high) == "s"


def test_unique_participants_of_tables_use_the_tables_figures_estimate(world):
    table = make_table(world, world.n1)
    first = make_meeting(table, datetime(2025, 3, 1, 18))
    second = make_meeting(table, datetime(2025, 4, 1, 18))
    for i in range(12):  # twelve phones came twice
        key = attendee_key(world.contract.id, f"phone-token-{i:02d}-aaaaaaaaaaaa")
        checkins(first, 1, attendee_key=key)
        checkins(second, 1, attendee_key=key)
    checkins(first, 10)
    paper(second, 20)
    p = build_profile(world.contract, now=NOW)
    u = p.unique[ORDER.index("tables")]
    expected = tables_figures.attendance(table, now=NOW).unique
    # K = 12, T = 24, O = 30: estimate 12 + 30 × 12 / 24 = 27, raised to the busiest meeting (32).
    assert (expected.low, expected.high, expected.estimate) == (32, 42, 32)
    assert (u.low.value, u.high.value, u.estimate.value) == (32, 42, 32)
    assert p.participations.cells[ORDER.index("tables")].value == 54


def test_unique_participants_of_the_other_mechanisms(world):
    everyone_in_nord(world)
    p = build_profile(world.contract, now=NOW)
    by = {u.mechanism.key: u for u in p.unique}
    assert (by["questionnaires"].estimate.value, by["budget_votes"].estimate.value, by["walks"].estimate.value) == (
        22, 13, 15)
    assert by["budget_proposals"].estimate is None and by["fph_applications"].estimate is None
    assert by["tables"].estimate is None  # no phone kept a token: only bounds
    assert (by["tables"].low.value, by["tables"].high.value) == (37, 37)
    from flask_babel import force_locale

    with force_locale("en"):
        assert "not matched across mechanisms" in str(p.definition)


def test_a_neighbourhood_of_another_contract_is_somewhere_else(world):
    other = Contract(slug="ailleurs", name="Ailleurs", period_start=2024, period_end=2030)
    far_commune = Commune(contract=other, insee_code="99999", name="Loin")
    far = Neighbourhood(commune=far_commune, qpv_code="QNT9999", name="Loin")
    db.session.add_all([other, far_commune, far])
    db.session.flush()
    q = make_questionnaire(world, world.alpha)
    responses(q, 12, date(2025, 1, 1), neighbourhood_id=far.id)
    responses(q, 11, date(2025, 1, 1), neighbourhood_id=world.n2.id)
    table = make_table(world, world.n1)
    meeting = make_meeting(table, datetime(2025, 3, 1, 18))
    checkins(meeting, 11, residence_elsewhere=True)
    paper(meeting, 13, residence__other=13)
    p = build_profile(world.contract, now=NOW)
    assert raw_column(p, RESIDENCE, "questionnaires") == {ELSEWHERE: 12, world.n2.id: 11}
    assert raw_column(p, RESIDENCE, "tables") == {ELSEWHERE: 24}


def test_the_demo_profile_adds_up_and_hides_its_small_cells(demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    units = metrics.contract_units(amp)
    for unit_ids in (None, metrics.unit_ids_in(units, units[0].commune_id, None)):
        p = build_profile(amp, unit_ids, units=units)
        for d in p.dimensions:
            assert [str(c) for c in d.table.columns.cells] == [str(c) for c in p.participations.cells]
            for line in d.table.rows:
                shown = [c.value for c in line.cells if not c.suppressed]
                assert all(v == 0 or v >= 11 for v in shown)
                if line.total.value is not None and not any(c.suppressed for c in line.cells):
                    assert sum(shown) == line.total.value


# --- differencing: no selection gives away another's suppressed cell -----------------------------


def small_groups_in_alpha(w):
    """Questionnaires in Nord and Sud (Alpha) and table meetings in Centre (Beta), 2025–2026, with
    small groups that Nord's own profile hides (5 people aged 25–39 in 2025)."""
    nord, sud = make_questionnaire(w, w.n1), make_questionnaire(w, w.n2)
    responses(nord, 5, date(2025, 4, 1), age_band=AgeBand.a25_39, gender=Gender.woman)
    responses(nord, 30, date(2025, 4, 1), age_band=AgeBand.a60_74, gender=Gender.man)
    responses(nord, 20, date(2026, 4, 1), age_band=AgeBand.a25_39, gender=Gender.man)
    responses(sud, 30, date(2025, 4, 1), age_band=AgeBand.a25_39, gender=Gender.woman)
    responses(sud, 20, date(2025, 4, 1), age_band=AgeBand.a60_74, gender=Gender.woman)
    responses(sud, 25, date(2026, 4, 1), age_band=AgeBand.a60_74, gender=Gender.man)
    centre = make_table(w, w.n3)
    checkins(make_meeting(centre, datetime(2025, 3, 1, 18)), 33, gender=Gender.woman, channel=Channel.web)
    checkins(make_meeting(centre, datetime(2025, 9, 1, 18)), 7, gender=Gender.man, channel=Channel.assisted)
    checkins(make_meeting(centre, datetime(2026, 3, 1, 18)), 40, gender=Gender.woman, channel=Channel.web)


def every_selection(w, units) -> dict:
    """{(name, first year, last year): unit ids} of every selection a reader may ask for."""
    scopes = {"contract": None}
    scopes.update({c.name: metrics.unit_ids_in(units, c.id, None) for c in (w.alpha, w.beta)})
    scopes.update({n.name: metrics.unit_ids_in(units, None, n.id) for n in (w.n1, w.n2, w.n3)})
    years = metrics.contract_years(w.contract)
    return {(name, a, b): ids for name, ids in scopes.items() for a in years for b in years if a <= b}


def published(profile) -> dict:
    """Every figure of a profile: {(dimension, category, mechanism or "all"): count, None if "s"}.
    A category left out of a table is a row of zeros."""
    out = {}
    for d in profile.dimensions:
        for cat, line in zip(d.categories, d.table.rows):
            for m, cell in zip(ORDER, line.cells):
                out[d.key, cat.key, m] = cell.value
            out[d.key, cat.key, "all"] = line.total.value
    for m, cell in zip(ORDER, profile.participations.cells):
        out["total", None, m] = cell.value
    out["total", None, "all"] = profile.participations.total.value
    return out


def attack(w, units, selections: dict, profiles: dict) -> list:
    """What a reader can work out from the profiles of every selection: each is a set of
    unit × year cells (those the metric grids publish as 0 for every mechanism add nothing);
    when A is B and C put together, A = B + C for every figure, so two shown give the third.
    Within a profile, a shown total and all its cells but one give that one. Returns the
    suppressed figures so recovered, with their value."""
    grids = [metrics.grid(w.contract, metrics.METRICS[m.metric], units=units) for m in MECHANISMS if m.metric]
    empty = {(u, y) for u in range(len(units)) for y in metrics.contract_years(w.contract)
             if all(g.cells[u, y].number == 0 for g in grids)}
    cells = {}
    for (name, a, b), ids in selections.items():
        chosen = range(len(units)) if ids is None else ids
        cells[name, a, b] = frozenset((u, y) for u in chosen for y in range(a, b + 1)) - empty
    figures = {sel: published(p) for sel, p in profiles.items()}
    keys = set().union(*(f.keys() for f in figures.values()))
    by_cells = {}
    for sel, c in cells.items():
        by_cells.setdefault(c, sel)
    recovered = []
    for a, ca in cells.items():
        for b, cb in cells.items():
            c = by_cells.get(ca - cb)
            if not cb or not cb < ca or c is None:
                continue
            fa, fb, fc = figures[a], figures[b], figures[c]
            for key in keys:
                va, vb, vc = fa.get(key, 0), fb.get(key, 0), fc.get(key, 0)
                if va is not None and vb is not None and vc is None:
                    recovered.append((c, key, va - vb, f"{a} − {b}"))
                if va is not None and vc is not None and vb is None:
                    recovered.append((b, key, va - vc, f"{a} − {c}"))
                if vb is not None and vc is not None and va is None:
                    recovered.append((a, key, vb + vc, f"{b} + {c}"))
    for sel, f in figures.items():  # a line with one "s" and a shown total
        lines: dict = {}
        for (dimension, cat, m), v in f.items():
            if dimension != "total":
                lines.setdefault(("column", dimension, m), []).append((cat, v))
                if m != "all":
                    lines.setdefault(("row", dimension, cat), []).append((m, v))
        for (kind, dimension, which), line in lines.items():
            total = f["total", None, which] if kind == "column" else f[dimension, which, "all"]
            hidden = [k for k, v in line if v is None]
            if total is not None and len(hidden) == 1:
                recovered.append((sel, (dimension, hidden[0], which), total - sum(v for _k, v in line if v),
                                  "total − shown cells"))
    return recovered


def test_no_selection_gives_away_what_another_hides(world):
    small_groups_in_alpha(world)
    units = metrics.contract_units(world.contract)
    selections = every_selection(world, units)
    profiles = {(name, a, b): build_profile(world.contract, ids, a, b, units=units, now=NOW)
                for (name, a, b), ids in selections.items()}
    assert column(profiles["Nord", 2025, 2025], AGE_BAND, "questionnaires")["25_39"] == "s"  # Nord hides its 5
    assert attack(world, units, selections, profiles) == []
    # Not for want of figures: the larger selections still show most of theirs.
    contract = published(profiles["contract", 2024, 2030])
    assert contract["total", None, "questionnaires"] == 130 and contract["total", None, "tables"] == 80
    assert (contract[AGE_BAND, "25_39", "questionnaires"], contract[AGE_BAND, "60_74", "questionnaires"]) == (55, 75)
    assert published(profiles["contract", 2026, 2026])[GENDER, "woman", "tables"] == 40
    # The 7 men of Centre in 2025 are hidden, and so are the women (40 − 7) wherever 2025 is counted.
    assert published(profiles["Centre", 2025, 2026])[GENDER, "man", "tables"] is None


def test_protected_cubes_are_remembered_by_their_data_and_never_go_stale(world):
    from participation.governance import profile as profile_module

    everyone_in_nord(world)
    first = build_profile(world.contract, now=NOW)
    remembered = dict(profile_module._CUBES)
    again = build_profile(world.contract, now=NOW)
    assert again == first
    assert all(profile_module._CUBES[k] is cube for k, cube in remembered.items()), "the same data: the same cubes"
    # More data: new keys, new figures (a remembered cube is never served for other counts).
    meeting = make_meeting(make_table(world, world.n1), datetime(2025, 9, 1, 18))
    checkins(meeting, 11, age_band=AgeBand.a25_39, channel=Channel.web)
    more = build_profile(world.contract, now=NOW)
    j = ORDER.index("tables")
    assert more.participations.cells[j].value == first.participations.cells[j].value + 11
    assert raw_column(more, AGE_BAND, "tables")[AgeBand.a25_39.value] == (
        raw_column(first, AGE_BAND, "tables")[AgeBand.a25_39.value] + 11)
    # What is remembered is what protecting afresh gives.
    profile_module._CUBES.clear()
    assert build_profile(world.contract, now=NOW) == more
