"""Every route that takes a POST, PUT, PATCH or DELETE, fuzzed with hypothesis: as a user allowed
to reach it (the least privileged one), as a logged-in user who is not, and anonymously; with the
real field names of the form that posts there (harvested from the page that shows it), each field
missing, repeated, or holding anything (unicode, huge strings, numbers out of range, odd dates,
stray files), plus a valid CSRF token so that the view itself is reached.

Properties: never a 5xx; and when the request is refused (4xx, or the form sent back with an
error) no row of any table changed.

FUZZ_EXAMPLES (default 15) sets the examples per endpoint for the allowed user; the others get a
fifth of it. The examples are the same on every run (derandomized)."""
from __future__ import annotations

import pytest
import collections
import os

from hypothesis import given

from participation.extensions import db

from .harness import (EXAMPLES, WriteRecorder, body_strategy, describe, fuzz_settings, harvest, is_refusal, login,
                      pick_denied, pick_user, to_data, write_targets)

TARGETS = write_targets()
#: Routes fuzzed in test_fuzz_api.py with bodies of their own kind (JSON, raw photo bytes).
NOT_FORMS = {"field.api_submit", "field.api_photo"}


def _roles(t) -> list[tuple[str, str]]:
    """Anonymous and a logged-in outsider first (refused: nothing may change), then the allowed user."""
    roles = []
    if "anon" not in t.allowed:
        roles.append(("anon", "denied"))
    denied = pick_denied(t.allowed)
    if denied:
        roles.append((denied, "denied"))
    user = pick_user(t.allowed)
    if user:
        roles.append((user, "allowed"))
    return roles


PARAMS = [pytest.param(t, id=f"{t.endpoint}-{t.method}") for t in TARGETS if t.endpoint not in NOT_FORMS]


def test_every_write_route_is_fuzzed():
    """Each write method of each route has a URL and users from the access matrix."""
    missing = [f"{t.endpoint} {t.method}" for t in TARGETS if t.build is None]
    assert not missing, f"no access-matrix case, so no fuzz, for: {missing}"
    assert {(p.values[0].endpoint, p.values[0].method) for p in PARAMS} | {
        (t.endpoint, t.method) for t in TARGETS if t.endpoint in NOT_FORMS} == {(t.endpoint, t.method) for t in TARGETS}
    assert len(TARGETS) > 100  # the url_map was read, not an empty app


@pytest.mark.parametrize("target", PARAMS)
def test_fuzz_form(app, world, target):
    if target.build is None:
        pytest.fail(f"{target.endpoint} has no access-matrix case: add one in its access_cases module")
    url = target.build(world)
    user = pick_user(target.allowed)
    # The real form's fields, as the allowed user sees it; the refused users send them too.
    fields = harvest(login(app, user)[0], user, url, world) if user else {}
    statuses = collections.Counter()
    with WriteRecorder(db.engine) as writes:
        for who, kind in _roles(target):
            client, token = login(app, who)
            writes.take()  # the login's own rows

            @fuzz_settings(EXAMPLES if kind == "allowed" else max(3, EXAMPLES // 5))
            @given(pairs=body_strategy(fields))
            def check(pairs):
                resp = client.open(url, method=target.method, data=to_data(pairs, token))
                what = f"as {who}: {describe(target.method, url, pairs, resp)}"
                statuses[(who, resp.status_code)] += 1
                assert resp.status_code < 500, what
                written = writes.take()
                if kind == "denied" or is_refusal(resp):
                    assert not written, f"refused, yet wrote to {written}: {what}"

            check()
    if os.environ.get("FUZZ_STATS"):  # how deep the examples went (run with -s)
        print(f"\nFUZZ {target.endpoint} {target.method} {sorted(statuses.items())}")
