"""One word and one count for one idea, and counts that move with the page (issue 16, item 10).

Each badge, tab and home panel count says what it counts ("chưa xác nhận", "quá hạn",
"chờ duyệt"); after an htmx change the answer carries the new counts in ``HX-Trigger``
(coso/feedback/counts.py); an accepted proposal leaves the "awaiting review" tab at once;
declining a proposal takes a reason the proposer reads and the audit log keeps.
"""

# ruff: noqa: F811  (the fixtures ``world`` and ``as_user`` come from tests.test_feedback)
from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from coso.extensions import db
from coso.feedback import alerts, rules
from coso.feedback.rules import DECLINED, OPEN, OVERDUE, PROPOSED
from coso.models import AuditEvent, CorrectiveAction
from tests.conftest import AuthActions
from tests.test_feedback import HX, TODAY, _user, add_action, as_user, post, world  # noqa: F401


def counts_of(response: Any) -> dict[str, int]:
    """The counts an htmx answer carries (the ``coso-counts`` event of ``HX-Trigger``)."""
    trigger = json.loads(response.headers["HX-Trigger"])
    return dict(trigger["coso-counts"]["counts"])


# --------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("tab", "shown", "held"),
    [
        (OPEN, OPEN, True),
        (OPEN, OVERDUE, True),  # "open" holds the overdue ones too
        (OVERDUE, OPEN, False),
        (PROPOSED, OPEN, False),  # an accepted proposal leaves the tab
        (PROPOSED, PROPOSED, True),
        (DECLINED, DECLINED, True),
        ("all", DECLINED, True),
    ],
)
def test_which_tab_holds_an_action(tab: str, shown: str, held: bool) -> None:
    assert rules.in_tab(tab, shown) is held


def test_the_menu_sums_the_badges_of_its_links() -> None:
    notices = rules.Notices(unread=4, overdue=2, proposed=1, replies=3)
    assert notices.menu_total(secretary=True, cadre=False) == 7
    assert notices.menu_total(secretary=False, cadre=True) == 3
    assert notices.menu_total(secretary=True, cadre=True) == 10


# -------------------------------------------------------------------- counts


def test_notices_count_proposals_awaiting_review(app: Flask, world: dict) -> None:
    with app.app_context():
        secretary = alerts.notices(_user("secretary"), TODAY)
        assert (secretary.unread, secretary.overdue, secretary.proposed) == (1, 0, 1)
        commune = alerts.notices(_user("commune"), TODAY)
        assert (commune.unread, commune.overdue, commune.proposed) == (2, 0, 2)


def test_every_count_says_what_it_counts_in_one_word(as_user: Any, world: dict) -> None:
    """Vietnamese: "chưa xác nhận" on the badge, the inbox filter, the rows and the home panel,
    never "chưa đọc" beside it for the same evaluations."""
    client = as_user("secretary")
    home = client.get("/").get_data(as_text=True)
    inbox = client.get("/feedback").get_data(as_text=True)
    for page in (home, inbox):
        assert "chưa đọc" not in re.sub(r"<[^>]+>", " ", page).lower()
        assert re.search(r'id="feedback-count"[^>]*>1</span> chưa xác nhận', page)
        assert re.search(r'id="proposed-count"[^>]*>1</span> chờ duyệt', page)
        assert 'data-count-box="overdue" hidden' in page  # zero: no badge
    assert "đánh giá chưa xác nhận" in home and "đề xuất chờ duyệt" in home
    assert re.search(r'<bdi>Chưa xác nhận \(<b data-count-of="unacknowledged">1<', inbox)
    actions = client.get("/feedback/actions?status=proposed").get_data(as_text=True)
    assert re.search(r'Chờ duyệt <span class="fb-count" data-count-of="tab-proposed">1<', actions)
    assert 'id="tab-says"' in actions and "Chờ duyệt: việc do cán bộ đề xuất" in actions


