"""Checklist templates: start a version from the current one, edit, preview, publish, retire.

A published version never changes again: evaluations are scored on the exact
version they were filled on, and one filled on an older version (or a retired
one) is still accepted when it syncs late. New evaluations and the field pack
use the newest published version of the nearest issuing unit above a branch.
Needs ``publish`` on the issuing unit.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, scope
from coso.admin.blueprint import bp
from coso.admin.common import render_page, unit_in_scope, user_now
from coso.admin.forms import TemplateSchema
from coso.checklists import current_template
from coso.default_checklist import DEFAULT_ITEMS
from coso.extensions import db
from coso.fields import plain_errors
from coso.judging.queries import settings_for_path
from coso.models import ChecklistItem, ChecklistTemplate, Evaluation, Unit, User
from coso.models.checklists import DRAFT, ITEM_KINDS, PUBLISHED, RETIRED, SECTIONS
from coso.models.types import utcnow

ACTION = "publish"
ITEM_FIELDS = ("code", "section", "text_vi", "text_en", "weight", "critical", "kind", "position")
BLANK_ROWS = 2
DEFAULT_NAME = "Phiếu đánh giá sinh hoạt chi đoàn"


class VersionProblem(Exception):
    """A template action that cannot be done, with the reason in words."""


# --- Rules


def item_dict(item: ChecklistItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in ITEM_FIELDS}


def draft_of(unit: Unit) -> ChecklistTemplate | None:
    return db.session.scalar(
        sa.select(ChecklistTemplate).where(
            ChecklistTemplate.unit_id == unit.id, ChecklistTemplate.status == DRAFT
        )
    )


def start_version(unit: Unit, user: User) -> ChecklistTemplate:
    """A new draft version copied from the checklist now in force for ``unit``.

    The source is the unit's own newest published version, else the one inherited
    from above, else domain.md's default checklist.

    :raise VersionProblem: the unit is a branch, or already has a draft.
    """
    if unit.is_branch:
        raise VersionProblem(_("A branch does not issue a checklist."))
    if draft_of(unit) is not None:
        raise VersionProblem(_("This unit already has a draft; finish or discard it first."))
    source = current_template(unit)
    latest = db.session.scalar(
        sa.select(sa.func.max(ChecklistTemplate.version)).where(
            ChecklistTemplate.unit_id == unit.id
        )
    )
    items = (
        [item_dict(item) for item in source.items] if source else [dict(i) for i in DEFAULT_ITEMS]
    )
    template = ChecklistTemplate(
        unit_id=unit.id,
        name=source.name if source else DEFAULT_NAME,
        version=(latest or 0) + 1,
        status=DRAFT,
        based_on_id=source.id if source else None,
        created_by_id=user.id,
        items=[
            ChecklistItem(**{**item, "position": position})
            for position, item in enumerate(items, start=1)
        ],
    )
    db.session.add(template)
    db.session.flush()
    audit.record(
        "template.create",
        obj=template,
        unit_id=unit.id,
        after={"version": template.version, "based_on": source.id if source else None},
    )
    return template


def save_draft(template: ChecklistTemplate, data: dict[str, Any]) -> None:
    """Replace a draft's name and items with validated ``data`` (a TemplateSchema load).

    :raise VersionProblem: the template is no longer a draft.
    """
    if template.status != DRAFT:
        raise VersionProblem(_("A published checklist never changes; start a new version."))
    before = {item.code: item_dict(item) for item in template.items}
    old_name = template.name
    items = sorted(
        enumerate(data["items"]),
        key=lambda pair: (pair[1].get("position") is None, pair[1].get("position") or 0, pair[0]),
    )
    wanted: dict[str, dict[str, Any]] = {}
    for position, (_index, item) in enumerate(items, start=1):
        wanted[item["code"]] = {**item, "text_en": item.get("text_en") or "", "position": position}
    # Gone items first, so a code can never meet itself in the unique index.
    for item in list(template.items):
        if item.code not in wanted:
            template.items.remove(item)
    db.session.flush()
    current = {item.code: item for item in template.items}
    for code, values in wanted.items():
        if code in current:
            for key, value in values.items():
                setattr(current[code], key, value)
        else:
            template.items.append(ChecklistItem(**values))
    template.name = data["name"]
    db.session.flush()
    db.session.refresh(template)
    after = {item.code: item_dict(item) for item in template.items}
    changed = sorted(
        code for code in set(before) | set(after) if before.get(code) != after.get(code)
    )
    details: dict[str, Any] = {
        "before": {code: before.get(code) for code in changed},
        "after": {code: after.get(code) for code in changed},
    }
    if old_name != template.name:
        details["before"]["name"] = old_name
        details["after"]["name"] = template.name
    audit.record("template.update", obj=template, unit_id=template.unit_id, **details)


def stored_data(template: ChecklistTemplate) -> dict[str, Any]:
    """A template as the form would submit it, to validate before publishing."""
    return {"name": template.name, "items": [item_dict(item) for item in template.items]}


def publish(template: ChecklistTemplate) -> None:
    """Make a draft the version in force; from now on it never changes.

    :raise VersionProblem: not a draft, or its items do not pass validation.
    """
    if template.status != DRAFT:
        raise VersionProblem(_("Only a draft can be published."))
    try:
        TemplateSchema().load(stored_data(template))
    except ValidationError as exc:
        raise VersionProblem(_("Fix the draft before publishing it.")) from exc
    template.status = PUBLISHED
    template.published_at = utcnow()
    audit.record(
        "template.publish",
        obj=template,
        unit_id=template.unit_id,
        before={"status": DRAFT},
        after={"status": PUBLISHED, "version": template.version},
    )


def retire(template: ChecklistTemplate) -> None:
    """Stop offering a published version; evaluations already filled on it still sync.

    :raise VersionProblem: not published, or nothing would be left for the unit's branches.
    """
    if template.status != PUBLISHED:
        raise VersionProblem(_("Only a published version can be retired."))
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ChecklistTemplate)
        .join(Unit, Unit.id == ChecklistTemplate.unit_id)
        .where(
            ChecklistTemplate.unit_id.in_(template_unit(template).ancestor_ids),
            ChecklistTemplate.status == PUBLISHED,
            ChecklistTemplate.id != template.id,
        )
    )
    if not others:
        raise VersionProblem(
            _("Branches below would be left without a checklist; publish another version first.")
        )
    template.status = RETIRED
    audit.record(
        "template.retire",
        obj=template,
        unit_id=template.unit_id,
        before={"status": PUBLISHED},
        after={"status": RETIRED},
    )


def discard(template: ChecklistTemplate) -> None:
    """Delete a draft (nothing was ever filled on a draft)."""
    if template.status != DRAFT:
        raise VersionProblem(_("Only a draft can be discarded."))
    audit.record(
        "template.delete",
        obj=template,
        unit_id=template.unit_id,
        before={"version": template.version},
    )
    db.session.delete(template)


def template_unit(template: ChecklistTemplate) -> Unit:
    unit = db.session.get(Unit, template.unit_id)
    assert unit is not None
    return unit


def items_from_form(form: Any) -> list[dict[str, Any]]:
    """The rows of the item editor, in form order: blank and removed rows left out."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("items-") and key.count("-") == 2 and key.split("-")[1].isdecimal()
        }
    )
    rows = []
    for index in indexes[:200]:

        def get(name: str, index: int = index) -> str:
            return (form.get(f"items-{index}-{name}") or "").strip()

        if form.get(f"items-{index}-remove"):
            continue
        if not any(get(name) for name in ("code", "text_vi", "text_en", "weight")):
            continue
        rows.append(
            {
                "code": get("code") or None,
                "section": get("section") or None,
                "text_vi": " ".join(get("text_vi").split()) or None,
                "text_en": " ".join(get("text_en").split()) or None,
                "weight": get("weight") or None,
                "critical": bool(form.get(f"items-{index}-critical")),
                "kind": get("kind") or "choice",
                "position": get("position") or None,
            }
        )
    return rows


