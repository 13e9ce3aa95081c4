"""What the audit log costs a staff member's POST: the same edits with the session hook on and off,
in one process (Flask test client, no network), on a fresh PostgreSQL database with the demo.

Two typical staff POSTs, each N times per setting, interleaved (on, off, on, off…) so that drift
of a shared machine hits both alike:
  - a référentiel entry renamed (one UPDATE, contract read from the row itself);
  - a budget comment hidden (one UPDATE, contract found three levels up: comment → proposal →
    process, the worst case of the resolver).
Prints the median and 90th percentile per request, and the SQL statements per request.

    .venv/bin/python bench/audit_overhead.py [N]
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import demo_database  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def main() -> None:
    import sqlalchemy as sa

    from config import TestConfig
    from participation import create_app
    from participation.extensions import db

    with demo_database() as (url, _env):
        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = url
            WTF_CSRF_ENABLED = False
            PASSWORD_HASH_METHOD = "scrypt:1024:8:1"

        app = create_app(Config)
        statements = {"n": 0}
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute",
                            lambda *a, **k: statements.__setitem__("n", statements["n"] + 1))
            from participation.budgets import services as budgets
            from participation.budgets.demo import VOTE_TITLE
            from participation.budgets.models import Process, Proposal
            from participation.core.territories import Category, Contract

            amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
            cat = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code="D1"))
            vote = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
            next(ph for ph in vote.phases if ph.phase == vote.phase).allows_comment = True
            proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=vote.id, number=1))
            comment = budgets.add_comment(proposal, "Bonne idée.", "Sami", "fr")
            db.session.commit()
            cat_form = {"kind": cat.kind.value, "parent": "", "code": cat.code, "description": cat.description or "",
                        "position": str(cat.position)}
            cat_id, vote_id, comment_id = cat.id, vote.id, comment.id

        client = app.test_client()
        resp = client.post("/login", data={"email": "animatrice@amp.demo", "password": "demo-participation-2026"})
        assert resp.status_code == 302, resp.status_code
        admin = app.test_client()
        assert admin.post("/login", data={"email": "admin@amp.demo", "password": "demo-participation-2026"}
                          ).status_code == 302

        journeys = {
            "rename a référentiel entry": lambda i: admin.post(
                f"/admin/categories/{cat_id}/edit", data={**cat_form, "name": f"Défi {i}"}),
            "hide / show a comment (3 levels)": lambda i: client.post(
                f"/admin/budgets/{vote_id}/comments/{comment_id}/moderate",
                data={f"c{comment_id}-hide": str(i % 2), f"c{comment_id}-reason": f"Motif {i}"}),
        }
        print(f"PostgreSQL, {N} requests per journey and setting (test client, one process)")
        for name, journey in journeys.items():
            times = {True: [], False: []}
            counts = {True: [], False: []}
            for i in range(2 * N + 20):
                on = i % 2 == 0
                app.config["AUDIT_LOG"] = on
                before = statements["n"]
                start = time.perf_counter()
                resp = journey(i)
                elapsed = time.perf_counter() - start
                assert resp.status_code == 302, (name, resp.status_code)
                if i >= 20:  # warm-up: caches, connection pool
                    times[on].append(elapsed * 1000)
                    counts[on].append(statements["n"] - before)
            for on in (False, True):
                t = sorted(times[on])
                print(f"  {name:34} audit {'on ' if on else 'off'}: median {statistics.median(t):6.2f} ms, "
                      f"p90 {t[int(len(t) * 0.9)]:6.2f} ms, SQL statements {statistics.median(counts[on]):.0f}")
            delta = statistics.median(times[True]) - statistics.median(times[False])
            print(f"  {name:34} overhead: {delta:+.2f} ms per request (median)")
        with app.app_context():
            logged = db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
            print(f"  audit rows written: {logged}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
