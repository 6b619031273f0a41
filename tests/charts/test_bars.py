"""The evaluation charts: valid inline SVG, one mark per datum, CJK text kept as text, alt and table."""

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from village_survey.charts.bars import (
    AreaPV, AreaScore, AreaStars, AreaValue, GradeBand, IndicatorChange, IndicatorTarget, MixOption,
    change_from_previous_year, co2e_per_person, energy_mix, indicators_against_targets, pv_by_area,
    ranking, star_distribution,
)
from village_survey.charts.style import FONT_FAMILY, WIDTH_IN, Numbers

SVG = "{http://www.w3.org/2000/svg}"
# A formatter unlike the default, as Babel's would be: proves the caller's formatter is used.
NUMBERS = Numbers(decimal=lambda v: f"<{v:g}>", percent=lambda s: f"[{round(s * 100)}%]")

STARS = [AreaStars("武宁县", (10, 40, 30, 20)), AreaStars("修水县", (5, 20, 50, 25)),
         AreaStars("瑞昌市", (30, 30, 30, 10))]
STARS_TEXTS = {"levels": "0 星|1 星|2 星|3 星", "area": "区域", "axis": "农户比例", "total": "合计",
               "alt": "{total} 户中 {share} 达到{level}（{count} 户）"}
TARGETS = [IndicatorTarget("光伏农户比例", 32, 30, "%"), IndicatorTarget("清洁炊事比例", 61, 80, "%"),
           IndicatorTarget("人均碳排放", 1.4, 1.2, "t", higher_is_better=False),
           IndicatorTarget("高效照明比例", 90, 85, "%")]
TARGETS_TEXTS = {"indicator": "指标", "value": "数值", "target": "目标", "met": "达标",
                 "not_met": "未达标", "axis": "目标完成度", "alt": "{total} 项指标中 {met} 项达标"}
MIX = [MixOption("电", 50, clean=True), MixOption("液化气", 22, clean=True), MixOption("柴薪", 20),
       MixOption("煤", 8)]
MIX_TEXTS = {"option": "燃料", "count": "户数", "share": "比例", "clean": "清洁", "other": "其他",
             "axis": "农户比例", "alt": "{total} 户中 {share} 用电或燃气做饭",
             "alt_previous": "{total} 户中 {share} 用电或燃气做饭，上年为 {previous}"}
PV = [AreaPV("武宁县", 120, 540.5), AreaPV("修水县", 80, 300), AreaPV("瑞昌市", 15, 60.25)]
PV_TEXTS = {"area": "区域", "households": "光伏户数", "kwp": "装机容量 (kWp)",
            "alt": "{households} 户装有光伏，共 {kwp} kWp，{top_area} 最多"}
CO2E = [AreaValue("武宁县", 1.2), AreaValue("修水县", 1.8), AreaValue("瑞昌市", 0.9),
        AreaValue("都昌县", 1.5)]
CO2E_TEXTS = {"area": "区域", "value": "人均碳排放", "unit": "t CO2e", "reference": "全市",
              "axis": "人均碳排放", "alt": "{total} 个区域中 {above} 个高于全市（{reference}）"}
SCORES = [AreaScore("修水县", 72, "良好"), AreaScore("武宁县", 86.5, "优秀"),
          AreaScore("共青城市", 40, "不合格"), AreaScore("瑞昌市", 55, "不合格"),
          AreaScore("湖口县", 88, "优秀")]
BANDS = [GradeBand("不合格", 0), GradeBand("合格", 60), GradeBand("良好", 70), GradeBand("优秀", 85)]
RANKING_TEXTS = {"rank": "名次", "area": "区域", "score": "得分", "grade": "等级", "axis": "得分",
                 "alt": "{best}以 {score} 分居首；{total} 个区域中 {reached} 个达到{grade}"}
CHANGES = [IndicatorChange("光伏农户比例", 20, 32, "%"), IndicatorChange("清洁炊事比例", 70, 61, "%"),
           IndicatorChange("人均碳排放", 1.6, 1.4, "t", higher_is_better=False)]
CHANGE_TEXTS = {"indicator": "指标", "previous": "上年", "current": "本年", "change": "变化",
                "improved": "改善", "worsened": "退步", "axis": "较上年变化",
                "alt": "{total} 项指标中 {improved} 项较上年改善"}

ALL_CHARTS = {
    "stars": lambda: star_distribution(STARS, STARS_TEXTS, NUMBERS),
    "targets": lambda: indicators_against_targets(TARGETS, TARGETS_TEXTS, NUMBERS),
    "mix": lambda: energy_mix(MIX, MIX_TEXTS, NUMBERS, previous_share=0.61),
    "pv": lambda: pv_by_area(PV, PV_TEXTS, NUMBERS),
    "co2e": lambda: co2e_per_person(CO2E, 1.4, CO2E_TEXTS, NUMBERS),
    "ranking": lambda: ranking(SCORES, BANDS, RANKING_TEXTS, NUMBERS),
    "change": lambda: change_from_previous_year(CHANGES, CHANGE_TEXTS, NUMBERS),
}


