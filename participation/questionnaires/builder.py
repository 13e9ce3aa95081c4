"""Building a questionnaire: settings, sections, questions, options, conditions, status; versions.

A version "has answers" once a `Response` points at it. Text edits (wording, help, easy-read
text, option labels and pictograms, section texts, translations) are made in place on any
version. A *structural* change (adding, deleting or moving a question or a section; a
question's kind, code, requirement, bounds, limits, "other" / "don't know"; adding, deleting
or recoding an option; a condition) on a version that has answers is made on a copy instead:
`copy_version` copies the whole version (codes, conditions, tags and the content
translations of every object) as number + 1 with a note saying why, and the change is
applied there. New answers go to the newest version; older versions and their answers stay
as they were. Tags (défi, orientation, indicator) and the order of a question's options are
edited in place: they change how answers are grouped and shown, never what they mean.

Every function flushes and never commits; a `BuildError` means the request must be rolled
back (some checks, e.g. a move that would break a condition, run after the change is made).
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from flask import current_app
from flask_babel import force_locale, gettext as _

from ..core.content_i18n import ContentTranslation
from ..core.numbers import is_ascii_digits, parse_int
from ..core.territories import Category, Indicator
from ..extensions import db
from . import pictograms
from .builder_versions import Workspace, copy_version, has_answers
from .models import (
    Access, Kind, Option, Purpose, Question, Questionnaire, QuestionnaireVersion, ScaleStyle, Section, Status,
)

#: Kinds whose options the facilitator writes (a scale's and a yes/no's are generated).
OPTION_KINDS = frozenset({Kind.single, Kind.multiple, Kind.ranking})
GENERATED_KINDS = frozenset({Kind.scale, Kind.yes_no})
#: Kinds a condition may depend on (every option of a ranking is ranked: no condition there).
CONDITION_SOURCE_KINDS = frozenset({Kind.single, Kind.multiple, Kind.scale, Kind.yes_no})
OTHER_KINDS = frozenset({Kind.single, Kind.multiple})
DONT_KNOW_KINDS = frozenset({Kind.single, Kind.multiple, Kind.scale, Kind.yes_no})
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
#: Fields of a question whose change on an answered version needs a new version.
STRUCTURAL_FIELDS = ("code", "kind", "required", "scale_style", "allow_other", "allow_dont_know", "max_choices",
                     "min_value", "max_value", "condition_code", "condition_values")
SETTINGS = ("title", "intro", "intro_easy", "thanks", "purpose", "access", "opens_on", "closes_on",
            "ask_age_band", "ask_gender", "ask_residence")
MAX_LENGTHS = {"title": 200, "text": 500, "text_easy": 500, "label": 300, "label_easy": 300, "help": 2000,
               "intro": 5000, "intro_easy": 5000, "thanks": 5000}


class BuildError(ValueError):
    """A change that breaks a rule; `builder_forms.error_message(e)` says it in the user's language."""

    def __init__(self, code: str, /, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# --- generated options -------------------------------------------------------------------

def _likert():
    return [_("Strongly disagree"), _("Disagree"), _("Neither agree nor disagree"), _("Agree"), _("Strongly agree")]


def _smileys():
    return [_("Very bad"), _("Bad"), _("So-so"), _("Good"), _("Very good")]


def _yes_no():
    return [_("Yes"), _("No")]


def _dont_know():
    return [_("Don't know")]


def _other():
    return [_("Other (please specify)")]


def _in_languages(make) -> dict[str, list[str | None]]:
    """{language: labels}, None where the catalog has no translation (it would be English)."""
    with force_locale("en"):
        english = make()
    out = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            texts = make()
        out[lang] = [t if lang == "en" or t != e else None for t, e in zip(texts, english)]
    return out


def _add_generated(question: Question, make, codes, pictos=None, **flags) -> None:
    """Options whose labels come from the interface catalogs, translated into every shipped
    language that has them (the facilitator can then edit them like any text)."""
    labels = _in_languages(make)
    source = question.original_locale
    english = labels["en"]
    created = []
    for i, code in enumerate(codes):
        option = Option(code=code, label=labels.get(source, english)[i] or english[i], pictogram=(pictos or {}).get(code, ""),
                        original_locale=source, position=len(question.options), **flags)
        question.options.append(option)
        created.append((i, option))
    db.session.flush()
    db.session.add_all(
        ContentTranslation(entity_type=Option.__tablename__, entity_id=o.id, field="label", locale=lang, text=texts[i])
        for lang, texts in labels.items() if lang != source for i, o in created if texts[i]
    )


def _generate_options(question: Question) -> None:
    question.options.clear()  # delete-orphan: only ever on a version without answers
    db.session.flush()
    if question.kind == Kind.scale:
        smileys = question.scale_style == ScaleStyle.smileys
        codes = [str(i) for i in range(1, 6)]
        _add_generated(question, _smileys if smileys else _likert, codes,
                       dict(zip(codes, pictograms.SMILEY_SCALE)) if smileys else None)
    elif question.kind == Kind.yes_no:
        _add_generated(question, _yes_no, ["yes", "no"], {"yes": "yes", "no": "no"})


def _sync_special_options(question: Question) -> None:
    """"Don't know" then "Other" close the list, as the question's flags say."""
    for flag, attr, code, make in ((question.allow_dont_know, "is_dont_know", "dk", _dont_know),
                                   (question.allow_other, "is_other", "other", _other)):
        existing = [o for o in question.options if getattr(o, attr)]
        if flag and not existing:
            if any(o.code == code for o in question.options):
                raise BuildError("option_code_taken", code=code)
            _add_generated(question, make, [code], **{attr: True})
        elif not flag:
            for o in existing:
                question.options.remove(o)
    _renumber_options(question)


def _renumber_options(question: Question) -> None:
    question.options.sort(key=lambda o: (bool(o.is_dont_know or o.is_other), bool(o.is_other), o.position))
    for i, o in enumerate(question.options):
        o.position = i


def _workspace(version: QuestionnaireVersion, note: str) -> Workspace:
    # The questionnaire's row is locked for the change (PostgreSQL; SQLite serialises writes):
    # a response sent meanwhile waits (services.submit_response locks it for share), so "has
    # answers?" stays true until commit, and two editors never number a new version alike.
    db.session.execute(sa.select(Questionnaire.id).where(Questionnaire.id == version.questionnaire_id).with_for_update())
    if version is not version.questionnaire.current_version:
        raise BuildError("old_version")
    return copy_version(version, note) if has_answers(version) else Workspace(version)


# --- questionnaire -----------------------------------------------------------------------

def _text(value, name: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BuildError("required", field=name)
    if len(value) > MAX_LENGTHS.get(name, 5000):
        raise BuildError("too_long", field=name, max=MAX_LENGTHS.get(name, 5000))
    return value


def _apply_settings(questionnaire: Questionnaire, values: dict) -> None:
    values = {k: v for k, v in values.items() if k in SETTINGS}
    for name in ("title", "intro", "intro_easy", "thanks"):
        if name in values:
            values[name] = _text(values[name], name, required=name == "title")
    try:
        values["purpose"] = Purpose(values.get("purpose") or questionnaire.purpose or Purpose.consultation)
        values["access"] = Access(values.get("access") or questionnaire.access or Access.open)
    except ValueError:
        raise BuildError("settings") from None
    opens, closes = values.get("opens_on"), values.get("closes_on")
    if opens and closes and closes < opens:
        raise BuildError("date_order")
    for name, value in values.items():
        setattr(questionnaire, name, value)


def create_questionnaire(target, title: str, original_locale: str, **settings) -> Questionnaire:
    """A draft questionnaire on `target`'s scope, with version 1 and an empty first section."""
    scope = target.scope
    questionnaire = Questionnaire(contract_id=scope.contract_id, commune_id=scope.commune_id,
                                  neighbourhood_id=scope.neighbourhood_id, original_locale=original_locale)
    _apply_settings(questionnaire, {**settings, "title": title})
    db.session.add(questionnaire)
    version = QuestionnaireVersion(questionnaire=questionnaire, number=1)
    db.session.add_all([version, Section(version=version, position=0, original_locale=original_locale)])
    db.session.flush()
    return questionnaire


def update_settings(questionnaire: Questionnaire, **settings) -> None:
    _apply_settings(questionnaire, settings)
    db.session.flush()


def set_status(questionnaire: Questionnaire, status: Status) -> None:
    """Draft → open → closed; a closed questionnaire can be reopened."""
    allowed = {Status.open: (Status.draft, Status.closed), Status.closed: (Status.open,)}
    if questionnaire.status not in allowed.get(status, ()):
        raise BuildError("status")
    if status == Status.open and not questionnaire.current_version.questions:
        raise BuildError("no_question")
    questionnaire.status = status
    db.session.flush()


# --- conditions ----------------------------------------------------------------------------

def _describe(obj) -> str:
    if isinstance(obj, Question):
        return obj.code
    return obj.title or _("section %(number)s", number=obj.position + 1)


def earlier_questions(version: QuestionnaireVersion, before) -> list[Question]:
    """Questions a condition on `before` may use: those shown before it. `before` is a
    Question, a Section, or ("end", section) for a question about to be added there."""
    out = []
    for section in version.sections:
        if section is before:
            return out
        for question in section.questions:
            if question is before:
                return out
            out.append(question)
        if isinstance(before, tuple) and section is before[1]:
            return out
    return out


def clean_condition(earlier: list[Question], version: QuestionnaireVersion, code, values):
    """(code, option codes) checked against the questions shown earlier, or (None, None)."""
    code = (code or "").strip()
    if not code:
        return None, None
    source = next((q for q in earlier if q.code == code), None)
    if source is None:
        known = any(q.code == code for q in version.questions)
        raise BuildError("condition_not_earlier" if known else "condition_unknown", code=code)
    if source.kind not in CONDITION_SOURCE_KINDS:
        raise BuildError("condition_not_choice", code=code)
    values = list(dict.fromkeys(str(v).strip() for v in values or () if str(v).strip()))
    if not values:
        raise BuildError("condition_no_value", code=code)
    unknown = [v for v in values if v not in {o.code for o in source.options}]
    if unknown:
        raise BuildError("condition_bad_value", code=code, value=unknown[0])
    return code, values


def _check_conditions(version: QuestionnaireVersion) -> None:
    """After a change: every condition still points at an earlier choice question and at
    options it has."""
    seen: dict[str, Question] = {}

    def check(obj):
        if not obj.condition_code:
            return
        source = seen.get(obj.condition_code)
        if (source is None or source.kind not in CONDITION_SOURCE_KINDS
                or not set(obj.condition_values or ()) <= {o.code for o in source.options}):
            raise BuildError("breaks_condition", dependent=_describe(obj))

    for section in version.sections:
        check(section)
        for question in section.questions:
            check(question)
            seen[question.code] = question


def _dependents(version: QuestionnaireVersion, code: str) -> list:
    return [obj for s in version.sections for obj in (s, *s.questions) if obj.condition_code == code]


def _sort(version: QuestionnaireVersion) -> None:
    version.sections.sort(key=lambda s: s.position)
    for i, section in enumerate(version.sections):
        section.position = i
        section.questions.sort(key=lambda q: q.position)
        for j, question in enumerate(section.questions):
            question.position = j


# --- sections ------------------------------------------------------------------------------

def add_section(questionnaire: Questionnaire, title: str, intro: str = "", intro_easy: str = "") -> Section:
    values = {"title": _text(title, "title"), "intro": _text(intro, "intro"), "intro_easy": _text(intro_easy, "intro_easy")}
    ws = _workspace(questionnaire.current_version, _("Section added"))
    section = Section(version=ws.version, position=len(ws.version.sections), original_locale=questionnaire.original_locale,
                      **values)
    db.session.add(section)
    db.session.flush()
    return section


def update_section(section: Section, title: str, intro: str, intro_easy: str, condition_code=None,
                   condition_values=None) -> Section:
    version = section.version
    texts = {"title": _text(title, "title"), "intro": _text(intro, "intro"), "intro_easy": _text(intro_easy, "intro_easy")}
    code, values = clean_condition(earlier_questions(version, section), version, condition_code, condition_values)
    if (code, values) != (section.condition_code, section.condition_values or None):
        section = _workspace(version, _("Condition of a section changed"))(section)
        section.condition_code, section.condition_values = code, values
    for name, value in texts.items():
        setattr(section, name, value)
    db.session.flush()
    return section


def move_section(section: Section, direction: str) -> Section:
    version = section.version
    i = version.sections.index(section)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(version.sections):
        raise BuildError("cannot_move")
    ws = _workspace(version, _("Sections reordered"))
    a, b = ws.version.sections[i], ws.version.sections[j]
    a.position, b.position = b.position, a.position
    _sort(ws.version)
    _check_conditions(ws.version)
    db.session.flush()
    return a


def delete_section(section: Section) -> None:
    version = section.version
    if len(version.sections) == 1:
        raise BuildError("last_section")
    for question in section.questions:
        outside = [d for d in _dependents(version, question.code) if d is not section and d not in section.questions]
        if outside:
            raise BuildError("used_by_condition", code=question.code, dependent=_describe(outside[0]))
    ws = _workspace(version, _("Section deleted"))
    ws.version.sections.remove(ws(section))
    _sort(ws.version)
    db.session.flush()


# --- questions -----------------------------------------------------------------------------

def next_question_code(version: QuestionnaireVersion) -> str:
    numbers = [int(q.code[1:]) for q in version.questions if re.fullmatch(r"Q\d{1,6}", q.code)]
    taken = {q.code for q in version.questions}
    n = max(numbers, default=0) + 1
    while f"Q{n}" in taken:
        n += 1
    return f"Q{n}"


def _tag(model, value, contract_id: int):
    if value in (None, ""):
        return None
    obj = db.session.get(model, parse_int(value)) if parse_int(value) is not None else None
    if obj is None or obj.contract_id != contract_id:
        raise BuildError("bad_tag")
    return obj.id


def _clean_question(version: QuestionnaireVersion, data: dict, earlier: list[Question], current: Question | None) -> dict:
    """The question's fields from form data, checked and reduced to what its kind uses."""
    try:
        kind = Kind(data.get("kind"))
        style = ScaleStyle(data.get("scale_style") or "likert") if kind == Kind.scale else None
    except ValueError:
        raise BuildError("kind") from None
    code = (data.get("code") or "").strip() or (current.code if current else next_question_code(version))
    if not CODE_RE.match(code):
        raise BuildError("code_format")
    if any(q.code == code and q is not current for q in version.questions):
        raise BuildError("code_taken", code=code)
    contract_id = version.questionnaire.contract_id
    out = {
        "code": code, "kind": kind,
        "text": _text(data.get("text"), "text", required=True), "help": _text(data.get("help"), "help"),
        "text_easy": _text(data.get("text_easy"), "text_easy"), "required": bool(data.get("required")),
        "scale_style": style,
        "allow_other": bool(data.get("allow_other")) and kind in OTHER_KINDS,
        "allow_dont_know": bool(data.get("allow_dont_know")) and kind in DONT_KNOW_KINDS,
        "max_choices": data.get("max_choices") if kind == Kind.multiple else None,
        "min_value": data.get("min_value") if kind == Kind.number else None,
        "max_value": data.get("max_value") if kind == Kind.number else None,
        "category_id": _tag(Category, data.get("category_id"), contract_id),
        "indicator_id": _tag(Indicator, data.get("indicator_id"), contract_id),
    }
    if out["max_choices"] is not None and out["max_choices"] < 1:
        raise BuildError("max_choices")
    if None not in (out["min_value"], out["max_value"]) and out["max_value"] < out["min_value"]:
        raise BuildError("bounds")
    out["condition_code"], out["condition_values"] = clean_condition(
        earlier, version, data.get("condition_code"), data.get("condition_values"))
    return out


def add_question(section: Section, data: dict, option_labels=()) -> Question:
    """A question at the end of `section`; `option_labels` become options "1", "2"… of a
    single, multiple choice or ranking question."""
    version = section.version
    values = _clean_question(version, data, earlier_questions(version, ("end", section)), None)
    labels = [_text(label, "label") for label in option_labels if (label or "").strip()]
    ws = _workspace(version, _("Question %(code)s added", code=values["code"]))
    section = ws(section)
    question = Question(version_id=ws.version.id, position=len(section.questions),
                        original_locale=version.questionnaire.original_locale, **values)
    section.questions.append(question)
    db.session.flush()
    if question.kind in GENERATED_KINDS:
        _generate_options(question)
    elif question.kind in OPTION_KINDS:
        for i, label in enumerate(labels):
            question.options.append(Option(code=str(i + 1), label=label, position=i, original_locale=question.original_locale))
    _sync_special_options(question)
    db.session.flush()
    return question


def update_question(question: Question, data: dict) -> Question:
    version = question.section.version
    values = _clean_question(version, data, earlier_questions(version, question), question)
    changed = [name for name in STRUCTURAL_FIELDS if values[name] != getattr(question, name)]
    if {"kind"} & set(changed) and values["kind"] not in CONDITION_SOURCE_KINDS and _dependents(version, question.code):
        raise BuildError("used_by_condition", code=question.code, dependent=_describe(_dependents(version, question.code)[0]))
    if changed:
        question = _workspace(version, _("Question %(code)s changed", code=question.code))(question)
        version = question.section.version
    old_code, old_kind, old_style = question.code, question.kind, question.scale_style
    for name, value in values.items():
        setattr(question, name, value)
    if old_code != question.code:
        for dependent in _dependents(version, old_code):
            dependent.condition_code = question.code
    if question.kind not in OPTION_KINDS | GENERATED_KINDS:
        question.options.clear()
    elif question.kind in GENERATED_KINDS and (old_kind != question.kind or old_style != question.scale_style):
        _generate_options(question)
    _sync_special_options(question)
    db.session.flush()
    _check_conditions(version)
    return question


def move_question(question: Question, direction: str) -> Question:
    """Up or down within its section, or into the previous / next section from its ends."""
    version = question.section.version
    si = version.sections.index(question.section)
    qi = question.section.questions.index(question)
    last = len(question.section.questions) - 1
    if (direction == "up" and qi == 0 and si == 0) or (direction != "up" and qi == last and si == len(version.sections) - 1):
        raise BuildError("cannot_move")
    ws = _workspace(version, _("Question %(code)s moved", code=question.code))
    question, version = ws(question), ws.version
    siblings = question.section.questions
    if direction == "up" and qi > 0:
        siblings[qi - 1].position, question.position = question.position, siblings[qi - 1].position
    elif direction == "up":
        question.section = version.sections[si - 1]
        question.position = len(question.section.questions) + 1
    elif qi < last:
        siblings[qi + 1].position, question.position = question.position, siblings[qi + 1].position
    else:
        question.section = version.sections[si + 1]
        question.position = -1
    _sort(version)
    _check_conditions(version)
    db.session.flush()
    return question


def delete_question(question: Question) -> None:
    version = question.section.version
    dependents = _dependents(version, question.code)
    if dependents:
        raise BuildError("used_by_condition", code=question.code, dependent=_describe(dependents[0]))
    ws = _workspace(version, _("Question %(code)s deleted", code=question.code))
    question = ws(question)
    question.section.questions.remove(question)
    _sort(ws.version)
    db.session.flush()


# --- options ---------------------------------------------------------------------------------

def _clean_option(question: Question, code, label, label_easy, pictogram, current: Option | None) -> dict:
    code = (code or "").strip() or (current.code if current else _next_option_code(question))
    if not CODE_RE.match(code):
        raise BuildError("code_format")
    if any(o.code == code and o is not current for o in question.options):
        raise BuildError("option_code_taken", code=code)
    pictogram = (pictogram or "").strip()
    if pictogram and not pictograms.is_known(pictogram):
        raise BuildError("pictogram")
    return {"code": code, "label": _text(label, "label", required=True), "label_easy": _text(label_easy, "label_easy"),
            "pictogram": pictogram}


def _next_option_code(question: Question) -> str:
    taken = {o.code for o in question.options}
    n = max((int(c) for c in taken if is_ascii_digits(c) and len(c) < 7), default=0) + 1
    while str(n) in taken:
        n += 1
    return str(n)


def _version_of(option: Option) -> QuestionnaireVersion:
    return option.question.section.version


def add_option(question: Question, code, label, label_easy="", pictogram="") -> Option:
    if question.kind not in OPTION_KINDS:
        raise BuildError("generated_options" if question.kind in GENERATED_KINDS else "no_options")
    values = _clean_option(question, code, label, label_easy, pictogram, None)
    ws = _workspace(question.section.version, _("Option added to %(code)s", code=question.code))
    question = ws(question)
    option = Option(original_locale=question.original_locale, position=len(question.options), **values)
    question.options.append(option)
    _renumber_options(question)  # before "don't know" and "other"
    db.session.flush()
    return option


def update_option(option: Option, code, label, label_easy, pictogram) -> Option:
    question, version = option.question, _version_of(option)
    values = _clean_option(question, code, label, label_easy, pictogram, option)
    if values["code"] != option.code:
        if question.kind in GENERATED_KINDS or option.is_other or option.is_dont_know:
            raise BuildError("fixed_code")
        old = option.code
        option = _workspace(version, _("Option of %(code)s recoded", code=question.code))(option)
        for dependent in _dependents(option.question.section.version, question.code):
            dependent.condition_values = [values["code"] if v == old else v for v in dependent.condition_values]
    for name, value in values.items():
        setattr(option, name, value)
    db.session.flush()
    return option


def delete_option(option: Option) -> None:
    question, version = option.question, _version_of(option)
    if question.kind in GENERATED_KINDS:
        raise BuildError("generated_options")
    if option.is_other or option.is_dont_know:
        raise BuildError("special_option")
    used = [d for d in _dependents(version, question.code) if option.code in (d.condition_values or ())]
    if used:
        raise BuildError("used_by_condition", code=f"{question.code} = {option.code}", dependent=_describe(used[0]))
    option = _workspace(version, _("Option deleted from %(code)s", code=question.code))(option)
    question = option.question
    question.options.remove(option)
    _renumber_options(question)
    db.session.flush()


def move_option(option: Option, direction: str) -> None:
    """In place on any version: the order options are shown in changes no answer."""
    question = option.question
    regular = [o for o in question.options if not (o.is_other or o.is_dont_know)]
    if question.kind not in OPTION_KINDS or option not in regular:
        raise BuildError("cannot_move")
    i = regular.index(option)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(regular):
        raise BuildError("cannot_move")
    regular[i].position, regular[j].position = regular[j].position, regular[i].position
    _renumber_options(question)
    db.session.flush()
