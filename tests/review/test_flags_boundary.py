"""The flag "GPS outside the area" against the county's shipped boundary (with a tolerance), the
bounds file's rectangles being the fallback."""

from sqlalchemy import select

from tests.review.test_flags import CITY, facts
from village_survey import geo
from village_survey.extensions import db
from village_survey.review import flagging, flags
from village_survey.review.flags import FlagRules, survey_flags
from village_survey.surveys.models import Survey

WUNING = geo.boundary("360423")
WUNING_SEAT = {"latitude": 29.26, "longitude": 115.10}
JIUJIANG_CENTRE = {"latitude": 29.70, "longitude": 116.00}  # in 濂溪区, 80 km from 武宁县, in the city's box


def outside(result):
    return [flag for flag in result if flag["code"] == "outside_area"]


def test_a_position_in_the_county_polygon_is_not_flagged():
    assert outside(survey_flags(facts(WUNING_SEAT, village_points=(), boundary=WUNING))) == []


def test_a_position_in_the_city_box_but_in_another_county_is_flagged_with_the_county_name():
    result = survey_flags(facts(JIUJIANG_CENTRE, village_points=(), boundary=WUNING))
    assert outside(result) == [{"code": "outside_area", "key": "latitude", "area": "武宁县"}]


def test_shanghai_is_outside_the_county_polygon():
    result = survey_flags(facts({"latitude": 31.2, "longitude": 121.5}, village_points=(), area=CITY,
                                boundary=WUNING))
    assert outside(result) == [{"code": "outside_area", "key": "latitude", "area": "武宁县"}]


def test_the_default_tolerance_is_the_geo_modules():
    assert FlagRules().boundary_tolerance_m == geo.DEFAULT_TOLERANCE_M


def test_a_position_just_across_the_border_is_within_the_tolerance_and_its_accuracy():
    xunyang = geo.boundary("360403")  # (29.70, 116.00) lies about 690 m outside 浔阳区
    assert outside(survey_flags(facts(JIUJIANG_CENTRE, village_points=(), boundary=xunyang))) == []
    tight = FlagRules.from_settings({"boundary_tolerance_m": 300})
    assert outside(survey_flags(facts(JIUJIANG_CENTRE, village_points=(), boundary=xunyang), tight))
    doubtful = {**JIUJIANG_CENTRE, "gps_accuracy_m": 45}  # 300 + 45 m still short of 690 m
    assert outside(survey_flags(facts(doubtful, village_points=(), boundary=xunyang), tight))
    vague = {**JIUJIANG_CENTRE, "gps_accuracy_m": 400}  # 300 + 400 m reaches it
    assert outside(survey_flags(facts(vague, village_points=(), boundary=xunyang), tight)) == []


def test_a_county_of_the_bounds_file_wins_over_the_shipped_boundary_which_wins_over_the_city():
    bounds = {"city": CITY, "360402": flags.Box(29.5, 29.68, 115.85, 116.15, "濂溪区")}
    assert flagging.boundary_of(bounds, "360402") is None  # the operator's own rectangle is used
    assert flagging.boundary_of(bounds, "360423") is WUNING
    assert flagging.boundary_of(bounds, "110101") is None and flagging.boundary_of(bounds, None) is None


def test_a_saved_survey_in_another_county_of_the_city_is_flagged(phones, households):
    # County A is 濂溪区 (360402): a farmhouse placed at 武宁县's seat is in the city but not in the county.
    uuid = phones.put("surveyor-a", households["a"][0], **WUNING_SEAT)
    survey = db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()
    assert {"code": "outside_area", "key": "latitude", "area": "濂溪区"} in survey.flags
    home = phones.put("surveyor-a", households["a"][1], **JIUJIANG_CENTRE)
    survey = db.session.scalars(select(Survey).where(Survey.uuid == home)).one()
    assert "outside_area" not in flags.flag_codes(survey.flags)
