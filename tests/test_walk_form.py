"""The checklist says what is missing (issue 16, item 4), on the server-rendered page too.

Without JavaScript the form posts as is; a refused one comes back with the missing items as
links that jump to them, and the progress line counts what was already answered.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from coso.checklists.rules import DEFAULT_ITEMS
from tests.test_checklist_pages import cadre, form_values, world  # noqa: F401  (fixtures)

CHOICES = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]


def test_a_fresh_form_counts_nothing_answered(cadre: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    page = cadre.get(f"/evaluate/{world['branches'][0]}").get_data(as_text=True)
    assert f"0/{len(CHOICES)} đã trả lời" in page
    assert 'id="missing"' not in page and "error-summary" not in page
    assert 'id="draft-link"' in page  # the progress line can point to a saved draft
    # The month of the guidance in its one Vietnamese form.
    assert re.search(r"tháng\u00a0\d{2}/\d{4}", page)


def test_a_refused_form_lists_the_missing_items_as_links(
    cadre: FlaskClient,  # noqa: F811
    world: dict[str, Any],  # noqa: F811
) -> None:
    branch = world["branches"][0]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    values = form_values(page, members_present="")
    for code in CHOICES[:3]:
        del values[f"answer-{code}"]
    response = cadre.post(f"/evaluate/{branch}", data=values)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    missing = text[text.index('id="missing"') : text.index("</ul>", text.index('id="missing"'))]
    links = re.findall(r'<a href="#([^"]+)">', missing)
    assert links == ["members_present"] + [f"item-{code}" for code in CHOICES[:3]]
    for target in links:  # every link lands on an element of the page
        assert f'id="{target}"' in text
    assert f"{len(CHOICES) - 3}/{len(CHOICES)} đã trả lời" in text
