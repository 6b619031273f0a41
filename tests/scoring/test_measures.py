"""The derived measures criteria files may name are the ones scoring computes."""

from village_survey import survey_fields as sf
from village_survey.scoring import load_criteria, score_farmhouse
from village_survey.scoring.measures import MEASURES

from .factories import PLAIN


def test_scoring_computes_every_registered_measure_and_no_other():
    measures = score_farmhouse(PLAIN, load_criteria()).measures
    assert set(measures) == set(MEASURES)


def test_measures_have_the_registered_types():
    measures = score_farmhouse(PLAIN, load_criteria()).measures
    for name, measure in MEASURES.items():
        value = measures[name]
        if measure.type == "bool":
            assert isinstance(value, bool), name
        else:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), name


def test_no_measure_is_named_like_an_answer_key():
    # an item's `value` may name either; one name must not mean both
    assert not set(MEASURES) & set(sf.FIELD_KEYS)


def test_measures_known_only_after_scoring_are_marked():
    assert {n for n, m in MEASURES.items() if m.stage == "result"} == {"base_level", "stars",
                                                                       "total"}


def test_a_result_is_built_from_the_scoring_figures_in_field_order():
    from dataclasses import fields

    from village_survey.scoring.farmhouse import FarmhouseResult, _Scores
    names = tuple(f.name for f in fields(FarmhouseResult))
    assert names[:len(_Scores._fields)] == _Scores._fields
