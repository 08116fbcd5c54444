"""The authorization matrix: every route of the app, every role, an object inside and outside.

The routes come from the app's own URL map, so a new route cannot escape: a route missing
from ``ACCESS`` fails ``test_every_route_is_classified`` with its name. For each route the
table says who may use it; the test then asks, for each role (and the signed-out visitor)
and for an object inside and one outside the user's area:

- GET: the allowed roles get the page inside their area, and 403/404 outside it; other
  roles get 403; a signed-out visitor is sent to the login (the API answers 401).
- POST (with a valid CSRF token): the same refusals, and an allowed role inside its area
  gets past the gate (the empty form may be refused as invalid, never as forbidden).

"Inside" objects hang off branch CD-A1, which lies in the area of every test user (admin,
province and cadre at the province, the commune secretary of XA-A, the secretary of CD-A1);
"outside" objects belong to a second province none of them may see.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from coso import create_app
from coso.checklists.service import create_default_template
from coso.difficulties import service as difficulties
from coso.evaluations import service
from coso.extensions import db
from coso.guidance.rules import period_of
from coso.meetings import service as meetings
from coso.meetings.rules import REGULAR
from coso.models import (
    CorrectiveAction,
    Feedback,
    Guidance,
    GuidanceTopic,
    PlanCadre,
    Practice,
    Unit,
    User,
    Visit,
    VisitPlan,
)
from coso.models.types import utcnow
from coso.tokens import service as tokens
from tests.builders import PASSWORD, make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import _empty_tables

ADMIN, PROVINCE, COMMUNE, SECRETARY, CADRE = "admin", "province", "commune", "secretary", "cadre"
#: The Central Committee's user (issue 22, item 1), at a central unit above the test province
#: only: the "outside" province is a tree of its own, out of its reach too.
CENTRAL = "central"
#: Test users by role, most privileged first; ``None`` is the signed-out visitor.
ROLES: tuple[str | None, ...] = (ADMIN, CENTRAL, PROVINCE, COMMUNE, SECRETARY, CADRE, None)
SIGNED_IN = (ADMIN, CENTRAL, PROVINCE, COMMUNE, SECRETARY, CADRE)
EVERYONE = (*SIGNED_IN, None)
#: "publish" and "manage_users" in coso.scope.PERMISSIONS (the centre holds both).
PUBLISHERS = (ADMIN, CENTRAL, PROVINCE)
VIEWERS = SIGNED_IN  # "view": every role, inside its area
RESPONDERS = (COMMUNE, SECRETARY)  # "respond"
PLANNERS = (ADMIN, PROVINCE, COMMUNE)  # coso.scope.can_plan
#: Those who read the province's analyses and exports (coso.scope.can_export): the planners
#: and the Central Committee, which reads but plans nothing.
READERS = (*PLANNERS, CENTRAL)

#: Statuses that mean "the gate let this user through" for a POST of an empty form.
PAST_THE_GATE = {200, 302, 303, 400, 409, 422}


@dataclass(frozen=True)
class Access:
    """Who may use a route.

    :param roles: the roles allowed (``None`` the signed-out visitor too).
    :param ok: what an allowed role's GET answers inside its area (a redirect for some).
    :param denied: what a signed-in role that is not allowed gets.
    :param anonymous: what the signed-out visitor gets when not allowed (``None``: the login
        redirect for pages, 401 for the API).
    :param params: URL arguments taken from another key of the world (``unit_id`` of the
        settings page is a commune, since branches have no settings of their own).
    :param post_roles: the roles allowed to POST when they differ from ``roles``.
    :param once: the allowed POST changes the object for good (deletes it): try one role.
    :param ok_for: roles whose allowed GET answers otherwise than ``ok`` (the central user's
        home is a redirect to ``/national``).
    """

    roles: tuple[str | None, ...]
    ok: int = 200
    denied: int = 403
    anonymous: int | None = None
    params: tuple[tuple[str, str], ...] = ()
    post_roles: tuple[str | None, ...] | None = None
    once: bool = False
    ok_for: tuple[tuple[str, int], ...] = ()


PUBLIC = Access(EVERYONE)
ANY_SIGNED_IN = Access(SIGNED_IN)
ADMINS = Access((ADMIN,))
PUBLISH = Access(PUBLISHERS)
CADRES = Access((CADRE,))
RESPOND = Access(RESPONDERS)
#: Those who go to the grassroots (coso.scope.goes_out).
GOERS = Access((PROVINCE, COMMUNE, CADRE))
#: Those who declare a branch's meetings: its secretaries, the province, administrators.
DECLARERS = Access((ADMIN, PROVINCE, COMMUNE, SECRETARY))
#: Secretaries' inbox and the province's read of it (``respond`` or ``evaluate_view``).
FEEDBACK_READERS = Access((ADMIN, CENTRAL, PROVINCE, COMMUNE, SECRETARY))
#: Who raises a difficulty (cadres and secretaries) and who answers one routed to XA-A.
RAISERS = (COMMUNE, SECRETARY, CADRE)
HANDLERS = (ADMIN, PROVINCE, COMMUNE)

ACCESS: dict[str, Access] = {
    # Public: the sign-in form, health, the offline shell files, static files, the contract.
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "offline.manifest": PUBLIC,
    "offline.offline_page": PUBLIC,
    "offline.service_worker": PUBLIC,
    "api.openapi": PUBLIC,
    # The operator's scraper only (an allowed address or the token, coso/metrics.py): no
    # role opens it, and the signed-out visitor is not sent to the login either.
    "metrics.scrape": Access((), denied=404, anonymous=404),
    "i18n.set_language": Access(EVERYONE, ok=302),
    "auth.login": Access(SIGNED_IN, ok=302, anonymous=200, post_roles=EVERYONE),
    # Any signed-in user.
    "home.index": Access(SIGNED_IN, ok_for=((CENTRAL, 302),)),  # the centre's home: /national
    # The Central Committee's roll-up of its provinces (issue 22, item 1): the central user
    # only (the matrix's administrator sits at a province, and no province sees the nation).
    "national.index": Access((CENTRAL,)),
    "national.export": Access((CENTRAL,)),
    "home.unit": ANY_SIGNED_IN,
    "offline.outbox": ANY_SIGNED_IN,
    "api.session_info": ANY_SIGNED_IN,
    "api.get_field_pack": ANY_SIGNED_IN,
    "auth.logout": Access(SIGNED_IN, ok=302),
    # The read API (issue 21, item 5): every signed-in user reads their own area (a token
    # reads as its user: tests/test_read_api.py); one evaluation is checked against its branch.
    "read_api.units": ANY_SIGNED_IN,
    "read_api.branches": ANY_SIGNED_IN,
    "read_api.evaluations": ANY_SIGNED_IN,
    "read_api.evaluation": Access(VIEWERS),
    "read_api.answers": ANY_SIGNED_IN,
    "read_api.actions": ANY_SIGNED_IN,
    "read_api.visits": ANY_SIGNED_IN,
    # Each user's own access tokens: nobody sees or revokes another's (the world's token is
    # the cadre's; anyone else's revoke of it is 404).
    "tokens.index": ANY_SIGNED_IN,
    "tokens.create": Access(SIGNED_IN),
    "tokens.revoke": Access((CADRE,), denied=404),
    # Each user's own sign-ins (coso/sessions): nobody sees or ends another's.
    "sessions.index": ANY_SIGNED_IN,
    "sessions.end": Access(SIGNED_IN, ok=303),
    "sessions.end_others": Access(SIGNED_IN, ok=303),
    # Each user's own notices and choices (coso/notifications): only ever their own rows.
    "notifications.index": ANY_SIGNED_IN,
    "notifications.read": Access(SIGNED_IN, ok=303),
    "notifications.preferences": ANY_SIGNED_IN,
    # The mail's one-click unsubscribe works signed out; its signed token is the proof (a
    # missing or altered token: 400, nothing changed).
    "notifications.unsubscribe": Access(EVERYONE, ok=400),
    # Cadres: evaluating, their visits, their own evaluations' proposals and replies.
    "evaluations.start": CADRES,
    "evaluations.checklist": CADRES,
    "evaluations.topics": CADRES,
    "offline.checklist_shell": Access((CADRE,), denied=302),  # others are sent home
    # Evaluations need a cadre; visits anyone who goes out (issue 18, item 5); difficulties a
    # cadre or a secretary (issue 19, item 1), so a branch secretary passes the gate too.
    "api.sync": Access((PROVINCE, COMMUNE, SECRETARY, CADRE)),
    # Everyone who goes to the grassroots logs their own visits (issue 18, item 6): cadres,
    # the province, a commune secretary; not an administrator alone nor a branch secretary.
    "visits.mine": GOERS,
    "visits.new": GOERS,
    "visits.drafts": GOERS,  # the visits and report drafts kept on the phone (issue 18, item 5)
    "visits.report": CADRES,  # only the visit's own cadre
    # Visit reviews (issue 19, item 2): reviewers are the planners in their area; the
    # world's visit is the province's cadre's (outside the commune); a cadre reads their own.
    "reviews.queue": Access(PLANNERS),
    "reviews.show": Access((ADMIN, PROVINCE, CADRE), post_roles=(ADMIN, PROVINCE)),
    "reviews.mine": GOERS,
    "reviews.rubric": PUBLISH,
    "feedback.replies": CADRES,
    "feedback.replies_read": CADRES,
    "feedback.propose": CADRES,  # only the evaluation's author
    "feedback.mark_read": CADRES,
    # Everyone inside the area reads an evaluation, its feedback and its actions.
    "evaluations.result": Access(VIEWERS),
    "feedback.show": Access(VIEWERS),
    "feedback.action": Access(VIEWERS),
    "feedback.inbox": FEEDBACK_READERS,
    "feedback.actions": FEEDBACK_READERS,
    # Secretaries answer.
    "feedback.acknowledge": RESPOND,
    "feedback.reply": RESPOND,
    "feedback.add_action": RESPOND,
    "feedback.accept": RESPOND,
    "feedback.decline": RESPOND,
    "feedback.close": RESPOND,
    # The meeting calendar (issue 18, item 1): everyone reads their area's; the branch's
    # secretaries (and the province above) declare, move and cancel.
    "meetings.calendar": ANY_SIGNED_IN,
    "meetings.export": PUBLISH,
    "meetings.branch": ANY_SIGNED_IN,
    "meetings.declare": DECLARERS,
    "meetings.declare_pattern": DECLARERS,
    "meetings.fill": DECLARERS,
    "meetings.end_pattern": DECLARERS,
    "meetings.move": DECLARERS,
    "meetings.cancel": DECLARERS,
    # Branch secretaries (issue 19, item 5): the branch's own secretary, the commune's and
    # the province record them; the figures per commune and their export are the province's.
    "secretaries.branch": DECLARERS,
    "secretaries.record": DECLARERS,
    "secretaries.end": DECLARERS,
    "secretaries.overview": PUBLISH,
    "secretaries.export": PUBLISH,
    # Good practices (issue 19, item 4): a spread practice reaches everyone under the
    # province that spread it, and nobody outside; the province records and spreads.
    "practices.index": ANY_SIGNED_IN,
    "practices.show": ANY_SIGNED_IN,
    # Photo evidence (issue 20): its author, or whoever may see the evaluation; the rest 404.
    "photos.original": ANY_SIGNED_IN,
    "photos.thumbnail": ANY_SIGNED_IN,
    "photos_api.upload": CADRES,  # PUT only: tests/test_photos.py checks its roles
    "practices.record": PUBLISH,
    "practices.from_evaluation": PUBLISH,
    "practices.spread": PUBLISH,
    "practices.withdraw": PUBLISH,
    # The province: dashboards, exports, visit ledgers.
    "dashboard.index": PUBLISH,
    "dashboard.where": PUBLISH,
    "dashboard.practices": PUBLISH,
    # Difficulties (issue 19, item 1): cadres and secretaries raise; anyone reads their own
    # and those of their area; the receiving level (the commune XA-A for the inside one, the
    # province above it) answers, assigns, passes up (once: then the commune no longer may)
    # and closes; the province sees the overview and exports it.
    "difficulties.new": Access(RAISERS),
    "difficulties.create": Access(RAISERS),
    "difficulties.mine": ANY_SIGNED_IN,
    "difficulties.show": Access(VIEWERS),
    "difficulties.answer": Access(HANDLERS),
    "difficulties.assign": Access(HANDLERS),
    "difficulties.pass_up": Access(HANDLERS, once=True),
    "difficulties.close": Access(HANDLERS),
    "difficulties.inbox": Access(HANDLERS),
    "difficulties.overview": PUBLISH,
    "difficulties.export": PUBLISH,
    # The province's own list of categories: its publishers (the matrix's admin and province
    # users sit at the province).
    "difficulties.categories": PUBLISH,
    "difficulties.save_categories": PUBLISH,
    "dashboard.export_flagged": PUBLISH,
    "dashboard.export_rates": PUBLISH,
    "visits.ledger_page": PUBLISH,
    # Visit plans (coso/plans): planners are the province, administrators and a commune
    # secretary (for the commune's own cadres); a cadre reads their own and proposes.
    "plans.index": Access((*PLANNERS, CADRE)),
    "plans.new": Access(PLANNERS),
    "plans.propose": CADRES,
    "plans.show": Access((*PLANNERS, CADRE)),  # the plan's cadre, or a planner of its unit
    # Deciding needs the unit *and* the cadres in the planner's area: the world's plan sends
    # the province's cadre, outside the commune.
    "plans.approve": Access((ADMIN, PROVINCE)),
    "plans.decline": Access((ADMIN, PROVINCE)),
    "plans.replan": Access((ADMIN, PROVINCE)),
    "plans.link": Access((ADMIN, PROVINCE, CADRE)),  # a decider, or the plan's cadre
    "plans.report": Access(PLANNERS),
    "plans.export_report": Access(PLANNERS),
    "plans.next_page": Access(PLANNERS),
    "plans.export_next": Access(PLANNERS),
    "visits.export_ledger": PUBLISH,
    # What the next training should cover (issue 19, item 3): the province and a commune's
    # secretary for their area. The evidence needs an item: without one it is no page.
    # The Central Committee reads them too (evaluate_view), as it reads the province's pages.
    "training.index": Access(READERS),
    "training.export": Access(READERS),
    "training.evidence": Access(READERS, ok=404),
    "training.export_difficulties": Access(READERS),
    "training.difficulty_evidence": Access(READERS, ok=404),
    # Every answer exportable (issue 21, item 4; coso.scope.can_export): the province and
    # administrators for their area, a commune secretary for the commune's.
    "answers.index": Access(READERS),
    "answers.download": Access(READERS),
    # The half-year and year report (issue 21, item 3): the same readers as the exports.
    "reports.index": Access(READERS),
    "reports.download": Access(READERS),
    # Administration shared by the province: guidance, templates, settings, users.
    "admin.index": PUBLISH,
    "admin.guidance_list": PUBLISH,
    "admin.guidance_new": PUBLISH,
    "admin.guidance_edit": PUBLISH,
    "admin.guidance_copy": PUBLISH,
    "admin.guidance_delete": Access(PUBLISHERS, once=True),
    "admin.templates": PUBLISH,
    "admin.template": PUBLISH,
    "admin.template_new": PUBLISH,
    "admin.template_preview": PUBLISH,
    "admin.template_publish": PUBLISH,
    "admin.template_retire": PUBLISH,
    "admin.template_discard": Access(PUBLISHERS, once=True),
    "admin.settings_home": Access(PUBLISHERS, ok=302),  # to the user's own unit
    "admin.settings": Access(PUBLISHERS, params=(("unit_id", "commune_id"),)),
    "admin.users": PUBLISH,
    "admin.user": PUBLISH,
    "admin.user_new": PUBLISH,
    "admin.user_active": PUBLISH,
    "admin.user_password": PUBLISH,
    "admin.users_import": PUBLISH,
    "admin.users_import_apply": PUBLISH,
    # Administrators only: the unit tree and the audit log.
    "admin.units": Access((ADMIN,), ok=302),  # to the user's own unit
    "admin.unit": ADMINS,
    "admin.unit_search": ADMINS,
    "admin.unit_add": ADMINS,
    "admin.unit_edit": ADMINS,
    "admin.unit_move": ADMINS,
    "admin.unit_active": ADMINS,
    "admin.units_export": ADMINS,
    "admin.units_import": ADMINS,
    "admin.units_import_apply": ADMINS,
    "admin.audit": ADMINS,
    "admin.audit_export": ADMINS,
}

#: URL arguments that name no object in anyone's area.
FIXED_ARGS = {"fmt": "csv", "filename": "css/coso.css", "kind": "answers"}


def _rules() -> dict[str, list[Rule]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    found: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.endpoint, []).append(rule)
    return found


RULES = _rules()


# ------------------------------------------------------------------ the world


def _guidance(unit: Unit) -> Guidance:
    guidance = Guidance(unit_id=unit.id, period=period_of(date.today()), title="Hướng dẫn")
    guidance.topics = [GuidanceTopic(position=1, code="T1", title="Chủ đề 1")]
    db.session.add(guidance)
    db.session.flush()
    return guidance


def _evaluation(app: Flask, branch: Unit, template_id: int, guidance_id: int, cadre: User) -> int:
    """An evaluation through the real service, with a reply from the branch on it."""
    item = payload(
        branch.id, template_id, guidance_id, values={"P10": "fail"}, topics_covered=["T1"]
    )
    with app.test_request_context():
        result = service.submit(item, cadre)
        assert result.id is not None, result.errors
        evaluation_id = result.id
    secretary = db.session.scalars(db.select(User).where(User.unit_id == branch.id)).first()
    assert secretary is not None
    db.session.add(
        Feedback(
            evaluation_id=evaluation_id, user_id=secretary.id, reply="Đã nhận", replied_at=utcnow()
        )
    )
    db.session.flush()
    return evaluation_id


def _action(branch: Unit, evaluation_id: int, author: User) -> int:
    action = CorrectiveAction(
        branch_id=branch.id,
        evaluation_id=evaluation_id,
        item_code="P10",
        description="Lập sổ biên bản",
        owner="Bí thư",
        due_date=date.today() + timedelta(days=10),
        created_by_id=author.id,
    )
    db.session.add(action)
    db.session.flush()
    return action.id


def _visit(user: User, unit: Unit) -> int:
    start = date.today() - timedelta(days=3)
    visit = Visit(
        user_id=user.id, unit_id=unit.id, form="inspection", start_date=start, end_date=start
    )
    db.session.add(visit)
    db.session.flush()
    return visit.id


def _calendar(branch: Unit, user: User) -> dict[str, int]:
    """A branch's monthly pattern and one meeting it filled (the ids of both)."""
    where = {"time": time(19, 30), "place": "Nhà văn hoá", "link": None, "kind": REGULAR}
    pattern, created = meetings.declare_pattern(
        branch, {"nth": 2, "weekday": 6, "months": 2, **where}, user, date.today()
    )
    meeting = (
        created[0]
        if created
        else meetings.declare(branch, {"day": date.today() + timedelta(days=5), **where}, user)
    )
    return {"pattern_id": pattern.id, "meeting_id": meeting.id}


