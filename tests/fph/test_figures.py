"""FPH figures: money by source and défi, flows by period and scope, disclosure for evaluators."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.disclosure import Cell
from participation.core.territories import Commune, Contract, Neighbourhood, Scope
from participation.extensions import db
from participation.fph import demo as fph_demo
from participation.fph import figures
from participation.fph.figures import CategoryRow, FundFigures, Period
from participation.fph.models import Fund, SourceKind

TODAY = date(2026, 11, 23)


@pytest.fixture
def fund(app, demo):
    by_slug = {c.slug: c for c in db.session.scalars(sa.select(Contract))}
    fph_demo.load({"amp": by_slug["aix-marseille-provence"], "narbonne": by_slug["grand-narbonne"]})
    db.session.commit()
    return db.session.scalar(sa.select(Fund).filter_by(name=fph_demo.FUND_NAME))


def test_money_by_source_kind(fund):
    f = figures.compute(fund.scope, Period.year(2026), today=TODAY)
    assert f.funds == 1 and f.envelope == 10000
    assert f.sources == {SourceKind.state: 6000, SourceKind.commune: 3000, SourceKind.tfpb: 1000}


def test_granted_paid_and_projects_funded(fund):
    f = figures.compute(fund.scope, Period.year(2026), today=TODAY)
    assert (f.granted, f.granted_projects) == (2000, 2)
    assert (f.paid, f.paid_projects) == (1200, 1)


def test_granted_by_defi_including_not_classified(fund):
    tricot = next(a for a in fund.applications if a.category_id is None)
    fete = next(a for a in fund.applications if a.title.startswith("Fête"))
    fete.category_id = None  # the party is not classified any more
    db.session.flush()
    rows = {r.code: (r.projects, r.amount) for r in figures.compute(fund.scope, Period.year(2026), today=TODAY).by_category}
    assert rows == {"": (1, 1200), "O5.3": (1, 800)}
    assert tricot.status.value == "submitted"  # not granted: not counted


def test_applications_received_eligible_refused_and_assisted(fund):
    f = figures.compute(fund.scope, Period.year(2026), today=TODAY)
    assert (f.received, f.eligible, f.refused, f.ineligible, f.assisted) == (5, 4, 1, 0, 1)
    assert f.assisted_share == pytest.approx(20.0)


def test_residents_involved_and_overdue_bilans(fund):
    f = figures.compute(fund.scope, Period.year(2026), today=TODAY)
    # The cooking workshop ended on 30 June: its bilan was due on 29 August.
    assert (f.residents_involved, f.bilans, f.overdue_bilans) == (180, 1, 1)
    assert figures.compute(fund.scope, Period.year(2026), today=date(2026, 8, 1)).overdue_bilans == 0


def test_period_counts_flows_by_their_day(fund):
    f = figures.compute(fund.scope, Period(date(2026, 1, 1), date(2026, 2, 28)), today=TODAY)
    assert f.received == 3 and f.granted == 0 and f.paid == 0 and f.envelope == 10000


def test_scopes_commune_neighbourhood_and_elsewhere(fund):
    marseille = db.session.get(Commune, fund.commune_id)
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    narbonne = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    assert figures.compute(marseille.scope, Period.year(2026), today=TODAY).granted == 2000
    assert figures.compute(Scope(fund.contract_id), Period.year(2026), today=TODAY).granted == 2000
    assert figures.compute(frais_vallon.scope, Period.year(2026), today=TODAY).funds == 0
    assert figures.compute(frais_vallon.scope, Period.year(2026), today=TODAY).granted == 0
    assert figures.compute(Scope(narbonne.id), Period.year(2026), today=TODAY).received == 0


def test_other_years_are_not_counted(fund):
    f = figures.compute(fund.scope, Period.year(2025), today=TODAY)
    assert f.funds == 0 and f.received == 0 and f.granted == 0


# --- disclosure --------------------------------------------------------------------------------


def test_amounts_about_fewer_than_three_projects_are_hidden_from_evaluators(fund):
    shown = figures.for_evaluators(figures.compute(fund.scope, Period.year(2026), today=TODAY))
    assert shown.granted is None and shown.paid is None
    assert all(r.amount is None for r in shown.by_category)
    assert shown.envelope == 10000 and shown.sources[SourceKind.state] == 6000  # not about recipients


def test_three_projects_show_the_amount():
    raw = FundFigures(granted=3000, granted_projects=3, paid=900, paid_projects=3)
    shown = figures.for_evaluators(raw)
    assert (shown.granted, shown.paid) == (3000, 900)


def test_one_hidden_defi_hides_another_so_the_total_tells_nothing():
    rows = [CategoryRow(1, "D1", "a", 5, 5000), CategoryRow(2, "D2", "b", 4, 3000), CategoryRow(3, "D3", "c", 1, 700)]
    shown = figures.for_evaluators(FundFigures(granted=8700, granted_projects=10, by_category=rows))
    amounts = {r.code: r.amount for r in shown.by_category}
    assert amounts == {"D1": 5000, "D2": None, "D3": None}


def test_residents_involved_below_eleven_are_suppressed():
    assert str(figures.for_evaluators(FundFigures(residents_involved=7)).residents_involved) == "s"
    assert figures.for_evaluators(FundFigures(residents_involved=180)).residents_involved == Cell(180)
    assert figures.for_evaluators(FundFigures(residents_involved=0)).residents_involved == Cell(0)


def test_figures_page_hides_small_amounts_from_the_evaluator(client, auth, fund):
    client.get("/?lang=en")
    auth.login("evaluation@amp.demo")
    html = client.get(f"/admin/fph/{fund.id}/figures").get_data(as_text=True)
    assert "hidden: fewer than 3 projects" in html and "2,000" not in html
    assert "10,000" in html and "<svg" in html


def test_figures_page_shows_the_manager_the_raw_amounts(client, auth, fund):
    client.get("/?lang=en")
    auth.login("animatrice@amp.demo")
    html = client.get(f"/admin/fph/{fund.id}/figures").get_data(as_text=True)
    assert "2,000" in html and "1,200" in html and "Not classified" not in html
