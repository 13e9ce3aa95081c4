from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..core.territories import CategoryKind
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
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])


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