def parse(svg):
    return ET.fromstring(svg)


def marks(root, prefix):
    """Elements carrying an id set with set_gid, ``<prefix>-<index>…``."""
    return [e for e in root.iter() if re.fullmatch(re.escape(prefix) + r"-[\d-]+", e.get("id", ""))]


@pytest.mark.parametrize("name", ALL_CHARTS)
def test_every_chart_is_an_inline_svg_with_a_stable_viewbox_and_full_width(name):
    chart = ALL_CHARTS[name]()
    assert chart.svg.startswith("<svg")  # no XML prolog or DOCTYPE: it can be inlined in HTML
    root = parse(chart.svg)
    assert root.tag == SVG + "svg"
    assert root.get("width") == "100%" and root.get("height") is None
    x, y, width, height = map(float, root.get("viewBox").split())
    assert (x, y, width) == (0, 0, WIDTH_IN * 72) and height > 0
    assert parse(ALL_CHARTS[name]().svg).get("viewBox") == root.get("viewBox")
    assert ALL_CHARTS[name]().svg == chart.svg  # same data, same SVG


@pytest.mark.parametrize("name", ALL_CHARTS)
def test_every_chart_sets_the_cjk_font_on_the_root_and_on_every_text(name):
    root = parse(ALL_CHARTS[name]().svg)
    assert FONT_FAMILY in root.get("font-family")
    texts = list(root.iter(SVG + "text"))
    assert texts
    for text in texts:
        assert FONT_FAMILY in text.get("font-family") and text.get("style") is None


@pytest.mark.parametrize("name", ALL_CHARTS)
def test_every_chart_keeps_its_labels_as_text_and_carries_its_alt_text(name):
    chart = ALL_CHARTS[name]()
    root = parse(chart.svg)
    words = "".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    first_label = chart.table.rows[0][1 if name == "ranking" else 0]
    assert first_label in words  # a Chinese label, as text, not as glyph outlines
    assert root.get("role") == "img" and root.get("aria-label") == chart.alt
    assert root.find(SVG + "title").text == chart.alt