# --- Views


def template_or_403(template_id: int) -> ChecklistTemplate:
    template = db.session.get(ChecklistTemplate, template_id)
    if template is None:
        abort(404)
    unit_in_scope(template.unit_id, ACTION)
    return template


@bp.get("/templates")
@login_required
def templates() -> ResponseReturnValue:
    """Every version issued in my area, and the checklist in force where I stand."""
    scope.require(current_user, ACTION)
    rows = db.session.execute(
        sa.select(ChecklistTemplate, Unit)
        .join(Unit, Unit.id == ChecklistTemplate.unit_id)
        .where(scope.scope_clause(current_user))
        .order_by(Unit.depth, Unit.name, ChecklistTemplate.version.desc())
    ).all()
    by_unit: dict[int, tuple[Unit, list[ChecklistTemplate]]] = {}
    for template, unit in rows:
        by_unit.setdefault(unit.id, (unit, []))[1].append(template)
    home = current_user.unit
    return render_page(
        "admin/templates.html",
        "admin/_templates.html",
        groups=list(by_unit.values()),
        home=home,
        in_force=current_template(home),
        home_has_draft=draft_of(home) is not None,
    )


@bp.post("/templates/new")
@login_required
def template_new() -> ResponseReturnValue:
    """Start a new draft version for a unit of my area (my own unit by default)."""
    scope.require(current_user, ACTION)
    unit = unit_in_scope(int_form("unit") or current_user.unit_id, ACTION)
    try:
        template = start_version(unit, user_now())
        db.session.commit()
    except VersionProblem as exc:
        db.session.rollback()
        flash(str(exc), "error")
        existing = draft_of(unit)
        if existing is not None:
            return redirect(url_for("admin.template", template_id=existing.id), code=303)
        return redirect(url_for("admin.templates"), code=303)
    except IntegrityError:
        # Someone started a version at the same moment: the unique version decided.
        db.session.rollback()
        flash(_("Someone else started a new version at the same time; try again."), "error")
        return redirect(url_for("admin.templates"), code=303)
    flash(_("Draft version %(v)s started.", v=template.version), "info")
    return redirect(url_for("admin.template", template_id=template.id), code=303)


