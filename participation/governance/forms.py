"""Forms of the référentiel's governance pages (entered values, verbatims, API tokens), and the
number fields they share with the indicator form (a French decimal comma, a year of the
evaluation's range)."""
from __future__ import annotations

import math
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core.numbers import parse_int
from ..core.territories import Direction, IndicatorSource
from .models import VerbatimOrigin, VerbatimStatus

#: Years a value, a baseline, a target or a verbatim may be dated (the tables' CHECK constraints).
YEAR_MIN, YEAR_MAX = 1990, 2100
#: Larger numbers are no rate, count or amount of a contrat de ville (and floats lose digits).
DECIMAL_LIMIT = 1e12

# Spaces people put between thousands ("1 234,5"), including the no-break ones of French typing.
_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")


def parse_decimal(text) -> float | None:
    """A number typed the French way ("12,5") or with a dot ("12.5"); ASCII digits only (no
    "١٢"), no exponent, no thousands separator other than a space. None if it is no number."""
    raw = _SPACES.sub("", str(text if text is not None else "").strip())
    if not raw or len(raw) > 32 or not raw.isascii() or not _DECIMAL.match(raw):
        return None
    number = float(raw.replace(",", "."))
    if not math.isfinite(number) or abs(number) >= DECIMAL_LIMIT:
        return None
    return number


def plain_decimal(number: float | None) -> str:
    """A number written back into a form field, without exponent or trailing zeros."""
    if number is None:
        return ""
    return f"{number:.6f}".rstrip("0").rstrip(".")


def _choice_values(field) -> set[str]:
    return {c.value if isinstance(c, SelectChoice) else c[0] for c in field.choices}


def valid_year(year: int | None) -> bool:
    return year is not None and YEAR_MIN <= year <= YEAR_MAX


