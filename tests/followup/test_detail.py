"""The public page of one demand: the demand, the answer, the dates and the steps, never a staff name."""
from __future__ import annotations

import sqlalchemy as sa

from participation.core.users import User
from participation.extensions import db
from participation.followup.models import Status

from .conftest import days_ago, make_demand, sent


def staff(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def test_draft_is_not_public(client, world):
    item = make_demand(world.amp, "Brouillon", qpv="QN01322M")
    db.session.commit()
    assert client.get(f"/follow-up/{item.id}").status_code == 404


def test_unknown_demand_is_404(client, world):
    assert client.get("/follow-up/999999").status_code == 404


def test_answered_demand_shows_answer_dates_and_steps(client, world):
    item = make_demand(world.amp, "Réparer l'éclairage", qpv="QN01322M", user=staff("animatrice@amp.demo"), steps=(
        sent(30),
        (Status.answered, days_ago(10), {"answer": "Les lampadaires seront changés.", "action_due_on": days_ago(-20),
                                         "note": "Réponse reçue par courrier."}),
    ))
    db.session.commit()
    html = client.get(f"/follow-up/{item.id}?lang=en").get_data(as_text=True)
    assert "Réparer l&#39;éclairage" in html and "CAF" in html
    assert "Les lampadaires seront changés." in html
    for label in ("Sent on", "Answer expected by", "Answered on", "Action promised by"):
        assert label in html
    assert f'datetime="{days_ago(30).isoformat()}"' in html and f'datetime="{days_ago(10).isoformat()}"' in html
    assert "Answered after" in html and "20 days" in html
    assert "Réponse reçue par courrier." in html
    assert "Sent, awaiting an answer → Answer received" in html
    assert "Claire Martin" not in html


def test_unanswered_overdue_demand_says_so(client, world):
    item = make_demand(world.amp, "Sans réponse", qpv="QN01322M", steps=(sent(90, due_in=30),))
    db.session.commit()
    html = client.get(f"/follow-up/{item.id}?lang=en").get_data(as_text=True)
    assert "Overdue" in html and "The answer was expected by" in html
    assert "The institution has not answered yet." in html