def _plan(unit: Unit, cadre: User, author: User) -> int:
    day = date.today() + timedelta(days=5)
    plan = VisitPlan(
        unit_id=unit.id, form="meeting", start_date=day, end_date=day, created_by_id=author.id
    )
    plan.cadres = [PlanCadre(user_id=cadre.id)]
    db.session.add(plan)
    db.session.flush()
    return plan.id


def _token(user: User) -> int:
    token, _secret = tokens.create(user, "Hệ thống", 30, utcnow())
    return token.id


def _practice(unit: Unit, province: Unit) -> int:
    """A good practice seen at ``unit`` and spread to ``province``'s subtree."""
    practice = Practice(
        unit_id=unit.id,
        source="visit",
        title="Mô hình tủ sách",
        description="Tủ sách thanh niên",
        spread_unit_id=province.id,
        spread_at=utcnow(),
    )
    db.session.add(practice)
    db.session.flush()
    return practice.id


def _photo(app: Flask, evaluation_id: int, cadre: User) -> int:
    """A photo of the evaluation's P10, stored through the real service in a temporary dir."""
    import hashlib
    import io
    import tempfile

    from PIL import Image

    from coso.models import Evaluation
    from coso.photos import service as photos

    if not app.config.get("MEDIA_DIR"):
        app.config["MEDIA_DIR"] = tempfile.mkdtemp(prefix="coso-matrix-media-")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    body = out.getvalue()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation is not None
    with app.test_request_context():
        _status, photo = photos.store(
            evaluation.uuid, "P10", hashlib.sha256(body).hexdigest(), body, cadre
        )
    return photo.id


