"""Forms of committee sessions: a new session (date, place) and the minutes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .committee import PLACE_MAX

MINUTES_MAX = 20000


class SessionForm(FlaskForm):
    held_on = DateField(_l("Date of the session"), validators=[InputRequired(message=_l("Enter the date of the session."))])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=PLACE_MAX)],
                        description=_l("For example: the social centre's meeting room."))


class MinutesForm(FlaskForm):
    minutes = TextAreaField(
        _l("Minutes"),
        validators=[DataRequired(message=_l("The minutes may not be empty.")), Length(max=MINUTES_MAX)],
        render_kw={"rows": 24},
    )
