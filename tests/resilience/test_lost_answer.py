"""A vote recorded, then its answer lost (the worker killed between the commit and the answer,
the phone's connection cut): the browser sends the same form again and keeps none of what the
lost answer set. The vote counts once, in both voting modes. bench/resilience_vote_kill.py
does this for real, with kill -9 on gunicorn workers in a burst of voters."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.budgets.demo import VOTE_TITLE, demo_codes
from participation.budgets.models import Ballot, Process, VoteMode, VoteRecord
from participation.extensions import db

from ..conftest import count, csrf_from


def _send_twice_losing_the_first_answer(client, process_id: int) -> tuple:
    page = client.get(f"/b/{process_id}/vote").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "nonce": re.search(r'name="nonce"[^>]*value="([^"]+)"', page).group(1),
            "e-age_ok": "y", "e-resident": "y", re.findall(r'type="checkbox" id="(p\d+)"', page)[0]: "1"}
    cookies_before = {c.key: c.value for c in client._cookies.values()}
    first = client.post(f"/b/{process_id}/vote", data=form)
    # The answer never arrived: the browser still has the cookies it had before sending.
    for cookie in list(client._cookies.values()):
        client.delete_cookie(cookie.key, domain=cookie.domain, path=cookie.path)
    for key, value in cookies_before.items():
        client.set_cookie(key, value)
    second = client.post(f"/b/{process_id}/vote?lang=en", data=form)
    return first, second


@pytest.mark.parametrize("mode", [VoteMode.codes, VoteMode.open])
def test_a_vote_sent_again_after_its_answer_was_lost_counts_once(client, demo, mode):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    process.vote_mode = mode
    db.session.commit()
    if mode == VoteMode.codes:
        assert client.get(f"/v/{demo_codes(process)[0]}").status_code == 302
    first, second = _send_twice_losing_the_first_answer(client, process.id)
    assert first.status_code == 302 and second.status_code == 302
    assert "already recorded" in client.get(f"/b/{process.id}/voted?lang=en").get_data(as_text=True)
    assert count(Ballot) == 1 and count(VoteRecord) == 1
