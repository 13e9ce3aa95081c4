"""Forms of the privacy back office."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class NoticeForm(FlaskForm):
    controller = StringField(_l("Data controller"), validators=[Length(max=200)],
                             description=_l("Who decides why and how the data is used, e.g. the intercommunality."))
    controller_address = TextAreaField(_l("Address of the controller"), validators=[Length(max=2000)])
    dpo_contact = StringField(_l("Data protection officer (DPO): e-mail or postal address"),
                              validators=[Length(max=300)])
    rights_contact = StringField(_l("Where residents send their requests"), validators=[Length(max=300)],
                                 description=_l("Leave empty to send them to the data protection officer."))
    purposes = TextAreaField(_l("Purposes"), validators=[Length(max=10000)],
                             description=_l("Leave empty to show the general text."))
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Length(max=10000)],
                                description=_l("Leave empty to show the general text."))
    other_information = TextAreaField(_l("Other information"), validators=[Length(max=10000)],
                                      description=_l("Recipients, transfers, processors (hosting)…"))


class ErasureForm(FlaskForm):
    """An erasure cannot be undone: the box must be ticked."""

    confirm = BooleanField(_l("I have checked the identity of the person asking, and I understand that this "
                              "cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
