"""FPH forms: the easy-read application form (public and assisted), the bilan, and the back
office's fund, source, member, eligibility, payment and publication forms.

Whole numbers are read with `core.numbers.parse_int` (ASCII digits only) and bounded, so no
typed amount can reach the database as something it refuses."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FileField,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.numbers import WholeNumberField

#: Large enough for any FPH amount, small enough for every database integer.
MAX_AMOUNT = 10_000_000
BUDGET_ROWS = 5
PHOTO_ROWS = 4


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _at_most(maximum: int):
    """Between 0 and `maximum` when given (an empty amount is checked by the form)."""
    def check(form, field):
        if field.data is not None and not 0 <= field.data <= maximum:
            raise ValidationError(_l("Write an amount between 0 and %(max)s.", max=maximum))
    return check


def _email(form, field):
    value = (field.data or "").strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValidationError(_l("This e-mail address looks wrong. For example: name@example.org."))


def _not_before_2000(form, field):
    if field.data and field.data < date(2000, 1, 1):
        raise ValidationError(_l("Check the date."))


# --- the application ---------------------------------------------------------------------


class LineForm(Form):
    """One budget line: what it pays for and how much."""

    what = StringField(_l("What for?"), validators=[Optional(), Length(max=200)])
    amount = WholeNumberField(_l("How much (€)?"), validators=[_at_most(MAX_AMOUNT)])

    def validate_amount(self, field):
        if (self.what.data or "").strip() and field.data is None:
            raise ValidationError(_l("Write the amount of this line."))
        if field.data and not (self.what.data or "").strip():
            raise ValidationError(_l("Write what this amount pays for."))


class ApplicationForm(FlaskForm):
    title = StringField(_l("What is your project?"), validators=[DataRequired(), Length(min=3, max=200)],
                        description=_l("A short name. For example: “Party for the end of the school year”."))
    audience = StringField(_l("Who is it for?"), validators=[DataRequired(), Length(max=300)],
                           description=_l("For example: “the children of the building and their parents”."))
    starts_on = DateField(_l("When does it start?"), validators=[Optional(), _not_before_2000])
    ends_on = DateField(_l("When does it end?"), validators=[Optional(), _not_before_2000],
                        description=_l("The same day if it lasts one day."))
    place = StringField(_l("Where?"), validators=[DataRequired(), Length(max=200)],
                        description=_l("A place, a street, a hall. For example: “the square of the social centre”."))
    neighbourhood = SelectField(_l("In which neighbourhood?"), validators=[Optional()])
    description = TextAreaField(_l("Tell us about your project"), validators=[DataRequired(), Length(min=10, max=5000)],
                                description=_l("What will you do? Why? Write simply, as you would say it."))
    lines = FieldList(FormField(LineForm), min_entries=BUDGET_ROWS, max_entries=20)
    collective = StringField(_l("Name of your group (optional)"), validators=[Optional(), Length(max=200)],
                             description=_l("No association needed. A group of neighbours is enough. "
                                            "For example: “The neighbours of building B”."))
    contact_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    contact_phone = StringField(_l("Your phone"), validators=[Length(max=40)],
                                render_kw={"autocomplete": "tel", "inputmode": "tel"})
    contact_email = StringField(_l("Your e-mail"), validators=[Optional(), _email, Length(max=254)],
                                render_kw={"autocomplete": "email", "inputmode": "email"})
    consent = BooleanField(_l("I agree that the FPH team uses my contact details to talk with me about this project."))
    nonce = HiddenField()

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end is before the start."))

    def validate_contact_phone(self, field):
        if not (field.data or "").strip() and not (self.contact_email.data or "").strip():
            raise ValidationError(_l("Give a phone number or an e-mail, so that we can answer you."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Tick the box: we need your contact details to answer you."))

    def budget_lines(self) -> list[tuple[str, int]]:
        return [((entry.what.data or "").strip(), entry.amount.data) for entry in self.lines
                if (entry.what.data or "").strip() and entry.amount.data is not None]


class AssistedApplicationForm(ApplicationForm):
    assistance = CheckboxesField(_l("Help given"), choices=[])
    channel = SelectField(_l("How the application reached you"), choices=[])


# --- bilans --------------------------------------------------------------------------------


class PhotoRowForm(Form):
    photo = FileField(_l("Photo"))
    caption = StringField(_l("What does the photo show?"), validators=[Optional(), Length(max=300)],
                          description=_l("For example: “The children plant flowers”."))


class BilanForm(FlaskForm):
    summary = TextAreaField(_l("What happened?"), validators=[DataRequired(), Length(min=10, max=5000)],
                            description=_l("What did you do? What went well? What was difficult?"))
    participants = WholeNumberField(_l("How many people took part?"),
                                    validators=[Optional(), NumberRange(min=0, max=100_000)],
                                    description=_l("An estimate is fine."))
    spent = WholeNumberField(_l("How much money did you spend (€)?"),
                             validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)])
    photos = FieldList(FormField(PhotoRowForm), min_entries=PHOTO_ROWS, max_entries=PHOTO_ROWS)

    def uploads(self) -> list[tuple[object, str]]:
        return [(row.photo.data, (row.caption.data or "").strip()) for row in self.photos
                if getattr(row.photo.data, "filename", "")]


class StaffBilanForm(BilanForm):
    channel = SelectField(_l("How the bilan reached you"), choices=[])


# --- back office -----------------------------------------------------------------------------


class FundForm(FlaskForm):
    name = StringField(_l("Name of the fund"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For example: “FPH Malpassé Corot 2026”."))
    year = WholeNumberField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    neighbourhoods = CheckboxesField(_l("Neighbourhoods"), choices=[],
                                     description=_l("One neighbourhood, or several for a shared fund."))
    ceiling = WholeNumberField(_l("Most a project may receive (€)"), validators=[InputRequired(), NumberRange(min=1, max=MAX_AMOUNT)])
    rules = TextAreaField(_l("Rules of the fund"), validators=[Optional(), Length(max=10_000)],
                          description=_l("Shown to residents: who may apply, what is funded, how the committee decides."))
    decision_mode = SelectField(_l("How the committee decides"), choices=[])
    quorum = WholeNumberField(_l("Quorum (voting members present)"), validators=[InputRequired(), NumberRange(min=1, max=100)])
    bilan_days = WholeNumberField(_l("Bilan expected, days after the project's end"),
                                  validators=[InputRequired(), NumberRange(min=0, max=730)])
    accepting = BooleanField(_l("Residents may apply online"))


class SourceForm(FlaskForm):
    kind = SelectField(_l("Kind of source"), choices=[])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=200)],
                        description=_l("For example: “Bailleur Habitat Marseille Provence (TFPB)”."))
    amount = WholeNumberField(_l("Amount (€)"), validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)])


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role on the fund"), choices=[])
    user = SelectField(_l("Staff account (optional)"), choices=[], validators=[Optional()])


class EligibilityForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[SelectChoice("eligible", _l("Eligible")), SelectChoice("ineligible", _l("Not eligible"))],
                           validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (required when not eligible)"), validators=[Optional(), Length(max=2000)],
                           description=_l("The applicants read it on their follow page."))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why is it withdrawn?"), validators=[Optional(), Length(max=2000)])


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[InputRequired(), _not_before_2000])
    amount = WholeNumberField(_l("Amount paid (€)"), validators=[InputRequired(), NumberRange(min=1, max=MAX_AMOUNT)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=300)],
                       description=_l("For example: “first instalment, cheque to the social centre”."))


class PhotoPublishForm(FlaskForm):
    photo_id = HiddenField()
    publish = HiddenField()


class CloseForm(FlaskForm):
    pass
