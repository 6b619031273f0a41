"""Survey answers as the scoring reads them: JSON or form values turned into typed Python values.

Answers arrive as JSON types or as form strings ("12.5", "true", Decimal from the database);
scoring needs bool, numbers and known codes. An empty value is unanswered (None). A value that
cannot be what the survey form allows raises AnswerError naming the key: scoring never guesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping

from village_survey import survey_fields

_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})


class AnswerError(ValueError):
    """An answer that is not of its key's type, or not one of its codes."""

    def __init__(self, key: str, value: Any, reason: str):
        super().__init__(f"answer {key!r} = {value!r}: {reason}")
        self.key = key
        self.value = value
        self.reason = reason


def _parse_bool(key: str, v: Any) -> bool | None:
    if v is True or v is False or v is None:
        return v
    if type(v) is int and v in (0, 1):
        return v == 1
    if isinstance(v, str):
        s = v.strip().lower()
        if s == "":
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise AnswerError(key, v, "expected yes or no")


def _parse_number(key: str, integral: bool, v: Any) -> float | int | None:
    t = type(v)
    if t is int:
        return v
    if t is float:
        if not math.isfinite(v):
            raise AnswerError(key, v, "expected a finite number")
        return v
    if v is None:
        return None
    if t is bool:
        raise AnswerError(key, v, "expected a number, not yes/no")
    if isinstance(v, str):
        if v.strip() == "":
            return None
        try:
            number = float(v)
        except ValueError:
            raise AnswerError(key, v, "expected a number") from None
    elif isinstance(v, (Decimal, int, float)):
        number = float(v)
    else:
        raise AnswerError(key, v, "expected a number")
    if not math.isfinite(number):
        raise AnswerError(key, v, "expected a finite number")
    if integral and number.is_integer():
        return int(number)
    return number


def _parse_code(key: str, codes: frozenset[str], v: Any) -> str | None:
    if v is None:
        return None
    if type(v) is str:
        if v in codes:
            return v
        s = v.strip()
        if s == "":
            return None
    elif isinstance(v, int) and not isinstance(v, bool):
        # ac_label_grade's codes are "1".."5"; JSON clients send them as numbers
        s = str(v)
    else:
        raise AnswerError(key, v, "expected a code")
    if s in codes:
        return s
    raise AnswerError(key, v, f"not one of the codes {', '.join(sorted(codes))}")


def _pass_through(key: str, v: Any) -> Any:
    return None if v == "" else v


_BOOL, _NUMBER, _CODE, _OTHER = range(4)
_NONE_TYPE = type(None)
_BOOL_TYPES = frozenset({bool, _NONE_TYPE})
_NUMBER_TYPES = frozenset({int, float, _NONE_TYPE})


def _parser_for(key: str) -> tuple[int, frozenset, Callable[[Any], Any]]:
    f = survey_fields.field(key)
    if f.type == "bool":
        return _BOOL, frozenset(), partial(_parse_bool, key)
    if f.type in survey_fields.NUMERIC_TYPES:
        return _NUMBER, frozenset(), partial(_parse_number, key, f.type != "decimal")
    if f.type == "code":
        codes = frozenset(f.codes)
        return _CODE, codes, partial(_parse_code, key, codes)
    return _OTHER, frozenset(), partial(_pass_through, key)


def _picker(indices: tuple[int, ...]) -> Callable[[list], tuple]:
    """A function taking the values at `indices` out of a list, as a tuple, at C speed."""
    if not indices:
        return lambda values: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda values: (values[only],)
    return itemgetter(*indices)


@dataclass(frozen=True)
class Parsers:
    """The keys a criteria set reads, grouped by type so typed answers pass at C speed."""

    keys: tuple[str, ...]
    parse: tuple[Callable[[Any], Any], ...]
    bools: Callable[[list], tuple]
    numbers: Callable[[list], tuple]
    codes: Callable[[list], tuple]
    code_sets: tuple[frozenset, ...]  # accepted values (codes and None) of the code keys
    others: Callable[[list], tuple]


def compile_parsers(keys: Iterable[str]) -> Parsers:
    """The parsers of the keys a criteria set reads, in a stable order."""
    keys = tuple(sorted(set(keys)))
    compiled = [_parser_for(k) for k in keys]

    def pick(kind: int) -> Callable[[list], tuple]:
        return _picker(tuple(i for i, (k, _, _) in enumerate(compiled) if k == kind))

    return Parsers(
        keys=keys, parse=tuple(p for _, _, p in compiled), bools=pick(_BOOL),
        numbers=pick(_NUMBER), codes=pick(_CODE),
        code_sets=tuple(codes | {None} for kind, codes, _ in compiled if kind == _CODE),
        others=pick(_OTHER))


def normalize_answers(answers: Mapping[str, Any], parsers: Parsers) -> dict[str, Any]:
    """Typed values of the keys that scoring reads; unanswered keys map to None.

    Keys the scoring does not read (names, notes, GPS) are left out: the result of scoring must
    not depend on them, and leaving them out keeps personal data out of results.
    """
    values = list(map(answers.get, parsers.keys))
    # Answers from JSON or the database are already typed: check them a group at a time (this
    # runs for every farmhouse of a city) and parse one by one only when a group needs it.
    numbers = parsers.numbers(values)
    try:
        typed = (set(map(type, parsers.bools(values))) <= _BOOL_TYPES
                 and set(map(type, numbers)) <= _NUMBER_TYPES
                 and math.isfinite(sum(filter(None, numbers)))
                 and all(map(frozenset.__contains__, parsers.code_sets, parsers.codes(values)))
                 and "" not in parsers.others(values))
    except TypeError:  # an unhashable value where a code belongs: the parser names it
        typed = False
    if typed:
        return dict(zip(parsers.keys, values))
    # some value needs parsing (a number sent as a form string, say): the parsers pass typed
    # values through unchanged
    return {key: parse(value) for key, parse, value in zip(parsers.keys, parsers.parse, values)}
