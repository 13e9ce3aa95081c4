"""The answering form, with no state kept on the server until the final send.

Every screen is one `<form>` that carries all the answers given so far: the current screen's
questions as inputs, every other answer as hidden inputs with the same names (see logic.py for
the names). Next / back / send post the whole state; the server parses it, evaluates the
conditions, and renders the screen asked for. Nothing is written before "send".

Photos: a file can only be sent with the form it was chosen in, and a stateless server cannot
keep it in a session. So a photo is checked, re-encoded (EXIF stripped) and stored by content
hash as soon as its screen is posted (whatever the button), and only its sha256 travels in the
hidden fields from then on; the final send checks that the file exists. The store is
content-addressed and holds no link to a person or a response; a photo whose questionnaire is
never sent stays unreferenced in the store (a clean-up of unreferenced files can remove it).

A question whose condition is on a question of the same section cannot be decided before the
section is sent: the page shows it with a note ("answer only if…"), JavaScript hides it while
the condition is not met, and the server drops its answer at send time if the condition is not
met (JavaScript or not).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..core.channels import Assistance, Channel
from ..core.templating import tr
from . import logic
from ..core.numbers import parse_int
from ..extensions import db
from .models import Access, AgeBand, Gender, Questionnaire, QuestionnaireVersion

SECTION, PROFILE, REVIEW = "section", "profile", "review"
PROFILE_FIELDS = ("p_age", "p_gender", "p_residence")
MODES = ("web", "preview", "assisted")


@dataclass
class Flow:
    """Who answers and where the form goes: a resident ("web"), staff previewing a
    questionnaire (nothing saved) or a mediator helping a resident ("assisted")."""

    questionnaire: Questionnaire
    mode: str
    action: str
    neighbourhoods: list = field(default_factory=list)

    @property
    def version(self):
        return self.questionnaire.current_version

    @property
    def channel(self) -> Channel:
        return Channel.assisted if self.mode == "assisted" else Channel.web

    @property
    def needs_code(self) -> bool:
        return self.questionnaire.access == Access.codes and self.mode != "preview"

    @property
    def draft_key(self) -> str | None:
        """localStorage key of the resident's draft; none for staff (a shared tablet must not
        keep a resident's answers)."""
        if self.mode != "web":
            return None
        return f"questionnaire:{self.questionnaire.id}:v{self.version.id}"


@dataclass
class Screen:
    kind: str
    key: str
    section: object = None
    #: The questions this screen shows (visible ones, and those conditioned on this section).
    questions: list = field(default_factory=list)


def carried_over(flow: Flow, form: MultiDict) -> tuple[MultiDict, bool]:
    """Answers posted for an older version of this questionnaire (a facilitator made a new
    version while the resident was answering), re-keyed onto the current one by question and
    option codes, which copies keep. Answers to questions that no longer exist are dropped.
    Returns (form, whether it was carried over); the flow then starts again from the first
    screen with the answers filled in, so that the resident checks them."""
    posted = parse_int(form.get("version"))
    if posted is None or posted == flow.version.id:
        return form, False
    old = db.session.get(QuestionnaireVersion, posted)
    if old is None or old.questionnaire_id != flow.questionnaire.id:
        return form, False
    current = {question.code: question for question in flow.version.questions}
    questions: dict[int, int] = {}
    options: dict[int, int] = {}
    for question in old.questions:
        new = current.get(question.code)
        if new is None:
            continue
        questions[question.id] = new.id
        new_options = {o.code: o.id for o in new.options}
        options.update({o.id: new_options[o.code] for o in question.options if o.code in new_options})
    out = MultiDict()
    for key, values in form.lists():
        match = logic.FIELD_NAME.fullmatch(key)
        if match is None:
            if key != "step":  # the old screens do not exist any more
                out.setlist(key, values)
            continue
        qid, part = int(match.group(1)), match.group(2) or ""
        if qid not in questions:
            continue
        if part.startswith("o") and part[1:].isdecimal():  # a rank, per option id
            if int(part[1:]) not in options:
                continue
            part = f"o{options[int(part[1:])]}"
        out.setlist(f"q{questions[qid]}" + (f"_{part}" if part else ""), values)
    return out, True


