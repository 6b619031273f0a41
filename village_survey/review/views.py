"""The reviewer's desk: the queue of surveys waiting in the reviewer's area, bulk approval, and
"next" from one survey to the next of the same filtered queue."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from village_survey.access import may_review, permission_required
from village_survey.core.errors import DomainError
from village_survey.review import services
from village_survey.review.flags import FLAG_CODES, flag_codes
from village_survey.review.labels import FLAG_LABELS, flag_badge
from village_survey.surveys.models import STATUSES

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.app_context_processor
def review_labels():
    return {"FLAG_LABELS": FLAG_LABELS, "flag_badge": flag_badge}


def _row(row):
    return {"uuid": row.uuid, "status": row.status, "village": row.village, "township": row.township,
            "house_number": row.house_number, "head_name": row.head_name, "surveyor": row.surveyor,
            "submitted_at": row.submitted_at, "updated_at": row.updated_at, "year": row.year,
            "flags": row.flags or [], "codes": flag_codes(row.flags or []),
            "score": services.score_preview(row.answers)}


@bp.get("/")
@permission_required(may_review)
def queue():
    f = services.QueueFilter.from_args(request.args)
    by_status = services.count_by_status(current_user, f)
    page = services.queue_page(current_user, f, request.args.get("page"), current_app.config["PAGE_SIZE"],
                               total=by_status[f.status])
    # Only the rows of this page are scored: the page stays fast however long the queue is.
    page.items = [_row(row) for row in page.items]
    return render_template("review/queue.html", f=f, page=page, statuses=STATUSES, flag_codes=FLAG_CODES,
                           by_status=by_status, by_township=services.count_by_township(current_user, f),
                           choices=services.filter_choices(current_user, f), queue=f.query_string())


@bp.post("/")
@permission_required(may_review)
def bulk():
    """Approve the ticked surveys (`uuids`), or with `all=1` every waiting one of the filter."""
    f = services.QueueFilter.from_args(request.form)
    if request.form.get("action") != "approve":
        raise DomainError(422, _("Invalid data."), {"action": [_("Approve or return.")]})
    if request.form.get("all") == "1":
        outcome = services.approve_many(current_user, None, f)
    else:
        uuids = request.form.getlist("uuids")
        if not uuids:
            raise DomainError(422, _("Tick the surveys to approve."), {"uuids": [_("Tick the surveys to approve.")]})
        outcome = services.approve_many(current_user, uuids[:services.BULK_MAX], f)
    return render_template("review/approved.html", outcome=outcome, f=f, queue=f.query_string())


@bp.get("/next")
@permission_required(may_review)
def next_survey():
    """The survey after `after` in the queue given by `queue` (the filters), or the queue itself
    when nothing else waits."""
    queue = request.args.get("queue", "")
    f = services.QueueFilter.from_query_string(queue)
    uuid = services.next_in_queue(current_user, f, request.args.get("after"))
    if uuid is None:
        flash(_("Nothing else waits in this queue."), "info")
        return redirect(url_for(".queue", **f.args()))
    return redirect(url_for("surveys.show", raw_uuid=uuid, queue=f.query_string()))
