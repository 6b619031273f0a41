"""The field app's words for its scripts: each `t("key")` of static/js/app/ as an English msgid.

A page carries only the keys that its modules use (`assets.field_app` finds them by scanning the
modules), translated into the user's language. The msgids are here, in plain Python, so that
`pybabel extract` finds them (`N_` only marks a msgid; pybabel's default keywords include it).
Placeholders are written {name}: the script fills them in (i18n.js), not Babel.
A key the scripts use that is missing here, or a key here that no script uses, fails
tests/offline/test_assets.py.
"""

from __future__ import annotations

from typing import Mapping


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; translated when a page is rendered."""
    return msgid


JS_MESSAGES: Mapping[str, str] = {
    "online": N_("Online"),
    "offline": N_("Offline: your work is kept on this phone."),
    "login_needed": N_("Your login has expired. Log in again to send; nothing on this phone is lost."),
    "log_in": N_("Log in"),
    "never": N_("never"),
    "saved": N_("Saved on this phone"),
    "sending": N_("Sending {n} of {total}…"),
    "sending_batch": N_("Sending {first}–{last} of {total}…"),
    "sent_all": N_("Everything is sent."),
    "needs_attention": N_("Not sent: {n} need attention, see below."),
    "state_draft": N_("Draft"),
    "state_queued": N_("Waiting to send"),
    "state_sent": N_("Sent"),
    "state_failed": N_("Needs attention"),
    "server_submitted": N_("Submitted"),
    "server_approved": N_("Approved"),
    "server_returned": N_("Returned"),
    "delete": N_("Delete"),
    "confirm_delete": N_("Delete this draft from the phone?"),
    "logout_unsent": N_("{n} surveys are not sent yet. They stay on this phone for you, but nobody else can send them. Log out anyway?"),
    "new_household": N_("A new household"),
    "choose_village": N_("Choose a village"),
    "no_villages": N_("No village list on this phone yet: open this page once while online."),
    "no_session": N_("Log in once while online to use the app without signal."),
    "network_error": N_("No connection; it will be retried."),
    "retry_at": N_("next try {time}"),
    "missing": N_("Still to answer before submitting:"),
    "nothing_missing": N_("All required answers are there."),
    "import_bad": N_("This file is not an export of village_survey."),
    "photo_added": N_("Photo kept on this phone; it is sent after the survey."),
    "photo_bad": N_("This file is not a photo."),
    "yes": N_("Yes"),
    "no": N_("No"),
    "not_found": N_("This survey is not on this phone."),
    "persist_denied": N_("The browser may clear stored data when space runs low: export the queue regularly."),
    "gps_waiting": N_("Finding the position…"),
    "gps_done": N_("Position filled in."),
    "photos_waiting": N_("{n} photos waiting"),
    "logged_out": N_("Logged out on this phone. If there was no signal, the logout is completed on the server as soon as there is. Log in to use the app."),
    "other_user": N_("Not sent: the server is signed in as another user ({server}). Log in as {owner} to send these surveys; they stay on this phone."),
    "read_only": N_("Your account can read but not survey: the field app is for surveyors."),
    "reviewer_comment": N_("Reviewer's comment:"),
    "import_others": N_("{n} surveys in the file were made by another user and were not imported."),
    "server_down": N_("Server not reachable"),
    "retry_in": N_("The server cannot be reached right now; next try in {n} s."),
    "syncing": N_("Syncing…"),
    "checking": N_("Asking the server what became of your surveys…"),
    "sending_photo": N_("Sending photo {n} of {total}…"),
    "checked_at": N_("Nothing to send now; checked at {time}."),
    "photos_refused": N_("{n} photos were refused, see below."),
    "retry_later": N_("No connection: try again when there is signal."),
    "state_held": N_("Returned: read the comment"),
    "state_conflict": N_("Not sent: approved meanwhile"),
    "server_draft": N_("Draft"),
    "to_fix": N_("Needs changes"),
    "comment_label": N_("Reviewer's comment:"),
    "fix_it": N_("Fix it"),
    "send_as_is": N_("Send my change as it is"),
    "held_explained": N_("The reviewer returned this survey after you changed it on this phone. Your change is not sent until you have read the comment: fix it, or send it as it is."),
    "conflict_explained": N_("A reviewer approved this survey while your change waited on this phone. Your change was not sent and does not replace the approved survey; it is kept here for you to read. If the survey needs it, ask the reviewer to reopen the survey; or discard your change."),
    "submitted_explained": N_("The server already has this survey as submitted, and no reviewer has decided on it yet. You may withdraw that submission and send your change instead, or discard your change."),
    "show_my_change": N_("My change (not sent)"),
    "server_has": N_("on the server: {value}"),
    "no_difference": N_("The same answers as on the server."),
    "discard_change": N_("Discard my change"),
    "discarded": N_("Your change was discarded; the phone shows the survey as the server has it."),
    "confirm_discard": N_("Discard your change to this survey? The phone then shows the survey as the server has it."),
    "withdraw_and_send": N_("Withdraw the submission and send my change"),
    "withdraw_failed": N_("The submission could not be withdrawn: {reason}"),
    "duplicate_warning": N_("{household} already has a survey for {year} ({status})."),
    "duplicate_open": N_("Open that survey"),
    "duplicate_not_editable": N_("It cannot be changed now, and a household has one survey a year: choose another household."),
    "duplicate_needs_signal": N_("That survey is on the server: open it once while online."),
    "previous_needs_signal": N_("Last year's answers are not on this phone yet: connect once, or start empty."),
    "start": N_("Start"),
    "start_empty": N_("Start empty"),
    "start_from_previous": N_("Start from the answers of {year}"),
    "to_survey_title": N_("Not surveyed in {year}: {n} households"),
    "village_counts": N_("{surveyed} of {total} households surveyed, {left} to go"),
    "delete_photo": N_("Delete this photo"),
    "confirm_delete_photo": N_("Delete this photo from the phone? It cannot be sent any more."),
    "export_reminder": N_("{n} surveys are only on this phone: export them now (Backup, below)."),
    "exported": N_("Exported: {n} surveys and {photos} photos."),
    "imported_with_photos": N_("{n} surveys and {photos} photos imported."),
    "import_bad_photos": N_("{n} photos in the file could not be read."),
    "logout_breakdown": N_("Waiting to send: {queued}; drafts: {drafts}; needing attention: {refused}; photos not sent: {photos}."),
    "change": N_("Change"),
    "errors": N_("Some answers need attention before submitting:"),
}
