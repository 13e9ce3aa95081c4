"""Forms of the walks' back office: a walk's details, its walkers' count and anonymous profile,
its status and recording QR, its observation grid and its route.

Forms check shapes (lengths, dates, whole numbers, choices among the offered values); the
rules (neighbourhoods one manages, facilitators of the contract, a profile not larger than the
total, a position on Earth…) are checked by the views and `services`.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.numbers import parse_int
from ..core.profiles import AGE_BANDS, GENDERS, AgeBand, Gender
from .labels import GROUP_TYPES, TIMES_OF_DAY
from .models import GroupType, TimeOfDay, WalkStatus

#: Walks happen within these years (keeps calendars sane and dates storable everywhere).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: Largest head count accepted (a walk is a small group; this keeps numbers storable).
MAX_COUNT = 100_000


def _text(label, max_length: int, description=None, required: bool = False, area: bool = False):
    validators = [DataRequired() if required else Optional(), Length(max=max_length)]
    return (TextAreaField if area else StringField)(label, validators=validators, description=description)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (rendered in a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in current_app.config["LANGUAGES"].items()]


class WalkDetailsForm(FlaskForm):
    """What can change once the walk exists (its neighbourhood and language stay)."""

    title = _text(_l("Title"), 200, _l("e.g. Evening walk around the Frais Vallon towers."), required=True)
    walked_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date of the walk."))])
    starts_at = TimeField(_l("Start time"), validators=[Optional()], description=_l("Optional."))
    time_of_day = RadioField(_l("Time of day"), default=TimeOfDay.day.value,
                             choices=[SelectChoice(t.value, label) for t, label in TIMES_OF_DAY.items()],
                             description=_l("A walk after dark shows lighting and the feeling of safety at night."))
    group_type = SelectField(_l("Group"), choices=[SelectChoice(g.value, label) for g, label in GROUP_TYPES.items()],
                             default=GroupType.mixed.value, description=_l("Who walks: this changes what is seen."))
    meeting_point = _text(_l("Meeting point"), 300, _l("Shown on the public page of the walk."))
    description = _text(_l("Description"), 5000, _l("What the walk is for, who may come, how long it lasts."),
                        area=True)
    guides = _text(_l("Guided by"), 300, _l("Associations or services who guide the walk (no personal names needed)."))

    def validate_walked_on(self, field):
        if field.data and not (FIRST_YEAR <= field.data.year <= LAST_YEAR):
            raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))

    def walk_data(self) -> dict:
        """The fields as `services.create_walk` / `update_walk` take them."""
        texts = {name: self[name].data or "" for name in ("meeting_point", "description", "guides")}
        return {**texts, "walked_on": self.walked_on.data,
                "starts_at": self.starts_at.data.strftime("%H:%M") if self.starts_at.data else "",
                "time_of_day": TimeOfDay(self.time_of_day.data), "group_type": GroupType(self.group_type.data)}


class NewWalkForm(WalkDetailsForm):
    #: Choices: the neighbourhoods the user manages (set by the view, which checks the id).
    neighbourhood = SelectField(_l("Neighbourhood"), validate_choice=False,
                                validators=[DataRequired(message=_l("Choose the neighbourhood of the walk."))])
    original_locale = SelectField(
        _l("Language of the walk"),
        description=_l("The language the group speaks and writes in: the report is written in it, then translated."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original_locale.choices = _language_choices()


class EditWalkForm(WalkDetailsForm):
    summary = _text(_l("The group's conclusion"), 20000,
                    _l("What the walkers want to say first: printed at the top of the report."), area=True)
    #: Choices: staff of the walk's contract (set by the view, which checks the ids).
    facilitators = CheckboxesField(
        _l("Facilitators"), validators=[Optional()], validate_choice=False,
        description=_l("Staff accounts that run this walk: they may edit it, moderate it and write its report."))


def _whole_number(form, field):
    if field.data in (None, ""):
        return
    value = parse_int(field.data)
    if value is None:
        raise ValidationError(_l("Enter a whole number, 0 or more."))
    if value > MAX_COUNT:
        raise ValidationError(_l("Enter a number up to %(max)s.", max=MAX_COUNT))


def _count_field(label):
    return StringField(label, validators=[Optional(), _whole_number], render_kw={"inputmode": "numeric"})


class _ProfileBase(FlaskForm):
    participants = StringField(_l("Number of walkers"), validators=[Optional(), _whole_number],
                               render_kw={"inputmode": "numeric"},
                               description=_l("Everyone who walked, facilitators excluded."))

    def total(self) -> int | None:
        return parse_int(self.participants.data)

    def counts(self) -> dict[tuple[str, str], int]:
        """{(dimension, value): count} of the boxes filled in."""
        out = {}
        for dimension, prefix, values in PROFILE_DIMENSIONS:
            for value in values:
                n = parse_int(self[f"{prefix}{value.value}"].data)
                if n is not None:
                    out[(dimension, value.value)] = n
        return out

    def age_fields(self):
        return [self[f"age_{a.value}"] for a in AgeBand]

    def gender_fields(self):
        return [self[f"gender_{g.value}"] for g in Gender]


#: (dimension stored, field name prefix, values) of the walkers' profile.
PROFILE_DIMENSIONS = (("age_band", "age_", list(AgeBand)), ("gender", "gender_", list(Gender)))


class ProfileForm(_ProfileBase):
    """The walkers' count and their anonymous profile (one box per age band and per gender)."""


for _band in AgeBand:
    setattr(ProfileForm, f"age_{_band.value}", _count_field(AGE_BANDS[_band]))
for _gender in Gender:
    setattr(ProfileForm, f"gender_{_gender.value}", _count_field(GENDERS[_gender]))


def profile_data(walk) -> dict:
    """The form's data from what the walk has recorded."""
    data = {"participants": "" if walk.participants is None else str(walk.participants)}
    for row in walk.profile_counts:
        prefix = "age_" if row.dimension == "age_band" else "gender_"
        data[f"{prefix}{row.value}"] = str(row.count)
    return data


class StatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf([s.value for s in WalkStatus])])


class RecordingForm(FlaskForm):
    #: open / close recording with the QR, or renew the key (the old QR stops working)
    action = HiddenField(validators=[AnyOf(["open", "close", "renew"])])
    #: where to go back: the walk's page or the printable sheet
    back = HiddenField(validators=[Optional(), AnyOf(["walk", "sheet"])])


class ThemeForm(FlaskForm):
    name = _text(_l("Theme"), 120, required=True)
    prompts = _text(_l("Questions to ask oneself"), 5000, _l("One per line. Shown to walkers when they record."),
                    area=True)


class WaypointForm(FlaskForm):
    label = _text(_l("Name of the stop"), 200, _l("e.g. Bus stop Frais Vallon, entrance of building C."),
                  required=True)
    lat = StringField(_l("Latitude"), validators=[Optional(), Length(max=40)], render_kw={"inputmode": "decimal"},
                      description=_l("Optional. Decimal degrees, e.g. 43.3215 (a comma works too)."))
    lon = StringField(_l("Longitude"), validators=[Optional(), Length(max=40)], render_kw={"inputmode": "decimal"},
                      description=_l("Optional. Decimal degrees, e.g. 5.4087."))


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class ConfirmForm(FlaskForm):
    """A POST button: only the CSRF token."""


class SheetLanguagesForm(FlaskForm):
    """The two other languages of the printable recording sheet (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    second = SelectField(_l("Second language"), validate_choice=False)
    third = SelectField(_l("Third language"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.second.choices = self.third.choices = _language_choices()
