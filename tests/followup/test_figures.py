"""Figures for governance: counted in SQL, per scope, period, kind and défi; median answer time."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.core.territories import Category, Scope
from participation.extensions import db
from participation.followup.figures import figures, median
from participation.followup.models import Kind, Status

from .conftest import TODAY, days_ago, make_demand, scope_of, sent


def answered(sent_days_ago: int, waited: int, **extra) -> tuple:
    return (sent(sent_days_ago), (Status.answered, days_ago(sent_days_ago - waited), {"answer": "Réponse.", **extra}))


def test_counts_by_status_and_overdue(world):
    c = world.nar
    make_demand(c, "Brouillon", qpv="QN01101M")
    make_demand(c, "En attente", qpv="QN01101M", steps=(sent(5),))
    make_demand(c, "En retard", qpv="QN01101M", steps=(sent(90, due_in=30),))
    make_demand(c, "Répondue", qpv="QN01101M", steps=answered(40, 10))
    make_demand(c, "Faite", qpv="QN01101M", steps=(*answered(40, 20), (Status.done, days_ago(5))))
    make_demand(c, "Refusée", qpv="QN01101M", steps=(sent(40), (Status.refused, days_ago(30), {"answer": "Non."})))
    db.session.commit()
    f = figures(Scope(c.id), today=TODAY)
    assert (f.raised, f.sent, f.answered, f.done, f.refused, f.overdue) == (5, 2, 3, 1, 1, 1)


def test_median_with_an_odd_count(world):
    for n, waited in enumerate((10, 3, 30)):
        make_demand(world.nar, f"D{n}", qpv="QN01101M", steps=answered(60, waited))
    db.session.commit()
    assert figures(Scope(world.nar.id)).median_answer_days == 10


def test_median_with_an_even_count(world):
    for n, waited in enumerate((10, 3, 30, 15)):
        make_demand(world.nar, f"D{n}", qpv="QN01101M", steps=answered(60, waited))
    db.session.commit()
    assert figures(Scope(world.nar.id)).median_answer_days == 12.5


def test_median_is_none_without_answers(world):
    make_demand(world.nar, "En attente", qpv="QN01101M", steps=(sent(5),))
    db.session.commit()
    f = figures(Scope(world.nar.id))
    assert f.raised == 1 and f.median_answer_days is None


def test_period_kind_scope_and_category(world):
    c = world.nar
    d1 = db.session.scalar(sa.select(Category).filter_by(contract_id=c.id, code="A1"))
    sub = d1.children[0] if d1.children else d1
    make_demand(c, "Ancienne", qpv="QN01101M", steps=(sent(400),))
    make_demand(c, "Récente", qpv="QN01101M", category_id=sub.id, steps=(sent(10),))
    make_demand(c, "Recommandation", qpv="QN01102M", kind=Kind.recommendation, steps=(sent(10),))
    make_demand(world.amp, "Ailleurs", qpv="QN01322M", steps=(sent(10),))
    db.session.commit()
    assert figures(Scope(c.id)).raised == 3
    assert figures(Scope(c.id), date_from=days_ago(30)).raised == 2
    assert figures(Scope(c.id), date_to=days_ago(30)).raised == 1
    assert figures(Scope(c.id), kind=Kind.recommendation).raised == 1
    assert figures(scope_of(c, qpv="QN01101M")).raised == 2
    assert figures(Scope(c.id), category_id=d1.id).raised == 1


@pytest.mark.parametrize("values,expected", [([], None), ([4], 4.0), ([1, 2], 1.5), ([1, 2, 9], 2.0), ([1, 2, 3, 10], 2.5)])
def test_median_helper(values, expected):
    assert median(values) == expected
