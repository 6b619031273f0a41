"""The dashboard's charts drawn for a locale, kept in a bounded in-process cache.

Pure (no Flask): a chart is drawn from its frozen inputs, its texts and the locale's number
formats; the same three give the same SVG, so they are the cache key. Drawing takes tens of
milliseconds a chart; a warm dashboard takes none.
"""

from __future__ import annotations

from functools import lru_cache
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
    return chart


def cache_info():
    return _draw.cache_info()


def clear_cache() -> None:
    _draw.cache_clear()
