"""The dashboard's charts drawn for a locale, kept in a bounded in-process cache, and made fit
for a page whose Content-Security-Policy allows no inline styles.

Pure (no Flask): a chart is drawn from its frozen inputs, its texts and the locale's number
formats; the same three give the same SVG, so they are the cache key. Drawing takes tens of
milliseconds a chart; a warm dashboard takes none.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Mapping

from babel.numbers import format_decimal, format_percent

from village_survey.charts import bars
from village_survey.charts.style import Chart, Numbers

# About twenty dashboards of ten charts (a few hundred KB of SVG each dashboard).
CACHE_SIZE = 200

_KINDS = {
    "stars": bars.star_distribution,
    "targets": bars.indicators_against_targets,
    "mix": bars.energy_mix,
    "pv": bars.pv_by_area,
    "co2e": bars.co2e_per_person,
    "ranking": bars.ranking,
    "change": bars.change_from_previous_year,
}


def numbers_for(locale: str) -> Numbers:
    """Numbers written as the locale writes them: grouping, decimal sign, percent sign."""
    return Numbers(decimal=lambda value: format_decimal(value, format="#,##0.##", locale=locale),
                   percent=lambda share: format_percent(share, "#,##0.#%", locale=locale))


def draw(kind: str, data: tuple, texts: Mapping[str, str], locale: str, gid: str, **options) -> Chart:
    """One chart of `kind` (see _KINDS) from `data` (the chart function's positional inputs,
    frozen), drawn once per distinct input and then served from the cache."""
    return _draw(kind, data, tuple(sorted((k, str(v)) for k, v in texts.items())), locale, gid,
                 tuple(sorted(options.items())))


@lru_cache(maxsize=CACHE_SIZE)
def _draw(kind: str, data: tuple, texts: tuple, locale: str, gid: str, options: tuple) -> Chart:
    chart = _KINDS[kind](*data, dict(texts), numbers_for(locale), gid=gid, **dict(options))
    return Chart(without_inline_styles(chart.svg), chart.alt, chart.table)


def cache_info():
    return _draw.cache_info()


def clear_cache() -> None:
    _draw.cache_clear()


# --- inline styles as presentation attributes ------------------------------------------------
# matplotlib writes `style="fill: …; stroke: …"` on every mark and a <style> element; a page
# whose CSP says `style-src 'self'` ignores both (every bar black, every line gone). SVG's
# presentation attributes (fill="…") draw the same and are no styles to a CSP.

_TAG = re.compile(r"<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S)
_DECLARATION = re.compile(r"\s*([\w-]+)\s*:\s*([^;]+?)\s*(?:;|$)")


def _declarations(css: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in _DECLARATION.findall(css)]


def _attribute_value(value: str) -> str:
    return escape(value, quote=True)


def _restyled(match: re.Match, root_defaults: list[tuple[str, str]]) -> str:
    name, attributes, closing = match.group(1), match.group(2), match.group(3)
    pairs = [(key, raw[1:-1]) for key, raw in _ATTRIBUTE.findall(attributes)]
    style = next((value for key, value in pairs if key == "style"), None)
    extra = list(root_defaults) if name == "svg" else []
    if style is None and not extra:
        return match.group(0)
    kept = [(key, value) for key, value in pairs if key != "style"]
    # an inline style overrides the attribute of the same name: drop the attribute
    declared = _declarations(style.replace("&#x27;", "'").replace("&quot;", '"')) if style else []
    names = {key for key, _value in declared}
    kept = [(key, value) for key, value in kept if key not in names]
    given = {key for key, _value in kept} | names
    merged = kept + [(key, value) for key, value in extra if key not in given]
    text = "".join(f' {key}="{value}"' for key, value in merged)
    text += "".join(f' {key}="{_attribute_value(value)}"' for key, value in declared)
    return f"<{name}{text}{' /' if closing else ''}>"


def without_inline_styles(svg: str) -> str:
    """The SVG with its style attributes and its universal <style> rule as presentation
    attributes (the rule's declarations go on the root, whence they are inherited)."""
    defaults: list[tuple[str, str]] = []
    for css in _STYLE_ELEMENT.findall(svg):
        for rule in re.findall(r"\*\s*\{([^}]*)\}", css):
            defaults += _declarations(rule)
    svg = _STYLE_ELEMENT.sub("", svg)
    return _TAG.sub(lambda match: _restyled(match, defaults), svg)
