"""No personal field of the schema leaves through any governance output (issue 8: "a test checks
every export against every personal field of the schema").

**Which columns are personal** is read from the schema itself, so that the list grows with it:
every String / Text / JSON column of `db.metadata` is either

- *personal* — its name has a part in `PERSONAL_PARTS` (split on "_"), unless the column is in
  `NOT_PERSONAL`. "Personal" is read broadly: who someone is or how to reach them (name, e-mail,
  phone, contact, address, collective, author, guides, the places they meet), and **free text**
  typed by residents or by staff about what residents did (answers, quotes, observations,
  captions, comments, notes, minutes, reasons, summaries, decisions, demands and their answers,
  the titles, labels and descriptions of ideas, applications, meetings and walks). A governance
  output has no reason to print any of it: it prints figures, the territories, the référentiel,
  and the residents' words a moderator published (below);
- *not personal* — listed in `NOT_PERSONAL` (by "table.column", or by column name for the
  language codes every translatable table has) with the reason, or an `Enum` (a closed set of
  values written by the code, never typed by anyone).

A column that is neither fails `test_every_text_column_of_the_schema_is_classified`: whoever
adds a column decides, here, whether it is personal.

**Two columns follow their own rule.** `verbatims.text` is published free text: a moderator
copied a resident's words into it and published them, and the outputs print them by design —
only once published, so pending and rejected verbatims carry canaries that must not appear,
and the published ones carry canaries that must (which shows the canaries do travel).
`content_translations.text` holds translations of other columns: a translation of a personal
column is personal (canaried), of a référentiel name is not.

**The check.** Every personal column of every row of the demo database gets a unique canary
(`CANARY<column number>R<row id>`; e-mails `canary…@example.org`), one UPDATE per column, staff
accounts' names and e-mails included. Then the evaluator logs in (with the canaried e-mail) and
downloads, for the whole contract (French and Arabic), a commune, a neighbourhood and a défi:
the CSV, the XLSX (every part of the file: cells, sheet names, properties), the data package
(every file), the PDF (its text by `pdftotext` and its metadata by `pdfinfo`), the dashboard
page, and the API's contract, figures and verbatims with a token. No canary may appear in any
of them, nor in the download's headers.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from participation.core.territories import Category, Commune, Contract, Indicator, Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.governance.models import Verbatim, VerbatimOrigin, VerbatimStatus

from ..conftest import Auth

SLUG = "aix-marseille-provence"
EVALUATOR = "evaluation@amp.demo"

#: A column whose name has one of these parts (split on "_") is personal (see the module doc).
PERSONAL_PARTS = frozenset({
    # who someone is, how to reach them, where they live or meet
    "name", "email", "phone", "contact", "address", "collective", "author", "guides", "place", "point",
    # free text
    "text", "quote", "seen", "caption", "body", "comment", "note", "minutes", "reason", "summary", "answer",
    "content", "conditions", "decisions", "description", "audience", "accessibility", "title", "label",
    # what a staff member changed (the audit log keeps old and new values of what is not personal)
    "changes",
})

_LANGUAGE = "a language code (fr, ar…)"
_HASH = "a hash or a secret key: meaningless without the code, cookie or token it protects"
_ID = "a random id or a device's UUID, never printed"
_PHOTO = "a photo's content hash (the file name in the private store)"
_REFERENTIEL = "the contract's référentiel: printed by design in every output"
_TERRITORY = "a territory (contract, commune, QPV): printed by design in every output"
_CODE = "a code or key written by staff or the code (not free text about anyone)"
_EDITORIAL = "editorial text staff write for the public page of a questionnaire, fund or walk grid"
_STRUCTURE = "a structure the code reads (route geometry, languages offered, help given, conditions)"

#: Not personal, with the reason. "table.column", or a bare column name for any table.
NOT_PERSONAL: dict[str, str] = {
    "locale": _LANGUAGE, "original_locale": _LANGUAGE, "default_locale": _LANGUAGE,
    # territories and the référentiel
    "contracts.slug": _TERRITORY, "contracts.name": _TERRITORY, "contracts.region": _TERRITORY,
    "communes.insee_code": _TERRITORY, "communes.name": _TERRITORY,
    "neighbourhoods.qpv_code": _TERRITORY, "neighbourhoods.name": _TERRITORY,
    "categories.code": _REFERENTIEL, "categories.name": _REFERENTIEL, "categories.description": _REFERENTIEL,
    "indicators.code": _REFERENTIEL, "indicators.name": _REFERENTIEL, "indicators.description": _REFERENTIEL,
    "indicators.unit": _REFERENTIEL, "indicators.metric": _REFERENTIEL, "indicators.option_codes": _REFERENTIEL,
    "indicators.scale": _REFERENTIEL,
    "indicator_values.source_note": "where an entered value comes from (\"INSEE, Filosofi 2024\"): printed by design",
    "indicator_values.scope_key": _CODE,
    "followup_institutions.name": "a public body (town hall, landlord, métropole), not a person",
    # handled by their own rule (module doc)
    "verbatims.text": "published free text: checked by its own rule (pending / rejected must not leave)",
    "content_translations.text": "follows the column it translates (canaried when that one is personal)",
    "content_translations.entity_type": _CODE, "content_translations.field": _CODE,
    # secrets and their hashes
    "users.password_hash": _HASH, "staff_sessions.token": _HASH, "governance_api_tokens.token_hash": _HASH,
    "budget_ballots.locator": _HASH, "budget_ballots.nonce_hash": _HASH,
    "budget_proposals.nonce_hash": _HASH, "budget_comments.nonce_hash": _HASH, "budget_ballots.receipt": _HASH,
    "budget_vote_records.voter_key": _HASH, "budget_voter_codes.code_hash": _HASH, "budget_paper_tokens.token": _HASH,
    "questionnaire_codes.code_hash": _HASH, "questionnaire_responses.nonce_hash": _HASH,
    "table_checkins.attendee_key": _HASH, "table_checkins.nonce_hash": _HASH, "table_meetings.checkin_key": _HASH,
    "fph_applications.follow_key_hash": _HASH, "walks.record_key": _HASH,
    # ids
    "budget_ballots.id": _ID, "budget_ballot_choices.ballot_id": _ID, "questionnaire_responses.id": _ID,
    "questionnaire_answers.response_id": _ID, "field_photos.client_id": _ID, "field_receipts.client_id": _ID,
    "table_attendance_sheets.client_id": _ID, "walk_observations.client_id": _ID,
    "field_receipts.ref": "a row reference written by the code (\"walk_observation:12\")",
    "field_receipts.kind": _CODE, "field_receipts.content_sha": _HASH,
    # photos
    "field_photos.sha": _PHOTO, "field_photos.photo_sha": _PHOTO, "budget_proposal_photos.sha256": _PHOTO,
    "budget_milestones.photo_sha256": _PHOTO, "fph_bilan_photos.sha": _PHOTO, "walk_observation_photos.sha": _PHOTO,
    "questionnaire_answers.photo_sha256": _PHOTO,
    # codes and structure
    "role_grants.scope_key": _CODE, "short_links.code": _CODE,
    "short_links.target_path": "a path of the app a QR code points to",
    "fph_applications.reference": "a public reference numbered by the code (\"FPH-2026-007\")",
    "questionnaire_questions.code": _CODE, "questionnaire_questions.condition_code": _CODE,
    "questionnaire_sections.condition_code": _CODE, "questionnaire_options.code": _CODE,
    "questionnaire_options.pictogram": _CODE, "walk_themes.code": _CODE,
    "walks.starts_at": "a time of day (\"18:30\") of a planned walk",
    "walk_profile_counts.dimension": _CODE, "walk_profile_counts.value": _CODE, "table_paper_tallies.value": _CODE,
    "walks.route_line": _STRUCTURE, "table_meetings.interpreted": _STRUCTURE, "fph_applications.assistance": _STRUCTURE,
    "questionnaire_questions.condition_values": _STRUCTURE, "questionnaire_sections.condition_values": _STRUCTURE,
    # editorial text of public pages (not about anyone)
    "questionnaires.intro": _EDITORIAL, "questionnaires.intro_easy": _EDITORIAL, "questionnaires.thanks": _EDITORIAL,
    "questionnaire_sections.intro": _EDITORIAL, "questionnaire_sections.intro_easy": _EDITORIAL,
    "questionnaire_questions.help": _EDITORIAL, "fph_funds.rules": _EDITORIAL, "walk_themes.prompts": _EDITORIAL,
    # the privacy notice: what the controller (a public body) tells residents
    "privacy_notices.controller": "the data controller: a public body (intercommunality, town hall)",
    "privacy_notices.purposes": _EDITORIAL, "privacy_notices.legal_basis": _EDITORIAL,
    "privacy_notices.other_information": _EDITORIAL,
    # the audit log's bookkeeping (its "changes" are personal: PERSONAL_PARTS)
    "audit_events.action": _CODE, "audit_events.entity": _CODE, "audit_events.entity_id": _ID,
    "audit_events.origin": "the endpoint or command that acted (\"fph.application_edit\")",
}

#: Other values a canaried row needs to stay valid (CHECK constraints): a contact needs consent.
ALONGSIDE: dict[str, dict] = {"budget_proposals.contact": {"contact_consent": True}}
#: Columns that hold text on some rows only, by construction (a CHECK constraint): only those.
ONLY_WHERE: dict[str, str] = {
    "questionnaire_answers.text": "moderation IS NOT NULL",  # the free-text answers (with their moderation)
}

#: Columns that must hold rows in the demo for the test to mean something.
MUST_BE_FILLED = ("users.email", "users.name", "questionnaire_answers.text", "walk_observations.quote",
                  "walk_observations.seen", "fph_applications.contact_email", "fph_applications.contact_name",
                  "budget_proposals.title", "followups.body", "walks.guides")

CANARY_RE = re.compile(r"canary(\d{3})r(\d+)", re.I)


def _is_text(column) -> bool:
    return isinstance(column.type, (sa.String, sa.Text, sa.JSON))


def classify(table, column) -> str:
    """"personal", "not personal" or "unclassified"."""
    key = f"{table.name}.{column.name}"
    if key in NOT_PERSONAL or column.name in NOT_PERSONAL:
        return "not personal"
    if isinstance(column.type, sa.Enum):
        return "not personal"  # a closed vocabulary written by the code ("minutes_status")
    if set(column.name.split("_")) & PERSONAL_PARTS:
        return "personal"
    return "unclassified"


def text_columns():
    return [(t, c) for t in db.metadata.sorted_tables for c in t.columns if _is_text(c)]


def personal_columns():
    return [(t, c) for t, c in text_columns() if classify(t, c) == "personal"]


# --- the classification ---------------------------------------------------------------------------


def test_every_text_column_of_the_schema_is_classified(app):
    unclassified = [f"{t.name}.{c.name}" for t, c in text_columns() if classify(t, c) == "unclassified"]
    assert not unclassified, (
        f"Decide whether these columns are personal: {unclassified} (add them to NOT_PERSONAL with the reason, "
        f"or name them so that PERSONAL_PARTS catches them)")


def test_the_allow_list_names_only_existing_columns(app):
    """A renamed or dropped column leaves its entry behind: the list must say what the schema has."""
    names = {f"{t.name}.{c.name}" for t, c in text_columns()} | {c.name for _t, c in text_columns()}
    assert set(NOT_PERSONAL) <= names, set(NOT_PERSONAL) - names


def test_names_contacts_and_free_text_are_personal(app):
    personal = {f"{t.name}.{c.name}" for t, c in personal_columns()}
    for key in ("users.email", "users.name", "budget_proposals.contact", "budget_proposals.contact_name",
                "budget_comments.author_name", "fph_applications.contact_phone", "fph_applications.collective",
                "fph_members.name", "walks.guides", "walk_observations.address", "questionnaire_answers.text",
                "fph_sessions.minutes", "followup_events.note", "budget_paper_entries.content"):
        assert key in personal, key


# --- the canaries ---------------------------------------------------------------------------------


class Canaries:
    """Every personal column filled with its canary; `where[n]` = the column canary n is in."""

    def __init__(self):
        self.where: dict[int, str] = {}
        self.allowed: set[str] = set()
        self.forbidden_verbatims: set[str] = set()
        self.evaluator_id: int | None = None

    def fill(self) -> None:
        n = 0
        for table, column in personal_columns():
            n += 1
            self.where[n] = f"{table.name}.{column.name}"
            self._update(table, column, n)
        translated = {(t.name, c.name) for t, c in personal_columns()}
        ct = db.metadata.tables["content_translations"]
        for entity_type, field in sorted(translated):
            n += 1
            self.where[n] = f"content_translations.text ({entity_type}.{field})"
            db.session.execute(sa.update(ct).where(ct.c.entity_type == entity_type, ct.c.field == field)
                               .values(text=sa.literal(f"CANARY{n:03d}R") + sa.cast(ct.c.id, sa.String)))
        n += 1
        self.where[n] = "verbatims.text"
        vt = db.metadata.tables["verbatims"]
        db.session.execute(sa.update(vt).values(text=sa.literal(f"CANARY{n:03d}R") + sa.cast(vt.c.id, sa.String)))
        for vid, status in db.session.execute(sa.select(vt.c.id, vt.c.status)):
            token = f"canary{n:03d}r{vid}"
            published = status in (VerbatimStatus.published, VerbatimStatus.published.name)
            (self.allowed if published else self.forbidden_verbatims).add(token)
        db.session.commit()

    @staticmethod
    def _update(table, column, n: int) -> None:
        pk = list(table.primary_key.columns)
        row = sa.cast(pk[0], sa.String) if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) else sa.literal("0")
        if isinstance(column.type, sa.JSON):
            value = [f"CANARY{n:03d}R0"]
        elif "email" in column.name.split("_") or column.name == "contact":
            value = sa.literal(f"canary{n:03d}r") + row + sa.literal("@example.org")
        else:
            value = sa.literal(f"CANARY{n:03d}R") + row
        length = getattr(column.type, "length", None)
        assert length is None or length >= 30, f"{table.name}.{column.name} is too short for a canary"
        key = f"{table.name}.{column.name}"
        try:
            with db.session.begin_nested():
                update = sa.update(table).values({column.name: value, **ALONGSIDE.get(key, {})})
                if key in ONLY_WHERE:
                    update = update.where(sa.text(ONLY_WHERE[key]))
                db.session.execute(update)
        except sa.exc.IntegrityError as exc:  # pragma: no cover - says what to add to ALONGSIDE
            raise AssertionError(f"{key}: a canary breaks a constraint; say what the row needs in ALONGSIDE or "
                                 f"ONLY_WHERE ({exc.orig})") from None

    def leaks(self, text: str) -> list[str]:
        """The canaries in `text` that should not be there, with the column they come from."""
        found = []
        lowered = text.lower()
        starts = [m.start() for m in re.finditer("canary", lowered)]
        tokens = {m.start(): m for m in CANARY_RE.finditer(lowered)}
        for start in starts:
            m = tokens.get(start)
            if m is None:
                found.append(f"a broken canary: {text[start:start + 20]!r}")
                continue
            token = m.group(0)
            if token in self.allowed:
                continue
            column = self.where.get(int(m.group(1)), "?")
            found.append(f"{token} from {column}" + (" (not published)" if token in self.forbidden_verbatims else ""))
        return sorted(set(found))


@pytest.fixture
def canaries(demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug=SLUG))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    indicator = db.session.scalar(sa.select(Indicator).filter_by(contract_id=amp.id, code="I-SECU"))
    # residents' words in every selection below: published ones and ones that are not
    for status in (VerbatimStatus.published, VerbatimStatus.pending, VerbatimStatus.rejected):
        db.session.add(Verbatim(contract_id=amp.id, indicator_id=indicator.id, category_id=indicator.category_id,
                                commune_id=frais_vallon.commune_id, neighbourhood_id=frais_vallon.id, text="x",
                                locale="fr", year=date.today().year, origin=VerbatimOrigin.table, status=status))
    db.session.commit()
    filled = Canaries()
    # read before the canaries replace the e-mail that finds the account
    filled.evaluator_id = db.session.scalar(sa.select(User.id).filter_by(email=EVALUATOR))
    filled.fill()
    return filled


def test_every_personal_field_of_the_demo_holds_a_canary(app, canaries):
    for table, column in personal_columns():
        query = sa.select(table.c[column.name])
        if f"{table.name}.{column.name}" in ONLY_WHERE:
            query = query.where(sa.text(ONLY_WHERE[f"{table.name}.{column.name}"]))
        values = db.session.scalars(query).all()
        if isinstance(column.type, sa.JSON):
            assert all(v == [f"CANARY{_number(canaries, table, column):03d}R0"] for v in values)
        else:
            assert all(v is not None and CANARY_RE.search(v) for v in values), f"{table.name}.{column.name}"
    for key in MUST_BE_FILLED:
        table, name = key.split(".")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables[table])
                                 .where(db.metadata.tables[table].c[name].is_not(None))), f"no {key} in the demo"


def _number(canaries: Canaries, table, column) -> int:
    return next(n for n, where in canaries.where.items() if where == f"{table.name}.{column.name}")


# --- the outputs ----------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(data)
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return text + "\n" + info


def xlsx_text(data: bytes) -> str:
    """Every cell of every sheet (openpyxl), and every part of the file as it is stored."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = [ws.title for ws in book.worksheets]
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
    props = book.properties
    cells.extend(str(getattr(props, k)) for k in ("creator", "title", "subject", "description", "lastModifiedBy",
                                                   "keywords", "category") if getattr(props, k, None))
    return "\n".join(cells) + "\n" + zip_text(data)


def zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [name for name in z.namelist()]
        parts.extend(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return "\n".join(parts)


def _headers(resp) -> str:
    return "\n".join(f"{k}: {v}" for k, v in resp.headers.items())


def selections() -> list[tuple[str, dict, str]]:
    """(name, query arguments, language) of the selections every output is checked for."""
    amp = db.session.scalar(sa.select(Contract).filter_by(slug=SLUG))
    marseille = db.session.scalar(sa.select(Commune).filter_by(contract_id=amp.id, insee_code="13055"))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    defi = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code="D3"))
    return [
        ("contract", {}, "fr"),
        ("contract (Arabic)", {}, "ar"),
        ("commune", {"commune": marseille.id}, "fr"),
        ("neighbourhood", {"neighbourhood": frais_vallon.id}, "fr"),
        ("défi", {"category": defi.id}, "en"),
    ]


def outputs(client, token: str, contract: Contract, args: dict, lang: str):
    """(name, text) of every governance output of one selection."""
    query = urlencode({**args, "lang": lang})
    base = f"/admin/governance/{contract.id}"
    for fmt, reader in (("csv", lambda d: d.decode("utf-8-sig")), ("xlsx", xlsx_text), ("zip", zip_text),
                        ("pdf", pdf_text)):
        resp = client.get(f"{base}/export.{fmt}?{query}")
        assert resp.status_code == 200, (fmt, resp.status_code)
        yield f"export.{fmt}", reader(resp.data) + "\n" + _headers(resp)
    resp = client.get(f"{base}?{query}")
    assert resp.status_code == 200, ("dashboard", resp.status_code)
    yield "dashboard", resp.get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("", "/figures", "/verbatims"):
        resp = client.get(f"/api/v1/contracts/{contract.slug}{path}?{query}", headers=bearer)
        assert resp.status_code == 200, (path, resp.status_code)
        yield f"api{path or ' contract'}", json.dumps(resp.get_json(), ensure_ascii=False) + "\n" + _headers(resp)


