"""The counts on a secretary's (and a cadre's) badges, tabs and home panel, and how they reach
the page after an htmx action without a reload (issue 16, item 10).

One count for one idea, named by one word wherever it shows (the badge on a menu link, the
list's tab, the home panel and the legend), in English and Vietnamese:

- ``unacknowledged`` ("chưa xác nhận"): evaluations in my area nobody at the branch has
  acknowledged yet (``Notices.unread``); the branch alert "late to acknowledge" ("chậm xác nhận")
  is the part of them waiting longer than the province allows;
- ``overdue`` ("quá hạn"): open actions whose due date has passed;
- ``proposed`` ("chờ duyệt", awaiting review): cadres' proposals a secretary has not yet
  accepted or declined;
- ``replies`` (cadres): replies to my evaluations I have not read;
- ``menu``: the sum of the badges the menu button folds away;
- ``tab-<filter>``: how many actions each tab of the actions list holds, for the list's unit.

A POST answered to htmx (acknowledge, reply, add, propose, accept, decline, close, mark read)
carries the new counts in an ``HX-Trigger`` header: the event ``coso-counts`` with
``{"counts": {name: number}}``. static/js/counts.js writes each number into every element
marked ``data-count-of="<name>"`` and hides each ``data-count-box="<name>"`` at zero. That is the
only way the counts move without a page load.
"""

from __future__ import annotations

import json

from flask import Response, g, request
from flask_login import current_user

from coso import clock, scope
from coso.extensions import db
from coso.feedback import alerts, queries, rules
from coso.models import Unit
from coso.web import user_now, wants_fragment

#: The htmx event that carries the counts (see the module's docstring).
EVENT = "coso-counts"


def notices() -> rules.Notices:
    """The signed-in user's badge counts, computed once per request."""
    if not current_user.is_authenticated:
        return rules.Notices()
    if "coso_notices" not in g:
        g.coso_notices = alerts.notices(user_now(), clock.today())
    return g.coso_notices


def menu_count() -> int:
    """The menu button's badge: the sum of its folded links' badges (a Jinja global)."""
    if not current_user.is_authenticated:
        return 0
    return notices().menu_total(current_user.has_role("secretary"), current_user.has_role("cadre"))


def list_unit() -> Unit | None:
    """The unit of the actions list a form was posted from (its hidden ``unit`` field).

    None when the form came from elsewhere, or names a unit the user may not see: the tabs'
    counts are then not sent (there are no tabs on that page).
    """
    raw = request.form.get("unit", "")
    if not raw.isdecimal() or len(raw) > 9:
        return None
    unit = db.session.get(Unit, int(raw))
    if unit is None or not scope.may(current_user, "view", unit):
        return None
    return unit


def payload(found: rules.Notices, tabs: dict[str, int] | None = None) -> dict[str, int]:
    """The counts by the names the page marks them with (the module's docstring)."""
    counts = {
        "unacknowledged": found.unread,
        "overdue": found.overdue,
        "proposed": found.proposed,
        "replies": found.replies,
        "menu": found.menu_total(
            current_user.has_role("secretary"), current_user.has_role("cadre")
        ),
    }
    for name, value in (tabs or {}).items():
        counts[f"tab-{name}"] = value
    return counts


def current() -> dict[str, int]:
    """The signed-in user's counts now (after the change was committed), tabs included when
    the form came from the actions list."""
    g.pop("coso_notices", None)  # counted before the change: count again
    today = clock.today()
    unit = list_unit()
    tabs = queries.action_counts(unit, today) if unit is not None else None
    return payload(notices(), tabs)


def header(counts: dict[str, int]) -> str:
    """The ``HX-Trigger`` value carrying ``counts``."""
    return json.dumps({EVENT: {"counts": counts}}, separators=(",", ":"))


def send_counts(response: Response) -> Response:
    """After a successful htmx POST on the feedback blueprint: add the new counts.

    Registered with ``bp.after_request``; rejected forms (422) and redirects changed nothing
    the page shows, so they carry none.
    """
    if (
        request.method == "POST"
        and response.status_code == 200
        and wants_fragment()
        and current_user.is_authenticated
    ):
        response.headers["HX-Trigger"] = header(current())
    return response
