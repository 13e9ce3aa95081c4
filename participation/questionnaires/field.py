"""Questionnaire answers in field mode (kind "questionnaire_response"): one page holding the
whole questionnaire, filled in for one person at a time on a tablet, with or without a
connection. With JavaScript the outbox keeps each filled form on the device and sends it later
through `field.services.receive`, which calls `ADAPTER.apply`; without JavaScript the same page
posts online (`field_views.py`). Both go through `read_entry` and `record`, then through the
same service as the assisted and paper entries, so the rules and messages are the same.

Anonymity: nothing records who entered the answers (as in assisted entry), the receipt of a
queued form points at nothing (`Applied.ref` is None), and the response's one-time nonce is
drawn here at random, never derived from the device's submission id, so a receipt cannot be
joined to a response.

Versions: the device may hold a form taken offline before a facilitator made a new version. The
answers are then carried onto the current version by question and option codes (which version
copies keep), only if each answered question still exists there with the same kind and the
chosen options still exist: answers are never given to another question. Answers to questions
removed since are left out, and the message says which.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from ..core.channels import Assistance, Channel
from ..core.numbers import parse_int
from ..core.templating import tr
from ..core.users import User
from ..extensions import db
from ..field.registry import Applied, FieldForbidden, FieldRejected, OfflineForm, Submission
from . import access, logic, services
from .answer_forms import new_nonce, problem_message, response_error_message
from .models import Access, AgeBand, Gender, Kind, Questionnaire, QuestionnaireVersion, Status

KIND = "questionnaire_response"
FORM_VERSION = 1
#: How the answers were collected, as the page's "mode" field says it.
MODES = {"assisted": Channel.assisted, "paper": Channel.paper}
#: Fields that say how the form was filled in, not what was answered.
ENTRY_FIELDS = ("mode", "help", "paper_date", "form_locale", "picked", "code")
#: Where a refusal of the answers service belongs on the page.
ERROR_FIELDS = {"code_missing": "code", "code_invalid": "code", "code_used": "code", "neighbourhood": "picked",
                "date_future": "paper_date"}


@dataclass
class Entry:
    """One person's answers, read and checked, ready to record."""

    questionnaire: Questionnaire
    answers: dict
    profile: logic.Profile
    channel: Channel
    help: frozenset
    day: date
    locale: str
    picked: int | None
    code: str | None
    #: codes of answered questions that the conditions skip (dropped, as online)
    not_applicable: list[str] = field(default_factory=list)
    #: codes of answered questions removed from the questionnaire since the form was shown
    removed: list[str] = field(default_factory=list)


class EntryProblems(Exception):
    """The answers cannot be recorded as they are: translated messages by question code or by
    field name (mode, paper_date, picked, code, p_age…), and messages about the whole form."""

    def __init__(self, problems: dict[str, str], errors: list[str] | None = None):
        super().__init__(next(iter(problems.values()), "") or (errors or [""])[0])
        self.problems = problems
        self.errors = errors or []

    @property
    def message(self) -> str:
        """One message for the whole form: the first problem, with its question's code."""
        if self.errors:
            return self.errors[0]
        key, text = next(iter(self.problems.items()))
        if key in ENTRY_FIELDS or key.startswith("p_"):
            return text
        return _("%(question)s: %(problem)s", question=key, problem=text)