@pytest.fixture
def evaluator(app, client, canaries):
    """The evaluator logged in (with the canaried e-mail) and holding an API token."""
    from participation.governance import tokens

    user = db.session.get(User, canaries.evaluator_id)
    amp = db.session.scalar(sa.select(Contract).filter_by(slug=SLUG))
    _row, raw = tokens.issue(user, amp, "privacy test")
    db.session.commit()
    resp = Auth(client).login(user.email)
    assert resp.status_code == 302, "the evaluator could not log in"
    return client, raw, amp


SELECTIONS = ("contract", "contract (Arabic)", "commune", "neighbourhood", "défi")


@pytest.mark.parametrize("which", range(len(SELECTIONS)), ids=["contract", "contract-ar", "commune", "neighbourhood",
                                                                "defi"])
def test_no_personal_field_leaves_in_any_output(app, canaries, evaluator, which):
    client, token, contract = evaluator
    name, args, lang = selections()[which]
    assert name == SELECTIONS[which]
    leaks = {}
    for output, text in outputs(client, token, contract, args, lang):
        found = canaries.leaks(text)
        if found:
            leaks[output] = found
        if output in ("export.pdf", "api/verbatims"):
            # The published words of Frais Vallon are in every selection that holds it: the
            # canaries do travel to the outputs, so their absence elsewhere means something.
            assert {m.group(0).lower() for m in CANARY_RE.finditer(text)} & canaries.allowed, output
    assert not leaks, f"{name}: personal fields in governance outputs: {leaks}"


def test_a_canary_from_another_column_or_a_hidden_verbatim_is_a_leak(app):
    """The check itself: a published verbatim's canary passes; any other canary, a pending
    verbatim's or a cut one ("CANARY01…" at the end of a table cell) is reported."""
    canaries = Canaries()
    canaries.where = {7: "walk_observations.quote", 9: "verbatims.text"}
    canaries.allowed = {"canary009r1"}
    canaries.forbidden_verbatims = {"canary009r2"}
    assert canaries.leaks("« CANARY009R1 » — Frais Vallon, 2026") == []
    assert canaries.leaks("<td>canary007r12</td>") == ["canary007r12 from walk_observations.quote"]
    assert canaries.leaks("CANARY009R2") == ["canary009r2 from verbatims.text (not published)"]
    assert canaries.leaks("Rue CANARY0…") == ["a broken canary: 'CANARY0…'"]
