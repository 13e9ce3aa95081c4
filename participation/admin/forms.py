from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..core.numbers import WholeNumberField, parse_int
from ..core.territories import CategoryKind, Direction, IndicatorSource
from ..governance.forms import DIRECTION_LABELS, SHARE_METRIC, SOURCE_LABELS, DecimalField, YearField, parse_option_codes
from ..core.users import Role, ROLE_LABELS

ROLE_CHOICES = [SelectChoice(r.value, ROLE_LABELS[r]) for r in Role]

# No deliverability check (no network); the domain part must have a dot.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid email address."))


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    scope = SelectField(_l("Where"), validators=[DataRequired()])


class StaffForm(GrantForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EMAIL, Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        _l("Temporary password"),
        validators=[Optional(), Length(min=12, max=200, message=_l("Use between 12 and 200 characters."))],
        description=_l("At least 12 characters. Give it to the person in person; needed only for a new account."),
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(FlaskForm):
    """A POST button: only the CSRF token."""


KIND_LABELS = {
    CategoryKind.challenge: _l("Challenge (défi)"),
    CategoryKind.orientation: _l("Orientation"),
    CategoryKind.subtheme: _l("Sub-theme"),
}


class CategoryForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, v) for k, v in KIND_LABELS.items()])
    parent = SelectField(_l("Belongs to"), validators=[Optional()], description=_l("Required for a sub-theme."))
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=16), Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dots and dashes only."))],
        description=_l("Short reference used in exports, e.g. D3 or O2.1."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    position = WholeNumberField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])


class IndicatorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=16), Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dots and dashes only."))],
        description=_l("Short reference used in exports, e.g. I3.1."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)],
                       description=_l("What it measures, e.g. “Share of residents who feel safe in the evening”."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)],
                                description=_l("Optional: how it is computed, from which questions or sources."))
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=32)], description=_l("Optional, e.g. percent, residents, euros."))
    category = SelectField(_l("Challenge or orientation"), validators=[Optional()])
    source = SelectField(_l("Source"), choices=[SelectChoice(s.value, v) for s, v in SOURCE_LABELS.items()],
                         default=IndicatorSource.entered.value)
    # Choices: the metric registry (set in __init__, once the metrics are registered).
    metric = SelectField(_l("Computed from"), validators=[Optional()], validate_choice=False,
                         description=_l("Only for a computed indicator."))
    option_codes = StringField(
        _l("Answers counted"), validators=[Optional(), Length(max=200)],
        description=_l("Only for “Share of respondents”: the codes of the options counted, separated by commas, "
                       "e.g. 4, 5 on a satisfaction scale. Tag the questions in the questionnaire builder."),
    )
    scale = StringField(_l("Scale"), validators=[Optional(), Length(max=100)],
                        description=_l("Optional: how the values read, e.g. from 0 to 100, or from 1 (bad) to 5 (good)."))
    direction = SelectField(_l("Which way is better"), choices=[SelectChoice(d.value, v) for d, v in DIRECTION_LABELS.items()],
                            default=Direction.up.value)
    baseline = DecimalField(_l("Baseline"), render_kw={"inputmode": "decimal"},
                            description=_l("Optional. A decimal comma is fine, e.g. 12,5."))
    baseline_year = YearField(_l("Year of the baseline"), render_kw={"inputmode": "numeric"})
    target = DecimalField(_l("Target"), render_kw={"inputmode": "decimal"}, description=_l("Optional."))
    target_year = YearField(_l("Year of the target"), render_kw={"inputmode": "numeric"})
    period_years = StringField(_l("Measured every … years"), default="1", render_kw={"inputmode": "numeric"},
                               description=_l("1: every year; 3: at mid-term and at the end…"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..governance.metrics import METRICS

        self.metric.choices = [SelectChoice("", _l("— choose —"))] + sorted(
            (SelectChoice(key, f"{m.label} ({key})") for key, m in METRICS.items()), key=lambda c: c.label)

    @property
    def period(self) -> int | None:
        return parse_int(self.period_years.data)

    @property
    def codes(self) -> list[str] | None:
        return parse_option_codes(self.option_codes.data)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        errors = []  # (field, message): every rule is checked, every message shown

        from ..governance.metrics import METRICS

        computed = self.source.data == IndicatorSource.computed.value
        if computed and not self.metric.data:
            errors.append((self.metric, _l("A computed indicator needs what it is computed from.")))
        elif self.metric.data and self.metric.data not in METRICS:
            errors.append((self.metric, _l("Choose one of the figures of the list.")))
        if self.codes is None:
            errors.append((self.option_codes, _l("Codes are letters, digits, dashes or underscores, separated by commas.")))
        elif computed and self.metric.data == SHARE_METRIC and not self.codes:
            errors.append((self.option_codes, _l("Give the codes of the options counted, e.g. 4, 5.")))
        for value, year in ((self.baseline, self.baseline_year), (self.target, self.target_year)):
            if value.errors or year.errors:
                continue
            if value.data is not None and year.data is None:
                errors.append((year, _l("Give the year of this value.")))
            elif year.data is not None and value.data is None:
                errors.append((value, _l("Give the value of this year, or leave both empty.")))
        if (self.baseline_year.data is not None and self.target_year.data is not None
                and self.target_year.data < self.baseline_year.data):
            errors.append((self.target_year, _l("The target year cannot come before the baseline year.")))
        if self.period is None or not 1 <= self.period <= 10:
            errors.append((self.period_years, _l("Enter a whole number of years from 1 to 10.")))
        for field, message in errors:
            field.errors = [*field.errors, message]
        return ok and not errors
