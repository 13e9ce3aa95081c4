"""The fragments other mechanisms include: a list of demands and one demand's timeline."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from participation.core.users import User
from participation.extensions import db
from participation.followup.models import Status

from .conftest import days_ago, make_demand, sent


def render_in(app, template: str, **context) -> str:
    # force_locale: the test's app context may already hold the locale the demo loading used.
    with app.test_request_context("/?lang=en"), force_locale("en"):
        return render_template(template, **context)


def test_list_fragment_shows_the_register_row_with_the_given_day(app, world):
    item = make_demand(world.amp, "Dans une autre page", qpv="QN01322M", steps=(sent(40, due_in=30),))
    db.session.commit()
    late = render_in(app, "followup/_list.html", items=[item], today=days_ago(0))
    assert "Dans une autre page" in late and "followup-item--overdue" in late and f"/follow-up/{item.id}" in late
    on_time = render_in(app, "followup/_list.html", items=[item], today=days_ago(15))
    assert "followup-item--overdue" not in on_time and "25 days" in on_time


def test_timeline_names_staff_only_when_asked(app, world):
    claire = db.session.scalar(sa.select(User).filter_by(email="animatrice@amp.demo"))
    item = make_demand(world.amp, "Avec des étapes", qpv="QN01322M", user=claire,
                       steps=(sent(10), (Status.answered, days_ago(2), {"answer": "Oui.", "note": "Reçu."})))
    db.session.commit()
    staff_view = render_in(app, "followup/_timeline.html", item=item, show_people=True)
    public_view = render_in(app, "followup/_timeline.html", item=item, show_people=False)
    assert "Claire Martin" in staff_view and "Reçu." in staff_view
    assert "Claire Martin" not in public_view and "Reçu." in public_view
