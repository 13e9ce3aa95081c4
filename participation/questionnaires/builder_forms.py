"""Forms of the questionnaire builder: settings, sections, questions, options, codes.

Forms check shapes (lengths, numbers, dates); the rules (codes unique, conditions pointing
at an earlier choice question, tags of the contract…) are checked by `builder`, which says
what is wrong in `error_message`.
"""
from __future__ import annotations

import math

import sqlalchemy as sa

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, FloatField, HiddenField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.content_i18n import preload
from ..core.i18n import current_locale
from ..core.templating import tr
from ..core.territories import Category, Indicator
from ..extensions import db
from . import pictograms
from .builder import CONDITION_SOURCE_KINDS
from .labels import ACCESS, KINDS, PURPOSES, SCALE_STYLES
from .models import Kind, Question, Questionnaire
from ..core.numbers import WholeNumberField


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(k.value, v) for k, v in labels.items()]


def _finite(form, field):
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a number."))


def _text(label, max_length: int, description=None, required: bool = False, area: bool = False):
    validators = [DataRequired() if required else Optional(), Length(max=max_length)]
    return (TextAreaField if area else StringField)(label, validators=validators, description=description)


class SettingsForm(FlaskForm):
    title = _text(_l("Title"), 200, required=True)
    purpose = SelectField(_l("Purpose"), choices=_choices(PURPOSES),
                          description=_l("The tagged questions of an evaluation questionnaire feed the contract's figures."))
    access = SelectField(_l("Who can answer"), choices=_choices(ACCESS),
                         description=_l("With codes, each printed slip allows one answer."))
    opens_on = DateField(_l("Opens on"), validators=[Optional()], description=_l("Optional."))
    closes_on = DateField(_l("Closes on"), validators=[Optional()], description=_l("Optional."))
    ask_age_band = BooleanField(_l("Ask the age band"))
    ask_gender = BooleanField(_l("Ask the gender"))
    ask_residence = BooleanField(_l("Ask the neighbourhood where the person lives"))
    intro = _text(_l("Introduction"), 5000, _l("Shown before the first question: why, how long, anonymous."), area=True)
    intro_easy = _text(_l("Introduction in easy-to-read language"), 5000,
                       _l("Optional. Short sentences, everyday words (FALC)."), area=True)
    thanks = _text(_l("Thank-you message"), 5000, _l("Shown after sending, e.g. where the results will be presented."),
                   area=True)

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The closing date comes before the opening date."))

    def settings(self) -> dict:
        return {name: self[name].data for name in ("title", "purpose", "access", "opens_on", "closes_on", "ask_age_band",
                                                     "ask_gender", "ask_residence", "intro", "intro_easy", "thanks")}


class NewQuestionnaireForm(SettingsForm):
    scope = SelectField(_l("Where"), validators=[DataRequired()], description=_l("Residents of this area answer it."))
    original_locale = SelectField(_l("Language it is written in"), validators=[DataRequired()],
                                  description=_l("Translations into other languages are added afterwards."))


class ConfirmForm(FlaskForm):
    """A POST button: only the CSRF token."""


class StatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(["open", "closed"])])


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class ConditionMixin:
    """"Show only if an earlier answer is…": the question's code, and ticked `CODE:option`
    values (the ticks of other questions are ignored)."""

    condition_code = SelectField(_l("Show only if the answer to"), validators=[Optional()], validate_choice=False,
                                 description=_l("Leave “always shown” unless this only concerns some people."))
    condition_values = SelectMultipleField(_l("is one of"), validators=[Optional()], validate_choice=False)

    def condition(self) -> tuple[str, list[str]]:
        code = (self.condition_code.data or "").strip()
        return code, [v.partition(":")[2] for v in self.condition_values.data or () if v.partition(":")[0] == code]


class SectionAddForm(FlaskForm):
    title = _text(_l("Title of the new section"), 200, _l("One section is one screen on a phone."))


class SectionForm(ConditionMixin, FlaskForm):
    title = _text(_l("Title"), 200)
    intro = _text(_l("Introduction"), 5000, _l("Optional. A sentence or two shown above the questions."), area=True)
    intro_easy = _text(_l("Introduction in easy-to-read language"), 5000, _l("Optional."), area=True)


