"""The forms of the import pages: the upload, and the confirmation of a dry run."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField

KIND_CHOICES = [("surveys", _l("Surveys taken on paper (one row a survey)")),
                ("registry", _l("Registry of villages and households (one row a household)"))]


class UploadForm(FlaskForm):
    kind = RadioField(_l("What the file holds"), choices=KIND_CHOICES, default="surveys")
    # The content decides whether it is a spreadsheet (the name's ending proves nothing).
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))])


class ConfirmForm(FlaskForm):
    mode = RadioField(_l("Import"), choices=[("all", _l("The whole file")),
                                              ("valid", _l("Only the valid rows"))], default="all")