class State:
    """The answers carried by one POST of the flow, parsed."""

    def __init__(self, flow: Flow, form: MultiDict):
        self.flow = flow
        form, self.carried_over = carried_over(flow, form)
        q = flow.questionnaire
        self.sections = list(flow.version.sections)
        self.questions = [question for s in self.sections for question in s.questions]
        ids = {question.id for question in self.questions}
        self.raw: dict[str, list[str]] = {
            k: form.getlist(k) for k in form.keys() if logic.question_id_of(k) in ids or k in PROFILE_FIELDS
        }
        self.easy = form.get("easy") == "1"
        self.code = (form.get("code") or "").strip()[:40]
        self.step = form.get("step", "")
        self.go = form.get("go", "")
        self.nonce = form.get("nonce", "")
        helped = form.getlist("help") if flow.mode == "assisted" else []
        self.help = frozenset(a for a in Assistance if a.value in helped)
        picked = form.get("picked", "")
        self.picked = parse_int(picked) if parse_int(picked) in {n.id for n in flow.neighbourhoods} else None
        self.age_bands = [a.value for a in AgeBand] if q.ask_age_band else []
        self.genders = [g.value for g in Gender] if q.ask_gender else []
        self.residences = flow.neighbourhoods if q.ask_residence else []
        self.upload_problems: dict[str, logic.Problem] = {}
        self.refresh()

    def refresh(self) -> None:
        self.values, self._problems = logic.parse_all(self.questions, self.raw)
        self._problems.update(self.upload_problems)
        self.plan = logic.plan(self.sections, self.values)
        self.profile, self.profile_problems = logic.parse_profile(
            self.raw, age_bands=self.age_bands, genders=self.genders, residence_ids=[n.id for n in self.residences])

    # --- raw values, for the inputs of the current screen
    def get(self, name: str) -> str:
        return next(iter(self.raw.get(name, [])), "")

    def getlist(self, name: str) -> list[str]:
        return self.raw.get(name, [])

    def chosen(self, question, option) -> bool:
        codes = {c.strip().casefold() for c in self.getlist(logic.field_name(question))}
        return option.code.casefold() in codes

    # --- screens
    def screens(self) -> list[Screen]:
        out = []
        for section, visible in self.plan.sections:
            shown = [question for question in section.questions if question in visible or (
                logic.depends_on_same_section(question)
                and any(v.code == question.condition_code for v in visible))]
            out.append(Screen(SECTION, f"s{section.id}", section, shown))
        if self.flow.questionnaire.asks_profile:
            out.append(Screen(PROFILE, "profile"))
        out.append(Screen(REVIEW, "review"))
        return out

    def screen(self, key: str) -> Screen | None:
        return next((s for s in self.screens() if s.key == key), None)

    def neighbour(self, screen: Screen, offset: int) -> Screen:
        screens = self.screens()
        keys = [s.key for s in screens]
        if screen.key not in keys:
            return screens[0]
        return screens[max(0, min(len(screens) - 1, keys.index(screen.key) + offset))]

    def problems_for(self, screen: Screen) -> dict[str, logic.Problem]:
        if screen.kind == PROFILE:
            return dict(self.profile_problems)
        if screen.kind != SECTION:
            return {}
        visible = {question.code for question in self.plan.questions_of(screen.section)}
        return {code: p for code, p in self._problems.items() if code in visible}

    def all_problems(self) -> tuple[Screen | None, dict[str, logic.Problem]]:
        """The first screen with a problem, and its problems."""
        for screen in self.screens():
            problems = self.problems_for(screen)
            if problems:
                return screen, problems
        return None, {}

    def hidden_fields(self, screen: Screen) -> list[tuple[str, str]]:
        """Every answer that is not an input of this screen, to carry it along."""
        on_screen = {question.id for question in screen.questions}
        out = []
        for name, values in self.raw.items():
            if name in PROFILE_FIELDS:
                keep = screen.kind != PROFILE
            else:
                keep = logic.question_id_of(name) not in on_screen
            out.extend((name, v) for v in values if keep)
        return out

    def take_uploads(self, files, screen: Screen | None) -> None:
        """Store the photos chosen on this screen (see the module docstring)."""
        from . import services
        from .models import Kind

        if screen is None:
            return
        for question in screen.questions:
            if question.kind != Kind.photo:
                continue
            photo_field = logic.field_name(question, "photo")
            if any(self.raw.pop(logic.field_name(question, "remove"), [])):
                self.raw[photo_field] = []
            upload = files.get(logic.field_name(question, "file")) if files else None
            if upload is None or not upload.filename:
                continue
            try:
                self.raw[photo_field] = [services.store_photo(upload)]
            except services.PhotoRejected as e:
                self.upload_problems[question.code] = logic.Problem("photo", {"message": e.message})
        self.refresh()

    def review(self) -> list[tuple[object, list[tuple[object, object]]]]:
        return [(section, [(question, self.plan.answers.get(question.code)) for question in visible])
                for section, visible in self.plan.sections]