def build_world(app: Flask) -> dict[str, dict[str, int]]:
    """Every kind of object once inside and once outside; the URL arguments of each side."""
    top = make_unit("TW", "central", name="Trung ương Đoàn")
    make_user(CENTRAL, CENTRAL, top)
    data = with_checklist(small_province(top))
    users = data["users"]
    commune, branch = data["communes"][0], data["branches"][0]
    other = make_unit("TINH-Z", "province", name="Tỉnh đoàn khác")
    other_commune = make_unit("XA-Z", "commune", other, name="Đoàn xã Z")
    other_branch = make_unit("CD-Z1", "branch", other_commune, name="Chi đoàn Z1", member_count=20)
    other_cadre = make_user("cadre_z", "cadre", other)
    other_secretary = make_user("secretary_z", "secretary", other_branch)
    other_template = create_default_template(other)
    other_guidance = _guidance(other)
    db.session.commit()
    inside = _evaluation(app, branch, data["template"].id, data["guidance"].id, users["cadre"])
    outside = _evaluation(app, other_branch, other_template.id, other_guidance.id, other_cadre)
    sides = {
        "in": {
            "unit_id": branch.id,
            "commune_id": commune.id,
            "branch_id": branch.id,
            "user_id": users["secretary"].id,
            "template_id": data["template"].id,
            "guidance_id": data["guidance"].id,
            "evaluation_id": inside,
            "action_id": _action(branch, inside, users["cadre"]),
            "visit_id": _visit(users["cadre"], branch),
            **_calendar(branch, users["secretary"]),
            "plan_id": _plan(branch, users["cadre"], users["province"]),
            "token_id": _token(users["cadre"]),
            "practice_id": _practice(branch, data["province"]),
            "difficulty_id": _difficulty(branch, users["secretary"]),
            "photo_id": _photo(app, inside, users["cadre"]),
        },
        "out": {
            "unit_id": other_branch.id,
            "commune_id": other_commune.id,
            "branch_id": other_branch.id,
            "user_id": other_secretary.id,
            "template_id": other_template.id,
            "guidance_id": other_guidance.id,
            "evaluation_id": outside,
            "action_id": _action(other_branch, outside, other_cadre),
            "visit_id": _visit(other_cadre, other_branch),
            **_calendar(other_branch, other_secretary),
            "plan_id": _plan(other_branch, other_cadre, other_cadre),
            "token_id": _token(other_cadre),
            "practice_id": _practice(other_branch, other),
            "difficulty_id": _difficulty(other_branch, other_secretary),
            "photo_id": _photo(app, outside, other_cadre),
        },
    }
    db.session.commit()
    return sides