def test_star_distribution_draws_a_segment_per_area_and_level_and_states_the_top_share():
    chart = star_distribution(STARS, STARS_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert len(marks(root, "stars-bar")) == 3 * 4
    # 20 + 25 + 10 of 300 farmhouses have three stars
    assert chart.alt == "<300> 户中 [18%] 达到3 星（<55> 户）"
    assert chart.table.headers == ("区域", "0 星", "1 星", "2 星", "3 星", "合计")
    assert chart.table.rows == (
        ("武宁县", "<10>", "<40>", "<30>", "<20>", "<100>"),
        ("修水县", "<5>", "<20>", "<50>", "<25>", "<100>"),
        ("瑞昌市", "<30>", "<30>", "<30>", "<10>", "<100>"),
    )


def test_two_star_charts_on_one_page_get_distinct_mark_ids_when_given_distinct_gids():
    county = parse(star_distribution(STARS, STARS_TEXTS, NUMBERS, gid="county-stars").svg)
    city = parse(star_distribution(STARS, STARS_TEXTS, NUMBERS, gid="city-stars").svg)
    assert len(marks(county, "county-stars-bar")) == 12 and not marks(county, "city-stars-bar")
    assert len(marks(city, "city-stars-bar")) == 12
    # matplotlib's own numbered ids (figure_1, patch_3, …) would repeat on the page: none is left
    assert not [e for e in county.iter() if re.fullmatch(r"[A-Za-z][\w.]*_\d+", e.get("id", ""))]


def test_indicators_against_targets_draws_a_bar_and_a_target_line_each_and_counts_those_met():
    chart = indicators_against_targets(TARGETS, TARGETS_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert len(marks(root, "targets-bar")) == 4
    assert len(marks(root, "targets-target")) == 4
    # PV 32 ≥ 30 and lighting 90 ≥ 85 are met; CO2e 1.4 > 1.2 is not (lower is better)
    assert chart.alt == "<4> 项指标中 <2> 项达标"
    assert chart.table.rows == (
        ("光伏农户比例", "<32> %", "<30> %", "达标"),
        ("清洁炊事比例", "<61> %", "<80> %", "未达标"),
        ("人均碳排放", "<1.4> t", "<1.2> t", "未达标"),
        ("高效照明比例", "<90> %", "<85> %", "达标"),
    )


def test_energy_mix_draws_a_bar_per_option_and_states_the_clean_share_against_last_year():
    chart = energy_mix(MIX, MIX_TEXTS, NUMBERS, previous_share=0.61)
    assert len(marks(parse(chart.svg), "mix-bar")) == 4
    assert chart.alt == "<100> 户中 [72%] 用电或燃气做饭，上年为 [61%]"
    assert energy_mix(MIX, MIX_TEXTS, NUMBERS).alt == "<100> 户中 [72%] 用电或燃气做饭"
    assert chart.table.rows == (("电", "<50>", "[50%]"), ("液化气", "<22>", "[22%]"),
                                ("柴薪", "<20>", "[20%]"), ("煤", "<8>", "[8%]"))


def test_pv_by_area_draws_households_and_capacity_per_area():
    chart = pv_by_area(PV, PV_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert len(marks(root, "pv-households")) == 3
    assert len(marks(root, "pv-kwp")) == 3
    assert chart.alt == "<215> 户装有光伏，共 <900.75> kWp，武宁县 最多"
    assert chart.table.rows == (("武宁县", "<120>", "<540.5>"), ("修水县", "<80>", "<300>"),
                                ("瑞昌市", "<15>", "<60.25>"))


def test_co2e_per_person_draws_a_bar_per_area_and_the_city_line():
    chart = co2e_per_person(CO2E, 1.4, CO2E_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert len(marks(root, "co2e-bar")) == 4
    assert root.find(".//*[@id='co2e-reference']") is not None
    assert "全市 <1.4>" in "".join(root.itertext())
    assert chart.alt == "<4> 个区域中 <2> 个高于全市（<1.4> t CO2e）"
    assert chart.table.rows == (("武宁县", "<1.2>"), ("修水县", "<1.8>"), ("瑞昌市", "<0.9>"),
                                ("都昌县", "<1.5>"))


def _x_range(element):
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", element.get("d", ""))]
    xs = numbers[0::2]
    return min(xs), max(xs)


def test_co2e_per_person_shows_a_net_negative_area_left_of_zero():
    areas = [AreaValue("林坑村", -0.29), AreaValue("下塘村", 0.8)]
    chart = co2e_per_person(areas, 0.4, CO2E_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert root.find(".//*[@id='co2e-zero']") is not None
    negative, positive = (marks(root, "co2e-bar")[n].find(".//{*}path") for n in (0, 1))
    left, right = _x_range(negative)
    assert right - left > 5  # a visible bar, drawn left of the zero line
    assert right <= _x_range(positive)[0] + 0.5  # both start at zero: the negative one ends there
    assert co2e_per_person(CO2E, 1.4, CO2E_TEXTS, NUMBERS).svg.count("co2e-zero") == 0


def test_ranking_orders_areas_by_score_over_one_band_per_grade():
    chart = ranking(SCORES, BANDS, RANKING_TEXTS, NUMBERS)
    root = parse(chart.svg)
    assert len(marks(root, "ranking-bar")) == 5
    assert len(marks(root, "ranking-band")) == 4
    assert chart.alt == "湖口县以 <88> 分居首；<5> 个区域中 <2> 个达到优秀"
    assert chart.table.rows == (
        ("<1>", "湖口县", "<88>", "优秀"), ("<2>", "武宁县", "<86.5>", "优秀"),
        ("<3>", "修水县", "<72>", "良好"), ("<4>", "瑞昌市", "<55>", "不合格"),
        ("<5>", "共青城市", "<40>", "不合格"),
    )


def test_change_from_previous_year_counts_improvements_whichever_way_is_better():
    chart = change_from_previous_year(CHANGES, CHANGE_TEXTS, NUMBERS)
    assert len(marks(parse(chart.svg), "change-bar")) == 3
    # PV up and CO2e per person down are improvements; clean cooking down is not
    assert chart.alt == "<3> 项指标中 <2> 项较上年改善"
    assert chart.table.rows == (("光伏农户比例", "<20> %", "<32> %", "[60%]"),
                                ("清洁炊事比例", "<70> %", "<61> %", "[-13%]"),
                                ("人均碳排放", "<1.6> t", "<1.4> t", "[-13%]"))


def test_charts_drawn_at_once_in_threads_equal_those_drawn_one_by_one():
    alone = {name: draw().svg for name, draw in ALL_CHARTS.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(draw) for name, draw in list(ALL_CHARTS.items()) * 3}
        together = {name: future.result().svg for name, future in futures.items()}
    assert together == alone


def test_drawing_a_chart_leaves_matplotlibs_global_settings_as_they_were():
    import matplotlib

    before = dict(matplotlib.rcParams)
    star_distribution(STARS, STARS_TEXTS, NUMBERS)
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("draw", [
    lambda t: star_distribution([], {**STARS_TEXTS, **t}, NUMBERS),
    lambda t: indicators_against_targets([], {**TARGETS_TEXTS, **t}, NUMBERS),
    lambda t: energy_mix([], {**MIX_TEXTS, **t}, NUMBERS, previous_share=0.5),
    lambda t: pv_by_area([], {**PV_TEXTS, **t}, NUMBERS),
    lambda t: co2e_per_person([], 1.4, {**CO2E_TEXTS, **t}, NUMBERS),
    lambda t: ranking([], BANDS, {**RANKING_TEXTS, **t}, NUMBERS),
    lambda t: change_from_previous_year([], {**CHANGE_TEXTS, **t}, NUMBERS),
])
def test_a_chart_without_data_is_still_valid_svg_and_its_alt_says_there_is_no_data(draw):
    chart = draw({"empty": "暂无数据"})
    assert parse(chart.svg).get("aria-label") == "暂无数据"
    assert chart.alt == "暂无数据" and chart.table.rows == ()
