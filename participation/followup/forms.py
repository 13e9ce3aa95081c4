"""Forms of the follow-up back office: the contract's institutions, editing a demand, moving it
through the workflow, adding a note. Choices that depend on the demand are set by the views."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .labels import INSTITUTION_KINDS
from ..core.numbers import WholeNumberField

KIND_CHOICES = [SelectChoice(k.value, v) for k, v in INSTITUTION_KINDS.items()]


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("E.g. “Ville de Marseille”, “13 Habitat”, “Préfecture des Bouches-du-Rhône”."))
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="other")
    answer_days = WholeNumberField(_l("Days expected to answer"), default=60,
                                   validators=[InputRequired(), NumberRange(min=1, max=3650)],
                                   description=_l("A demand is overdue when no answer came within these days."))


class DefaultsForm(FlaskForm):
    """Only the CSRF token: "add the usual institutions"."""


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("The demand as sent"), validators=[Optional(), Length(max=10000)])
    institution = SelectField(_l("Institution"), validators=[Optional()])
    category = SelectField(_l("Défi or orientation"), validators=[Optional()])
    answer_due_on = DateField(_l("Answer expected by"), validators=[Optional()])
    action_due_on = DateField(_l("Action promised by"), validators=[Optional()],
                              description=_l("Optional: the day the institution committed to act by."))


class MoveForm(FlaskForm):
    target = SelectField(_l("New status"))
    on = DateField(_l("Date of this step"), validators=[InputRequired()],
                   description=_l("The day it happened: not in the future, not before the demand was sent."))
    answer = TextAreaField(_l("The institution's answer"), validators=[Optional(), Length(max=10000)],
                           description=_l("Required when the demand is answered or refused. It is published."))
    action_due_on = DateField(_l("Action promised by"), validators=[Optional()],
                              description=_l("Optional: the day the institution committed to act by."))
    note = TextAreaField(_l("Note (public)"), validators=[Optional(), Length(max=2000)],
                         description=_l("Shown on the public page, without your name."))


class NoteForm(FlaskForm):
    on = DateField(_l("Date"), validators=[InputRequired()])
    note = TextAreaField(_l("Note (public)"), validators=[DataRequired(), Length(max=2000)],
                         description=_l("E.g. “Reminder sent”, “Reported at the meeting of 12 March”. Shown without your name."))
