"""Forms of a walk's review in the back office: moderating observations and photos, editing an
observation, writing recommendations, planning a follow-up walk and recording what it found at
each point. Choices that depend on the walk (themes, stops, observations, institutions, défis)
are set by the views; posted ids are read with `core.numbers.parse_int` and checked by the
services (an observation of another walk is refused there, not only by the choices)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField, MultipleFileField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .labels import POINT_OUTCOMES, RATINGS
from .models import Moderation
from .services import MAX_PHOTOS


class CheckboxesField(SelectMultipleField):
    """Several ids as checkboxes. The service checks them (an id of another walk is refused with
    a message), so the field does not reject ids outside its choices itself."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


class ConfirmForm(FlaskForm):
    """A POST button: only the CSRF token."""


class ModerateForm(FlaskForm):
    """Publish / keep private / back to "to check", for an observation."""

    decision = StringField(validators=[AnyOf([m.value for m in Moderation])])


class PhotoForm(FlaskForm):
    """A photo's caption (its alternative text) and the moderation decision."""

    caption = StringField(_l("Caption (alternative text)"), validators=[Optional(), Length(max=300)],
                          description=_l("Describe what the photo shows, for people who cannot see it."))
    #: a Moderation value, or "caption" to save the caption only
    decision = StringField(validators=[AnyOf([*(m.value for m in Moderation), "caption"])])


class BulkPublishForm(FlaskForm):
    """Publish every observation ticked on the moderation page."""

    observations = CheckboxesField(_l("Observations to publish"), validators=[Optional()])


#: How the location of an observation is changed on its edit page.
WHERE_CHOICES = [
    SelectChoice("keep", _l("Keep the current location")),
    SelectChoice("waypoint", _l("At a stop of the route")),
    SelectChoice("coordinates", _l("At these coordinates")),
    SelectChoice("none", _l("No location")),
]


def rating_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Not rated"))] + [
        SelectChoice(str(value), f"{emoji} {words}") for value, (emoji, words) in RATINGS.items()
    ]


class ObservationForm(FlaskForm):
    #: theme and stop are checked by the services (a theme of another walk is refused with a message)
    theme = SelectField(_l("Theme"), validators=[Optional()], validate_choice=False)
    rating = RadioField(_l("Rating"), choices=rating_choices(), default="", validate_choice=False,
                        validators=[Optional(), AnyOf([str(v) for v in RATINGS],
                                                      message=_l("Choose a face on the scale, or none."))])
    seen = TextAreaField(_l("What was seen"), validators=[Optional(), Length(max=5000)])
    quote = TextAreaField(_l("A walker's words"), validators=[Optional(), Length(max=2000)],
                          description=_l("As said, without any name. Shown once the observation is public."))
    address = StringField(_l("Address or place"), validators=[Optional(), Length(max=300)])
    where = RadioField(_l("Location"), choices=WHERE_CHOICES, default="keep", validate_choice=False,
                       validators=[AnyOf([c.value for c in WHERE_CHOICES], message=_l("Choose one of the options."))])
    waypoint = SelectField(_l("Stop of the route"), validators=[Optional()], validate_choice=False)
    lat = StringField(_l("Latitude"), validators=[Optional(), Length(max=30)],
                      description=_l("Decimal degrees, e.g. 43.3285"))
    lon = StringField(_l("Longitude"), validators=[Optional(), Length(max=30)],
                      description=_l("Decimal degrees, e.g. 5.4190"))
    photos = MultipleFileField(_l("Add photos"), validators=[Optional()],
                               render_kw={"accept": "image/jpeg,image/png,image/webp"},
                               description=_l("JPEG, PNG or WebP. Location data is removed. At most %(max)s photos "
                                              "per observation.", max=MAX_PHOTOS))
    caption = StringField(_l("Caption of the added photos"), validators=[Optional(), Length(max=300)],
                          description=_l("What they show, for people who cannot see them. Each caption can be "
                                         "changed on the moderation page."))


class RecommendationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("In a few words, e.g. “Light the path behind building C”."))
    body = TextAreaField(_l("The recommendation"), validators=[Optional(), Length(max=10000)],
                         description=_l("What the group asks, as it will be sent to the responsible body."))
    #: institution and défi are checked by the view against the contract's lists
    institution = SelectField(_l("Addressed to"), validators=[DataRequired(message=_l("Choose who must act."))],
                              validate_choice=False)
    due_on = DateField(_l("To be done by"), validators=[InputRequired(message=_l("Enter the date."))],
                       description=_l("The date the body should act by: today or later."))
    category = SelectField(_l("Défi or orientation"), validators=[Optional()], validate_choice=False)
    observations = CheckboxesField(_l("Observations it answers"), validators=[Optional()],
                                   description=_l("By their number on the map."))


class LinksForm(FlaskForm):
    observations = CheckboxesField(_l("Observations it answers"), validators=[Optional()],
                                   description=_l("By their number on the map."))


class FollowUpWalkForm(FlaskForm):
    walked_on = DateField(_l("Date of the follow-up walk"),
                          validators=[InputRequired(message=_l("Enter the date."))])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)],
                        description=_l("Optional: the walk's title is used otherwise."))


OUTCOME_CHOICES = [SelectChoice(o.value, label) for o, label in POINT_OUTCOMES.items()]


class PointForm(FlaskForm):
    outcome = RadioField(_l("What the group found"), choices=OUTCOME_CHOICES, validate_choice=False, validators=[
        InputRequired(message=_l("Choose what the group found.")),
        AnyOf([c.value for c in OUTCOME_CHOICES], message=_l("Choose what the group found.")),
    ])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)],
                         description=_l("What changed, what is still missing. It is shown on the public page."))
    #: checked by the service (an observation of another walk is refused with a message)
    new_observation = SelectField(_l("Observation taken at this point during this walk"), validators=[Optional()],
                                  validate_choice=False)

