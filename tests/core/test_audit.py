"""The audit log of staff actions: what the session hook writes (and never writes), the named
account events, and the admins' viewer (scope, filters, pages, CSV)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from participation.core.audit import EXCLUDED_TABLES, REDACTED, AuditEvent
from participation.core.territories import Category, Contract
from participation.core.users import User
from participation.extensions import db

from ..budgets.test_paper import hand_out, key, official, process, tokens  # noqa: F401 (fixtures)
from ..conftest import Auth, csrf_from

AMP_ADMIN = "admin@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"
FAC = "animatrice@amp.demo"
ROOT = "root@platform.test"
PASSWORD = "a-long-test-password"


def events(**where) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)))


def user_id(email: str) -> int:
    return db.session.scalar(sa.select(User.id).filter_by(email=email))


def contract_id(slug: str) -> int:
    return db.session.scalar(sa.select(Contract.id).filter_by(slug=slug))


def category(slug: str, code: str) -> Category:
    return db.session.scalar(sa.select(Category).join(Contract).where(Contract.slug == slug, Category.code == code))


@pytest.fixture
def login(app):
    """login(email) → a client logged in as that account, pages in English."""

    def log_in(email, password=None):
        client = app.test_client()
        assert Auth(client).login(email, password).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return log_in


@pytest.fixture
def root(demo):
    user = User(email=ROOT, name="Root", is_superadmin=True)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def post(client, url, data=None, form_page="/admin/"):
    token = csrf_from(client.get(form_page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def edit_category(client, cat: Category, name: str):
    return post(client, f"/admin/categories/{cat.id}/edit",
                {"kind": cat.kind.value, "parent": "", "code": cat.code, "name": name,
                 "description": cat.description or "", "position": str(cat.position)},
                form_page=f"/admin/categories/{cat.id}/edit")


def add_event(**fields) -> AuditEvent:
    event = AuditEvent(**{"action": "update", "entity": "categories", "entity_id": "1", "changes": {}, **fields})
    db.session.add(event)
    return event


def all_audit_text() -> str:
    """Every stored value of every audit row, as one text to search."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEvent.__table__)).all()
    return "\n".join(json.dumps([str(v) for v in row], ensure_ascii=False) for row in rows)


# --- the session hook -----------------------------------------------------------------------


def test_a_staff_edit_is_logged_with_old_and_new_values(login, demo):
    d1 = category("aix-marseille-provence", "D1")
    old_name = d1.name
    client = login(AMP_ADMIN)

    assert edit_category(client, d1, "Le défi écologique").status_code == 302

    [event] = events(entity="categories")
    assert (event.action, event.entity_id) == ("update", str(d1.id))
    assert event.changes == {"name": [old_name, "Le défi écologique"]}
    assert event.user_id == user_id(AMP_ADMIN)
    assert event.contract_id == contract_id("aix-marseille-provence")
    assert event.origin == "admin.category_edit"


def test_a_created_record_lists_its_fields_and_a_deleted_one_its_old_values(login, demo):
    amp = contract_id("aix-marseille-provence")
    client = login(AMP_ADMIN)
    resp = post(client, f"/admin/contracts/{amp}/referentiel/new",
                {"kind": "challenge", "parent": "", "code": "D11", "name": "Le défi du numérique",
                 "description": "", "position": "11"}, form_page=f"/admin/contracts/{amp}/referentiel/new")
    assert resp.status_code == 302
    created = category("aix-marseille-provence", "D11").id

    [create] = events(entity="categories", action="create")
    assert create.entity_id == str(created) and create.contract_id == amp
    assert create.changes["code"] == [None, "D11"] and create.changes["name"] == [None, "Le défi du numérique"]
    assert "id" not in create.changes  # the key is the record id, not a change

    assert post(client, f"/admin/categories/{created}/delete", form_page=f"/admin/contracts/{amp}/referentiel"
                ).status_code == 302
    [delete] = events(entity="categories", action="delete")
    assert delete.entity_id == str(created) and delete.contract_id == amp
    assert delete.changes["code"] == ["D11", None]