class Incompatible(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def form_languages() -> dict[str, str]:
    return current_app.config["LANGUAGES"]


def changed_message(code: str) -> str:
    return _("The questionnaire was changed after this form was taken offline, and question %(question)s is no "
             "longer the same: these answers cannot be recorded. Export them to a file and show them to the "
             "person who runs the questionnaire.", question=code)


def closed_message(questionnaire: Questionnaire) -> str:
    return _("“%(title)s” is no longer open for answers: these answers cannot be recorded. Export them to a file "
             "and show them to the person who runs the questionnaire.", title=str(tr(questionnaire, "title")))


# --- versions ----------------------------------------------------------------------------


def carry_to_current(questionnaire: Questionnaire, shown: QuestionnaireVersion,
                     raw: MultiDict) -> tuple[MultiDict, list[str]]:
    """The answers given on `shown` (an older version) re-keyed onto the current version.

    Returns (raw fields of the current version, codes of answered questions that no longer
    exist). Raises Incompatible(code) when an answered question changed kind or lost a chosen
    option: recording it would give the answer to something else."""
    current = questionnaire.current_version
    if shown.id == current.id:
        return raw, []
    new_by_code = {q.code: q for q in current.questions}
    old_by_id = {q.id: q for q in shown.questions}
    out, removed = MultiDict(), []
    for key, values in raw.lists():
        match = logic.FIELD_NAME.fullmatch(key)
        if match is None:
            out.setlist(key, values)
            continue
        old = old_by_id.get(int(match.group(1)))
        if old is None:
            continue  # not a field of the form that was shown
        part = match.group(2) or ""
        given = [v for v in values if v.strip()]
        new = new_by_code.get(old.code)
        if new is None:
            if given and old.code not in removed:
                removed.append(old.code)
            continue
        if given and new.kind != old.kind:
            raise Incompatible(old.code)
        new_codes = {o.code.casefold(): o for o in new.options}
        if part.startswith("o") and part[1:].isdecimal():  # a rank, per option id
            option = next((o for o in old.options if o.id == int(part[1:])), None)
            if option is None:
                continue
            moved = new_codes.get(option.code.casefold())
            if moved is None:
                if given:
                    raise Incompatible(old.code)
                continue
            part = f"o{moved.id}"
        elif not part and old.is_choice:
            old_codes = {o.code.casefold() for o in old.options}
            if any(v.strip().casefold() in old_codes and v.strip().casefold() not in new_codes for v in given):
                raise Incompatible(old.code)
        out.setlist(logic.field_name(new, part), values)
    return out, removed


# --- reading the form ---------------------------------------------------------------------


def _has_input(question, raw: MultiDict) -> bool:
    """Whether anything was given for this question (any of its fields not blank)."""
    prefix = logic.field_name(question)
    return any(v.strip() for key, values in raw.lists() if key == prefix or key.startswith(prefix + "_")
               for v in values)


def with_photos(raw: MultiDict, photos: dict[str, str]) -> MultiDict:
    """The form's fields with each photo chosen (file input `q<id>_file` → its stored hash)
    put where the answers expect it (`q<id>_photo`); "remove this photo" drops a kept one."""
    raw = raw.copy()
    for key in [k for k in raw.keys() if k.endswith("_remove")]:
        match = logic.FIELD_NAME.fullmatch(key)
        if match and any(v.strip() for v in raw.getlist(key)):
            raw.setlist(f"q{match.group(1)}_photo", [])
        raw.poplist(key)
    for name, sha in photos.items():
        match = logic.FIELD_NAME.fullmatch(name)
        if match and match.group(2) == "file":
            raw.setlist(f"q{match.group(1)}_photo", [sha])
    return raw


def read_entry(questionnaire: Questionnaire, raw: MultiDict, *, locale: str, removed=()) -> Entry:
    """The form's fields, keyed on the current version (see `carry_to_current`), → an Entry.
    EntryProblems if something must be corrected.

    `locale` is the language the person answered in when assisted (the page's language); a
    paper form says its own. `removed`: answered questions no longer in the questionnaire."""
    neighbourhoods = services.scope_neighbourhoods(questionnaire)
    version = questionnaire.current_version
    problems: dict[str, str] = {}
    channel = MODES.get(raw.get("mode", ""))
    if channel is None:
        problems["mode"] = _("Say how the answers were collected: with the person, or from a paper form.")
    helped = raw.getlist("help") if channel == Channel.assisted else []
    help_given = frozenset(a for a in Assistance if a.value in helped)
    day = date.today()
    if channel == Channel.paper:
        typed = logic.parse_date(raw.get("paper_date", ""))
        if typed is None:
            problems["paper_date"] = problem_message(logic.Problem("date_format"))
        else:
            day = typed
        locale = raw.get("form_locale", "")
        if locale not in form_languages():
            problems["form_locale"] = _("Choose the language of the form.")

    values, parsed = logic.parse_all(version.questions, raw)
    shown_plan = logic.plan(version.sections, values)
    visible = {q.code for q in shown_plan.questions}
    for question in version.questions:
        problem = parsed.get(question.code)
        if question.code not in visible or problem is None:
            continue
        # A paper form is what it is: nobody could insist on an answer when it was filled in.
        if problem.code == "required" and channel != Channel.assisted:
            continue
        problems[question.code] = problem_message(problem)
    if channel == Channel.paper:
        for question in shown_plan.questions:
            if question.kind == Kind.photo and question.code in shown_plan.answers:
                problems[question.code] = _("A paper form holds no photo: remove it, or record these answers as "
                                            "collected with the person.")
    skipped = [q.code for q in version.questions if q.code not in visible and _has_input(q, raw)]
    profile, profile_problems = logic.parse_profile(
        raw,
        age_bands=[a.value for a in AgeBand] if questionnaire.ask_age_band else (),
        genders=[g.value for g in Gender] if questionnaire.ask_gender else (),
        residence_ids=[n.id for n in neighbourhoods] if questionnaire.ask_residence else (),
    )
    problems.update({k: problem_message(p) for k, p in profile_problems.items()})
    picked = parse_int(raw.get("picked", ""))
    if raw.get("picked", "").strip() and picked not in {n.id for n in neighbourhoods}:
        problems["picked"] = response_error_message(services.ResponseError("neighbourhood"))
    code = (raw.get("code") or "").strip()[:40] if questionnaire.access == Access.codes else ""
    if questionnaire.access == Access.codes and not code:
        problems["code"] = response_error_message(services.ResponseError("code_missing"))
    if problems:
        raise EntryProblems(problems)
    return Entry(questionnaire, shown_plan.answers, profile, channel, help_given, day, locale[:8], picked,
                 code or None, skipped, list(removed))


def accepts(questionnaire: Questionnaire, channel: Channel | None, collected_on: date | None = None) -> bool:
    """Answers collected with a person need the questionnaire open today, or (queued on a tablet)
    open on the day they were collected, at most FIELD_SYNC_DAYS ago; paper forms collected
    while it was open may be typed in after it closed (as in paper entry)."""
    channel = channel or Channel.assisted
    if collected_on is not None and channel == Channel.assisted:
        today = date.today()
        return (today - services.FIELD_SYNC_DAYS <= collected_on <= today
                and logic.was_open_on(questionnaire, collected_on, today))
    return services.accepts(questionnaire, channel, date.today())


def collected_day(submission: Submission) -> date | None:
    """The day the device queued it (its clock, in France's time zone); None if it did not say."""
    if submission.created_at is None:
        return None
    moment = submission.created_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("Europe/Paris"))
    return moment.date()