def _difficulty(unit: Unit, raiser: User) -> int:
    """A difficulty about ``unit`` raised by ``raiser``, routed to the commune above it."""
    difficulty, _ = difficulties.raise_difficulty(
        unit, {"uuid": str(uuid.uuid4()), "category": "funds", "text": "Thiếu kinh phí"}, raiser
    )
    return difficulty.id


# ------------------------------------------------------------------ requests


class Visitor:
    """One role's browser: signed in once, with its session's CSRF token."""

    def __init__(self, client: FlaskClient, role: str | None) -> None:
        self.client = client
        self.role = role
        self._token: str | None = None
        if role is not None:
            page = client.get("/login").get_data(as_text=True)
            response = client.post(
                "/login",
                data={"username": role, "password": PASSWORD, "csrf_token": _form_token(page)},
            )
            assert response.status_code == 302, f"{role} signs in"

    def token(self) -> str:
        if self._token is None or self.role is None:
            self._token = self._fetch_token()
        return self._token

    def _fetch_token(self) -> str:
        response = self.client.get("/api/v1/session")
        if response.status_code == 200:
            return str(response.get_json()["csrf_token"])
        return _form_token(self.client.get("/login").get_data(as_text=True))

    def request(self, method: str, url: str) -> Any:
        if method == "GET":
            return self.client.get(url)
        token = self.token()
        form = {"csrf_token": token}
        if url == "/login":  # one wrong attempt per account, never enough to be throttled
            form["username"] = self.role or "nobody"
        return self.client.post(url, data=form, headers={"X-CSRFToken": token})


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def _url(rule: Rule, access: Access, side: dict[str, int] | None) -> str:
    values: dict[str, Any] = dict(FIXED_ARGS)
    if side is not None:
        values.update(side)
        values.update({arg: side[key] for arg, key in access.params})
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _scoped(rule: Rule) -> bool:
    return bool(set(rule.arguments) - set(FIXED_ARGS))


