"""Forms of the budgets back office: process settings, phase dates, review, codes, paper, follow-up."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .labels import MILESTONES, OUTCOMES
from .models import (
    PHASE_ORDER,
    Eligibility,
    MilestoneStatus,
    OutcomeRule,
    Phase,
    VoteMode,
    VotingMethod,
)
from ..core.numbers import WholeNumberField

METHODS = {
    VotingMethod.approval: _l("Approval: tick the projects you support"),
    VotingMethod.knapsack: _l("Budget: choose projects whose total fits in the envelope"),
    VotingMethod.cumulative: _l("Points: share a number of points between projects"),
    VotingMethod.ranked: _l("Ranking: rank your favourite projects"),
}
VOTE_MODES = {
    VoteMode.codes: _l("Voter codes: one vote per code printed on a QR slip"),
    VoteMode.open: _l("Open: one vote per browser (weaker; for low-stakes votes)"),
}
ELIGIBILITY = {
    Eligibility.self_declared: _l("Declared by the voter (age and residence boxes)"),
    Eligibility.verified: _l("Checked by a mediator when the code is handed out"),
}

#: Parameters of each voting method; the others are cleared when the method is saved.
METHOD_PARAMETERS = {
    VotingMethod.approval: ("min_picks", "max_picks"),
    VotingMethod.knapsack: ("min_share_percent",),
    VotingMethod.cumulative: ("points", "max_points_per_project"),
    VotingMethod.ranked: ("top_k",),
}
ALL_PARAMETERS = tuple(name for names in METHOD_PARAMETERS.values() for name in names)
#: Settings that are voting rules (frozen once the vote opens), in the order they are shown.
RULE_FIELDS = ("envelope", "method", *ALL_PARAMETERS, "outcome_rule", "vote_mode", "eligibility", "min_age",
               "residence_required")


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(k.value, v) for k, v in labels.items()]


def _count(label, description=None):
    return WholeNumberField(label, validators=[Optional(), NumberRange(min=1, max=10_000)], description=description)


class TextSettingsForm(FlaskForm):
    """What may still change once the vote has opened."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class SettingsForm(TextSettingsForm):
    envelope = WholeNumberField(_l("Envelope in euros"), validators=[InputRequired(), NumberRange(min=1, max=1_000_000_000)])
    method = SelectField(_l("Voting method"), choices=_choices(METHODS))
    min_picks = _count(_l("Approval: at least this many projects"), _l("Optional. Empty: at least one."))
    max_picks = _count(_l("Approval: at most this many projects"), _l("Optional. Empty: no maximum."))
    min_share_percent = WholeNumberField(
        _l("Budget: spend at least this share of the envelope (in percent)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Optional. Empty: no minimum."),
    )
    points = _count(_l("Points: how many points each voter shares"), _l("Required for the points method."))
    max_points_per_project = _count(_l("Points: at most this many points per project"), _l("Optional. Empty: no cap."))
    top_k = _count(_l("Ranking: how many projects a voter may rank"), _l("Required for the ranking method."))
    outcome_rule = SelectField(_l("How the winners are chosen"), choices=_choices(OUTCOMES))
    vote_mode = SelectField(_l("Who can vote online"), choices=_choices(VOTE_MODES))
    eligibility = SelectField(_l("Eligibility"), choices=_choices(ELIGIBILITY))
    min_age = WholeNumberField(_l("Minimum age"), default=16, validators=[InputRequired(), NumberRange(min=0, max=119)])
    residence_required = BooleanField(_l("Voters must live, work or study in the area"), default=True)

    def validate_max_picks(self, field):
        if field.data is not None and self.min_picks.data is not None and field.data < self.min_picks.data:
            raise ValidationError(_l("The maximum cannot be below the minimum."))

    def validate_max_points_per_project(self, field):
        if field.data is not None and self.points.data is not None and field.data > self.points.data:
            raise ValidationError(_l("The cap per project cannot be above the points of a voter."))

    def validate(self, extra_validators=None) -> bool:
        # Checked here, not per field: Optional() stops a field's own validators when it is empty.
        ok = super().validate(extra_validators)
        required = {
            VotingMethod.cumulative.value: (self.points, _l("The points method needs a number of points.")),
            VotingMethod.ranked.value: (self.top_k, _l("The ranking method needs the number of projects to rank.")),
        }.get(self.method.data)
        if required and required[0].data is None and not required[0].errors:
            required[0].errors = [*required[0].errors, required[1]]
            ok = False
        return ok

    def rule_values(self) -> dict:
        """The voting rules as model values; parameters of other methods are cleared."""
        method = VotingMethod(self.method.data)
        values = {
            "envelope": self.envelope.data,
            "method": method,
            "outcome_rule": OutcomeRule(self.outcome_rule.data),
            "vote_mode": VoteMode(self.vote_mode.data),
            "eligibility": Eligibility(self.eligibility.data),
            "min_age": self.min_age.data,
            "residence_required": bool(self.residence_required.data),
        }
        for name in ALL_PARAMETERS:
            values[name] = self[name].data if name in METHOD_PARAMETERS[method] else None
        return values