class DecimalField(StringField):
    """A text input read as a number (`data` is a float or None); what was typed is shown back."""

    def process_data(self, value):
        self.data = None if value in (None, "") else float(value)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = parse_decimal(text) if text else None
        if text and self.data is None:
            raise ValueError(_l("Enter a number, for example 12,5."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return plain_decimal(self.data)


class YearField(StringField):
    """A year between YEAR_MIN and YEAR_MAX (`data` is an int or None)."""

    def process_data(self, value):
        self.data = None if value in (None, "") else int(value)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = parse_int(text) if text else None
        if text and not valid_year(self.data):
            self.data = None
            raise ValueError(_l("Enter a year between %(start)s and %(end)s.", start=YEAR_MIN, end=YEAR_MAX))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


# --- indicators (the référentiel's form is admin.forms.IndicatorForm) ---------------------------

SOURCE_LABELS = {
    IndicatorSource.computed: _l("Computed from what the app collects"),
    IndicatorSource.entered: _l("Entered by hand, with a source note"),
}
DIRECTION_LABELS = {Direction.up: _l("Higher is better"), Direction.down: _l("Lower is better")}
#: The metric whose indicators count some options of the tagged questions.
SHARE_METRIC = "questionnaires.share"
_OPTION_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_option_codes(text: str | None) -> list[str] | None:
    """The codes typed as "4, 5" → ["4", "5"]; None when a code is not letters, digits, dashes or underscores."""
    codes = [c.strip() for c in (text or "").split(",") if c.strip()]
    if any(not _OPTION_CODE.match(c) for c in codes):
        return None
    return list(dict.fromkeys(codes))


# --- entered values -------------------------------------------------------------------------------


class IndicatorValueForm(FlaskForm):
    """Add a value, or replace the one of the same place and year. `scope` choices: the
    contract, its communes and its neighbourhoods (set by the view)."""

    scope = SelectField(_l("Where"), validators=[DataRequired()], validate_choice=False)
    year = YearField(_l("Year"), validators=[InputRequired(message=_l("Enter the year of the value."))],
                     render_kw={"inputmode": "numeric", "autocomplete": "off"})
    value = DecimalField(_l("Value"), validators=[InputRequired(message=_l("Enter the value."))],
                         description=_l("A decimal comma is fine, e.g. 12,5."),
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    source_note = StringField(
        _l("Source"),
        validators=[DataRequired(message=_l("Say where the value comes from.")), Length(max=300)],
        description=_l("Where the value comes from, e.g. “INSEE, Filosofi 2024”."),
    )

    def validate_scope(self, field):
        if field.data not in _choice_values(field):
            field.errors.append(_l("Choose the contract, one of its communes or one of its neighbourhoods."))


# --- verbatims ------------------------------------------------------------------------------------

ORIGIN_LABELS = {
    VerbatimOrigin.questionnaire: _l("Questionnaire"),
    VerbatimOrigin.table: _l("Table de quartier"),
    VerbatimOrigin.walk: _l("Exploratory walk"),
    VerbatimOrigin.fph: _l("FPH project"),
    VerbatimOrigin.budget: _l("Participatory budget"),
    VerbatimOrigin.other: _l("Other (meeting, interview…)"),
}

STATUS_LABELS = {
    VerbatimStatus.pending: _l("Waiting for moderation"),
    VerbatimStatus.published: _l("Published"),
    VerbatimStatus.rejected: _l("Rejected"),
}


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in current_app.config["LANGUAGES"].items()]


class VerbatimForm(FlaskForm):
    """A resident's words added by hand. Choices of `locale`, `neighbourhood`, `indicator` and
    `category` are set by the view (the contract's own)."""

    text = TextAreaField(
        _l("Words of a resident"),
        validators=[DataRequired(message=_l("Write the words.")), Length(max=2000)],
        description=_l("As said, without a name. E-mail addresses and phone numbers are masked."),
    )
    locale = SelectField(_l("Language the words were said in"), validate_choice=False)
    year = YearField(_l("Year"), validators=[InputRequired(message=_l("Enter the year the words were said."))],
                     render_kw={"inputmode": "numeric", "autocomplete": "off"})
    neighbourhood = SelectField(_l("Neighbourhood"), validators=[Optional()], validate_choice=False,
                                description=_l("Optional: where it was said."))
    indicator = SelectField(_l("Indicator"), validators=[Optional()], validate_choice=False)
    category = SelectField(_l("Défi or orientation"), validators=[Optional()], validate_choice=False,
                           description=_l("Give an indicator, a défi or orientation, or both."))
    origin = SelectField(_l("Where it was said"), choices=[SelectChoice(o.value, label) for o, label in ORIGIN_LABELS.items()],
                         default=VerbatimOrigin.other.value)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in (self.locale, self.neighbourhood, self.indicator, self.category):
            if field.data and field.data not in _choice_values(field):
                field.errors.append(_l("Choose one of the list."))
                ok = False
        if not self.indicator.data and not self.category.data and not self.category.errors:
            self.category.errors.append(_l("Attach the words to an indicator, a défi or orientation, or both."))
            ok = False
        return ok


class TakeSuggestionForm(FlaskForm):
    """Take a suggested quote as a verbatim. `source` names it ("answer:12", "observation:3")
    in this request only: the verbatim keeps no trace of it."""

    source = StringField(validators=[DataRequired(), Length(max=40)])
    category = SelectField(_l("Défi or orientation"), validators=[Optional()], validate_choice=False)
    indicator = SelectField(_l("Indicator"), validators=[Optional()], validate_choice=False)


class VerbatimStatusForm(FlaskForm):
    status = SelectField(choices=[s.value for s in VerbatimStatus])


# --- API tokens -----------------------------------------------------------------------------------


class TokenForm(FlaskForm):
    label = StringField(
        _l("Name of the token"),
        validators=[DataRequired(message=_l("Name the token, e.g. the tool that will use it.")), Length(max=100)],
        description=_l("So that you recognise it later, e.g. “Evaluation spreadsheet”."),
    )
