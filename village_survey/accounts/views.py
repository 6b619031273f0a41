"""Login, logout, password change, and the admin pages for users."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select

from village_survey import audit
from village_survey.access import admin_required
from village_survey.accounts.forms import LoginForm, PasswordChangeForm, UserForm
from village_survey.accounts.models import ROLES, User
from village_survey.accounts.services import AccountError, assign_role_scope, create_user
from village_survey.areas.models import County, Township, utcnow
from village_survey.core.paging import paginate
from village_survey.extensions import db, limiter
from village_survey.i18n import ROLE_LABELS
from village_survey.security import safe_next

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/users")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalars(select(User).where(User.username == form.username.data.strip())).first()
        if user is None or not user.check_password(form.password.data) or not user.active:
            audit.record("login_failed", username=form.username.data.strip()[:40])
            db.session.commit()
            flash(_("Wrong username or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        audit.record("login", user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    audit.record("logout", current_user)
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            current_user.set_password(form.new_password.data)
            audit.record("password_changed", current_user)
            db.session.commit()
            # The session token changed: log in again on this device only.
            login_user(current_user._get_current_object(), remember=True)
            flash(_("Your password was changed. Other devices were logged out."), "success")
            return redirect(url_for("core.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


def _area_choices():
    counties = db.session.scalars(select(County).order_by(County.code)).all()
    townships = db.session.scalars(select(Township).order_by(Township.code)).all()
    choices = {_("City"): [("city", _("Jiujiang city (all)"))]}
    choices[_("County")] = [(f"county:{c.code}", f"{c.name} ({c.code})") for c in counties]
    choices[_("Township")] = [(f"township:{t.code}", f"{t.name} ({t.code})") for t in townships]
    return choices


def _user_form(user=None):
    form = UserForm(obj=user)
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in ROLES]
    form.area.choices = _area_choices()
    if user is not None and request.method == "GET":
        form.area.data = user.scope_spec
    return form


@admin_bp.route("/")
@admin_required
def users():
    q = request.args.get("q", "").strip()
    stmt = select(User).order_by(User.username)
    if q:
        stmt = stmt.where(or_(User.username.contains(q), User.role == q))
    page = paginate(stmt, request.args.get("page"))
    return render_template("admin/users.html", page=page, q=q)


@admin_bp.route("/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data or "", form.role.data, form.area.data)
            user.active = form.active.data
            db.session.flush()
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            audit.record("user_created", current_user, target=f"user:{user.id}", role=user.role,
                         area=user.scope_spec)
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for(".users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@admin_bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id):
    user = db.get_or_404(User, user_id)
    form = _user_form(user)
    form.username.render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            assign_role_scope(user, form.role.data, form.area.data)
            if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
                raise AccountError(_("You cannot remove your own administrator rights."))
            user.active = form.active.data
            if form.password.data:
                user.set_password(form.password.data)
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            audit.record("user_changed", current_user, target=f"user:{user.id}", role=user.role,
                         area=user.scope_spec, active=user.active,
                         password_reset=bool(form.password.data))
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for(".users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status

