"""Results of one questionnaire question over a large number of stored answers, on PostgreSQL.

Builds a fresh PostgreSQL database (migrations + demo data), then adds N synthetic responses
to the demo barometer (one answer each to Q1, a 5-point scale with "don't know", plus one to
Q3, a multiple choice, for realism), spread over the contract's neighbourhoods, channels,
languages and two years, with `INSERT … SELECT generate_series` (fast, all in SQL). Then it
times the results the back office computes, each call a fresh query (no cache):

- Q1 counts per option, no filter;
- Q1 counts grouped by neighbourhood (the neighbourhood comparison);
- Q1 grouped by neighbourhood, filtered on one channel and one year;
- the whole results page of the questionnaire (every question), through the test client.

Usage:
    .venv/bin/python bench/questionnaire_results.py [answers=1000000] [repeats=7]
    (TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test names the server)
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

os.environ.setdefault("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

from tests.conftest import make_app  # noqa: E402
from tests.dbutil import fresh_database  # noqa: E402


def populate(n: int) -> tuple[int, int]:
    from participation.extensions import db
    from participation.questionnaires.models import Question, Questionnaire
    from participation.questionnaires.demo import BAROMETER_TITLE

    q = db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))
    version = q.current_version
    q1 = db.session.scalar(sa.select(Question).filter_by(version_id=version.id, code="Q1"))
    q3 = db.session.scalar(sa.select(Question).filter_by(version_id=version.id, code="Q3"))
    params = {"qid": q.id, "vid": version.id, "n": n, "q1": q1.id, "q3": q3.id,
              "contract": q.contract_id}
    # Neighbourhoods of the contract, options of Q1 / Q3 as arrays indexed by random numbers.
    db.session.execute(sa.text("""
        CREATE TEMP TABLE bench_rows AS
        SELECT i,
               md5(i::text || random()::text) AS rid,
               (SELECT array_agg(n.id ORDER BY n.id) FROM neighbourhoods n JOIN communes c ON c.id = n.commune_id
                 WHERE c.contract_id = :contract) AS nbs,
               floor(random() * 1000)::int AS r1, floor(random() * 1000)::int AS r2,
               floor(random() * 1000)::int AS r3, floor(random() * 730)::int AS d
        FROM generate_series(1, :n) AS i
    """), params)
    db.session.execute(sa.text("""
        CREATE TEMP TABLE bench_resp AS
        SELECT rid, nbs[1 + (r1 % array_length(nbs, 1))] AS nb,
               (ARRAY['web','web','web','assisted','paper'])[1 + r2 % 5] AS channel,
               (ARRAY['fr','fr','fr','ar','tr','en'])[1 + r3 % 6] AS locale,
               DATE '2025-01-01' + d AS day, r1, r2, r3
        FROM bench_rows
    """))
    db.session.execute(sa.text("""
        INSERT INTO questionnaire_responses (id, questionnaire_id, version_id, channel, helped_read_aloud,
            helped_translated, helped_written_for, locale, submitted_on, neighbourhood_id)
        SELECT rid, :qid, :vid, channel, false, false, false, locale, day, nb FROM bench_resp
    """), params)
    db.session.execute(sa.text("""
        INSERT INTO questionnaire_answers (response_id, question_id, option_id, featured, neighbourhood_id,
            channel, locale, submitted_on)
        SELECT b.rid, :q1, (SELECT array_agg(o.id ORDER BY o.position) FROM questionnaire_options o
                            WHERE o.question_id = :q1)[1 + (b.r1 * 7 + b.r3) % 6],
               false, b.nb, b.channel, b.locale, b.day
        FROM bench_resp b
    """), params)
    db.session.execute(sa.text("""
        INSERT INTO questionnaire_answers (response_id, question_id, option_id, featured, neighbourhood_id,
            channel, locale, submitted_on)
        SELECT b.rid, :q3, (SELECT array_agg(o.id ORDER BY o.position) FROM questionnaire_options o
                            WHERE o.question_id = :q3 AND NOT o.is_other)[1 + (b.r2 * 3 + b.r1) % 5],
               false, b.nb, b.channel, b.locale, b.day
        FROM bench_resp b
    """), params)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return q.id, q1.id


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(label: str, ms: list[float]) -> str:
    return f"{label:<58} p50 {statistics.median(ms):8.1f} ms   max {max(ms):8.1f} ms"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    from participation.core import demo
    from participation.extensions import db
    from participation.questionnaires import results
    from participation.questionnaires.models import Question
    from participation.core.channels import Channel

    with fresh_database("bench") as url:
        app = make_app(url)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            demo.load()
            db.session.commit()
            start = time.perf_counter()
            qid, q1_id = populate(n)
            print(f"populated {n:,} responses ({2 * n:,} answers + demo) in {time.perf_counter() - start:.1f} s")
            total = db.session.scalar(sa.text("SELECT count(*) FROM questionnaire_answers"))
            print(f"answers stored: {total:,}; PostgreSQL {db.session.scalar(sa.text('SHOW server_version'))}")
            question = db.session.get(Question, q1_id)

            def run(**kw):
                def call():
                    db.session.expire_all()
                    return results.option_counts(question, results.Filters(**kw.get("filters", {})), by=kw.get("by"))
                return call

            print(line("Q1 counts per option (all answers)", timed(run(), repeats)))
            print(line("Q1 by neighbourhood (comparison)", timed(run(by="neighbourhood"), repeats)))
            one_year = {"channel": Channel.web, "date_from": date(2025, 1, 1), "date_to": date(2025, 12, 31)}
            print(line("Q1 by neighbourhood, web channel, year 2025", timed(run(by="neighbourhood", filters=one_year), repeats)))
            client = app.test_client()
            from tests.conftest import Auth

            Auth(client).login("evaluation@amp.demo")
            page = timed(lambda: client.get(f"/admin/questionnaires/{qid}/results"), max(3, repeats // 2))
            print(line("whole results page (10 questions, HTTP in-process)", page))
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
