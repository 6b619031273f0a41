"""Criteria rules compiled at load time: conditions and scored items as generated functions.

A criteria file states its rules as data (see the header of jiujiang-2025.toml); this module
checks each rule against the survey's data dictionary and the measure registry and turns it into
a function `(answers, measures) -> ...` (see RuleCode), so that scoring a farmhouse interprets
nothing. A rule that cannot be compiled raises RuleProblem with a locator: regular expressions
that find the offending line in the file, applied one after another (a tuple (pattern, n) takes
the n-th match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from village_survey import survey_fields
from village_survey.scoring.measures import MEASURES

Answers = Mapping[str, Any]
Test = Callable[[Answers, Mapping[str, Any]], bool]
Locator = tuple  # of str or (str, int)


class RuleProblem(Exception):
    def __init__(self, reason: str, locator: Locator = ()):
        super().__init__(reason)
        self.reason = reason
        self.locator = locator


def quoted(value: str) -> str:
    return '"' + re.escape(value) + '"'


def assigned(name: str) -> str:
    """A pattern for the line where TOML key `name` is assigned (top level or inline)."""
    return r"(^|[\s{,])" + re.escape(name) + r"\s*="


def table_header(dotted: str) -> str:
    return r"^\s*\[\[?\s*" + re.escape(dotted) + r"\s*\]\]?"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_fields(table: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str,
                 loc: Locator) -> None:
    for name in table:
        if name not in allowed:
            raise RuleProblem(f"unknown field {name!r} in {where}", loc + (assigned(name),))


@dataclass(frozen=True)
class Condition:
    expr: str  # a Python expression over `a` (typed answers) and `m` (measures)
    test: Test
    keys: tuple[str, ...]  # answer keys read, through refs too
    measures: tuple[str, ...]


_NUMBER_OPS = {"at_least": ">=", "at_most": "<=", "greater_than": ">", "less_than": "<"}
_LEAF_OPS = ("is", "in", "not_in", "present") + tuple(_NUMBER_OPS)


class RuleCode:
    """Rules compiled to Python functions, once per criteria set.

    Each rule becomes one expression such as ``(a.get('roof_insulation') is True)``; every value
    taken from the criteria file (a code set, a threshold, points) is bound as a named constant,
    never written into the source, and answer keys and measure names are checked against the
    survey's data dictionary and the measure registry before they are written. One generated
    function per rule runs several times faster than a tree of closures, and scoring a city
    runs these rules some twenty million times.
    """

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__builtins__": {}}

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def function(self, expr: str) -> Callable:
        return eval(f"lambda a, m: {expr}", self.namespace)  # noqa: S307 - see the class docs


def getter(source: str, name: str) -> str:
    """The expression reading answer key or measure `name` (validated by the caller)."""
    return f"{'a' if source == 'key' else 'm'}.get({name!r})"


def _leaf_expr(code: RuleCode, source: str, name: str, op: str, value: Any) -> str:
    """A test of one answer or measure; an unanswered one (None) never passes."""
    get = getter(source, name)
    if op == "is":
        return f"({get} is {bool(value)!r})"
    if op == "present":
        return f"({get} is not None)"
    if op == "in":
        return f"({get} in {code.constant(frozenset(value))})"
    if op == "not_in":
        return f"((_v := {get}) is not None and _v not in {code.constant(frozenset(value))})"
    return f"((_v := {get}) is not None and _v {_NUMBER_OPS[op]} {code.constant(value)})"


def _union(conditions) -> tuple[tuple[str, ...], tuple[str, ...]]:
    keys: dict[str, None] = {}
    measures: dict[str, None] = {}
    for c in conditions:
        keys.update(dict.fromkeys(c.keys))
        measures.update(dict.fromkeys(c.measures))
    return tuple(keys), tuple(measures)


class ConditionCompiler:
    """Compiles condition tables; named definitions are compiled once, on first use."""

    def __init__(self, definitions: Mapping[str, Any]):
        self._specs = definitions
        self._compiled: dict[str, Condition] = {}
        self._compiling: list[str] = []
        self.code = RuleCode()

    def _condition(self, expr: str, keys: tuple[str, ...], measures: tuple[str, ...]) -> Condition:
        return Condition(expr, self.code.function(expr), keys, measures)

    def definition(self, name: str, loc: Locator) -> Condition:
        if name in self._compiled:
            return self._compiled[name]
        if name not in self._specs:
            raise RuleProblem(f"unknown definition {name!r}", loc + (quoted(name),))
        if name in self._compiling:
            cycle = " -> ".join(self._compiling + [name])
            raise RuleProblem(f"definitions refer to each other in a cycle: {cycle}",
                              (assigned(name),))
        self._compiling.append(name)
        try:
            def_loc = (r"^\s*\[\s*definitions\.%s\s*\]|^\s*%s\s*=" % (re.escape(name),
                                                                     re.escape(name)),)
            condition = self.compile(self._specs[name], f"definition {name!r}", def_loc)
        finally:
            self._compiling.pop()
        self._compiled[name] = condition
        return condition

    def compile_all_definitions(self) -> None:
        for name in self._specs:
            self.definition(name, ())

    def compile(self, spec: Any, where: str, loc: Locator) -> Condition:
        if not isinstance(spec, dict):
            raise RuleProblem(f"a condition in {where} must be a table", loc)
        subjects = [s for s in ("key", "measure", "ref", "all", "any", "count_at_least")
                    if s in spec]
        if len(subjects) != 1:
            raise RuleProblem(
                f"a condition in {where} needs exactly one of key, measure, ref, all, any, "
                f"count_at_least (found {', '.join(subjects) or 'none'})", loc)
        subject = subjects[0]
        if subject == "ref":
            check_fields(spec, {"ref"}, where, loc)
            if not isinstance(spec["ref"], str):
                raise RuleProblem(f"ref in {where} must name a definition", loc)
            return self.definition(spec["ref"], loc)
        if subject in ("all", "any"):
            check_fields(spec, {subject}, where, loc)
            parts = self._parts(spec[subject], subject, where, loc)
            joiner = " and " if subject == "all" else " or "
            return self._condition("(" + joiner.join(p.expr for p in parts) + ")",
                                   *_union(parts))
        if subject == "count_at_least":
            check_fields(spec, {"count_at_least", "of"}, where, loc)
            n = spec["count_at_least"]
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise RuleProblem(f"count_at_least in {where} must be a whole number ≥ 1", loc)
            parts = self._parts(spec.get("of"), "of", where, loc)
            # each part is a bool; True + True == 2
            return self._condition("((" + ") + (".join(p.expr for p in parts) + f") >= {n})",
                                   *_union(parts))
        return self._leaf(spec, subject, where, loc)

    def _parts(self, specs: Any, name: str, where: str, loc: Locator) -> list[Condition]:
        if not isinstance(specs, list) or not specs:
            raise RuleProblem(f"{name} in {where} must be a non-empty list of conditions", loc)
        return [self.compile(s, where, loc) for s in specs]

    def _leaf(self, spec: dict, source: str, where: str, loc: Locator) -> Condition:
        name = spec[source]
        ops = [op for op in spec if op != source]
        if len(ops) != 1 or ops[0] not in _LEAF_OPS:
            raise RuleProblem(
                f"condition on {name!r} in {where} needs exactly one operator of "
                f"{', '.join(_LEAF_OPS)}", loc + (quoted(str(name)),))
        op, value = ops[0], spec[ops[0]]
        here = loc + (quoted(str(name)),)
        if source == "key":
            value_type = answer_value_type(name, where, here)
        else:
            value_type = measure_value_type(name, where, here)
        _check_operator(name, value_type, op, value, where, here)
        keys, measures = ((name,), ()) if source == "key" else ((), (name,))
        return self._condition(_leaf_expr(self.code, source, name, op, value), keys, measures)


def answer_value_type(key: Any, where: str, loc: Locator) -> str:
    if not isinstance(key, str) or not survey_fields.is_known_key(key):
        raise RuleProblem(
            f"unknown answer key {key!r} in {where} (not in survey form version "
            f"{survey_fields.FORM_VERSION})", loc)
    return survey_fields.field(key).type


def measure_value_type(name: Any, where: str, loc: Locator) -> str:
    if not isinstance(name, str) or name not in MEASURES:
        raise RuleProblem(f"unknown derived measure {name!r} in {where}", loc)
    return MEASURES[name].type


def _check_operator(name: str, value_type: str, op: str, value: Any, where: str,
                    loc: Locator) -> None:
    if op == "present":
        if value is not True:
            raise RuleProblem(f"present in {where} can only be true", loc)
        return
    if op == "is":
        if value_type != "bool" or not isinstance(value, bool):
            raise RuleProblem(f"'is' in {where} needs a yes/no answer or measure and true or "
                              f"false ({name!r} is {value_type})", loc)
        return
    if op in ("in", "not_in"):
        if value_type != "code":
            raise RuleProblem(f"'{op}' in {where} needs a code answer ({name!r} is "
                              f"{value_type})", loc)
        if not isinstance(value, list) or not value:
            raise RuleProblem(f"'{op}' in {where} needs a non-empty list of codes", loc)
        codes = survey_fields.codes_of(name)
        for code in value:
            if code not in codes:
                raise RuleProblem(f"unknown code {code!r} for {name!r} in {where} (codes: "
                                  f"{', '.join(codes)})", loc + (quoted(str(code)),))
        return
    if value_type not in survey_fields.NUMERIC_TYPES and value_type != "number":
        raise RuleProblem(f"'{op}' in {where} needs a number answer or measure ({name!r} is "
                          f"{value_type})", loc)
    if not is_number(value):
        raise RuleProblem(f"'{op}' in {where} needs a number", loc)


# ---------------------------------------------------------------- scored items

@dataclass(frozen=True)
class Case:
    label_en: str
    label_zh: str
    condition: Condition
    points: float


@dataclass(frozen=True)
class ScoredItem:
    """An item of a category or of the bonus: `score(answers, measures) -> (points, value)`."""

    id: str
    label_en: str
    label_zh: str
    kind: str
    max: float
    score: Callable[[Answers, Mapping[str, Any]], tuple[float, Any]]
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    value_name: str | None  # answer key or measure shown as the item's value; None: met or not
    expr: str  # the Python expression `score` evaluates (see RuleCode)
    condition: Condition | None = None
    cases: tuple[Case, ...] = ()
    code_points: Mapping[str, float] = field(default_factory=dict)
    linear: tuple[float, float] | None = None  # (from, to)


_COMMON = frozenset({"id", "label_en", "label_zh", "kind"})
_ITEM_FIELDS = {
    "bool": _COMMON | {"key", "points"},
    "condition": _COMMON | {"when", "points", "value"},
    "code_points": _COMMON | {"key", "points"},
    "cases": _COMMON | {"cases", "value"},
    "linear": _COMMON | {"measure", "key", "from", "to", "points", "when"},
}
ITEM_KINDS = tuple(_ITEM_FIELDS)


def text_field(table: Mapping[str, Any], name: str, where: str, loc: Locator) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RuleProblem(f"{where} needs a text field {name!r}", loc)
    return value


def number_field(table: Mapping[str, Any], name: str, where: str, loc: Locator,
                 minimum: float | None = None) -> float:
    value = table.get(name)
    if not is_number(value):
        # a missing field is reported at its table: searching for it would find the next table's
        here = loc + (assigned(name),) if name in table else loc
        raise RuleProblem(f"{where} needs a number field {name!r}", here)
    if minimum is not None and value < minimum:
        raise RuleProblem(f"{name!r} in {where} must be at least {minimum}",
                          loc + (assigned(name),))
    return float(value)


def _value_expr(name: str | None) -> str:
    """The expression of the value an item shows: an answer, a measure, or nothing."""
    if name is None:
        return "None"
    return getter("key" if survey_fields.is_known_key(name) else "measure", name)


def _check_value_name(name: Any, where: str, loc: Locator) -> None:
    if name is None:
        return
    if isinstance(name, str) and (survey_fields.is_known_key(name) or name in MEASURES):
        return
    raise RuleProblem(f"value {name!r} in {where} is neither an answer key nor a derived measure",
                      loc + (assigned("value"),))


def _check_farmhouse_stage(condition: Condition, where: str, loc: Locator) -> None:
    for name in condition.measures:
        if MEASURES[name].stage != "farmhouse":
            raise RuleProblem(f"measure {name!r} in {where} is only known after scoring; only "
                              f"village indicators may use it", loc + (quoted(name),))


def compile_farmhouse_condition(compiler: ConditionCompiler, spec: Any, where: str,
                                loc: Locator) -> Condition:
    condition = compiler.compile(spec, where, loc)
    _check_farmhouse_stage(condition, where, loc)
    return condition


def compile_item(spec: Any, compiler: ConditionCompiler, where: str, loc: Locator) -> ScoredItem:
    if not isinstance(spec, dict):
        raise RuleProblem(f"{where} must be a table", loc)
    item_id = text_field(spec, "id", where, loc)
    where = f"item {item_id}"
    kind = spec.get("kind")
    if kind not in _ITEM_FIELDS:
        raise RuleProblem(f"unknown kind {kind!r} in {where} (kinds: {', '.join(ITEM_KINDS)})",
                          loc + (assigned("kind"),))
    check_fields(spec, _ITEM_FIELDS[kind], where, loc)
    label_en = text_field(spec, "label_en", where, loc)
    label_zh = text_field(spec, "label_zh", where, loc)
    common = dict(id=item_id, label_en=label_en, label_zh=label_zh, kind=kind)
    build = {"bool": _bool_item, "condition": _condition_item, "code_points": _code_points_item,
             "cases": _cases_item, "linear": _linear_item}[kind]
    return build(spec, compiler, where, loc, common)


def _bool_item(spec, compiler, where, loc, common) -> ScoredItem:
    key = spec.get("key")
    if answer_value_type(key, where, loc + (quoted(str(key)),)) != "bool":
        raise RuleProblem(f"{where} of kind bool needs a yes/no answer key ({key!r} is not)",
                          loc + (quoted(str(key)),))
    points = number_field(spec, "points", where, loc, minimum=0)
    code = compiler.code
    expr = (f"(({code.constant(points)}, True) if (_v := {getter('key', key)}) is True "
            f"else (0.0, _v))")
    return ScoredItem(**common, max=points, score=code.function(expr), keys=(key,), measures=(),
                      value_name=key, expr=expr)


def _inferred_value_name(spec: Mapping[str, Any], condition: Condition) -> str | None:
    if "value" in spec:
        return spec["value"]
    names = condition.keys + condition.measures
    return names[0] if len(names) == 1 else None


def _condition_item(spec, compiler, where, loc, common) -> ScoredItem:
    if "when" not in spec:
        raise RuleProblem(f"{where} of kind condition needs 'when'", loc)
    condition = compile_farmhouse_condition(compiler, spec["when"], where, loc)
    points = number_field(spec, "points", where, loc, minimum=0)
    value_name = _inferred_value_name(spec, condition)
    _check_value_name(value_name, where, loc)
    code = compiler.code
    p = code.constant(points)
    if value_name is None:  # the item shows whether it is met
        expr = f"(({p}, True) if {condition.expr} else (0.0, False))"
    else:
        expr = f"(({p} if {condition.expr} else 0.0), {_value_expr(value_name)})"
    return ScoredItem(**common, max=points, score=code.function(expr), keys=condition.keys,
                      measures=condition.measures, value_name=value_name, expr=expr,
                      condition=condition)


def _code_points_item(spec, compiler, where, loc, common) -> ScoredItem:
    key = spec.get("key")
    if answer_value_type(key, where, loc + (quoted(str(key)),)) != "code":
        raise RuleProblem(f"{where} of kind code_points needs a code answer key ({key!r} is not)",
                          loc + (quoted(str(key)),))
    table = spec.get("points")
    if not isinstance(table, dict) or not table:
        raise RuleProblem(f"{where} needs a table 'points' of code = points", loc)
    codes = survey_fields.codes_of(key)
    points: dict[str, float] = {}
    for code_, value in table.items():
        if code_ not in codes:
            raise RuleProblem(f"unknown code {code_!r} for {key!r} in {where} (codes: "
                              f"{', '.join(codes)})", loc + (assigned("points"),))
        if not is_number(value) or value < 0:
            raise RuleProblem(f"points of {code_!r} in {where} must be a number ≥ 0",
                              loc + (assigned("points"),))
        points[code_] = float(value)
    code = compiler.code
    expr = f"({code.constant(points)}.get(_v := {getter('key', key)}, 0.0), _v)"
    return ScoredItem(**common, max=max(points.values()), score=code.function(expr), keys=(key,),
                      measures=(), value_name=key, expr=expr, code_points=points)


def _cases_item(spec, compiler, where, loc, common) -> ScoredItem:
    specs = spec.get("cases")
    if not isinstance(specs, list) or not specs:
        raise RuleProblem(f"{where} needs a non-empty list 'cases'", loc)
    cases = []
    for i, case in enumerate(specs):
        case_where = f"case {i + 1} of {where}"
        if not isinstance(case, dict):
            raise RuleProblem(f"{case_where} must be a table", loc)
        check_fields(case, {"label_en", "label_zh", "when", "points"}, case_where, loc)
        if "when" not in case:
            raise RuleProblem(f"{case_where} needs 'when'", loc)
        condition = compile_farmhouse_condition(compiler, case["when"], case_where, loc)
        cases.append(Case(text_field(case, "label_en", case_where, loc),
                          case.get("label_zh", ""), condition,
                          number_field(case, "points", case_where, loc, minimum=0)))
    keys, measures = _union(c.condition for c in cases)
    value_name = spec.get("value")
    _check_value_name(value_name, where, loc)
    code = compiler.code
    # the first case that applies gives the points: "50 if E1 else 40 if E2 else ... else 0"
    chain = " else ".join(f"{code.constant(c.points)} if {c.condition.expr}" for c in cases)
    expr = f"(({chain} else 0.0), {_value_expr(value_name)})"
    return ScoredItem(**common, max=max(c.points for c in cases), score=code.function(expr),
                      keys=keys, measures=measures, value_name=value_name, expr=expr,
                      cases=tuple(cases))


def _linear_share(x: Any, low: float, scale: float, points: float) -> tuple[float, Any]:
    if x is None:
        return 0.0, x
    share = (x - low) * scale
    if share <= 0.0:
        return 0.0, x
    if share >= 1.0:
        return points, x
    return points * share, x


def _linear_item(spec, compiler, where, loc, common) -> ScoredItem:
    if ("measure" in spec) == ("key" in spec):
        raise RuleProblem(f"{where} of kind linear needs either 'measure' or 'key'", loc)
    if "measure" in spec:
        source, name = "measure", spec["measure"]
        value_type = measure_value_type(name, where, loc + (quoted(str(name)),))
        if MEASURES[name].stage != "farmhouse":
            raise RuleProblem(f"measure {name!r} in {where} is only known after scoring",
                              loc + (quoted(name),))
        keys, measures = (), (name,)
    else:
        source, name = "key", spec["key"]
        value_type = answer_value_type(name, where, loc + (quoted(str(name)),))
        keys, measures = (name,), ()
    if value_type not in survey_fields.NUMERIC_TYPES and value_type != "number":
        raise RuleProblem(f"{where} of kind linear needs a number ({name!r} is {value_type})",
                          loc + (quoted(str(name)),))
    low = number_field(spec, "from", where, loc)
    high = number_field(spec, "to", where, loc)
    if low == high:
        raise RuleProblem(f"'from' and 'to' of {where} must differ", loc + (assigned("to"),))
    points = number_field(spec, "points", where, loc, minimum=0)
    code = compiler.code
    share = (f"{code.constant(_linear_share)}({getter(source, name)}, {code.constant(low)}, "
             f"{code.constant(1.0 / (high - low))}, {code.constant(points)})")
    gate = None
    if "when" in spec:
        gate = compile_farmhouse_condition(compiler, spec["when"], where, loc)
        keys, measures = _union([Condition("", None, keys, measures), gate])
        share = f"({share} if {gate.expr} else (0.0, {getter(source, name)}))"
    return ScoredItem(**common, max=points, score=code.function(share), keys=keys,
                      measures=measures, value_name=name, expr=share, condition=gate,
                      linear=(low, high))