def profile_questions(questionnaire: Questionnaire, neighbourhoods) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(field, question, [(value, label)]) of the profile questions asked, each with
    "prefer not to say" (the empty value)."""
    from .labels import AGE_BANDS, GENDERS

    no = _("I prefer not to say")
    out = []
    if questionnaire.ask_age_band:
        out.append(("p_age", _("Your age"), [(a.value, str(AGE_BANDS[a])) for a in AgeBand] + [("", no)]))
    if questionnaire.ask_gender:
        out.append(("p_gender", _("Gender"), [(g.value, str(GENDERS[g])) for g in Gender] + [("", no)]))
    if questionnaire.ask_residence and neighbourhoods:
        out.append(("p_residence", _("The neighbourhood where you live"),
                    [(str(n.id), n.name) for n in neighbourhoods] + [("elsewhere", _("Somewhere else")), ("", no)]))
    return out


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def progress(state: State, screen: Screen) -> tuple[int, int]:
    """(number of this screen, number of screens) counting sections shown and the profile;
    hidden sections are skipped and not counted, the review is not a section."""
    counted = [s.key for s in state.screens() if s.kind != REVIEW]
    number = counted.index(screen.key) + 1 if screen.key in counted else len(counted)
    return number, len(counted)


# --- texts ---------------------------------------------------------------------------


def pick(obj, field_name: str, easy: bool) -> str:
    """The field to show: the easy-read variant when asked for and written in this language
    (or when the normal text is not translated either), else the normal text."""
    if not easy:
        return field_name
    easy_text = tr(obj, f"{field_name}_easy")
    if easy_text.text and (not easy_text.is_fallback or tr(obj, field_name).is_fallback):
        return f"{field_name}_easy"
    return field_name


_PICTOGRAMS: dict[str, bool] = {}


def pictogram_url(name: str) -> str | None:
    """URL of a shipped pictogram; None for an unknown name (no broken image)."""
    if not name:
        return None
    if name not in _PICTOGRAMS:
        path = Path(current_app.static_folder) / "pictograms" / f"{name}.svg"
        _PICTOGRAMS[name] = name.replace("-", "").isalnum() and path.is_file()
    return url_for("static", filename=f"pictograms/{name}.svg") if _PICTOGRAMS[name] else None


def _number(value) -> str:
    return format_decimal(value) if value is not None else ""


def problem_message(problem: logic.Problem) -> str:
    p = problem.params
    code = problem.code
    if code == "photo":
        return str(p["message"])
    if code == "invalid_choice":
        return _("“%(code)s” is not one of the answers to choose from.", code=p.get("code", ""))
    if code == "too_many":
        return _("Choose at most %(max)s answers.", max=p["max"])
    if code == "too_long":
        return _("This answer is too long: at most %(max)s characters.", max=p["max"])
    if code == "rank_format":
        return _("A rank is a number from 1 to %(max)s.", max=p["max"])
    if code == "rank_duplicate":
        return _("Rank %(rank)s is given twice: give each rank once.", rank=p["rank"])
    if code == "too_small":
        return _("The number must be at least %(min)s.", min=_number(p["min"]))
    if code == "too_large":
        return _("The number must be at most %(max)s.", max=_number(p["max"]))
    if code == "not_applicable":
        return _("This question does not apply given the answer to %(question)s: "
                 "leave it empty or correct that answer.", question=p["question"])
    simple = {
        "required": _("Please answer this question."),
        "one_choice": _("Choose only one answer."),
        "dont_know_alone": _("“Don't know” cannot be combined with other answers."),
        "other_missing": _("Please say what “other” is."),
        "number_format": _("Write a number, for example 3 or 2.5."),
        "date_format": _("Write a date as day/month/year, for example 25/03/2026."),
        "photo_invalid": _("The photo could not be found. Please choose it again."),
        "location_incomplete": _("The position is incomplete: use the button again, or describe the place."),
        "location_range": _("This position is not valid."),
    }
    return simple.get(code, _("This answer could not be read."))


def response_error_message(error) -> str:
    messages = {
        "code_missing": _("Enter the code printed on your slip."),
        "code_invalid": _("This code is not valid for this questionnaire. Check the letters and digits on your slip."),
        "code_used": _("This code has already been used: each code gives one answer."),
        "closed": _("This questionnaire is not open for answers."),
        "date_future": _("The date written on the form cannot be in the future."),
        "neighbourhood": _("Choose a neighbourhood from the list."),
        "photo_missing": _("A photo was lost on the way. Please choose it again."),
        "required": _("Please answer every required question."),
        "nonce": _("Your form expired. Check your answers and send them again."),
    }
    changed = _("This questionnaire changed while you were answering. Check your answers and send them again.")
    return messages.get(error.code, changed)