class QuestionForm(ConditionMixin, FlaskForm):
    kind = SelectField(_l("Kind of question"), choices=_choices(KINDS))
    text = _text(_l("Question"), 500, required=True)
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32)],
                       description=_l("Used in exports. Empty: Q1, Q2… in order."))
    help = _text(_l("Help text"), 2000, _l("Optional. Shown under the question."), area=True)
    text_easy = _text(_l("Question in easy-to-read language"), 500, _l("Optional."))
    required = BooleanField(_l("An answer is required"))
    scale_style = SelectField(_l("Style of the scale"), choices=_choices(SCALE_STYLES), validators=[Optional()],
                              validate_choice=False)
    allow_dont_know = BooleanField(_l("Add a “Don't know” answer"))
    allow_other = BooleanField(_l("Add “Other, please specify” with a text box"))
    max_choices = WholeNumberField(_l("At most this many choices"), validators=[Optional(), NumberRange(min=1, max=100)],
                                   description=_l("Optional. Empty: no limit."))
    min_value = FloatField(_l("Smallest number accepted"), validators=[Optional(), _finite], description=_l("Optional."))
    max_value = FloatField(_l("Largest number accepted"), validators=[Optional(), _finite], description=_l("Optional."))
    category = SelectField(_l("Challenge, orientation or sub-theme"), validators=[Optional()], validate_choice=False,
                           description=_l("Tagged questions are gathered across questionnaires and years."))
    indicator = SelectField(_l("Indicator"), validators=[Optional()], validate_choice=False)

    def validate_max_value(self, field):
        if field.data is not None and self.min_value.data is not None and field.data < self.min_value.data:
            raise ValidationError(_l("The maximum cannot be below the minimum."))

    def question_data(self) -> dict:
        code, values = self.condition()
        return {
            "kind": self.kind.data, "text": self.text.data, "code": self.code.data, "help": self.help.data,
            "text_easy": self.text_easy.data, "required": self.required.data, "scale_style": self.scale_style.data,
            "allow_dont_know": self.allow_dont_know.data, "allow_other": self.allow_other.data,
            "max_choices": self.max_choices.data, "min_value": self.min_value.data, "max_value": self.max_value.data,
            "category_id": self.category.data, "indicator_id": self.indicator.data,
            "condition_code": code, "condition_values": values,
        }


class NewQuestionForm(QuestionForm):
    section = SelectField(_l("Section"), validators=[DataRequired()])
    options = _text(_l("Answers to choose from, one per line"), 5000,
                    _l("For a single or multiple choice or a ranking. Scales and yes / no get theirs automatically."),
                    area=True)

    def option_labels(self) -> list[str]:
        if Kind(self.kind.data) not in (Kind.single, Kind.multiple, Kind.ranking):
            return []
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]


class OptionForm(FlaskForm):
    label = _text(_l("Answer"), 300, required=True)
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32)],
                       description=_l("Used in exports. Empty: the next number."))
    label_easy = _text(_l("Answer in easy-to-read language"), 300, _l("Optional."))
    pictogram = SelectField(_l("Pictogram"), validators=[Optional()], validate_choice=False,
                            description=_l("Optional. Shown next to the words, never instead of them."))


class CodesForm(FlaskForm):
    size = WholeNumberField(_l("Number of codes"), default=100, validators=[InputRequired(), NumberRange(min=1, max=2000)],
                            description=_l("Up to 2,000 at a time; 10 slips per A4 page."))
    label = _text(_l("Where they are handed out"), 200, _l("Optional, for your records: it is never linked to answers."))


# --- choices and initial data ---------------------------------------------------------------


def condition_choices(form, earlier) -> list:
    """Fill a ConditionMixin form's choices; returns the candidate questions (for the template)."""
    sources = [q for q in earlier if q.kind in CONDITION_SOURCE_KINDS]
    form.condition_code.choices = [SelectChoice("", _("(always shown)"))] + [
        SelectChoice(q.code, f"{q.code} · {q.text[:80]}") for q in sources]
    form.condition_values.choices = [SelectChoice(f"{q.code}:{o.code}", o.label) for q in sources for o in q.options]
    preload([*sources, *(o for q in sources for o in q.options)], current_locale())
    return sources


def condition_data(obj) -> dict:
    return {"condition_code": obj.condition_code or "",
            "condition_values": [f"{obj.condition_code}:{v}" for v in obj.condition_values or ()]}



