"""Area pages (counties, townships, villages, households, within the user's area) and their admin."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from village_survey import audit
from village_survey.access import (
    counties_query,
    get_in_scope_or_404,
    households_query,
    may_manage_areas,
    permission_required,
    townships_query,
    villages_query,
)
from village_survey.areas.forms import CountyForm, ImportForm, TownshipForm, VillageForm
from village_survey.areas.importer import ImportFileError, decode, import_villages
from village_survey.areas.models import County, Household, Township, Village
from village_survey.core.errors import NotFound
from village_survey.core.paging import paginate, search
from village_survey.evaluations import precomputed
from village_survey.extensions import db

bp = Blueprint("areas", __name__, url_prefix="/areas")
admin_bp = Blueprint("areas_admin", __name__, url_prefix="/admin/areas")


@bp.route("/")
def index():
    """Start at the top of the user's own area."""
    if current_user.scope_level == "township":
        return redirect(url_for(".township", township_id=current_user.township_id))
    if current_user.scope_level == "county":
        return redirect(url_for(".county", county_id=current_user.county_id))
    return redirect(url_for(".counties"))


@bp.route("/counties/")
def counties():
    q = request.args.get("q", "")
    village_count = (select(func.count(Village.id)).join(Village.township)
                     .where(Township.county_id == County.id).scalar_subquery())
    stmt = search(counties_query(current_user), q, County.name, County.code)
    stmt = stmt.add_columns(village_count).order_by(County.code)
    return render_template("areas/counties.html", page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/counties/<int:county_id>")
def county(county_id):
    county = get_in_scope_or_404(County, county_id)
    q = request.args.get("q", "")
    village_count = (select(func.count(Village.id)).where(Village.township_id == Township.id)
                     .scalar_subquery())
    stmt = search(townships_query(current_user).where(Township.county_id == county.id), q,
                  Township.name, Township.code)
    stmt = stmt.add_columns(village_count).order_by(Township.code)
    return render_template("areas/county.html", county=county,
                           page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/townships/<int:township_id>")
def township(township_id):
    township = get_in_scope_or_404(Township, township_id)
    q = request.args.get("q", "")
    household_count = (select(func.count(Household.id)).where(Household.village_id == Village.id)
                       .scalar_subquery())
    stmt = search(villages_query(current_user).where(Village.township_id == township.id), q,
                  Village.name, Village.code)
    stmt = stmt.add_columns(household_count).order_by(Village.code)
    return render_template("areas/township.html", township=township,
                           page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/villages/<int:village_id>")
def village(village_id):
    village = get_in_scope_or_404(Village, village_id)
    q = request.args.get("q", "")
    stmt = search(households_query(current_user).where(Household.village_id == village.id), q,
                  Household.house_number, Household.head_name)
    stmt = stmt.order_by(Household.sort_key, Household.house_number)
    return render_template("areas/village.html", village=village,
                           page=paginate(stmt, request.args.get("page")), q=q)


# --- admin -------------------------------------------------------------------------------------

# kind → (model, form, parent model, the model's column that points to the parent)
KINDS = {
    "county": (County, CountyForm, None, None),
    "township": (Township, TownshipForm, County, "county_id"),
    "village": (Village, VillageForm, Township, "township_id"),
}


@admin_bp.route("/")
@permission_required(may_manage_areas)
def overview():
    q = request.args.get("q", "")
    stmt = search(select(Village).join(Village.township), q, Village.name, Village.code,
                  Township.name).order_by(Village.code)
    counties = db.session.scalars(select(County).order_by(County.code)).all()
    return render_template("areas/admin.html", counties=counties,
                           page=paginate(stmt, request.args.get("page")), q=q)


@admin_bp.route("/<kind>/new", methods=["GET", "POST"])
@admin_bp.route("/<kind>/<int:ident>", methods=["GET", "POST"])
@permission_required(may_manage_areas)
def edit(kind, ident=None):
    if kind not in KINDS:
        raise NotFound()
    model, form_class, parent_model, parent_key = KINDS[kind]
    area = db.get_or_404(model, ident) if ident is not None else None
    form = form_class(obj=area)
    if parent_model is not None:
        parents = db.session.scalars(select(parent_model).order_by(parent_model.code)).all()
        form.parent.choices = [(p.id, f"{p.name} ({p.code})") for p in parents]
        if request.method == "GET":
            form.parent.data = getattr(area, parent_key, None) or request.args.get("parent", type=int)
    if form.validate_on_submit():
        same_code = select(model.id).where(model.code == form.code.data)
        if area is not None:
            same_code = same_code.where(model.id != area.id)
        if db.session.scalar(same_code) is not None:
            form.code.errors.append(_("This code is already used."))
        else:
            area = area or model()
            moved = parent_key is not None and getattr(area, parent_key, None) != form.parent.data
            for name, field in form._fields.items():
                if name == "parent":
                    setattr(area, parent_key, field.data)
                elif name != "csrf_token":
                    setattr(area, name, field.data)
            db.session.add(area)
            db.session.flush()
            _refresh_evaluations(kind, area, moved)
            audit.record(f"{kind}_saved", current_user, target=f"{kind}:{area.code}")
            flash(_("Saved %(name)s.", name=area.name), "success")
            return redirect(url_for(".overview"))
    status = 400 if request.method == "POST" else 200
    return render_template("areas/admin_form.html", form=form, kind=kind, area=area), status


def _refresh_evaluations(kind, area, moved):
    """A village's registered households (coverage) or a village's or township's place changed."""
    if kind == "village":
        precomputed.villages_changed([area.id], moved=moved)
    elif kind == "township" and moved:
        precomputed.villages_changed([v.id for v in area.villages], moved=True)


@admin_bp.route("/import", methods=["GET", "POST"])
@permission_required(may_manage_areas)
def import_csv():
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        try:
            result = import_villages(decode(form.file.data.read()))
        except ImportFileError as error:
            form.file.errors.append(str(error))
            status = 400
        else:
            audit.record("villages_imported", current_user, created=result.created,
                         updated=result.updated, rejected=len(result.errors))
            status = 200
    elif request.method == "POST":
        status = 400
    return render_template("areas/import.html", form=form, result=result), status
