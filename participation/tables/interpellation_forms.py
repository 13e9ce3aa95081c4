"""Forms of a table's interpellations: raising one, recording that it was reported back on.
Choices (institutions, défis, meetings) depend on the table and are set by the views; posted
ids are read with `core.numbers.parse_int`."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class InterpellationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("In a few words, e.g. “Repair the lift of building B”."))
    body = TextAreaField(_l("The demand"), validators=[DataRequired(), Length(max=10000)],
                         description=_l("What the table asks, as it will be sent to the institution."))
    institution = SelectField(_l("Institution"), validators=[Optional()],
                              description=_l("Who the demand is addressed to. It can be chosen later, before sending."))
    category = SelectField(_l("Défi or orientation"), validators=[Optional()])
    meeting = SelectField(_l("Meeting where it was raised"), validators=[Optional()])


class ReportForm(FlaskForm):
    meeting = SelectField(_l("Meeting"), validators=[DataRequired()])
    note = TextAreaField(_l("What the table was told (public)"), validators=[DataRequired(), Length(max=2000)],
                         description=_l("E.g. “The landlord's answer was read out; the table will meet them in May.”"))
