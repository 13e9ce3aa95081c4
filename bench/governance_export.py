"""Governance export of a full contract on PostgreSQL (issue 8: ≤ 5 s, every aggregate in SQL).

Builds a fresh PostgreSQL database (its own, dropped at the end) with the migrations, then one
contract of **66 neighbourhoods in 10 communes over 5 years** (the current year and the four
before), its référentiel (8 défis and orientations, 12 indicators: 4 computed from tagged
questions, 6 from other metrics, 2 entered by hand with values per neighbourhood and year, 100
published verbatims) and its participation:

- **1,000,000 questionnaire answers**: 5 yearly baromètres of 10 questions (5 scales, 3 single
  choices, yes / no, a number; 4 questions tagged with indicators), 100,000 responses × 10
  answers, with a declared neighbourhood (skewed: a few neighbourhoods answer much less),
  profile, channel and language;
- **100,000 ballots**: 10 participatory budgets (2 a year, one contract-wide and one per commune)
  of 30 ideas each, 100,000 vote records and 100,000 ballots of 3 choices;
- 76 tables de quartier, ~3,000 meetings, 40,000 check-ins and paper counts; 3,000 demands sent
  to 10 institutions; 50 FPH funds, 2,000 applications and their bilans; 600 walks and 6,000
  observations.

Skeleton rows (territories, référentiel, questionnaires, processes, tables, funds) go through
the models; the bulk rows are written by `INSERT … SELECT generate_series` in SQL (random values
drawn by PostgreSQL), so generating the million answers takes seconds.

Then it times, each step several times (median, and the peak resident memory of the process
during the step):

- `build_report` for the whole contract, without and with the participation profile, and each
  metric's query alone (to find a slow one);
- each export (csv, xlsx, zip, pdf) end to end, through the Flask test client, logged in as
  the contract's evaluator.

It prints figures and asserts nothing about time (see docs/performance.md).

Usage:
    .venv/bin/python bench/governance_export.py [responses=100000] [ballots=100000] [repeats=5]
    BENCH_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/govbench (an existing, possibly
    empty database) keeps the data between runs: built once, then reused.
    (TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test, names the server)
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

os.environ.setdefault("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

from tests.conftest import Auth, make_app  # noqa: E402
from tests.dbutil import fresh_database  # noqa: E402

PASSWORD = "bench-governance-2026"
EVALUATOR = "evaluation@bench.test"
COMMUNES = 10
NEIGHBOURHOODS = 66
YEARS = 5
QUESTIONS = 10
MEETINGS_PER_YEAR = 8
CHECKINS = 40_000
DEMANDS = 3_000
APPLICATIONS = 2_000
WALKS = 600
OBSERVATIONS = 6_000
PROPOSALS = 30


# --- memory and time --------------------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def peak_rss(out: list):
    """Appends the peak resident memory (MiB) of the process while the block runs (sampled)."""
    peak = [_rss_mib()]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mib())
            done.wait(0.005)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        out.append(max(peak[0], _rss_mib()))


def measure(fn, repeats: int) -> tuple[list[float], list[float], object]:
    seconds, memory, result = [], [], None
    for _ in range(repeats):
        start = time.perf_counter()
        with peak_rss(memory):
            result = fn()
        seconds.append(time.perf_counter() - start)
    return seconds, memory, result


def cold(fn):
    """`fn` with the participation profile's protected cubes forgotten first: what the first
    request after a change in the data, or in a fresh worker, costs. Without it, a repeat reuses
    the cubes of the run before (same data), as a worker does between the dashboard and the
    downloads ("warm")."""
    from participation.governance import profile

    def run():
        profile._CUBES.clear()
        return fn()
    return run


def line(label: str, seconds: list[float], memory: list[float] | None = None, extra: str = "") -> str:
    text = f"{label:<44} median {statistics.median(seconds):7.2f} s   min {min(seconds):6.2f}   max {max(seconds):6.2f}"
    if memory:
        text += f"   peak RSS {max(memory):6.0f} MiB"
    return text + (f"   {extra}" if extra else "")


@contextmanager
def sql_time(engine):
    """[seconds spent in the database, statements] while the block runs."""
    spent = [0.0, 0]

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_start"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        spent[0] += time.perf_counter() - conn.info.pop("bench_start", time.perf_counter())
        spent[1] += 1

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


@contextmanager
def step(label: str):
    start = time.perf_counter()
    yield
    print(f"  {label:<52} {time.perf_counter() - start:6.1f} s", flush=True)


# --- the skeleton (models) ----------------------------------------------------------------------


def skeleton(first_year: int) -> dict:
    """Contract, territories, référentiel, questionnaires, processes, tables, funds, evaluator."""
    from participation.budgets.models import Phase, Process, ProcessPhase
    from participation.core.territories import (
        Category, CategoryKind, Commune, Contract, Direction, Indicator, IndicatorSource, Neighbourhood,
    )
    from participation.core.users import Role, RoleGrant, User
    from participation.extensions import db
    from participation.followup.models import Institution, InstitutionKind
    from participation.fph.models import Fund, FundingSource, SourceKind
    from participation.governance.models import IndicatorValue, Verbatim, VerbatimOrigin, VerbatimStatus, scope_key
    from participation.questionnaires.models import (
        Kind, Option, Purpose, Question, Questionnaire, QuestionnaireVersion, ScaleStyle, Section, Status,
    )
    from participation.tables.models import NeighbourhoodTable

    last_year = first_year + YEARS - 1
    contract = Contract(slug="bench-66", name="Contrat de ville de référence (66 QPV)", region="Bench",
                        period_start=first_year, period_end=last_year)
    db.session.add(contract)
    db.session.flush()
    communes, hoods = [], []
    per_commune = [7] * 6 + [6] * 4  # 66 neighbourhoods
    for c in range(COMMUNES):
        commune = Commune(contract_id=contract.id, insee_code=f"99{c:03d}", name=f"Commune {c + 1:02d}")
        db.session.add(commune)
        db.session.flush()
        communes.append(commune)
        for k in range(per_commune[c]):
            n = Neighbourhood(commune_id=commune.id, qpv_code=f"QB{c:03d}{k:02d}M", name=f"Quartier {c + 1:02d}-{k + 1}",
                              population=1500 + 250 * ((c * 7 + k * 3) % 30))
            db.session.add(n)
            hoods.append(n)
    db.session.flush()
    assert len(hoods) == NEIGHBOURHOODS

    categories = {}
    for i, (code, kind, name) in enumerate([
        ("D1", CategoryKind.challenge, "Éducation et jeunesse"), ("D3", CategoryKind.challenge, "Tranquillité publique"),
        ("D4", CategoryKind.challenge, "Lutte contre les précarités"), ("D5", CategoryKind.challenge, "Proximité"),
        ("D9", CategoryKind.challenge, "Participation citoyenne"),
        ("O2", CategoryKind.orientation, "Habiter son quartier"), ("O3", CategoryKind.orientation, "Travailler"),
        ("O4", CategoryKind.orientation, "Accéder à ses droits"),
    ]):
        categories[code] = Category(contract_id=contract.id, kind=kind, code=code, name=name, position=i)
        db.session.add(categories[code])
    db.session.flush()

    def indicator(code, name, cat, unit, metric=None, options=None, baseline=None, target=None,
                  direction=Direction.up):
        ind = Indicator(contract_id=contract.id, code=code, name=name, category_id=categories[cat].id, unit=unit,
                        source=IndicatorSource.computed if metric else IndicatorSource.entered, metric=metric,
                        option_codes=options, direction=direction, baseline=baseline, baseline_year=first_year,
                        target=target, target_year=last_year)
        db.session.add(ind)
        return ind

    indicators = {
        "Q1": indicator("I-SAT", "Satisfaits du cadre de vie", "O2", "%", "questionnaires.share", ["4", "5"], 40, 55),
        "Q2": indicator("I-SECU", "En sécurité le soir", "D3", "%", "questionnaires.share", ["4", "5"], 30, 45),
        "Q3": indicator("I-MOY", "Note moyenne des services", "D5", "/5", "questionnaires.mean", None, 3, 3.5),
        "Q9": indicator("I-OUI", "Connaissent la table de quartier", "D9", "%", "questionnaires.share", ["yes"], 20, 50),
    }
    for code, name, cat, unit, metric in [
        ("I-TAB", "Participations aux tables", "D9", "participations", "tables.participations"),
        ("I-VOT", "Votants au budget participatif", "D9", "votants", "budgets.voters"),
        ("I-TURN", "Participation au vote du budget", "D9", "%", "budgets.turnout"),
        ("I-FPH", "Montant accordé (FPH)", "O4", "€", "fph.granted"),
        ("I-DEL", "Délai de réponse des institutions", "D5", "jours", "followup.answer_days"),
        ("I-MAR", "Participants aux marches", "D3", "participants", "walks.participants"),
    ]:
        indicator(code, name, cat, unit, metric, baseline=100, target=200)
    entered = [indicator("I-CHO", "Taux de chômage", "O3", "%", baseline=28, target=24, direction=Direction.down),
               indicator("I-PAU", "Taux de pauvreté", "D4", "%", baseline=45, target=40, direction=Direction.down)]
    db.session.flush()
    for ind in entered:
        for y in range(first_year, last_year + 1):
            db.session.add(IndicatorValue(indicator_id=ind.id, commune_id=None, neighbourhood_id=None,
                                          scope_key=scope_key(None, None), year=y, value=ind.baseline - 0.5 * (y - first_year),
                                          source_note=f"INSEE {y}"))
            for j, n in enumerate(hoods):
                db.session.add(IndicatorValue(indicator_id=ind.id, commune_id=n.commune_id, neighbourhood_id=n.id,
                                              scope_key=scope_key(n.commune_id, n.id), year=y,
                                              value=round(ind.baseline + (j % 11) - 0.5 * (y - first_year), 1),
                                              source_note=f"INSEE {y}"))
    every = list(indicators.values()) + entered
    for i in range(100):
        n = hoods[(i * 13) % len(hoods)]
        ind = every[i % len(every)]
        db.session.add(Verbatim(contract_id=contract.id, indicator_id=ind.id, category_id=ind.category_id,
                                commune_id=n.commune_id, neighbourhood_id=n.id, locale="fr",
                                year=first_year + i % YEARS, origin=VerbatimOrigin.questionnaire,
                                status=VerbatimStatus.published,
                                text=f"Paroles d'habitant n° {i + 1} : le quartier change, mais pas assez vite."))

    # one baromètre a year, 10 questions, 4 of them tagged
    questionnaires = []
    for y in range(YEARS):
        q = Questionnaire(contract_id=contract.id, title=f"Baromètre {first_year + y}", status=Status.closed,
                          purpose=Purpose.evaluation, ask_age_band=True, ask_gender=True, ask_residence=True)
        db.session.add(q)
        db.session.flush()
        version = QuestionnaireVersion(questionnaire_id=q.id, number=1)
        db.session.add(version)
        db.session.flush()
        section = Section(version_id=version.id, position=1, title="Votre quartier")
        db.session.add(section)
        db.session.flush()
        for pos in range(1, QUESTIONS + 1):
            code = f"Q{pos}"
            kind = Kind.scale if pos <= 5 else Kind.single if pos <= 8 else Kind.yes_no if pos == 9 else Kind.number
            ind = indicators.get(code)
            question = Question(version_id=version.id, section_id=section.id, position=pos, code=code, kind=kind,
                                text=f"Question {pos}", scale_style=ScaleStyle.likert if kind is Kind.scale else None,
                                allow_dont_know=kind is Kind.scale, indicator_id=ind.id if ind else None,
                                category_id=ind.category_id if ind else None)
            db.session.add(question)
            db.session.flush()
            if kind is Kind.scale:
                options = [(str(v), str(v), False) for v in range(1, 6)] + [("nsp", "Ne sait pas", True)]
            elif kind is Kind.single:
                options = [(c, f"Réponse {c}", False) for c in "abcd"]
            elif kind is Kind.yes_no:
                options = [("yes", "Oui", False), ("no", "Non", False)]
            else:
                options = []
            for p, (ocode, label, dont_know) in enumerate(options):
                db.session.add(Option(question_id=question.id, position=p, code=ocode, label=label,
                                      is_dont_know=dont_know))
        questionnaires.append((y, q.id, version.id))

    processes = []
    for y in range(YEARS):
        for c in (None, communes[y % COMMUNES], ):
            p = Process(contract_id=contract.id, commune_id=c.id if c else None,
                        title=f"Budget participatif {first_year + y}" + (f" — {c.name}" if c else ""),
                        envelope=500_000, phase=Phase.closed)
            db.session.add(p)
            db.session.flush()
            db.session.add(ProcessPhase(process_id=p.id, phase=Phase.vote, position=3,
                                        starts_on=date(first_year + y, 5, 1), ends_on=date(first_year + y, 5, 31),
                                        allows_vote=True))
            processes.append((p.id, first_year + y, c.id if c else None))

    for n in hoods:
        db.session.add(NeighbourhoodTable(contract_id=contract.id, commune_id=n.commune_id, neighbourhood_id=n.id,
                                          name=f"Table {n.name}"))
    for c in communes:
        db.session.add(NeighbourhoodTable(contract_id=contract.id, commune_id=c.id, name=f"Table {c.name}"))
    kinds = list(InstitutionKind)
    for i in range(10):
        db.session.add(Institution(contract_id=contract.id, name=f"Institution {i + 1}", kind=kinds[i % len(kinds)]))
    for c in communes:
        for y in range(YEARS):
            fund = Fund(contract_id=contract.id, commune_id=c.id, name=f"FPH {c.name} {first_year + y}",
                        year=first_year + y, envelope=60_000, ceiling=5_000)
            db.session.add(fund)
            db.session.flush()
            db.session.add(FundingSource(fund_id=fund.id, kind=SourceKind.state, amount=30_000))
            db.session.add(FundingSource(fund_id=fund.id, kind=SourceKind.commune, amount=30_000))

    user = User(email=EVALUATOR, name="Évaluatrice du contrat")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    grant = RoleGrant(user_id=user.id, role=Role.evaluator, contract_id=contract.id)
    grant.scope_key = RoleGrant.key_for(contract.scope)
    db.session.add(grant)
    db.session.commit()
    return {"contract": contract.id, "first_year": first_year, "questionnaires": questionnaires,
            "processes": processes}


# --- the bulk (SQL) -----------------------------------------------------------------------------

#: Random picks used below: a neighbourhood of the contract, skewed so that a few answer little.
SKEWED_HOOD = "(SELECT ids FROM b_nb)[1 + floor(66 * power(random(), 1.7))::int]"
AGE = "(ARRAY[NULL,'under_18','a18_24','a25_39','a25_39','a40_59','a40_59','a60_74','a75_plus'])[1 + floor(random() * 9)::int]"
GENDER = "(ARRAY[NULL,'woman','woman','man','man','other'])[1 + floor(random() * 6)::int]"
CHANNEL = "(ARRAY['web','web','web','web','web','web','web','assisted','assisted','paper'])[1 + floor(random() * 10)::int]"
LOCALE = "(ARRAY['fr','fr','fr','fr','fr','fr','ar','ar','tr','en'])[1 + floor(random() * 10)::int]"


def bulk(ctx: dict, responses: int, ballots: int) -> None:
    from participation.extensions import db

    def run(sql: str, **params):
        db.session.execute(sa.text(sql), {"cid": ctx["contract"], "y0": ctx["first_year"], **params})

    run("""CREATE TEMP TABLE b_nb AS
           SELECT array_agg(n.id ORDER BY n.id) AS ids, array_agg(n.commune_id ORDER BY n.id) AS cids
           FROM neighbourhoods n JOIN communes c ON c.id = n.commune_id WHERE c.contract_id = :cid""")
    run("""CREATE TEMP TABLE b_nb_of_commune AS
           SELECT n.commune_id AS cid, array_agg(n.id ORDER BY n.id) AS ids
           FROM neighbourhoods n JOIN communes c ON c.id = n.commune_id WHERE c.contract_id = :cid
           GROUP BY n.commune_id""")
    run("""CREATE TEMP TABLE b_cat AS SELECT array_agg(id ORDER BY id) AS ids FROM categories WHERE contract_id = :cid""")

    with step(f"questionnaires: {responses:,} responses × {QUESTIONS} answers"):
        run("CREATE TEMP TABLE b_q (y int, qid int, vid int)")
        for y, qid, vid in ctx["questionnaires"]:
            run("INSERT INTO b_q VALUES (:y, :q, :v)", y=y, q=qid, v=vid)
        run("""CREATE TEMP TABLE b_qq AS
               SELECT b.y, qq.id AS question_id,
                      (SELECT array_agg(o.id ORDER BY o.position) FROM questionnaire_options o
                        WHERE o.question_id = qq.id) AS opts
               FROM b_q b JOIN questionnaire_questions qq ON qq.version_id = b.vid""")
        run(f"""CREATE TEMP TABLE b_resp AS
               SELECT md5('resp' || i || random()::text) AS id, i % {YEARS} AS y,
                      CASE WHEN random() < 0.05 THEN NULL ELSE {SKEWED_HOOD} END AS nb,
                      {CHANNEL} AS channel, {LOCALE} AS locale, {AGE} AS age_band, {GENDER} AS gender,
                      LEAST(make_date(:y0 + i % {YEARS}, 1, 1) + floor(random() * 365)::int, CURRENT_DATE) AS day
               FROM generate_series(1, :n) AS i""", n=responses)
        run("""INSERT INTO questionnaire_responses (id, questionnaire_id, version_id, channel, helped_read_aloud,
                   helped_translated, helped_written_for, locale, submitted_on, neighbourhood_id, age_band, gender)
               SELECT r.id, b.qid, b.vid, r.channel, false, false, false, r.locale, r.day, r.nb, r.age_band, r.gender
               FROM b_resp r JOIN b_q b ON b.y = r.y""")
        run("""INSERT INTO questionnaire_answers (response_id, question_id, option_id, number, featured,
                   neighbourhood_id, channel, locale, submitted_on)
               SELECT r.id, qq.question_id,
                      CASE WHEN qq.opts IS NULL THEN NULL
                           ELSE qq.opts[1 + floor(random() * array_length(qq.opts, 1))::int] END,
                      CASE WHEN qq.opts IS NULL THEN floor(random() * 11) END,
                      false, r.nb, r.channel, r.locale, r.day
               FROM b_resp r JOIN b_qq qq ON qq.y = r.y""")

    with step(f"budgets: {len(ctx['processes'])} processes, {ballots:,} voters and ballots"):
        run("CREATE TEMP TABLE b_proc (k int, id int, year int, cid int)")
        for k, (pid, year, cid) in enumerate(ctx["processes"]):
            run("INSERT INTO b_proc VALUES (:k, :id, :year, :c)", k=k, id=pid, year=year, c=cid)
        run(f"""INSERT INTO budget_proposals (process_id, number, title, description, category_id, neighbourhood_id,
                   address, estimated_cost, feasibility, feasibility_reason, channel, helped_read_aloud,
                   helped_translated, helped_written_for, contact_name, contact, contact_consent, hidden_reason,
                   is_hidden, is_selected, submitted_on, original_locale)
               SELECT p.id, g, 'Idée ' || g, '', (SELECT ids FROM b_cat)[1 + g % 8],
                      CASE WHEN p.cid IS NULL THEN (SELECT ids FROM b_nb)[1 + (g * 7 + p.k) % 66]
                           ELSE (SELECT ids[1 + g % array_length(ids, 1)] FROM b_nb_of_commune WHERE cid = p.cid) END,
                      '', 5000 + (g * 1733) % 60000, 'feasible', '', {CHANNEL}, false, false, false, '', '', false,
                      '', false, g <= 8, make_date(p.year, 2, 1) + g, 'fr'
               FROM b_proc p, generate_series(1, {PROPOSALS}) AS g""")
        run("""CREATE TEMP TABLE b_props AS
               SELECT p.k, array_agg(x.id ORDER BY x.number) AS ids FROM b_proc p
               JOIN budget_proposals x ON x.process_id = p.id GROUP BY p.k""")
        nproc = len(ctx["processes"])
        run(f"""CREATE TEMP TABLE b_vote AS
               SELECT i, p.id AS pid, p.k, {CHANNEL} AS channel,
                      CASE WHEN random() < 0.1 THEN NULL
                           WHEN p.cid IS NULL THEN {SKEWED_HOOD}
                           ELSE (SELECT ids[1 + floor(random() * array_length(ids, 1))::int]
                                 FROM b_nb_of_commune WHERE cid = p.cid) END AS nb,
                      LEAST(make_date(p.year, 5, 1) + floor(random() * 31)::int, CURRENT_DATE) AS day,
                      md5('ballot' || i || random()::text) AS ballot_id
               FROM generate_series(1, :n) AS i JOIN b_proc p ON p.k = i % {nproc}""", n=ballots)
        run("""INSERT INTO budget_vote_records (process_id, voter_key, channel, neighbourhood_id, voted_on)
               SELECT pid, 'bench-voter-' || i, channel, nb, day FROM b_vote""")
        run("""INSERT INTO budget_ballots (id, process_id, locator, nonce_hash, receipt, channel, is_valid)
               SELECT ballot_id, pid, md5('loc' || i) || md5('loc2' || i), NULL, substr(md5('rcpt' || i), 1, 16),
                      channel, true FROM b_vote""")
        run(f"""INSERT INTO budget_ballot_choices (ballot_id, proposal_id, value)
               SELECT v.ballot_id, b.ids[1 + (v.i + o.off) % {PROPOSALS}], 1
               FROM b_vote v JOIN b_props b ON b.k = v.k, (VALUES (0), (7), (13)) AS o(off)""")

    with step("tables: meetings, check-ins, paper counts"):
        run(f"""INSERT INTO table_meetings (table_id, title, starts_at, place, address, accessibility, interpreted,
                   status, checkin_key, minutes_status, created_at, original_locale)
               SELECT t.id, 'Réunion', make_date(y, m + 1, 1 + (t.id % 25)) + time '18:00', '', '', '', '[]',
                      CASE WHEN random() < 0.05 THEN 'cancelled' ELSE 'held' END, substr(md5(random()::text), 1, 32),
                      'draft', now(), 'fr'
               FROM neighbourhood_tables t, generate_series(:y0, :y0 + {YEARS - 1}) AS y,
                    generate_series(1, {MEETINGS_PER_YEAR}) AS m
               WHERE t.contract_id = :cid AND make_date(y, m + 1, 1 + (t.id % 25)) < CURRENT_DATE""")
        run("""CREATE TEMP TABLE b_meet AS
               SELECT array_agg(m.id ORDER BY m.id) AS ids, count(*)::int AS n FROM table_meetings m
               JOIN neighbourhood_tables t ON t.id = m.table_id WHERE t.contract_id = :cid""")
        run(f"""INSERT INTO table_checkins (meeting_id, age_band, gender, residence_id, residence_elsewhere,
                   first_time, attendee_key, channel)
               SELECT (SELECT ids FROM b_meet)[1 + floor(power(random(), 1.3) * (SELECT n FROM b_meet))::int],
                      {AGE}, {GENDER}, CASE WHEN random() < 0.3 THEN NULL ELSE {SKEWED_HOOD} END, false,
                      random() < 0.3, md5('attendee' || i), {CHANNEL}
               FROM generate_series(1, {CHECKINS}) AS i""")
        run("""INSERT INTO table_paper_tallies (meeting_id, dimension, value, count)
               SELECT m.id, 'total', '', 3 + floor(random() * 25)::int FROM table_meetings m
               JOIN neighbourhood_tables t ON t.id = m.table_id WHERE t.contract_id = :cid AND m.id % 3 = 0""")

    with step("demands, FPH, walks"):
        run(f"""INSERT INTO followups (kind, contract_id, commune_id, neighbourhood_id, institution_id, category_id,
                   title, body, status, answer, sent_on, answer_due_on, answered_on, action_due_on, closed_on,
                   created_at, updated_at, original_locale)
               SELECT CASE WHEN i % 3 = 0 THEN 'recommendation' ELSE 'interpellation' END, :cid,
                      (SELECT cids FROM b_nb)[j], CASE WHEN i % 5 = 0 THEN NULL ELSE (SELECT ids FROM b_nb)[j] END,
                      (SELECT array_agg(id ORDER BY id) FROM followup_institutions WHERE contract_id = :cid)[1 + i % 10],
                      (SELECT ids FROM b_cat)[1 + i % 8], 'Demande ' || i, '', s.status, '', s.sent,
                      s.sent + 60, CASE WHEN s.status <> 'sent' THEN LEAST(s.sent + 5 + (i * 37) % 90, CURRENT_DATE) END,
                      CASE WHEN s.status IN ('answered', 'in_progress') THEN s.sent + 150 END,
                      CASE WHEN s.status IN ('done', 'refused') THEN LEAST(s.sent + 120, CURRENT_DATE) END,
                      s.sent, s.sent, 'fr'
               FROM (SELECT i, 1 + floor(66 * power(random(), 1.5))::int AS j FROM generate_series(1, {DEMANDS}) AS i) g
               CROSS JOIN LATERAL (SELECT (ARRAY['sent','answered','answered','in_progress','done','done','refused'])
                                          [1 + (g.i * 5) % 7] AS status,
                                          LEAST(make_date(:y0 + g.i % {YEARS}, 1, 1) + (g.i * 11) % 360,
                                                CURRENT_DATE - 1) AS sent) s""")
        run(f"""INSERT INTO fph_applications (fund_id, reference, title, audience, description, place, neighbourhood_id,
                   category_id, amount_requested, collective, contact_name, contact_phone, contact_email, channel,
                   assistance, status, status_reason, granted_amount, conditions, paid_total, submitted_on,
                   created_at, original_locale)
               SELECT f.id, 'B-' || i, 'Projet ' || i, '', '', '',
                      (SELECT ids[1 + i % array_length(ids, 1)] FROM b_nb_of_commune WHERE cid = f.commune_id),
                      (SELECT ids FROM b_cat)[1 + i % 8], 500 + (i * 97) % 4000, '', '', '', '', {CHANNEL}, '[]',
                      s.status, '', CASE WHEN s.status IN ('granted','paid','bilan_received','closed')
                                         THEN 400 + (i * 89) % 3500 END, '', 0,
                      make_date(f.year, 2, 1) + i % 200, now(), 'fr'
               FROM generate_series(1, {APPLICATIONS}) AS i
               JOIN (SELECT id, commune_id, year, row_number() OVER (ORDER BY id) - 1 AS k FROM fph_funds
                     WHERE contract_id = :cid) f ON f.k = i % {COMMUNES * YEARS}
               CROSS JOIN LATERAL (SELECT (ARRAY['submitted','eligible','ineligible','scheduled','granted','granted',
                     'refused','paid','paid','bilan_received','bilan_received','closed','withdrawn'])[1 + (i * 7) % 13]
                     AS status) s""")
        run("""INSERT INTO fph_bilans (application_id, summary, participants, spent, received_on, channel, original_locale)
               SELECT a.id, '', 3 + (a.id * 13) % 60, a.granted_amount, a.submitted_on + 200, 'web', 'fr'
               FROM fph_applications a JOIN fph_funds f ON f.id = a.fund_id
               WHERE f.contract_id = :cid AND a.status IN ('bilan_received', 'closed')""")
        run(f"""INSERT INTO walks (contract_id, commune_id, neighbourhood_id, title, description, walked_on, starts_at,
                   time_of_day, group_type, meeting_point, participants, guides, status, summary, record_key,
                   recording_open, route_line, last_number, created_at, original_locale)
               SELECT :cid, (SELECT cids FROM b_nb)[j], (SELECT ids FROM b_nb)[j], 'Marche ' || i, '',
                      LEAST(make_date(:y0 + i % {YEARS}, 3, 1) + (i * 7) % 250, CURRENT_DATE - 1), '18:00',
                      CASE WHEN i % 4 = 0 THEN 'night' ELSE 'day' END, 'mixed', '', 4 + (i * 3) % 20, '',
                      CASE WHEN i % 3 = 0 THEN 'walked' ELSE 'published' END, '', substr(md5('walk' || i), 1, 32),
                      false, '[]', {OBSERVATIONS // WALKS}, now(), 'fr'
               FROM (SELECT i, 1 + floor(66 * power(random(), 1.5))::int AS j FROM generate_series(1, {WALKS}) AS i) g""")
        run(f"""INSERT INTO walk_observations (walk_id, number, rating, seen, quote, location_source, address,
                   moderation, channel, client_id, created_at, original_locale)
               SELECT w.ids[1 + i % {WALKS}], 1 + i / {WALKS}, 1 + i % 5, '', '', 'none', '', 'published', 'web',
                      md5('obs' || i), now(), 'fr'
               FROM generate_series(0, {OBSERVATIONS - 1}) AS i,
                    (SELECT array_agg(id ORDER BY id) AS ids FROM walks WHERE contract_id = :cid) w""")
    db.session.commit()
    with step("ANALYZE"):
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def counts() -> str:
    from participation.extensions import db

    names = ("questionnaire_responses", "questionnaire_answers", "budget_vote_records", "budget_ballots",
             "budget_ballot_choices", "table_meetings", "table_checkins", "followups", "fph_applications", "walks",
             "walk_observations")
    return ", ".join(f"{n} {db.session.scalar(sa.text(f'SELECT count(*) FROM {n}')):,}" for n in names)


# --- the timings --------------------------------------------------------------------------------


def time_report(app, contract_id: int, repeats: int) -> None:
    from flask_babel import force_locale

    from participation.core.territories import Contract
    from participation.extensions import db
    from participation.governance import metrics as m
    from participation.governance.report import build_report, selection_from_args

    with app.test_request_context("/"), force_locale("fr"):
        contract = db.session.get(Contract, contract_id)
        selection = selection_from_args(contract, {})
        print(f"selection: {selection.area_label}, {selection.year_from}–{selection.year_to}")

        def report(with_profile):
            def run():
                db.session.expire_all()
                return build_report(selection, with_profile=with_profile)
            return run

        seconds, memory, rep = measure(report(False), repeats)
        print(line("build_report (figures, indicators, words)", seconds, memory))
        seconds, memory, rep = measure(cold(report(True)), repeats)
        print(line("build_report with the profile, cold", seconds, memory))
        seconds, memory, rep = measure(report(True), repeats)
        print(line("build_report with the profile, warm", seconds, memory))
        with sql_time(db.engine) as spent:
            start = time.perf_counter()
            cold(report(True))()
            whole = time.perf_counter() - start
        print(f"  one more run with the profile: {whole:.2f} s = {spent[0]:.2f} s in {spent[1]} SQL statements "
              f"+ {whole - spent[0]:.2f} s in Python (protecting the grids and the profile, mostly)")
        suppressed = sum(1 for f in rep.metrics for _u, v in f.by_unit if v.suppressed)
        print(f"  {len(rep.metrics)} figures × {len(rep.units)} areas, {len(rep.indicators)} indicators, "
              f"{sum(len(v) for v in rep.verbatims.values())} verbatims; {suppressed} comparison cells are \"s\"")

        # each metric's query and protection alone, slowest first
        units = m.contract_units(contract)
        indicators = {i.metric: i for i in (f.indicator for f in rep.indicators) if i.metric}
        timings = []
        for key, metric in m.METRICS.items():
            indicator = indicators.get(key) if metric.per_indicator else None
            if metric.per_indicator and indicator is None:
                continue
            start = time.perf_counter()
            rows = metric.compute(contract.id, contract.period_start, contract.period_end,
                                  **({"indicator": indicator} if metric.per_indicator else {}))
            query = time.perf_counter() - start
            start = time.perf_counter()
            m.grid(contract, metric, units=units, indicator=indicator)
            timings.append((query, time.perf_counter() - start, key, len(rows)))
        print("  slowest metrics (query alone; query + protection of the grid):")
        for query, whole, key, n in sorted(timings, reverse=True)[:6]:
            print(f"    {key:<34} {query * 1000:7.0f} ms  {whole * 1000:7.0f} ms   {n} rows")


def time_exports(app, contract_id: int, repeats: int) -> None:
    client = app.test_client()
    resp = Auth(client).login(EVALUATOR, PASSWORD)
    assert resp.status_code == 302, "the evaluator could not log in"
    for fmt in ("csv", "xlsx", "zip", "pdf"):
        sizes = []

        def download():
            r = client.get(f"/admin/governance/{contract_id}/export.{fmt}")
            if r.status_code != 200:
                raise SystemExit(f"export.{fmt}: HTTP {r.status_code}\n{r.get_data(as_text=True)[:2000]}")
            sizes.append(len(r.data))
            return r

        seconds, memory, _resp = measure(cold(download), repeats)
        print(line(f"export.{fmt} cold (HTTP in-process)", seconds, memory, f"{sizes[-1] / 1024:,.0f} KiB"))
        seconds, memory, _resp = measure(download, repeats)
        print(line(f"export.{fmt} warm (HTTP in-process)", seconds, memory))


def main() -> None:
    responses = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ballots = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    kept = os.environ.get("BENCH_DB_URL")
    if kept:
        # A database of your own, kept between runs: built the first time, reused after (with
        # any new migration applied), never dropped. Handy to compare code changes on the same data.
        run(kept, responses, ballots, repeats)
        return
    with fresh_database("bench") as url:
        run(url, responses, ballots, repeats)


def run(url: str, responses: int, ballots: int, repeats: int) -> None:
    from flask_migrate import upgrade

    from participation.core.territories import Contract
    from participation.extensions import db

    app = make_app(url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        print(f"PostgreSQL {db.session.scalar(sa.text('SHOW server_version'))}, "
              f"{os.cpu_count()} CPUs; building the contract:")
        contract_id = db.session.scalar(sa.select(Contract.id).order_by(Contract.id).limit(1))
        if contract_id is None:
            start = time.perf_counter()
            first_year = date.today().year - YEARS + 1
            ctx = skeleton(first_year)
            bulk(ctx, responses, ballots)
            contract_id = ctx["contract"]
            print(f"built in {time.perf_counter() - start:.0f} s: {counts()}")
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            print(f"reusing {url.rsplit('/', 1)[-1]}: {counts()}")
        print(f"memory before the timings: {_rss_mib():.0f} MiB RSS")
        time_report(app, contract_id, repeats)
        db.session.remove()
    time_exports(app, contract_id, repeats)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
