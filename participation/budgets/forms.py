from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DecimalField, HiddenField, MultipleFileField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.channels import Assistance
from ..core.numbers import WholeNumberField

#: How a staff member enters an idea on a resident's behalf (the public page, logged in with
#: a field role): with the resident, or typed from a paper form. Ignored for residents.
ENTRY_ASSISTED, ENTRY_PAPER = "assisted", "paper"
#: The same words as the questionnaires' assisted entry (one translation).
ASSISTANCE_LABELS = {Assistance.read_aloud: _l("read aloud"), Assistance.translated: _l("translated"),
                     Assistance.written_for: _l("written for the person")}
MAX_PHOTOS = 3


class ProposalForm(FlaskForm):
    title = StringField(_l("Title of your idea"), validators=[DataRequired(), Length(min=3, max=200)],
                        description=_l("A few words, e.g. “Benches in the Frais Vallon park”."))
    description = TextAreaField(_l("Describe your idea"), validators=[DataRequired(), Length(min=10, max=5000)],
                                description=_l("What would change, for whom, and where."))
    category = SelectField(_l("Theme"), validators=[Optional()])
    neighbourhood = SelectField(_l("Neighbourhood"), validators=[Optional()])
    address = StringField(_l("Where (address or place)"), validators=[Optional(), Length(max=300)],
                          description=_l("Optional. A street, a square, a building…"))
    latitude = DecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(min=-180, max=180)])
    estimated_cost = WholeNumberField(_l("Estimated cost in euros"), validators=[Optional(), NumberRange(min=0, max=100_000_000)],
                                      description=_l("Optional: a rough idea is enough; the services will study it."))
    photos = MultipleFileField(_l("Photos (up to 3)"), validators=[Optional()],
                               description=_l("JPEG, PNG or WebP. Location data is removed from photos."))
    contact_name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("Email or phone (optional)"), validators=[Optional(), Length(max=254)],
                          description=_l("Only to contact you about your idea. Never published."))
    contact_consent = BooleanField(_l("I agree to be contacted about this idea. My contact details are deleted at the end of the process."))
    #: Staff entering an idea for a resident only (see ENTRY_ASSISTED).
    entry = RadioField(_l("How the idea reaches you"), default=ENTRY_ASSISTED, choices=[
        SelectChoice(ENTRY_ASSISTED, _l("The resident is with me: I enter it with them")),
        SelectChoice(ENTRY_PAPER, _l("I type it from a paper form")),
    ])
    help = SelectMultipleField(_l("Help you give"), validators=[Optional()],
                               choices=[SelectChoice(a.value, label) for a, label in ASSISTANCE_LABELS.items()],
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    #: One-time nonce given with the page: the same form sent again is recognised (services.AlreadyReceived).
    nonce = HiddenField()

    def validate_contact_consent(self, field):
        if (self.contact.data or self.contact_name.data) and not field.data:
            raise ValidationError(_l("Tick the box to leave your contact details, or leave them empty."))

    def validate_photos(self, field):
        files = [f for f in (field.data or []) if getattr(f, "filename", "")]
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_l("At most 3 photos."))

    def validate_help(self, field):
        if field.data and "entry" in self and self.entry.data == ENTRY_PAPER:
            raise ValidationError(_l("The kinds of help are for an idea entered with the resident: untick them "
                                     "for a paper form."))

    @property
    def assistance(self) -> frozenset[Assistance]:
        return frozenset(a for a in Assistance if a.value in (self.help.data or []))


class CodeForm(FlaskForm):
    code = StringField(_l("Your voting code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 10 letters and digits printed on your slip, e.g. ABCDE-23456."),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class EligibilityForm(FlaskForm):
    """Self-declared eligibility, asked before the ballot."""

    age_ok = BooleanField()
    resident = BooleanField()


class BallotForm(FlaskForm):
    """The choices come as `p<id>` fields (checkbox, points or rank) read by the view."""

    nonce = HiddenField()


class CommentForm(FlaskForm):
    author_name = StringField(_l("Your first name or a pseudonym (optional)"), validators=[Optional(), Length(max=80)])
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(min=2, max=2000)],
                         description=_l("Comments are public. Do not write your email or phone number: they would be hidden."))
    nonce = HiddenField()