class NewProcessForm(SettingsForm):
    scope = SelectField(_l("Where"), validators=[DataRequired()],
                        description=_l("Residents of this area take part."))


class PhaseDates(Form):
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end comes before the start."))


class PhaseDatesForm(FlaskForm):
    phases = FieldList(FormField(PhaseDates), min_entries=0)


#: What a phase may let residents do, in the order of the columns of the form.
PHASE_ACTIONS = ("submit", "comment", "vote")


class PhaseActionsForm(FlaskForm):
    """Per action, the phases (their values) that allow it; an unticked box sends nothing."""

    # Rendered as a table of checkboxes (labels in the view): one column per action, one row per phase.
    submit = SelectMultipleField(choices=[SelectChoice(p.value, p.value) for p in PHASE_ORDER])
    comment = SelectMultipleField(choices=[SelectChoice(p.value, p.value) for p in PHASE_ORDER])
    vote = SelectMultipleField(choices=[SelectChoice(p.value, p.value) for p in PHASE_ORDER])

    def validate_vote(self, field):
        if any(value != Phase.vote.value for value in field.data or ()):
            raise ValidationError(_l("Voting can only be allowed in the vote phase."))

    def allowed(self) -> dict[Phase, set[str]]:
        """{phase: the actions ticked for it}."""
        return {p: {a for a in PHASE_ACTIONS if p.value in (self[a].data or ())} for p in PHASE_ORDER}


class MoveForm(FlaskForm):
    direction = SelectField(choices=[SelectChoice("next", "next"), SelectChoice("previous", "previous")],
                            validators=[DataRequired()])


class ReviewForm(FlaskForm):
    feasible = RadioField(_l("Study"), choices=[SelectChoice("yes", _l("Feasible")), SelectChoice("no", _l("Not feasible"))],
                          validators=[InputRequired(message=_l("Choose feasible or not feasible."))])
    reason = TextAreaField(_l("Reason, shown publicly"), validators=[DataRequired(), Length(max=2000)])
    revised_cost = WholeNumberField(_l("Cost after study, in euros"), validators=[Optional(), NumberRange(min=0, max=1_000_000_000)],
                                    description=_l("Empty: the author's estimate is kept."))


class ModerateForm(FlaskForm):
    #: "1" to hide, "0" to show again.
    hide = HiddenField(validators=[AnyOf(["0", "1"])])
    reason = TextAreaField(_l("Why it is hidden, shown publicly"), validators=[Optional(), Length(max=2000)])


class MergeForm(FlaskForm):
    into = SelectField(_l("Merge into"), validators=[DataRequired()])


class CodesForm(FlaskForm):
    size = WholeNumberField(_l("Number of codes"), default=100, validators=[InputRequired(), NumberRange(min=1, max=2000)],
                            description=_l("Up to 2,000 at a time; 10 slips per A4 page."))
    neighbourhood = SelectField(_l("Neighbourhood where they are handed out"), validators=[Optional()],
                                description=_l("Turnout is counted per neighbourhood."))


class PollingPointForm(FlaskForm):
    name = StringField(_l("Name of the polling point"), validators=[DataRequired(), Length(max=200)],
                       description=_l("E.g. “Maison de quartier Frais Vallon, Saturday market”."))
    neighbourhood = SelectField(_l("Neighbourhood"), validators=[Optional()])
    tokens = WholeNumberField(_l("Paper ballots to print"), default=50, validators=[InputRequired(), NumberRange(min=1, max=2000)])


class HandOutForm(FlaskForm):
    code = StringField(_l("Voter's code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 10 letters and digits on the voter's slip."),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    point = SelectField(_l("Polling point"), validators=[DataRequired()])


class KeyingForm(FlaskForm):
    """The choices come as `p<id>` fields, read like the online ballot's."""

    token = StringField(_l("Number printed on the ballot"), validators=[DataRequired(), Length(max=16)],
                        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    invalid = BooleanField(_l("Spoilt or unreadable ballot (invalid)"))


class MilestoneForm(FlaskForm):
    happened_on = DateField(_l("Date"), validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=[SelectChoice(k.value, v) for k, v in MILESTONES.items()],
                         default=MilestoneStatus.in_progress.value)
    text = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=2000)])
    photo = FileField(_l("Photo (optional)"), description=_l("JPEG, PNG or WebP. Location data is removed."))
