"""Login, logout, password change, and the admin pages for users."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select

from village_survey import audit
from village_survey.access import admin_required
from village_survey.accounts.forms import LoginForm, PasswordChangeForm, UserForm
from village_survey.accounts.models import ROLES, User
from village_survey.accounts.services import (
    AccountError,
    assign_role_scope,
    check_password_strength,
    create_user,
    find_user,
    may_log_in,
)
from village_survey.areas.models import County, Township, utcnow
from village_survey.core.boundary import keep_changes
from village_survey.core.paging import paginate
from village_survey.extensions import db, limiter
from village_survey.i18n import ROLE_LABELS
from village_survey.security import safe_next

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/users")


# Login throttling counts failed logins only (answered 401), so that an office of colleagues
# behind one address who log in successfully all day is never locked out: per username (against
# guessing one account's password from many addresses) and, with a higher limit, per client
# address (against trying many accounts from one). Once a limit is reached, every login for that
# username or from that address waits, the right password too (it would otherwise tell the
# attacker it was right).
def _failed_login(response):
    return response.status_code == 401


def _username_key():
    # "Admin " and "admin" count as one; unknown usernames count like real ones.
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:40]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               key_func=_username_key, deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"],
               key_func=get_remote_address, deduct_when=_failed_login)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = find_user(username)
        if not may_log_in(user, form.password.data):
            # A name that is no account may be a password typed in the wrong field: not stored.
            if user is None:
                audit.record("login_failed", unknown_user=True)
            else:
                audit.record("login_failed", username=user.username)
            keep_changes()
            flash(_("Wrong username or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        # A new CSRF token from now on: one seen before the login is worth nothing after it.
        session.pop("csrf_token", None)
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        audit.record("login", user)
        return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record("logout", current_user)
        # Cookies copied before the logout (session or "remember me") are refused from now on.
        current_user.end_sessions()
    locale = session.get("locale")
    session.clear()  # the CSRF token too
    logout_user()  # after clear(): it marks the "remember me" cookie for deletion in the session
    if locale:
        session["locale"] = locale
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                check_password_strength(form.new_password.data, current_user.username)
            except AccountError as error:
                form.new_password.errors.append(str(error))
            else:
                current_user.set_password(form.new_password.data)  # ends every session
                audit.record("password_changed", current_user)
                # Log in again on this device only.
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
            flash(str(error), "error")
        else:
            audit.record("user_created", current_user, target=f"user:{user.id}", role=user.role,
                         area=user.scope_spec)
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
            # Checked before anything changes: the page shown again must not show the admin as
            # what they tried to become.
            if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
                raise AccountError(_("You cannot remove your own administrator rights."))
            assign_role_scope(user, form.role.data, form.area.data)
            if form.password.data:
                check_password_strength(form.password.data, user.username)
                user.set_password(form.password.data)  # ends every session of the user
            if user.active and not form.active.data:
                # Deactivated: its sessions end now, and a later reactivation does not revive them.
                user.end_sessions()
            user.active = form.active.data
        except AccountError as error:
            flash(str(error), "error")
        else:
            audit.record("user_changed", current_user, target=f"user:{user.id}", role=user.role,
                         area=user.scope_spec, active=user.active,
                         password_reset=bool(form.password.data))
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for(".users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status