def test_english_uses_the_same_words(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    post(client, "/lang", {"lang": "en", "next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in home
    assert re.search(r'id="feedback-count"[^>]*>1</span> unacknowledged', home)
    assert re.search(r'id="proposed-count"[^>]*>1</span> awaiting review', home)
    assert "unacknowledged evaluations" in home and "proposals awaiting review" in home
    assert "unread" not in re.sub(r"<[^>]+>", " ", home).lower()  # the words, not the markup


# ------------------------------------------------------- counts after htmx


def test_acknowledging_answers_with_the_new_counts(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    response = post(client, f"/feedback/{world['ev_b11']}/acknowledge", headers=HX)
    assert response.status_code == 200
    counts = counts_of(response)
    assert counts["unacknowledged"] == 0 and counts["proposed"] == 1
    assert counts["menu"] == 1  # the proposal still waits
    assert not any(name.startswith("tab-") for name in counts)  # no tabs on that page


def test_replying_and_adding_an_action_answer_with_counts(as_user: Any, world: dict) -> None:
    client = as_user("commune")
    reply = post(client, f"/feedback/{world['ev_b12']}/reply", {"reply": "Đã tiếp thu"}, headers=HX)
    assert counts_of(reply)["unacknowledged"] == 1  # b11's is still waiting
    due = (TODAY + timedelta(days=5)).isoformat()
    added = post(
        client,
        f"/feedback/{world['ev_b12']}/actions",
        {"description": "Lập sổ", "owner": "Bí thư", "due_date": due},
        headers=HX,
    )
    assert added.status_code == 200 and counts_of(added)["proposed"] == 2


def test_accepting_from_the_proposed_tab_moves_it_out_at_once(
    app: Flask, as_user: Any, world: dict
) -> None:
    client = as_user("secretary")
    listing = client.get(f"/feedback/actions?status=proposed&unit={world['b11']}")
    page = listing.get_data(as_text=True)
    assert 'name="tab" value="proposed"' in page  # the list's forms say where they are
    assert f'name="unit" value="{world["b11"]}"' in page
    due = (TODAY + timedelta(days=7)).isoformat()
    response = post(
        client,
        f"/feedback/actions/{world['proposed_b11']}/accept",
        {"owner": "Bí thư", "due_date": due, "tab": "proposed", "unit": world["b11"]},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="action-{world["proposed_b11"]}"' in html and 'data-moved="open"' in html
    assert "data-status" not in html  # no longer an item of the "awaiting review" tab
    assert "Đang mở" in html  # says where it went
    counts = counts_of(response)
    assert counts["tab-proposed"] == 0 and counts["tab-open"] == 2 and counts["tab-all"] == 2
    assert counts["proposed"] == 0 and counts["menu"] == 1
    with app.app_context():
        action = db.session.get(CorrectiveAction, world["proposed_b11"])
        assert action is not None and action.status == OPEN


def test_accepting_from_the_all_tab_keeps_it_there(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    due = (TODAY + timedelta(days=7)).isoformat()
    response = post(
        client,
        f"/feedback/actions/{world['proposed_b11']}/accept",
        {"owner": "Bí thư", "due_date": due, "tab": "all", "unit": world["b11"]},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert 'data-status="open"' in html and 'name="tab" value="all"' in html
    assert counts_of(response)["tab-open"] == 2


def test_a_unit_outside_my_area_gets_no_tab_counts(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    due = (TODAY + timedelta(days=7)).isoformat()
    response = post(
        client,
        f"/feedback/actions/{world['proposed_b11']}/accept",
        {"owner": "Bí thư", "due_date": due, "tab": "proposed", "unit": world["b21"]},
        headers=HX,
    )
    assert response.status_code == 200
    assert 'data-status="open"' in response.get_data(as_text=True)
    assert not any(name.startswith("tab-") for name in counts_of(response))


def test_rejected_forms_and_redirects_carry_no_counts(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    bad = post(client, f"/feedback/{world['ev_b11']}/reply", {"reply": " "}, headers=HX)
    assert bad.status_code == 422 and "HX-Trigger" not in bad.headers
    plain = post(client, f"/feedback/{world['ev_b11']}/acknowledge")
    assert plain.status_code == 303 and "HX-Trigger" not in plain.headers


def test_the_cadre_marking_a_reply_read_moves_the_replies_badge(
    app: Flask, as_user: Any, world: dict
) -> None:
    secretary = as_user("secretary")
    post(secretary, f"/feedback/{world['ev_b11']}/reply", {"reply": "Đã tiếp thu"})
    AuthActions(secretary).logout()
    cadre = as_user("cadre")
    assert re.search(r'id="replies-count"[^>]*>1<', cadre.get("/").get_data(as_text=True))
    response = post(cadre, f"/feedback/{world['ev_b11']}/read", headers=HX)
    assert response.status_code == 200 and counts_of(response)["replies"] == 0


# ------------------------------------------------------------ declining


def test_declining_asks_for_its_reason(app: Flask, as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    url = f"/feedback/actions/{world['proposed_b11']}/decline"
    for note in ("", "  ", "ok"):
        response = post(client, url, {"note": note}, headers=HX)
        assert response.status_code == 422, note
        html = response.get_data(as_text=True)
        assert 'id="err-note"' in html and 'aria-invalid="true"' in html
        assert "HX-Trigger" not in response.headers
    with app.app_context():
        action = db.session.get(CorrectiveAction, world["proposed_b11"])
        assert action is not None and action.status == PROPOSED


def test_the_reason_is_stored_shown_to_the_proposer_and_audited(
    app: Flask, as_user: Any, world: dict
) -> None:
    client = as_user("secretary")
    reason = "Chi đoàn đã có việc tương tự"
    url = f"/feedback/actions/{world['proposed_b11']}/decline"
    response = post(
        client, url, {"note": reason, "tab": "proposed", "unit": world["b11"]}, headers=HX
    )
    assert response.status_code == 200 and 'data-moved="declined"' in response.get_data(
        as_text=True
    )
    assert counts_of(response)["tab-declined"] == 1
    with app.app_context():
        action = db.session.get(CorrectiveAction, world["proposed_b11"])
        assert action is not None and (action.status, action.close_note) == (DECLINED, reason)
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "action.decline")
        )
        assert event is not None and event.details["reason"] == reason
    AuthActions(client).logout()
    cadre = as_user("cadre")
    result = cadre.get(f"/evaluations/{world['ev_b11']}").get_data(as_text=True)
    assert f"Lý do không nhận: {reason}" in result


def test_the_inbox_names_late_acknowledgements_apart(app: Flask, as_user: Any, world: dict) -> None:
    """ "chậm xác nhận" (waiting longer than allowed) beside a row, explained by the legend, is
    not a second word for the "chưa xác nhận" count on the badge."""
    client = as_user("secretary")
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=60)).isoformat()
    inbox = client.get("/feedback").get_data(as_text=True)
    assert re.search(r'fb-alert-unack">1 chậm xác nhận<', inbox)
    assert 'id="alerts-legend"' in inbox and "N chậm xác nhận" in inbox
    assert re.search(r'id="feedback-count"[^>]*>1</span> chưa xác nhận', inbox)
    assert re.search(r'id="overdue-count"[^>]*>1</span> quá hạn', inbox)


# ------------------------------------------- the feedback page's alert tags


def oob_branch_now(html: str) -> str:
    """The out-of-band ``#fb-branch-now`` an htmx answer carries ('' when none)."""
    found = re.search(r'<div id="fb-branch-now"[^>]*hx-swap-oob="true"[^>]*>.*?</div>', html, re.S)
    return found.group(0) if found else ""


def test_acknowledging_on_the_feedback_page_moves_its_alert_tags(
    app: Flask, as_user: Any, world: dict
) -> None:
    """The page's "1 late to acknowledge" goes at once (out of band), "1 overdue" stays."""
    client = as_user("secretary")
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=60)).isoformat()
    page = client.get(f"/feedback/{world['ev_b11']}").get_data(as_text=True)
    assert 'id="fb-branch-now"' in page and "hx-swap-oob" not in page
    assert re.search(r'fb-alert-unack">1 chậm xác nhận<', page)
    response = post(client, f"/feedback/{world['ev_b11']}/acknowledge", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="response"' in html  # the section it answers
    oob = oob_branch_now(html)
    assert oob, html
    assert "chậm xác nhận" not in oob  # the tag and its legend line are gone
    assert re.search(r'fb-alert-overdue">1 việc quá hạn<', oob)
    assert 'id="alerts-legend"' in oob and "N việc quá hạn" in oob
    assert counts_of(response)["unacknowledged"] == 0


def test_closing_an_overdue_action_on_the_feedback_page_moves_its_alert_tags(
    app: Flask, as_user: Any, world: dict
) -> None:
    client = as_user("secretary")
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=60)).isoformat()
    page = f"http://localhost/feedback/{world['ev_b11']}"
    url = f"/feedback/actions/{world['open_b11']}/close"
    response = post(
        client, url, {"note": "Đã lập sổ biên bản"}, headers={**HX, "HX-Current-URL": page}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="action-{world["open_b11"]}"' in html and 'data-status="done"' in html
    oob = oob_branch_now(html)
    assert oob and "quá hạn" not in oob  # no overdue action left
    assert re.search(r'fb-alert-unack">1 chậm xác nhận<', oob)  # not acknowledged yet


def test_no_alert_tags_are_sent_to_a_page_that_has_none(
    app: Flask, as_user: Any, world: dict
) -> None:
    """From the action's own page or the actions list there is no ``#fb-branch-now`` to swap
    (htmx would report an out-of-band swap without a target)."""
    client = as_user("commune")  # b11 and b12
    cases = (  # (action, verb, the page it is sent from, the list's fields)
        ("proposed_b11", "decline", f"/feedback/actions/{world['proposed_b11']}", {}),
        ("open_b11", "close", "/feedback/actions?status=all", {"tab": "all", "unit": world["b11"]}),
        ("open_b12", "close", f"/feedback/{world['ev_b11']}", {}),  # another evaluation's page
    )
    for action, verb, sent_from, extra in cases:
        response = post(
            client,
            f"/feedback/actions/{world[action]}/{verb}",
            {"note": "Chi đoàn đã làm xong", **extra},
            headers={**HX, "HX-Current-URL": f"http://localhost{sent_from}"},
        )
        assert response.status_code == 200, sent_from
        assert "fb-branch-now" not in response.get_data(as_text=True), sent_from
