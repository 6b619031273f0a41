"""The PDF reports as PDFs: text that can be copied out, the CJK font embedded, page counts,
the draft mark on every page, masked names, the locale, page numbers and the contents' page
numbers, page 1 drawn (not blank), and the URL fetcher's refusals."""

import io
import json
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.factories import make_county, make_household, make_township, make_user, make_village
from village_survey.evaluations import finalizing, precomputed
from village_survey.evaluations.precomputed import CITY, Area
from village_survey.evaluations.services import criteria_named
from village_survey.extensions import db
from village_survey.reports import render
from village_survey.reports.content import mask_name

pytestmark = pytest.mark.skipif(not shutil.which("pdffonts") or not shutil.which("pdftoppm"),
                                reason="needs poppler-utils (pdffonts, pdftoppm)")


@pytest.fixture
def world(app):
    county = make_county("360402", "濂溪区")
    township = make_township(county, "100", "甲镇")
    village = make_village(township, "200", "泉兴村", registered=20)
    other = make_village(make_township(county, "101", "乙镇"), "200", "桥丰村", registered=30)
    reviewer = make_user("reviewer-a", "reviewer", county=county)
    db.session.flush()
    for n in range(12):
        add_survey(village, household=make_household(village, f"9组{n + 1}号", "王小明"))
    add_surveys(other, 4, seed=3)
    add_surveys(village, 6, seed=7, year=YEAR - 1)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    return {"county": county, "village": village, "other": other, "reviewer": reviewer}


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdffonts(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def village_report(world, locale="zh_CN", full_names=False):
    return render.render_report("village", Area("village", world["village"].id), YEAR, criteria_named(None),
                                locale, full_names)


def test_village_report_is_a_pdf_with_the_figures_in_copyable_text_and_the_cjk_font_embedded(world, tmp_path):
    stages = []
    report = render.render_report("village", Area("village", world["village"].id), YEAR, criteria_named(None),
                                  "zh_CN", False, lambda stage, page: stages.append((stage, page)))
    assert report.pdf.startswith(b"%PDF")
    fonts = pdffonts(report.pdf, tmp_path)
    texts = pages_text(report.pdf)
    assert len(texts) == report.pages and 2 <= report.pages <= 6
    whole = compact("".join(texts))
    assert "泉兴村" in whole and "甲镇" in whole and "濂溪区" in whole
    results = report.figures["results"]
    assert compact(render.number(results["score"])) in whole
    for indicator in results["indicators"]:
        assert compact(indicator["label_zh"]) in whole
    assert any("Noto-Sans-CJK-SC" in row[0] for row in fonts)
    assert all(row[-5] == "yes" for row in fonts), fonts  # every font embedded
    assert [s for s, _p in stages][:2] == ["evaluating", "charts"]
    assert json.loads(json.dumps(report.figures))["results"]["score"] == results["score"]
    assert [p for s, p in stages if s == "rendering" and p] == list(range(1, report.pages + 1))


def test_a_draft_carries_the_draft_mark_on_every_page_and_a_finalized_report_on_none(world):
    draft = village_report(world)
    assert not draft.finalized and draft.version is None
    assert all("草稿" in text for text in pages_text(draft.pdf))

    finalizing.finalize(world["reviewer"], Area("village", world["village"].id), YEAR, criteria_named(None))
    db.session.commit()
    final = village_report(world)
    assert final.finalized and final.version == 1
    assert not any("草稿" in text for text in pages_text(final.pdf))
    assert compact(render.number(final.figures["results"]["score"])) in compact("".join(pages_text(final.pdf)))


def test_household_heads_are_masked_unless_full_names_are_asked_for(world):
    assert mask_name("王小明") == "王**" and mask_name("李四") == "李**" and mask_name(None) == ""
    masked = "".join(pages_text(village_report(world).pdf))
    assert "王**" in masked and "王小明" not in masked
    full = "".join(pages_text(village_report(world, full_names=True).pdf))
    assert "王小明" in full
    assert "王小明" not in str(village_report(world, full_names=True).figures)  # never kept with a report


def test_english_report_with_page_numbers_in_the_footer(world):
    report = village_report(world, locale="en")
    texts = pages_text(report.pdf)
    assert "Village evaluation report" in texts[0]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {report.pages}" in text
        assert "DRAFT" in text


def test_chinese_footer_reads_page_n_of_m(world):
    report = village_report(world)
    for number, text in enumerate(pages_text(report.pdf), start=1):
        assert f"第{number}页/共{report.pages}页" in compact(text)


def test_page_one_renders_to_an_image_that_is_not_blank(world, tmp_path):
    from PIL import Image

    path = tmp_path / "report.pdf"
    path.write_bytes(village_report(world).pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 2000  # text and tables drawn, not an empty page


def test_county_annual_report_contents_point_at_the_pages_of_their_sections(world):
    report = render.render_report("county", Area("county", world["county"].id), YEAR, criteria_named(None),
                                  "en", False)
    texts = pages_text(report.pdf)
    assert len(texts) == report.pages >= 5
    contents = texts[0]
    for heading in ("Ranking", "Data completeness", "Method and factors"):
        match = re.search(re.escape(heading) + r"[ .]*?(\d+)\s*$", contents, re.M)
        assert match, (heading, contents)
        page = int(match.group(1))
        assert heading in texts[page - 1]
    whole = "".join(texts)
    assert "泉兴村" in whole and "桥丰村" in whole  # the ranking of villages
    assert report.figures["kind"] == "county" and len(report.figures["villages"]) == 2
    json.dumps(report.figures)  # archived with the PDF


def test_city_annual_report_ranks_the_counties(world):
    report = render.render_report("city", CITY, YEAR, criteria_named(None), "zh_CN", False)
    whole = compact("".join(pages_text(report.pdf)))
    assert "九江市" in whole and "濂溪区" in whole
    assert all("草稿" in text for text in pages_text(report.pdf))


# ---------------------------------------------------------------- what WeasyPrint may load


def test_the_fetcher_serves_static_files_and_refuses_other_files_and_every_external_url(app):
    fetcher = render.fetcher()
    css = fetcher.fetch(render.static_base_url() + "css/print.css")
    assert b"@page" in css.read()
    for url in ("file:///etc/passwd", render.static_base_url() + "../../../../etc/passwd",
                render.static_base_url() + "../village_survey/config.py",
                "https://example.com/logo.png", "http://127.0.0.1/secret", "ftp://example.com/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_template_with_an_external_image_and_a_local_file_link_renders_without_them(app, monkeypatch):
    tried = []

    class Recording(render.StaticOnlyFetcher):
        def fetch(self, url, headers=None):
            try:
                response = super().fetch(url, headers)
            except render.RefusedResource:
                tried.append((url, "refused"))
                raise
            tried.append((url, "served"))
            return response

    monkeypatch.setattr(render, "fetcher", lambda: Recording(app.static_folder))
    html = ('<html><head><link rel="stylesheet" href="css/print.css">'
            '<link rel="stylesheet" href="file:///etc/passwd"></head><body><p>泉兴村</p>'
            '<img src="https://example.com/tracker.png"><img src="file:///etc/passwd">'
            '<a href="file:///etc/passwd">passwd</a></body></html>')
    pdf, pages = render.write_pdf(html)
    assert pages == 1 and "泉兴村" in pages_text(pdf)[0]
    outcome = dict(tried)
    assert outcome["https://example.com/tracker.png"] == "refused"
    assert outcome["file:///etc/passwd"] == "refused"
    assert outcome[render.static_base_url() + "css/print.css"] == "served"
    assert b"root:" not in pdf
