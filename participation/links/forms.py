from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


class LinkForm(FlaskForm):
    target = SelectField(_l("Page the link opens"), validators=[DataRequired()])
    title = StringField(_l("Title shown on the poster"), validators=[Optional(), Length(max=200)],
                        description=_l("Leave empty to use the page's name."))


class DeactivateForm(FlaskForm):
    pass


class PosterForm(FlaskForm):
    """Languages of a poster, in order; the QR code opens the page in the first one."""

    class Meta:
        csrf = False  # a GET form: choosing languages changes nothing

    lang1 = SelectField(_l("First language (the QR code opens the page in it)"), validators=[DataRequired()])
    lang2 = SelectField(_l("Second language"), validators=[Optional()])
    lang3 = SelectField(_l("Third language"), validators=[Optional()])

    def set_choices(self, languages: dict[str, str], none_label) -> None:
        self.lang1.choices = list(languages.items())
        self.lang2.choices = self.lang3.choices = [("", none_label), *languages.items()]

    def validate_lang3(self, field):
        chosen = self.chosen()
        if len(chosen) != len(set(chosen)):
            raise ValidationError(_l("Choose each language only once."))

    def chosen(self) -> list[str]:
        return [c for c in (self.lang1.data, self.lang2.data, self.lang3.data) if c]