def record(entry: Entry, nonce: str, collected_on: date | None = None) -> services.Submitted:
    """Record the entry through the service every channel uses. Flushes.

    EntryProblems on a refusal (the caller rolls back)."""
    questionnaire = entry.questionnaire
    try:
        return services.submit_response(
            questionnaire, questionnaire.current_version, entry.answers, channel=entry.channel, locale=entry.locale,
            nonce=nonce, profile=entry.profile, assistance=entry.help, submitted_on=entry.day,
            collected_on=collected_on,
            picked_neighbourhood_id=entry.picked, code=entry.code,
        )
    except services.ResponseError as e:
        message = response_error_message(e)
        where = ERROR_FIELDS.get(e.code) or e.params.get("question")
        raise EntryProblems({where: message} if where else {}, [] if where else [message]) from None


def recorded_message(entry: Entry) -> str:
    """What the person entering is told once the answers are recorded, with what was left out."""
    title = str(tr(entry.questionnaire, "title"))
    if entry.channel == Channel.paper:
        parts = [_("%(title)s: answers recorded (paper form).", title=title)]
    else:
        parts = [_("%(title)s: answers recorded (assisted entry).", title=title)]
    if entry.not_applicable:
        parts.append(ngettext(
            "%(num)d answer was left out because its question does not apply given the other answers: "
            "%(questions)s.",
            "%(num)d answers were left out because their questions do not apply given the other answers: "
            "%(questions)s.",
            len(entry.not_applicable), questions=", ".join(entry.not_applicable)))
    if entry.removed:
        parts.append(ngettext(
            "%(num)d answer was left out because its question was removed from the questionnaire: %(questions)s.",
            "%(num)d answers were left out because their questions were removed from the questionnaire: "
            "%(questions)s.",
            len(entry.removed), questions=", ".join(entry.removed)))
    return " ".join(parts)