def tag_choices(form: QuestionForm, questionnaire: Questionnaire) -> None:
    categories = list(db.session.scalars(sa.select(Category).where(Category.contract_id == questionnaire.contract_id)
                                         .order_by(Category.code)))
    indicators = list(db.session.scalars(sa.select(Indicator).where(Indicator.contract_id == questionnaire.contract_id)
                                         .order_by(Indicator.code)))
    preload([*categories, *indicators], current_locale())
    none = SelectChoice("", _("(none)"))
    form.category.choices = [none] + [SelectChoice(str(c.id), f"{c.code} {tr(c, 'name')}") for c in categories]
    form.indicator.choices = [none] + [SelectChoice(str(i.id), f"{i.code} {tr(i, 'name')}") for i in indicators]



def question_initial_data(question: Question) -> dict:
    data = {name: getattr(question, name) for name in ("text", "code", "help", "text_easy", "required", "allow_dont_know",
                                                       "allow_other", "max_choices", "min_value", "max_value")}
    return {**data, "kind": question.kind.value, "scale_style": (question.scale_style.value if question.scale_style else
                                                                 "likert"),
            "category": str(question.category_id or ""), "indicator": str(question.indicator_id or ""),
            **condition_data(question)}


def new_option_form(**kwargs) -> OptionForm:
    form = OptionForm(**kwargs)
    form.pictogram.choices = [SelectChoice("", _("(none)"))] + [SelectChoice(n, str(lbl)) for n, lbl in
                                                                  pictograms.PICTOGRAMS.items()]
    return form


def error_message(e) -> str:
    """What a `builder.BuildError` means, in the user's language."""
    p = e.params
    texts = {
        "required": lambda: _("This text is required."),
        "too_long": lambda: _("A text is too long (at most %(max)s characters).", max=p.get("max")),
        "date_order": lambda: _("The closing date comes before the opening date."),
        "status": lambda: _("This change of status is not possible."),
        "no_question": lambda: _("Add at least one question before opening the questionnaire."),
        "old_version": lambda: _("This page showed an older version of the questionnaire. Here is the current one."),
        "kind": lambda: _("Choose a kind of question."),
        "code_format": lambda: _("Codes use letters, digits, dots, dashes and underscores only (at most 32)."),
        "code_taken": lambda: _("The code %(code)s is already used by another question.", code=p.get("code")),
        "option_code_taken": lambda: _("The code %(code)s is already used by another option of this question.",
                                       code=p.get("code")),
        "max_choices": lambda: _("The maximum number of choices must be at least 1."),
        "bounds": lambda: _("The maximum cannot be below the minimum."),
        "bad_tag": lambda: _("Choose an entry of this contract's référentiel."),
        "pictogram": lambda: _("Choose a pictogram from the list."),
        "condition_unknown": lambda: _("No question has the code %(code)s.", code=p.get("code")),
        "condition_not_earlier": lambda: _("A condition can only use a question asked before: %(code)s comes later.",
                                           code=p.get("code")),
        "condition_not_choice": lambda: _("A condition needs a question with answers to choose from (single or multiple "
                                          "choice, scale, yes / no); %(code)s is not one.", code=p.get("code")),
        "condition_no_value": lambda: _("Tick at least one answer of %(code)s that shows this.", code=p.get("code")),
        "condition_bad_value": lambda: _("%(code)s has no answer coded %(value)s.", code=p.get("code"), value=p.get("value")),
        "breaks_condition": lambda: _("This change would break the condition of %(dependent)s (it is shown only after an "
                                      "earlier answer): change or remove that condition first.", dependent=p.get("dependent")),
        "used_by_condition": lambda: _("%(dependent)s is shown only after an answer to %(code)s: change or remove that "
                                       "condition first.", dependent=p.get("dependent"), code=p.get("code")),
        "cannot_move": lambda: _("It cannot move further in that direction."),
        "last_section": lambda: _("A questionnaire keeps at least one section."),
        "generated_options": lambda: _("The answers of a scale or a yes / no question are set for you: edit their "
                                       "labels, or change the kind of question."),
        "no_options": lambda: _("This kind of question has no answers to choose from."),
        "special_option": lambda: _("Untick “Other” or “Don't know” in the question's settings to remove it."),
        "fixed_code": lambda: _("The code of this answer is fixed."),
    }
    return texts.get(e.code, lambda: _("This change is not possible."))()
