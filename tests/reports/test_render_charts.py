"""The report's charts are the chart module's SVG, and the shortcuts charts.style takes for speed
(text sizes kept for the process, the layout run once before saving) give the very same SVG as
matplotlib's own way."""

from matplotlib.backends.backend_svg import RendererSVG

from village_survey.charts import bars, style
from village_survey.dashboards import drawing

TEXTS = {"option": "选项", "count": "户数", "share": "占比", "clean": "清洁", "other": "其他",
         "axis": "占已通过农户的比例", "alt": "{share} / {total}", "indicator": "指标", "value": "数值",
         "target": "目标", "met": "达标", "not_met": "未达标"}


def _charts():
    numbers = drawing.numbers_for("zh_CN")
    options = [bars.MixOption("电炊具或电磁炉", 20, True), bars.MixOption("液化石油气", 5, True),
               bars.MixOption("带烟囱的改良柴灶（有烟囱）", 4), bars.MixOption("Traditional wood stove", 2)]
    targets = [bars.IndicatorTarget("绿色农房比例（一星级及以上）", 0.148, 0.3),
               bars.IndicatorTarget("人均净碳排放", 1.2, 1.0, "t", False),
               bars.IndicatorTarget("Clean cooking share", 0.9, 0.8)]
    texts = dict(TEXTS, alt="{met} / {total}")
    return [bars.energy_mix(options, TEXTS, numbers).svg,
            bars.indicators_against_targets(targets, texts, numbers).svg]


def test_the_speed_shortcuts_give_the_same_svg_as_matplotlib_alone(monkeypatch):
    fast = _charts()
    fast_again = _charts()  # text sizes now served from the process's cache
    monkeypatch.setattr(style, "_LAYOUT_ONCE", False)
    monkeypatch.setattr(RendererSVG, "get_text_width_height_descent",
                        RendererSVG.get_text_width_height_descent.original)
    plain = _charts()
    assert fast == plain
    assert fast_again == plain
    assert all("<text" in svg and "font-family" in svg for svg in plain)
