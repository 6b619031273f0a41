"""The admin pages for API tokens: the list, making one (its secret shown once), revoking one."""

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from village_survey import access
from village_survey.api_tokens import services
from village_survey.api_tokens.forms import RevokeForm, TokenForm
from village_survey.api_tokens.models import ApiToken
from village_survey.areas.models import County, Township, utcnow
from village_survey.core.errors import DomainError, NotFound
from village_survey.core.paging import paginate
from village_survey.extensions import db

admin_bp = Blueprint("api_tokens_admin", __name__, url_prefix="/admin/api-tokens")
manager_required = access.permission_required(access.may_manage_api_tokens)


def _area_choices():
    counties = db.session.scalars(select(County).order_by(County.code)).all()
    townships = db.session.scalars(select(Township).order_by(Township.code)).all()
    return {_("City"): [("city", _("Jiujiang city (all)"))],
            _("County"): [(f"county:{c.code}", f"{c.name} ({c.code})") for c in counties],
            _("Township"): [(f"township:{t.code}", f"{t.name} ({t.code})") for t in townships]}


def _expires_at(day):
    """The end of `day` in the app's time zone, as naive UTC (the token works through that day)."""
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return end.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _token_or_404(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound()
    return token


@admin_bp.route("/")
@manager_required
def tokens():
    page = paginate(services.tokens_query(), request.args.get("page"))
    return render_template("api_tokens/index.html", page=page, now=utcnow())


@admin_bp.route("/new", methods=["GET", "POST"])
@manager_required
def new_token():
    form = TokenForm()
    form.area.choices = _area_choices()
    if form.validate_on_submit():
        try:
            token, text = services.create_token(current_user, form.name.data, form.area.data,
                                                _expires_at(form.expires_on.data), utcnow())
        except DomainError as error:
            for name, messages in error.errors.items():
                getattr(form, name).errors = list(messages)
        else:
            # The only time the secret is shown: rendered here, never redirected through the session.
            return render_template("api_tokens/created.html", token=token, text=text)
    status = 400 if request.method == "POST" else 200
    return render_template("api_tokens/new.html", form=form), status


@admin_bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@manager_required
def revoke(token_id):
    token = _token_or_404(token_id)
    form = RevokeForm()
    if form.validate_on_submit():
        services.revoke_token(current_user, token, utcnow())
        flash(_("The token for %(name)s was revoked: it no longer works.", name=token.name), "success")
        return redirect(url_for(".tokens"))
    status = 400 if request.method == "POST" else 200
    return render_template("api_tokens/revoke.html", token=token, form=form, now=utcnow()), status