def test_a_record_under_a_parent_is_filed_under_the_parents_contract(login, demo):
    """A comment has no contract column: its proposal's process has (three levels up)."""
    from participation.budgets import services as budgets
    from participation.budgets.demo import VOTE_TITLE
    from participation.budgets.models import Process, Proposal

    vote = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    next(ph for ph in vote.phases if ph.phase == vote.phase).allows_comment = True
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=vote.id, number=1))
    comment = budgets.add_comment(proposal, "Bonne idée.", "Sami", "fr")
    db.session.commit()
    comment_id = comment.id
    client = login(FAC)
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    resp = client.post(f"/admin/budgets/{vote.id}/comments/{comment_id}/moderate",
                       data={f"c{comment_id}-csrf_token": token, f"c{comment_id}-hide": "1",
                             f"c{comment_id}-reason": "Hors sujet."})
    assert resp.status_code == 302
    [event] = events(entity="budget_comments")
    assert event.entity_id == str(comment_id) and event.contract_id == contract_id("aix-marseille-provence")
    assert event.changes == {"is_hidden": [False, True], "hidden_reason": ["", "Hors sujet."]}


def test_reading_pages_writes_nothing(login, demo):
    client = login(AMP_ADMIN)
    before = len(events())
    for path in ("/admin/", "/admin/staff", "/admin/budgets/", f"/admin/contracts/{contract_id('aix-marseille-provence')}/referentiel"):
        assert client.get(path).status_code == 200
    assert len(events()) == before


def test_changes_made_outside_a_request_are_not_logged_by_the_hook(demo):
    """The demo, command-line tools: the hook needs a logged-in staff member (tools call record())."""
    assert events() == []


def test_a_residents_public_request_is_not_logged_even_from_a_staff_browser(login, demo):
    from participation.budgets.demo import IDEAS_TITLE
    from participation.budgets.models import Process, Proposal

    ideas = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    client = login(FAC)  # the facilitator proposes an idea as a resident, from her own browser
    page = client.get(f"/b/{ideas.id}/propose").get_data(as_text=True)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal))
    resp = client.post(f"/b/{ideas.id}/propose", data={
        "csrf_token": csrf_from(page), "title": "Un banc", "description": "Un banc à l'ombre.", "estimated_cost": "500"})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == before + 1
    assert events(entity="budget_proposals") == []


def test_a_vote_cast_by_a_logged_in_staff_member_leaves_no_trace(login, demo):
    from participation.budgets.demo import VOTE_TITLE, demo_codes
    from participation.budgets.models import Ballot, Process

    vote = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    client = login(FAC)
    before = len(events())
    resp = client.get(f"/v/{demo_codes(vote)[0]}")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    first = re.search(r'type="checkbox" id="(p\d+)"', html).group(1)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1)
    resp = client.post(f"/b/{vote.id}/vote", data={"csrf_token": csrf_from(html), "nonce": nonce,
                                                  "e-age_ok": "y", "e-resident": "y", first: "1"})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    assert len(events()) == before


def test_paper_ballots_handed_out_and_keyed_by_staff_leave_no_trace(official, process, tokens):  # noqa: F811
    """Staff routes that write resident records: the hand-out (who voted), the token and both
    keyings of the ballot are excluded, so the log cannot tell when which ballot was cast."""
    from participation.budgets.demo import demo_codes
    from participation.budgets.models import Ballot

    fac = official(FAC)
    assert hand_out(fac, process, demo_codes(process)[0]).status_code == 302
    key(fac, process, tokens[0], [1, 2])
    key(official("mediatrice.nord@amp.test"), process, tokens[0], [1, 2])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    logged = {e.entity for e in events()}
    assert not logged & {"budget_ballots", "budget_ballot_choices", "budget_vote_records", "budget_paper_entries",
                         "budget_paper_tokens"}
    # The polling point and its printed tokens were made by a staff action: the point is logged.
    assert "budget_polling_points" in logged


def test_an_assisted_questionnaire_entry_logs_no_response_or_answer(login, demo):
    from participation.questionnaires.models import Response

    from ..questionnaires.test_answering import Resident, barometer
    from ..questionnaires.test_entry import assisted_answers

    q = barometer()
    client = login(FAC)
    sent = assisted_answers(Resident(client, q, start_path=f"/admin/questionnaires/{q.id}/assisted"))
    assert sent.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) >= 1
    logged = {e.entity for e in events()}
    assert not logged & {"questionnaire_responses", "questionnaire_answers", "questionnaire_code_uses"}
    assert "calme" not in all_audit_text()  # the free-text answer


