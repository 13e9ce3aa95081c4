"""Two officials key the same paper ballot at the same moment: it counts exactly once."""
import threading

import sqlalchemy as sa

from participation.budgets import paper, services
from participation.budgets.demo import VOTE_TITLE
from participation.budgets.models import Ballot, Channel, Process
from participation.core.users import User
from participation.extensions import db


def test_simultaneous_matching_entries_count_once(app, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    point = paper.add_polling_point(process, "Centre social", None, 1)
    token = point.tokens[0].token
    choice = {services.ballot_proposals(process)[0].id: 1}
    officials = [u.id for u in db.session.scalars(sa.select(User).where(User.email.in_(["admin@amp.demo", "animatrice@amp.demo"])))]
    db.session.commit()
    process_id = process.id
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def key(official_id):
        with app.app_context():
            try:
                proc = db.session.get(Process, process_id)
                official = db.session.get(User, official_id)
                barrier.wait()
                outcomes.append(paper.key_paper_ballot(proc, token, official, choice).state)
                db.session.commit()
            except Exception as e:  # reported below: the test must see any failure
                db.session.rollback()
                errors.append(repr(e))

    threads = [threading.Thread(target=key, args=(o,)) for o in officials]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # Each official is told either "waiting for a second entry" or "counted"; at least one
    # of them sees it counted (on SQLite both may), and the box holds it once.
    assert len(outcomes) == 2 and "counted" in outcomes and set(outcomes) <= {"counted", "first"}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.channel == Channel.paper)) == 1
