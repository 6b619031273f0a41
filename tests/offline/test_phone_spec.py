"""The survey page carries what the phone needs to check answers as the server does: the data
dictionary's rules as data and the checks' messages in the user's language."""

import json
import re

from village_survey import survey_fields as sf
from village_survey.extensions import db


def _json_block(html, block_id):
    match = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert match, block_id
    return json.loads(match.group(1))


def _survey_page(auth, client, username="surveyor-a"):
    auth.login(username)
    return client.get("/app/survey").get_data(as_text=True)


def test_the_survey_page_carries_every_rule_of_the_data_dictionary(auth, world, client):
    spec = _json_block(_survey_page(auth, client), "field-spec")
    assert [f["key"] for f in spec["fields"]] == list(sf.FIELD_KEYS)  # in the form's order
    fields = {f["key"]: f for f in spec["fields"]}
    assert fields["residents"] | {} == {"key": "residents", "type": "int", "step": "household", "required": "yes",
                                        "min": 0, "max": 30, "usual_min": 1, "usual_max": 10}
    # Bounds that depend on the day are named: the phone takes its own date.
    assert fields["year_built"]["max"] == {"bound": "this_year"}
    assert fields["survey_date"]["max"] == {"bound": "today"}
    assert (fields["survey_date"]["usual_min"], fields["survey_date"]["usual_max"]) == (
        {"bound": "survey_year_start"}, {"bound": "survey_year_end"})
    assert fields["phone"]["characters"] == "0123456789+- " and fields["head_name"]["max_length"] == 40
    assert fields["notes"]["multiline"] is True and "multiline" not in fields["head_name"]
    assert fields["structure"]["codes"] == list(sf.codes_of("structure"))
    assert fields["stove_chimney"]["when"] == ["primary_stove", ["traditional_wood", "improved_wood", "coal"]]
    assert fields["electricity_kwh"]["group"] == ["electricity_kwh", "electricity_bill_yuan_month"]
    assert [(c["code"], c["kind"], c["severity"]) for c in spec["cross_checks"]] == [
        (c.code, c.kind, c.severity) for c in sf.CROSS_CHECKS]
    assert spec["cross_checks"][-1] == {"code": "biogas_needs_working_digester", "kind": "zero_unless",
                                        "keys": ["biogas_m3"], "other": "biogas_digester", "value": None,
                                        "exempt": ["working"], "severity": "warning"}


def test_the_survey_page_carries_the_checks_messages_in_the_users_language(auth, world, client):
    messages = _json_block(_survey_page(auth, client), "check-messages")
    assert messages["between"] == "须在 {min} 至 {max} 之间。"
    assert messages["usually_between"] == "异常：通常在 {min} 至 {max} 之间，请核实。"
    assert messages["required"] == "提交前必须填写。"
    assert messages["too_long"] == {"40": "字段长度不能超过 40 个字符。", "2000": "字段长度不能超过 2000 个字符。"}
    assert set(messages["cross"]) == {c.code for c in sf.CROSS_CHECKS}

    world.surveyor_b.locale = "en"
    db.session.commit()
    auth.post("/logout")
    messages = _json_block(_survey_page(auth, client, "surveyor-b"), "check-messages")
    assert messages["between"] == "Must be between {min} and {max}."
    assert messages["not_integer"] == "Not a valid integer value."


def test_allowed_bounds_are_whole_numbers_or_named_days_so_the_phone_compares_them_exactly():
    for field in sf.FIELDS.values():
        for bound in (field.min, field.max):
            assert bound is None or isinstance(bound, sf.DateBound) or (
                isinstance(bound, int) and not isinstance(bound, bool)), field.key


def test_the_phone_answer_pattern_is_made_from_its_characters():
    pattern = re.compile(sf.characters_pattern("phone"))
    assert pattern.match("+86 138-0000-0000") and not pattern.match("138a")
    assert sf.characters_pattern("head_name") is None
