"""The website's survey form marks the answers needed before submitting, and its step circles carry
the steps' names (as text that screen readers read, beside the visible number)."""

import datetime as dt
import uuid
from html.parser import HTMLParser

from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.services import save_survey

STEP_NAMES = {"household": "农户", "building": "房屋", "energy": "近 12 个月能源消费", "cooking": "炊事",
              "heating": "采暖与热水", "lighting": "照明", "supply": "供电情况", "pv": "太阳能光伏",
              "notes": "照片与备注"}
VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "area", "base", "col", "embed"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    @property
    def text(self):
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def find_all(self, predicate):
        for child in self.children:
            if isinstance(child, Element):
                if predicate(child):
                    yield child
                yield from child.find_all(predicate)

    def has_class(self, name):
        return name in self.attrs.get("class", "").split()


class Tree(HTMLParser):
    """Just enough of an HTML tree to read the form's fields and the step list."""

    def __init__(self, html):
        super().__init__()
        self.root = self.current = Element("root", {}, None)
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def _page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return Tree(response.get_data(as_text=True)).root


def _draft(world):
    survey_uuid = str(uuid.uuid4())
    save_survey(world.surveyor_a, survey_uuid, form_version=1, year=dt.date.today().year, status="draft",
                formdata=answers_to_formdata(complete_answers(survey_date=dt.date.today().isoformat())),
                village_id=world.village_a.id)
    db.session.commit()
    return survey_uuid


def _fields(root):
    return {e.attrs["data-key"]: e for e in root.find_all(lambda e: "data-key" in e.attrs)}


def _label(field):
    return next(field.find_all(lambda e: e.tag in ("label", "legend")))


def _mark(field):
    return next(_label(field).find_all(lambda e: "data-required" in e.attrs), None)


def test_every_answer_needed_before_submitting_is_marked_on_its_step(client, auth, world):
    draft = _draft(world)
    auth.login("surveyor-a")
    for step in sf.STEPS:
        fields = _fields(_page(client, f"/surveys/{draft}/edit?step={step}"))
        assert set(fields) == set(sf.keys_in_step(step))
        for key, field in fields.items():
            rule = sf.FIELDS[key].required.rule
            mark = _mark(field)
            if rule == "no":
                assert mark is None, key
                continue
            assert mark is not None, key
            # A visible asterisk for the eye and words for screen readers.
            assert any(e.attrs.get("aria-hidden") == "true" and e.text.strip() == "*"
                       for e in mark.find_all(lambda e: True)), key
            assert any(e.has_class("visually-hidden") and e.text.strip() for e in mark.find_all(lambda e: True)), key
            inputs = list(field.find_all(lambda e: e.tag in ("input", "select", "textarea")))
            if rule in ("yes", "when") and _label(field).tag == "label":
                assert inputs[0].attrs.get("aria-required") == "true", key
            if rule == "one_of":
                assert mark.attrs["data-required"] == "one_of", key
                assert "aria-required" not in inputs[0].attrs, key


def test_a_one_of_answer_names_the_other_answer_that_may_replace_it(client, auth, world):
    draft = _draft(world)
    auth.login("surveyor-a")
    fields = _fields(_page(client, f"/surveys/{draft}/edit?step=energy"))
    assert "月均电费" in fields["electricity_kwh"].text
    assert "电费单上的用电量" in fields["electricity_bill_yuan_month"].text


def test_the_new_survey_form_marks_house_number_and_head_name_but_not_phone(client, auth, world):
    auth.login("surveyor-a")
    fields = _fields(_page(client, f"/surveys/new?village={world.village_a.id}"))
    assert _mark(fields["house_number"]) is not None and _mark(fields["head_name"]) is not None
    assert _mark(fields["phone"]) is None


def test_the_form_says_what_the_mark_means(client, auth, world):
    auth.login("surveyor-a")
    root = _page(client, f"/surveys/new?village={world.village_a.id}")
    legend = list(root.find_all(lambda e: "data-required-legend" in e.attrs))
    assert len(legend) == 1 and "*" in legend[0].text


def _step_items(root):
    steps = next(root.find_all(lambda e: e.tag == "ol" and e.has_class("steps")))
    return [e for e in steps.children if isinstance(e, Element) and e.tag == "li"]


def test_step_circles_carry_the_step_names_beside_their_numbers(client, auth, world):
    draft = _draft(world)
    auth.login("surveyor-a")
    for path in (f"/surveys/new?village={world.village_a.id}", f"/surveys/{draft}/edit?step=cooking",
                 f"/surveys/{draft}/edit?step=summary"):
        items = _step_items(_page(client, path))
        assert len(items) == len(sf.STEPS) + 1, path
        for number, (step, item) in enumerate(zip(sf.STEPS, items), start=1):
            assert STEP_NAMES[step] in item.text and str(number) in item.text, (path, step)
            # The name is there for screen readers; the circle still shows its number only.
            names = [e for e in item.find_all(lambda e: e.has_class("visually-hidden"))]
            assert [e.text.strip() for e in names] == [STEP_NAMES[step]], (path, step)
        assert "汇总" in items[-1].text, path


def test_the_current_step_circle_is_marked_as_current(client, auth, world):
    draft = _draft(world)
    auth.login("surveyor-a")
    items = _step_items(_page(client, f"/surveys/{draft}/edit?step=cooking"))
    current = [i for i, item in enumerate(items) if item.attrs.get("aria-current") == "step"]
    assert current == [sf.STEPS.index("cooking")]
