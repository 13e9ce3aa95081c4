"""Forms of the tables de quartier back office: tables, meetings, agenda items, minutes.

Forms check shapes (lengths, dates, times, choices among the offered ids); the rules (scope
of the neighbourhoods, facilitators of the contract…) are checked by `services`.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .labels import MEETING_STATUSES
from .models import MeetingStatus

#: Meetings are planned within these years (keeps calendars and time zones sane).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _text(label, max_length: int, description=None, required: bool = False, area: bool = False):
    validators = [DataRequired() if required else Optional(), Length(max=max_length)]
    return (TextAreaField if area else StringField)(label, validators=validators, description=description)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (rendered in a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TableForm(FlaskForm):
    name = _text(_l("Name"), 200, required=True)
    description = _text(_l("Description"), 5000, _l("Who it is for, how it works, how to join."), area=True)
    usual_place = _text(_l("Usual meeting place"), 200, _l("Offered when a meeting is planned."))
    neighbourhoods = CheckboxesField(
        _l("Neighbourhoods"), validators=[DataRequired(message=_l("Tick at least one neighbourhood."))],
        description=_l("The table's area: residents of these neighbourhoods find it on their neighbourhood's page."))
    facilitators = CheckboxesField(_l("Facilitators"), validators=[Optional()],
                                   description=_l("Staff accounts that run the table (optional)."))


class EditTableForm(TableForm):
    active = BooleanField(_l("Active (shown to residents)"))


class MeetingForm(FlaskForm):
    title = _text(_l("Title"), 200, _l("Optional, e.g. the main topic."))
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date of the meeting."))])
    starts = TimeField(_l("Start time"), validators=[InputRequired(message=_l("Enter the start time."))])
    ends = TimeField(_l("End time"), validators=[Optional()], description=_l("Optional."))
    place = _text(_l("Place"), 200, _l("e.g. Centre social, salle polyvalente."))
    address = _text(_l("Address"), 300)
    accessibility = _text(_l("Accessibility"), 5000,
                          _l("Step-free access, hearing loop, childcare, sign language…"), area=True)
    interpreted = CheckboxesField(_l("Languages interpreted"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, label) for s, label in MEETING_STATUSES.items()],
                         default=MeetingStatus.planned.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = current_app.config["BABEL_DEFAULT_LOCALE"]
        self.interpreted.choices = [SelectChoice(code, name) for code, name in current_app.config["LANGUAGES"].items()
                                    if code != default]

    def validate_day(self, field):
        if field.data and not (FIRST_YEAR <= field.data.year <= LAST_YEAR):
            raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))

    def validate_ends(self, field):
        if field.data and self.starts.data and field.data <= self.starts.data:
            raise ValidationError(_l("The end time must come after the start time."))

    def meeting_data(self) -> dict:
        texts = {name: self[name].data or "" for name in ("title", "place", "address", "accessibility")}
        return {**texts, "day": self.day.data, "starts": self.starts.data, "ends": self.ends.data,
                "interpreted": list(self.interpreted.data or ())}


class NewMeetingForm(MeetingForm):
    """No status: a new meeting is planned."""

    status = None


class ItemForm(FlaskForm):
    title = _text(_l("Title"), 200, required=True)
    description = _text(_l("Description"), 5000, _l("Optional. What will be discussed."), area=True)


class ConfirmForm(FlaskForm):
    """A POST button: only the CSRF token."""


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


def minutes_form(items, posted: bool = False):
    """One summary and one decisions field per agenda item (`summary_<id>`, `decisions_<id>`),
    filled from the items, or from the posted form when `posted`."""

    class MinutesForm(FlaskForm):
        def texts(self) -> dict[int, tuple[str, str]]:
            return {item.id: (self[f"summary_{item.id}"].data or "", self[f"decisions_{item.id}"].data or "")
                    for item in items}

    data = {}
    for item in items:
        setattr(MinutesForm, f"summary_{item.id}", TextAreaField(
            _l("Summary"), validators=[Optional(), Length(max=20000)], description=_l("What was said.")))
        setattr(MinutesForm, f"decisions_{item.id}", TextAreaField(
            _l("Decisions"), validators=[Optional(), Length(max=20000)],
            description=_l("What was decided, by whom, by when.")))
        data[f"summary_{item.id}"] = item.summary
        data[f"decisions_{item.id}"] = item.decisions
    return MinutesForm(data=data) if posted else MinutesForm(formdata=None, data=data)