def int_form(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def _template_page(
    template: ChecklistTemplate, status: int = 200, **context: Any
) -> ResponseReturnValue:
    rows = [
        {key: ("" if value is None else value) for key, value in item_dict(item).items()}
        for item in template.items
    ]
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Evaluation)
        .where(Evaluation.template_id == template.id)
    )
    base: dict[str, Any] = {
        "template": template,
        "unit": template_unit(template),
        "name": template.name,
        "rows": rows,
        "blank": BLANK_ROWS,
        "errors": {},
        "sections": SECTIONS,
        "kinds": ITEM_KINDS,
        "used": used,
        "total": sum(item.weight for item in template.items),
    }
    base.update(context)
    return render_page("admin/template.html", "admin/_template.html", status, **base)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@login_required
def template(template_id: int) -> ResponseReturnValue:
    """A version: read-only once published; a draft's items are edited here."""
    template = template_or_403(template_id)
    if request.method == "GET":
        return _template_page(template)
    if template.status != DRAFT:
        return _template_page(
            template,
            409,
            errors={"_form": [_("A published checklist never changes; start a new version.")]},
        )
    rows = items_from_form(request.form)
    name = " ".join(request.form.get("name", "").split()) or None
    try:
        data = TemplateSchema().load({"name": name, "items": rows})
    except ValidationError as exc:
        shown = [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]
        return _template_page(
            template, 422, rows=shown, name=name or "", errors=plain_errors(exc.messages)
        )
    save_draft(template, data)
    db.session.commit()
    flash(_("Draft saved."), "info")
    return redirect(url_for("admin.template", template_id=template.id), code=303)


@bp.get("/templates/<int:template_id>/preview")
@login_required
def template_preview(template_id: int) -> ResponseReturnValue:
    """The checklist as a cadre's phone shows it (read-only)."""
    template = template_or_403(template_id)
    lang = request.args.get("lang", "")
    locale = lang if lang in ("vi", "en") else str(get_locale())
    unit = template_unit(template)
    return render_page(
        "admin/template_preview.html",
        "admin/_template_preview.html",
        template=template,
        locale=locale,
        settings=settings_for_path(unit.path),
    )


def _action(template_id: int, act: Any, done: str) -> ResponseReturnValue:
    template = template_or_403(template_id)
    try:
        act(template)
    except VersionProblem as exc:
        db.session.rollback()
        return _template_page(template, 422, errors={"_form": [str(exc)]})
    db.session.commit()
    flash(done, "info")
    return None


@bp.post("/templates/<int:template_id>/publish")
@login_required
def template_publish(template_id: int) -> ResponseReturnValue:
    """Publish a draft: the field pack and new evaluations use it from now on."""
    failed = _action(template_id, publish, _("Published. Phones get it when they next prepare."))
    return failed or redirect(url_for("admin.template", template_id=template_id), code=303)


@bp.post("/templates/<int:template_id>/retire")
@login_required
def template_retire(template_id: int) -> ResponseReturnValue:
    """Retire a published version; late evaluations filled on it are still accepted."""
    failed = _action(template_id, retire, _("Retired."))
    return failed or redirect(url_for("admin.template", template_id=template_id), code=303)


@bp.post("/templates/<int:template_id>/discard")
@login_required
def template_discard(template_id: int) -> ResponseReturnValue:
    """Throw a draft away."""
    failed = _action(template_id, discard, _("Draft discarded."))
    return failed or redirect(url_for("admin.templates"), code=303)
