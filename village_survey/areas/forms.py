"""Forms for searching areas and for admins managing counties, townships and villages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp


class CountyForm(FlaskForm):
    code = StringField(_l("Division code"), validators=[
        DataRequired(), Regexp(r"^\d{6}$", message=_l("A county code has 6 digits."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])


class TownshipForm(FlaskForm):
    parent = SelectField(_l("County"), coerce=int, validators=[DataRequired()])
    code = StringField(_l("Division code"), validators=[
        DataRequired(), Regexp(r"^\d{9}$", message=_l("A township code has 9 digits."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])


class VillageForm(FlaskForm):
    parent = SelectField(_l("Township"), coerce=int, validators=[DataRequired()])
    code = StringField(_l("Division code"), validators=[
        DataRequired(), Regexp(r"^\d{12}$", message=_l("A village code has 12 digits."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    registered_households = IntegerField(
        _l("Registered households"),
        validators=[InputRequired(message=_l("Enter a whole number.")), NumberRange(min=0, max=100_000)],
        render_kw={"inputmode": "numeric"},
    )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(), FileAllowed(["csv", "txt"], _l("Choose a .csv file."))])