def _refusal(role: str | None, access: Access, url: str) -> set[int]:
    """What a user who may not use the route gets."""
    if role is None:
        if access.anonymous is not None:
            return {access.anonymous}
        return {401} if url.startswith("/api/") else {302}
    return {access.denied}


def _check(
    response: Any, expected: set[int], role: str | None, method: str, url: str
) -> str | None:
    """A line describing the mismatch, or None."""
    response.close()
    status = response.status_code
    if status not in expected:
        return f"{role or 'anonymous'} {method} {url}: {status}, expected {sorted(expected)}"
    location = response.headers.get("Location", "")
    signed_out_redirect = role is None and status == 302 and expected == {302}
    if signed_out_redirect and not location.startswith("/login") and url not in ("/lang",):
        return f"anonymous {method} {url}: redirected to {location}, not to the login"
    signing_out = url == "/logout"
    if (
        role is not None
        and status in (302, 303)
        and location.startswith("/login")
        and not signing_out
    ):
        return f"{role} {method} {url}: sent back to the login"
    return None


# ------------------------------------------------------------------ tests


def test_every_route_is_classified() -> None:
    """A route nobody classified fails here, by name; so does a classified route that is gone."""
    unclassified = sorted(set(RULES) - set(ACCESS))
    assert not unclassified, f"routes missing from the authorization matrix: {unclassified}"
    gone = sorted(set(ACCESS) - set(RULES))
    assert not gone, f"the matrix classifies routes that no longer exist: {gone}"


