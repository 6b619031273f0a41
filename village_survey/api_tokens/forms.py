"""The form that makes an API token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from village_survey.api_tokens.services import MAX_NAME


class TokenForm(FlaskForm):
    name = StringField(_l("System"), validators=[DataRequired(), Length(max=MAX_NAME)],
                       description=_l("The platform that will use the token, e.g. the city's building energy "
                                      "monitoring platform."))
    area = SelectField(_l("Area"), validators=[DataRequired()],
                       description=_l("The token reads this area's data only."))
    expires_on = DateField(_l("Valid until"), validators=[Optional()],
                           description=_l("The last day the token works (Beijing time). Leave empty: valid "
                                          "until revoked."))


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking asks nothing more."""