def test_personal_values_never_reach_the_log(login, demo):
    """A journey that writes contacts, e-mails, passwords and tokens through staff pages: the log
    says that they changed, and no value appears in any column of any audit row."""
    from ..fph.test_funds_support import form, make_fund

    secrets_typed = ["nouvelle.personne@amp.test", "un-mot-de-passe-secret-42", "Awa Traoré", "0612345678",
                     "awa@example.org", "autre-mot-de-passe-secret-43"]
    admin = login(AMP_ADMIN)
    resp = post(admin, "/admin/staff/new", {"email": secrets_typed[0], "name": "Nouvelle Personne",
                                            "password": secrets_typed[1], "role": "mediator",
                                            "scope": f"c{contract_id('aix-marseille-provence')}"},
                form_page="/admin/staff/new")
    assert resp.status_code in (200, 302)
    new_user = db.session.scalar(sa.select(User).filter_by(email=secrets_typed[0]))
    assert new_user is not None, resp.get_data(as_text=True)[:2000]

    fund = make_fund(accepting=False)
    fac = login(FAC)
    page = fac.get(f"/admin/fph/{fund.id}/applications/new")
    resp = fac.post(f"/admin/fph/{fund.id}/applications/new", data={
        **form(contact_name=secrets_typed[2], contact_phone=secrets_typed[3], contact_email=secrets_typed[4]),
        "channel": "assisted", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 200
    follow_key = re.search(r"/fph/a/([A-Z0-9]+)", resp.get_data(as_text=True)).group(1)

    assert post(fac, "/account/password", {"current": "demo-participation-2026", "new": secrets_typed[5],
                                           "confirm": secrets_typed[5]}, form_page="/account/password").status_code == 302

    stored = all_audit_text()
    for value in [*secrets_typed, follow_key]:
        assert value not in stored, value
    hashes = [db.session.scalar(sa.select(User.password_hash).filter_by(email=FAC)), new_user.password_hash]
    assert not any(h in stored for h in hashes)
    [application] = events(entity="fph_applications", action="create")
    assert {application.changes[c] for c in ("contact_name", "contact_phone", "contact_email", "follow_key_hash")
            } == {REDACTED}
    [password] = events(entity="users", action="update", origin="accounts.change_password")
    assert password.changes == {"password_hash": REDACTED}
    [created] = events(entity="users", action="create")
    # The name too: an erased account must leave no old name behind in the log (tests/privacy/test_rights.py).
    assert created.changes["email"] == REDACTED and created.changes["name"] == REDACTED
    assert "Nouvelle Personne" not in stored


@pytest.mark.parametrize("table,column", [
    ("users", "email"), ("users", "password_hash"), ("budget_proposals", "contact"), ("budget_proposals", "description"),
    ("budget_comments", "author_name"), ("fph_applications", "contact_phone"), ("fph_members", "name"),
    ("walk_observations", "quote"), ("walks", "guides"), ("walks", "record_key"), ("table_meetings", "checkin_key"),
    ("governance_api_tokens", "token_hash"), ("users", "name"),
    # a table added later is covered by the names of its columns
    ("some_future_table", "requester_email"), ("some_future_table", "phone"), ("some_future_table", "access_token"),
    ("some_future_table", "secret_key"), ("some_future_table", "ip_address"),
])
def test_personal_columns_are_redacted(table, column):
    from participation.core.audit import is_redacted

    assert is_redacted(table, column)


@pytest.mark.parametrize("table,column", [("categories", "name"), ("budget_proposals", "title"),
                                          ("budget_processes", "envelope"), ("walk_observations", "seen"),
                                          ("followups", "body"), ("fph_decisions", "reason")])
def test_what_staff_write_is_copied(table, column):
    from participation.core.audit import is_redacted

    assert not is_redacted(table, column)


def test_a_translation_is_as_personal_as_what_it_translates():
    from participation.core.audit import _redacted_in_row

    assert _redacted_in_row("content_translations", "text", {"entity_type": "walk_observations", "field": "quote"})
    assert not _redacted_in_row("content_translations", "text", {"entity_type": "categories", "field": "name"})
    assert _redacted_in_row("content_translations", "text", {})  # unknown: kept out


def test_excluded_tables_are_documented_and_resident_records_among_them(app):
    for table in ("budget_ballots", "budget_ballot_choices", "budget_vote_records", "questionnaire_responses",
                  "questionnaire_answers", "questionnaire_code_uses", "table_checkins", "staff_sessions",
                  "audit_events"):
        assert EXCLUDED_TABLES.get(table)
    known = set(db.metadata.tables)
    assert set(EXCLUDED_TABLES) <= known, "an exclusion names a table that does not exist"


# --- account events ----------------------------------------------------------------------------


def test_login_logout_and_a_failed_login_are_logged(app, demo):
    client = app.test_client()
    auth = Auth(client)
    amp_admin = user_id(AMP_ADMIN)

    assert auth.login(AMP_ADMIN, "not-the-password").status_code == 422
    assert auth.login("nobody-here@example.org", "whatever-typed").status_code == 422
    assert auth.login(AMP_ADMIN).status_code == 302
    assert auth.logout().status_code == 302

    logged = [(e.action, e.entity, e.entity_id, e.user_id) for e in events()]
    assert logged == [("login_failed", "users", str(amp_admin), amp_admin), ("login", "users", str(amp_admin), amp_admin),
                      ("logout", "users", str(amp_admin), amp_admin)]
    # The admin works in one contract: the account events are filed under it.
    assert {e.contract_id for e in events()} == {contract_id("aix-marseille-provence")}
    stored = all_audit_text()
    assert "nobody-here" not in stored and "whatever-typed" not in stored and "not-the-password" not in stored


def test_ending_a_staff_members_sessions_is_logged(login, demo):
    client = login(AMP_ADMIN)
    med = user_id("mediateur@amp.demo")
    assert post(client, f"/admin/staff/{med}/sessions/revoke", form_page=f"/admin/staff/{med}").status_code == 302
    [event] = events(action="sessions_revoke")
    assert (event.entity, event.entity_id, event.user_id) == ("users", str(med), user_id(AMP_ADMIN))


# --- the viewer ------------------------------------------------------------------------------


@pytest.fixture
def two_contracts_edited(login, demo):
    """One category edit in each contract, by its admin."""
    assert edit_category(login(AMP_ADMIN), category("aix-marseille-provence", "D1"), "Défi AMP modifié").status_code == 302
    nar_cat = db.session.scalar(sa.select(Category).where(Category.contract_id == contract_id("grand-narbonne"))
                                .order_by(Category.id))
    assert edit_category(login(NAR_ADMIN), nar_cat, "Défi Narbonne modifié").status_code == 302


def test_a_contract_admin_reads_the_events_of_their_contract_only(login, two_contracts_edited):
    page = login(AMP_ADMIN).get("/admin/audit?lang=en").get_data(as_text=True)
    assert "Défi AMP modifié" in page and "Défi Narbonne modifié" not in page
    page = login(NAR_ADMIN).get("/admin/audit?lang=en").get_data(as_text=True)
    assert "Défi Narbonne modifié" in page and "Défi AMP modifié" not in page


def test_a_platform_admin_reads_every_event(login, root, two_contracts_edited):
    page = login(ROOT, PASSWORD).get("/admin/audit?lang=en").get_data(as_text=True)
    assert "Défi AMP modifié" in page and "Défi Narbonne modifié" in page


def test_a_contract_admin_cannot_filter_on_another_contract(login, two_contracts_edited):
    client = login(AMP_ADMIN)
    assert client.get(f"/admin/audit?contract={contract_id('grand-narbonne')}").status_code == 403
    assert client.get(f"/admin/audit/events.csv?contract={contract_id('grand-narbonne')}").status_code == 403


@pytest.mark.parametrize("email", [FAC, "evaluation@amp.demo", "mediateur@amp.demo"])
def test_other_roles_may_not_read_the_log(login, demo, email):
    client = login(email)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/events.csv").status_code == 403


def test_an_event_shows_when_who_what_and_the_changes(login, two_contracts_edited):
    page = login(AMP_ADMIN).get("/admin/audit?lang=fr").get_data(as_text=True)
    event = events(contract_id=contract_id("aix-marseille-provence"), entity="categories")[0]
    row = re.search(rf'<tr id="event-{event.id}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "Lucie Martin" in row or db.session.get(User, event.user_id).name in row
    assert "Entrée du référentiel" in row or "Référentiel entry" in row
    assert f"#{event.entity_id}" in row and "<code>name</code>" in row and "Défi AMP modifié" in row
    assert '<caption>' in page and 'scope="col"' in page


def test_the_time_is_shown_in_paris_time(login, demo):
    add_event(at=datetime(2026, 1, 15, 9, 5, 0), contract_id=contract_id("aix-marseille-provence"))
    db.session.commit()
    page = login(AMP_ADMIN).get("/admin/audit?lang=en").get_data(as_text=True)
    assert "10:05:00" in page  # UTC+1 in January


def test_a_system_event_is_shown_as_such(login, demo):
    add_event(action="purge", entity="", entity_id="", contract_id=contract_id("aix-marseille-provence"),
              changes={"count": 3})
    db.session.commit()
    page = login(AMP_ADMIN).get("/admin/audit?lang=en").get_data(as_text=True)
    assert "<em>system</em>" in page and "Purge of personal data" in page


def test_filters_narrow_the_list(login, demo):
    amp = contract_id("aix-marseille-provence")
    fac, admin = user_id(FAC), user_id(AMP_ADMIN)
    add_event(user_id=fac, entity="walks", entity_id="7", contract_id=amp, at=datetime(2026, 3, 1, 12))
    add_event(user_id=admin, entity="categories", entity_id="8", contract_id=amp, action="delete",
              at=datetime(2026, 3, 5, 12))
    add_event(user_id=admin, entity="walks", entity_id="9", contract_id=amp, at=datetime(2026, 3, 9, 12))
    db.session.commit()
    client = login(AMP_ADMIN)

    def ids(query):
        resp = client.get(f"/admin/audit?lang=en&{query}")
        assert resp.status_code == 200
        return re.findall(r"<span class=\"muted\">#(\d+)</span>", resp.get_data(as_text=True))

    assert set(ids(f"user={fac}")) == {"7"}
    assert set(ids("entity=walks")) == {"7", "9"}
    assert set(ids("action=delete")) == {"8"}
    assert set(ids("from=2026-03-02&to=2026-03-08")) == {"8"}
    assert set(ids(f"entity=walks&user={admin}")) == {"9"}
    assert set(ids(f"contract={amp}&to=2026-03-01")) == {"7"}


@pytest.mark.parametrize("query", ["user=abc", "entity=no_such_table", "action=DROP%20TABLE", "from=2026-13-01",
                                   "to=yesterday", "from=2026-03-09&to=2026-03-01", "contract=x", "user=" + "9" * 40])
def test_a_bad_filter_is_a_translated_400_never_a_500(login, demo, query):
    resp = login(AMP_ADMIN).get(f"/admin/audit?lang=fr&{query}")
    assert resp.status_code == 400
    assert 'class="error"' in resp.get_data(as_text=True)
    assert login(AMP_ADMIN).get(f"/admin/audit/events.csv?{query}").status_code == 400


def test_a_bad_page_cursor_shows_the_first_page(login, demo):
    assert login(AMP_ADMIN).get("/admin/audit?before=abc&after=-1").status_code == 200


def test_pages_of_fifty_newest_first_and_back(login, demo):
    amp = contract_id("aix-marseille-provence")
    start = datetime(2026, 2, 1)
    for i in range(120):
        add_event(entity_id=str(i), contract_id=amp, at=start + timedelta(minutes=i))
    db.session.commit()
    client = login(AMP_ADMIN)

    def page_ids(url):
        html = client.get(url).get_data(as_text=True)
        found = [int(x) for x in re.findall(r"<span class=\"muted\">#(\d+)</span>", html)]
        older = re.search(r'<a href="([^"]+)" rel="next">', html)
        newer = re.search(r'<a href="([^"]+)" rel="prev">', html)
        unescape = lambda m: m.group(1).replace("&amp;", "&") if m else None  # noqa: E731
        return found, unescape(older), unescape(newer)

    first, older, newer = page_ids("/admin/audit?entity=categories")
    assert first == list(range(119, 69, -1)) and newer is None
    second, older2, newer2 = page_ids(older)
    assert second == list(range(69, 19, -1)) and "entity=categories" in older2
    third, older3, _newer3 = page_ids(older2)
    assert third == list(range(19, -1, -1)) and older3 is None
    back, _older, _newer = page_ids(newer2)
    assert back == first


def test_the_csv_has_the_filtered_events_and_no_formula(login, demo):
    amp = contract_id("aix-marseille-provence")
    fac = db.session.scalar(sa.select(User).filter_by(email=FAC))
    fac.name = "=HYPERLINK(\"http://evil\")"
    add_event(user_id=fac.id, entity="walks", entity_id="1", contract_id=amp, changes={"title": ["-2+3", "@SUM(A1)"]})
    add_event(user_id=fac.id, entity="categories", entity_id="2", contract_id=amp)
    add_event(user_id=fac.id, entity="walks", entity_id="3", contract_id=contract_id("grand-narbonne"))
    db.session.commit()

    resp = login(AMP_ADMIN).get("/admin/audit/events.csv?entity=walks&lang=en")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["When", "Staff member", "Action", "Kind of record"]
    assert len(rows) == 2  # AMP's walk event only: not the category, not Narbonne's
    row = rows[1]
    assert row[1] == "'=HYPERLINK(\"http://evil\")"
    assert row[3] == "Exploratory walk" and row[4] == "walks" and row[5] == "1"
    assert row[7] == "title: -2+3 → @SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
