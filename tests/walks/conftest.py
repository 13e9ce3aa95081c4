"""Fixtures of the walks tests."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.extensions import db


@pytest.fixture
def without_demo_walks(demo):
    """The demo without its walks (and their recommendations), for tests that count or list
    every walk of a contract and build their own."""
    from participation.followup.models import FollowUp, Kind
    from participation.walks.models import Walk

    for model, where in ((Walk, Walk.follows_id.isnot(None)), (Walk, sa.true()),
                         (FollowUp, FollowUp.kind == Kind.recommendation)):
        for obj in db.session.scalars(sa.select(model).where(where)):
            db.session.delete(obj)
        db.session.flush()
    db.session.commit()
    return demo
