from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


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
        options = [SelectChoice(code, name, render_kw={"lang": code}) for code, name in languages.items()]
        self.lang1.choices = options
        self.lang2.choices = self.lang3.choices = [SelectChoice("", none_label), *options]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        seen = set()
        for field in (self.lang1, self.lang2, self.lang3):
            if field.data in seen:
                field.errors.append(_l("Choose each language only once."))
                valid = False
            if field.data:
                seen.add(field.data)
        return valid

    def chosen(self) -> list[str]:
        return [c for c in (self.lang1.data, self.lang2.data, self.lang3.data) if c]