def field_questionnaires(user: User) -> list[Questionnaire]:
    """Open questionnaires this user may collect answers for."""
    today = date.today()
    found = db.session.scalars(sa.select(Questionnaire).where(Questionnaire.status == Status.open)
                               .order_by(Questionnaire.title, Questionnaire.id))
    return [q for q in found if q.versions and logic.is_open(q, today) and access.can_enter(user, q)]


# --- the adapter ----------------------------------------------------------------------------


def _target(submission: Submission) -> tuple[Questionnaire | None, QuestionnaireVersion | None]:
    return submission.target_row("questionnaire_id", Questionnaire), submission.target_row("version_id",
                                                                                           QuestionnaireVersion)


class QuestionnaireResponses:
    kind = KIND
    label = _l("Questionnaire answers")
    form_version = FORM_VERSION
    versions = frozenset({FORM_VERSION})

    def apply(self, submission: Submission, user: User) -> Applied:
        questionnaire, shown = _target(submission)
        if questionnaire is None or not access.can_enter(user, questionnaire):
            raise FieldForbidden(_("You may not collect answers for this questionnaire."))
        if shown is None or shown.questionnaire_id != questionnaire.id or not questionnaire.versions:
            raise FieldRejected(_("This form does not belong to this questionnaire."))
        channel = MODES.get(submission.fields.get("mode", ""))
        collected = collected_day(submission) if channel == Channel.assisted else None
        if collected is not None and collected > date.today():
            collected = date.today()  # a tablet's clock ahead of the server's
        if not accepts(questionnaire, channel, collected):
            raise FieldRejected(closed_message(questionnaire))
        # Photos arrive checked and re-encoded (EXIF-free); kept where questionnaire photos live.
        store = services.photo_store()
        photos = {name: store.save(photo) for name, taken in submission.photos.items() for _slot, photo in taken[:1]}
        raw = with_photos(submission.fields, photos)
        try:
            raw, removed = carry_to_current(questionnaire, shown, raw)
            entry = read_entry(questionnaire, raw, locale=submission.locale, removed=removed)
            record(entry, new_nonce(), collected_on=collected)
        except Incompatible as e:
            raise FieldRejected(changed_message(e.code), fields={e.code: changed_message(e.code)}) from None
        except EntryProblems as e:
            raise FieldRejected(e.message, fields=e.problems) from None
        # No reference: a receipt must never lead to an anonymous response.
        return Applied(recorded_message(entry), ref=None)

    def offline_forms(self, user: User) -> list[OfflineForm]:
        out = []
        for q in field_questionnaires(user):
            detail = q.scope_label
            if q.closes_on:
                detail = _("%(place)s · until %(day)s", place=detail, day=format_date(q.closes_on, "medium"))
            out.append(OfflineForm(kind=KIND, title=str(tr(q, "title")), detail=detail,
                                   url=url_for("questionnaires_admin.field_form", qid=q.id)))
        return out


ADAPTER = QuestionnaireResponses()
