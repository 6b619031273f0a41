"""The village page lists its households in the natural order of their house numbers."""

import re

from tests import factories
from village_survey.extensions import db

NATURAL = ["1组1号", "1组2号", "1组10号", "2组1号", "10组1号"]


def _listed_numbers(html):
    return re.findall(r'<a href="/surveys/households/\d+">([^<]+)</a>', html)


def test_village_page_lists_house_numbers_in_natural_order(app, client, auth, world):
    for number in ["10组1号", "1组10号", "2组1号", "1组2号"]:  # world has 1组1号 already
        factories.make_household(world.village_a, number)
    db.session.commit()
    auth.login("viewer-a")
    html = client.get(f"/areas/villages/{world.village_a.id}").get_data(as_text=True)
    assert _listed_numbers(html) == NATURAL


def test_village_pages_continue_the_natural_order_from_page_to_page(app, client, auth, world):
    app.config["PAGE_SIZE"], size = 2, app.config["PAGE_SIZE"]
    try:
        for number in ["10组1号", "1组10号", "2组1号", "1组2号"]:
            factories.make_household(world.village_a, number)
        db.session.commit()
        auth.login("viewer-a")
        pages = [client.get(f"/areas/villages/{world.village_a.id}?page={n}").get_data(as_text=True)
                 for n in (1, 2, 3)]
        assert [number for html in pages for number in _listed_numbers(html)] == NATURAL
    finally:
        app.config["PAGE_SIZE"] = size
