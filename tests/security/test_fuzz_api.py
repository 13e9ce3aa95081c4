"""The JSON endpoints and every page that reads its query string, fuzzed with hypothesis.

- The field-mode sync API (POST /field/api/submissions, PUT /field/api/photos/…): any JSON, and
  submissions shaped like the outbox's (every registered kind, real target ids, fields holding
  anything), with the CSRF header the outbox sends; and raw bytes for the photo upload.
- The governance API (/api/v1/…): any query string with a valid bearer token, and any method on
  any path under it.
- Every GET route whose view module reads `request.args`, for a user allowed to open it: the
  parameter names it reads, holding anything.

Properties: never a 5xx; a refusal (4xx) writes nothing; a GET writes nothing (but for the few
routes that count a visit, listed in GET_WRITES); the APIs answer in JSON."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from participation.extensions import db

from ..core import test_access_matrix as matrix
from .harness import (_NASTY, _TEXT, EXAMPLES, WriteRecorder, fuzz_settings, login, pick_user, query_names,
                      value_strategy)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False) | _TEXT | _NASTY,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=20,
)
CLIENT_ID = st.one_of(st.uuids().map(str), st.from_regex(r"[a-z0-9-]{1,80}", fullmatch=True), _TEXT)


def _field_items(world):
    from participation.field import registry

    kinds = sorted(a.kind for a in registry.adapters())
    versions = {a.kind: a.form_version for a in registry.adapters()}
    ids = st.sampled_from(sorted({v for k, v in world.items() if isinstance(v, int)}) or [1])
    target = st.dictionaries(st.sampled_from(["walk_id", "questionnaire_id", "process_id", "meeting_id", "table_id",
                                              "fund_id", "version", "id"]),
                             st.one_of(ids, st.integers(-5, 2 ** 40), _TEXT), max_size=3)
    field_names = st.sampled_from(["theme", "rating", "seen", "quote", "address", "waypoint", "lat", "lon", "accuracy",
                                   "location_source", "caption", "title", "description", "category", "version",
                                   "channel", "collected_on", "count", "name", "mode"])
    pair = st.tuples(st.one_of(field_names, _TEXT), value_strategy(None)).map(list)
    photo = st.fixed_dictionaries({"slot": st.integers(-1, 40), "name": st.sampled_from(["photo", "x", ""]),
                                   "sha": st.one_of(st.just("0" * 64), st.text("0123456789abcdef", min_size=64,
                                                                               max_size=64), _TEXT)})
    return st.fixed_dictionaries(
        {"client_id": CLIENT_ID, "kind": st.sampled_from(kinds + ["nope"]), "target": target,
         "fields": st.lists(pair, max_size=12), "photos": st.lists(photo, max_size=2)},
        optional={"form_version": st.one_of(st.sampled_from(sorted(set(versions.values()))), st.integers(-2, 2 ** 40),
                                            _TEXT),
                  "locale": st.sampled_from(["fr", "en", "ar", "xx", ""]), "created_at": st.one_of(_TEXT, _NASTY,
                                                                                                   st.just("2026-11-23T09:15:00Z"))},
    ).map(lambda d: {**d, "form_version": d.get("form_version", versions.get(d["kind"], 1))})


def _check(resp, writes, what, allow_writes=False):
    assert resp.status_code < 500, what
    written = writes.take()
    if resp.status_code >= 400 or not allow_writes:
        assert not written, f"{resp.status_code}, yet wrote to {written}: {what}"


def test_field_submissions(app, world):
    client, _ = login(app, "med")
    token = client.get("/field/api/config").get_json()["csrf_token"]
    with WriteRecorder(db.engine) as writes:
        @fuzz_settings(EXAMPLES * 4)
        @given(body=st.one_of(_field_items(world), _field_items(world), JSON))
        def check(body):
            resp = client.post("/field/api/submissions", json=body, headers={"X-CSRFToken": token})
            _check(resp, writes, f"POST /field/api/submissions {body!r} -> {resp.status_code}", allow_writes=True)
            assert resp.is_json, resp.status_code

        check()


def test_field_submission_bodies_that_are_not_json(app, world):
    client, _ = login(app, "med")
    token = client.get("/field/api/config").get_json()["csrf_token"]
    with WriteRecorder(db.engine) as writes:
        @fuzz_settings(EXAMPLES)
        @given(raw=st.one_of(st.binary(max_size=200), st.just(b"[" * 50_000), st.just(b'{"a":' * 20_000)),
               ctype=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
        def check(raw, ctype):
            resp = client.post("/field/api/submissions", data=raw, headers={"X-CSRFToken": token, "Content-Type": ctype})
            _check(resp, writes, f"POST /field/api/submissions {raw[:80]!r} {ctype} -> {resp.status_code}")
            assert resp.status_code >= 400

        check()


def test_field_photo_uploads(app, world):
    client, _ = login(app, "med")
    token = client.get("/field/api/config").get_json()["csrf_token"]
    with WriteRecorder(db.engine) as writes:
        @fuzz_settings(EXAMPLES * 2)
        @given(client_id=CLIENT_ID, slot=st.integers(0, 2 ** 40), raw=st.binary(max_size=300),
               sha=st.one_of(st.none(), _TEXT, st.text("0123456789abcdef", min_size=64, max_size=64)))
        def check(client_id, slot, raw, sha):
            header = hashlib.sha256(raw).hexdigest() if sha is None else sha
            url = f"/field/api/photos/{quote(client_id, safe='')}/{slot}"
            try:
                header.encode("latin-1")
            except UnicodeEncodeError:
                header = header.encode("utf-8").decode("latin-1")
            resp = client.put(url, data=raw, headers={"X-Photo-SHA256": header, "X-CSRFToken": token,
                                                      "Content-Type": "image/jpeg"})
            _check(resp, writes, f"PUT {url} {raw[:40]!r} sha={header[:70]!r} -> {resp.status_code}", allow_writes=True)

        check()


@pytest.fixture
def api_token(app, world):
    from participation.core.territories import Contract
    from participation.core.users import User
    from participation.governance import tokens

    eva = db.session.scalar(sa.select(User).filter_by(email=matrix.EMAILS["eva"]))
    amp = db.session.get(Contract, world["amp"])
    _row, raw = tokens.issue(eva, amp, "Fuzz")
    db.session.commit()
    return raw


API_PATHS = ["/api/v1/contracts/aix-marseille-provence", "/api/v1/contracts/aix-marseille-provence/figures",
             "/api/v1/contracts/aix-marseille-provence/verbatims", "/api/v1/openapi.json"]
API_ARGS = ["commune", "neighbourhood", "from", "to", "category", "lang", "page", "per_page", "limit", "cursor",
            "format", "status"]


def _query(names):
    pair = st.tuples(st.sampled_from(names) if names else _TEXT, st.one_of(value_strategy(None), _NASTY))
    return st.lists(pair, max_size=5)


def test_governance_api(app, api_token):
    client = app.test_client()
    with WriteRecorder(db.engine) as writes:
        @fuzz_settings(EXAMPLES * 2)
        @given(path=st.sampled_from(API_PATHS), query=_query(API_ARGS),
               auth=st.sampled_from(["ok", "ok", "ok", "none", "junk"]))
        def check(path, query, auth):
            headers = {"Authorization": {"ok": f"Bearer {api_token}", "none": "", "junk": "Bearer x"}[auth]}
            resp = client.get(path, query_string=query, headers=headers)
            # A token's last use is recorded: the only write a read makes.
            assert resp.status_code < 500, f"GET {path} {query!r} -> {resp.status_code}"
            assert set(writes.take()) <= {"governance_api_tokens"}
            assert resp.is_json, f"GET {path} {query!r}: {resp.mimetype}"

        check()


def test_governance_api_unknown_paths_and_methods(app, api_token):
    client = app.test_client()
    with WriteRecorder(db.engine) as writes:
        @fuzz_settings(EXAMPLES)
        @given(rest=_TEXT, method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]), body=JSON)
        def check(rest, method, body):
            url = "/api/v1/" + quote(rest, safe="/")
            resp = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {api_token}"})
            _check(resp, writes, f"{method} {url} -> {resp.status_code}")

        check()


#: GET routes that write by design, and what.
GET_WRITES = {
    "links.follow": {"short_links", "link_visits"},  # counts the visit of a poster's QR code
}
#: Any GET may leave an audit trail (who read which personal data: participation/core/audit.py).
AUDIT = {"audit_events"}


def _get_targets():
    app = matrix.create_app(matrix.TestConfig)
    out = []
    for endpoint in matrix.ENDPOINTS:
        names = query_names(app.view_functions[endpoint])
        cases = [c for c in matrix.EXPECTED.get(endpoint, []) if c[1] == "GET"]
        if not names or not cases:
            continue
        cases.sort(key=lambda c: (not (c[0] == "-" or c[0].startswith("own")), c[0]))
        label, _m, build, allowed = cases[0]
        who = pick_user(allowed)
        if who:
            out.append(pytest.param(endpoint, build, who, names, id=f"{endpoint}-{who}"))
    return out


GET_TARGETS = _get_targets()


def test_pages_with_query_parameters_are_found():
    assert len(GET_TARGETS) >= 20, [p.id for p in GET_TARGETS]


@pytest.mark.parametrize("endpoint,build,who,names", GET_TARGETS)
def test_fuzz_query_string(app, world, endpoint, build, who, names):
    url, _, fixed = build(world).partition("?")
    fixed = parse_qsl(fixed)
    client, _ = login(app, who)
    names = sorted(set(names) | {"lang", "page"})
    with WriteRecorder(db.engine) as writes:
        writes.take()

        @fuzz_settings(max(3, EXAMPLES // 2))
        @given(query=_query(names))
        def check(query):
            resp = client.get(url, query_string=fixed + query)
            assert resp.status_code < 500, f"as {who}: GET {url} {query!r} -> {resp.status_code}"
            written = set(writes.take()) - GET_WRITES.get(endpoint, set()) - AUDIT
            assert not written, f"GET {url} {query!r} wrote to {written}"

        check()
