"""A report job with the real renderer (WeasyPrint) on a tiny village: made, archived, the same
bytes on download, a PDF with as many pages as the job says."""

import hashlib
import io

import pytest
from sqlalchemy import select

from tests.evaluations.conftest import add_surveys
from tests.reports.test_jobs import ask, job_of
from village_survey.evaluations import precomputed
from village_survey.extensions import db

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")


def test_a_village_report_made_by_the_real_renderer_is_archived_and_served(world, auth, reports_folder):
    add_surveys(world.village_a, 4)
    precomputed.rebuild()
    db.session.commit()
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    assert job.status == "done", job.error
    assert job.draft and job.file_path.startswith("drafts/")
    download = auth.client.get(f"/reports/{job.uuid}.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert hashlib.sha256(download.data).hexdigest() == job.sha256
    assert auth.client.get(f"/reports/{job.uuid}.pdf").data == download.data
    assert len(pypdf.PdfReader(io.BytesIO(download.data)).pages) == job.pages >= 1
    assert isinstance(job.figures, dict) and job.figures