class Matrix:
    """The world and one signed-in browser per role, rebuilt only after a POST changed them.

    Refused requests change nothing, so most routes share one world; a route whose allowed
    POSTs ran leaves it dirty for the next.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.dirty = True
        self.world: dict[str, dict[str, int]] = {}
        self.visitors: dict[str | None, Visitor] = {}

    def fresh(self) -> tuple[dict[str, dict[str, int]], dict[str | None, Visitor]]:
        if self.dirty:
            with self.app.app_context():
                _empty_tables()
                self.world = build_world(self.app)
            self.visitors = {role: Visitor(self.app.test_client(), role) for role in ROLES}
            self.dirty = False
        return self.world, self.visitors


@pytest.fixture(scope="module")
def matrix(_schema: str) -> Iterator[Matrix]:
    """One app for the module (the per-test ``app`` would rebuild the world for every route)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _schema,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    yield Matrix(app)
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_route_answers_each_role_as_classified(matrix: Matrix, endpoint: str) -> None:
    access = ACCESS.get(endpoint)
    if access is None:
        pytest.fail(f"{endpoint} is not classified in ACCESS")
    world, visitors = matrix.fresh()
    problems: list[str] = []
    allowed_posts: list[Callable[[], str | None]] = []
    for rule in RULES[endpoint]:
        sides: list[str | None] = ["in", "out"] if _scoped(rule) else [None]
        for method in ("GET", "POST"):
            if method not in (rule.methods or ()):
                continue
            allowed = access.roles if method == "GET" else (access.post_roles or access.roles)
            for role in ROLES:
                for side in sides:
                    url = _url(rule, access, world[side] if side else None)
                    if role not in allowed:
                        expected = _refusal(role, access, url)
                        if side == "out" and role is not None:
                            expected |= {403, 404}
                    elif side == "out":
                        expected = {403, 404}
                    elif method == "GET":
                        expected = {dict(access.ok_for).get(role or "", access.ok)}
                    else:
                        # Allowed POSTs may change the world: they run last.
                        allowed_posts.append(
                            lambda role=role, url=url: _check(
                                visitors[role].request("POST", url),
                                PAST_THE_GATE,
                                role,
                                "POST",
                                url,
                            )
                        )
                        continue
                    problem = _check(
                        visitors[role].request(method, url), expected, role, method, url
                    )
                    if problem:
                        problems.append(problem)
    if allowed_posts:
        matrix.dirty = True
    # The least privileged allowed role first: it is where a gate is most likely to be wrong.
    for attempt in reversed(allowed_posts[-1:] if access.once else allowed_posts):
        problem = attempt()
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)
