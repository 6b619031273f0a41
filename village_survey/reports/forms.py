"""The form that asks for a PDF report."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired


class ReportForm(FlaskForm):
    area = SelectField(_l("Report"), validators=[DataRequired()])
    year = SelectField(_l("Survey year"), coerce=int, validators=[DataRequired()])
    locale = SelectField(_l("Language of the report"), validators=[DataRequired()])
    full_names = BooleanField(_l("Print the household heads' full names (personal data; masked otherwise)"))
    criteria = HiddenField()
