"""The follow-up of selected projects shows on the neighbourhood's page."""
from datetime import date

import sqlalchemy as sa

from participation.budgets import services
from participation.budgets.demo import VOTE_TITLE, demo_codes
from participation.budgets.models import Milestone, MilestoneStatus, Phase, Process, Proposal
from participation.core.territories import Neighbourhood
from participation.extensions import db


def test_selected_project_and_its_latest_step_show_on_the_neighbourhood_page(client, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id, number=1))
    proposal.neighbourhood_id = frais_vallon.id
    services.cast_vote(process, voter=f"code:{demo_codes(process)[0]}", choices={proposal.id: 1}, nonce="nonce-for-this-test-0001")
    services.move_phase(process, Phase.results)
    services.move_phase(process, Phase.implementation)
    db.session.add(Milestone(proposal_id=proposal.id, happened_on=date(2026, 10, 1), status=MilestoneStatus.in_progress,
                             text="Commande des bancs passée."))
    db.session.commit()
    assert db.session.get(Proposal, proposal.id).is_selected
    html = client.get("/q/QN01322M?lang=en").get_data(as_text=True)
    assert "Project selected by the vote" in html and "Des bancs et de l&#39;ombre au parc" in html
    assert "In progress (2026-10-01)" in html
    detail = client.get(f"/b/{process.id}/p/1?lang=en").get_data(as_text=True)
    assert "Commande des bancs passée." in detail
