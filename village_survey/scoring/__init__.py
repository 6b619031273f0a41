"""Scoring farmhouses against green rural housing criteria sets, and pooling them into areas.

Pure Python (standard library only; no Flask, no database): answers in, plain results out.

    criteria = load_criteria("jiujiang-2025")
    result = score_farmhouse(answers, criteria)          # FarmhouseResult, explains itself
    to_dict(result), to_text(result), improvements(result)
    record = score_farmhouse_record(answers, criteria)   # the few figures aggregation needs
    evaluate_village([record, ...], registered_households=120, criteria=criteria)
    evaluate_areas([(village, registered, records), ...], {village: (township, county)},
                   criteria)                             # villages, townships, counties, city
"""

from village_survey.scoring.aggregate import (
    INSUFFICIENT_DATA, AreaEvaluation, AreaEvaluations, IndicatorValue, Tally, evaluate_areas,
    evaluate_tally, evaluate_village, evaluation_to_dict, measure_totals, pooled_tally, tally_from_dict, village_tally,
)
from village_survey.scoring.answers import AnswerError
from village_survey.scoring.criteria import (
    DEFAULT_CRITERIA, CriteriaError, CriteriaSet, available_criteria, load_criteria,
    load_criteria_file,
)
from village_survey.scoring.explain import Explanation
from village_survey.scoring.farmhouse import (
    FarmhouseRecord, FarmhouseResult, Improvement, farmhouse_record, improvements, score_farmhouse,
    score_farmhouse_record,
)
from village_survey.scoring.report import to_dict, to_text

__all__ = [
    "AnswerError", "AreaEvaluation", "AreaEvaluations", "CriteriaError", "CriteriaSet",
    "DEFAULT_CRITERIA", "Explanation", "FarmhouseRecord", "FarmhouseResult", "INSUFFICIENT_DATA",
    "Improvement", "IndicatorValue", "available_criteria", "evaluate_areas", "evaluate_village",
    "evaluation_to_dict", "farmhouse_record", "improvements", "load_criteria",
    "load_criteria_file", "score_farmhouse", "score_farmhouse_record", "to_dict", "to_text",
    "Tally", "evaluate_tally", "measure_totals", "pooled_tally", "tally_from_dict", "village_tally",
]
