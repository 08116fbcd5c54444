"""Checklist versions in the administration: list, start, edit, preview, publish, retire, discard.

New evaluations and the field pack use the newest published version of the
nearest issuing unit above a branch (coso.checklists.queries.current_template).
Needs ``publish`` on the issuing unit. The routes attach to the ``admin``
blueprint, so their endpoints are ``admin.template*``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import scope
from coso.admin.blueprint import bp
from coso.checklists.queries import (
    current_template,
    draft_of,
    evaluation_count,
    template_unit,
    versions_by_unit,
)
from coso.checklists.rules import content_of, fields_named, item_dict, stored_data
from coso.checklists.schema import TemplateSchema, items_from_form
from coso.checklists.service import (
    VersionProblem,
    discard,
    publish,
    retire,
    save_draft,
    start_version,
)
from coso.extensions import db
from coso.fields import plain_errors
from coso.judging.queries import settings_for_path
from coso.models import ChecklistTemplate
from coso.models.checklists import DRAFT, ITEM_KINDS, SECTIONS
from coso.web import render_page, row_in_scope, unit_in_scope, user_now

ACTION = "publish"
BLANK_ROWS = 2


def template_or_403(template_id: int) -> ChecklistTemplate:
    """The template with this id, when the signed-in user may publish for its unit."""
    return row_in_scope(ChecklistTemplate, template_id, ACTION)


@bp.get("/templates")
@login_required
def templates() -> ResponseReturnValue:
    """Every version issued in my area, and the checklist in force where I stand."""
    scope.require(current_user, ACTION)
    home = current_user.unit
    return render_page(
        "admin/templates.html",
        "admin/_templates.html",
        groups=versions_by_unit(current_user),
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
    """A positive integer form field, or None when absent or not a number."""
    text = request.form.get(name, "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def _unsaved_page(
    template: ChecklistTemplate,
    rows: list[dict[str, Any]],
    name: str,
    status: int,
    errors: dict[str, Any],
) -> ResponseReturnValue:
    """The editor showing the posted (unsaved) rows, their errors and the fields they name.

    The live total is the posted one, and publishing stays off until the rows are saved.
    """
    shown = [{k: ("" if v is None else v) for k, v in row.items()} for row in rows]
    named = fields_named(rows) if errors.get("items_total") else {}
    total = sum(
        int(w) for row in rows if (w := str(row.get("weight") or "")).isdecimal() and len(w) < 6
    )
    return _template_page(
        template,
        status,
        rows=shown,
        name=name,
        errors=errors,
        named=named,
        total=total,
        unsaved=True,
    )


def _load_form(template: ChecklistTemplate) -> dict[str, Any] | ResponseReturnValue:
    """The posted editor validated as a draft, or the editor page with its errors (422)."""
    rows = items_from_form(request.form)
    name = " ".join(request.form.get("name", "").split()) or None
    try:
        return TemplateSchema().load({"name": name, "items": rows})
    except ValidationError as exc:
        return _unsaved_page(template, rows, name or "", 422, plain_errors(exc.messages))


def _template_page(
    template: ChecklistTemplate, status: int = 200, **context: Any
) -> ResponseReturnValue:
    """A version's page (read-only or the draft editor), with ``context`` over the defaults."""
    rows = [
        {key: ("" if value is None else value) for key, value in item_dict(item).items()}
        for item in template.items
    ]
    base: dict[str, Any] = {
        "template": template,
        "unit": template_unit(template),
        "name": template.name,
        "rows": rows,
        "blank": BLANK_ROWS,
        "errors": {},
        "sections": SECTIONS,
        "kinds": ITEM_KINDS,
        "used": evaluation_count(template),
        "total": sum(item.weight for item in template.items),
        "named": {},
        "unsaved": False,
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
    loaded = _load_form(template)
    if not isinstance(loaded, dict):
        return loaded
    data = loaded
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


def _action(
    template_id: int, act: Callable[[ChecklistTemplate], None], done: str
) -> ResponseReturnValue:
    """Do ``act`` on a version and commit; the page with the reason when it cannot be done."""
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
    """Publish a draft: the field pack and new evaluations use it from now on.

    The editor posts its fields with the publish button. When they are invalid, or
    differ from the saved draft (edits not saved, or a save that failed), nothing is
    published: publishing the saved draft then would silently drop the edits on
    screen. A post without the editor's fields (an older page) publishes the saved
    draft, which is still checked whole and against the version in force.
    """
    template = template_or_403(template_id)
    if template.status == DRAFT and "name" in request.form:
        loaded = _load_form(template)
        if not isinstance(loaded, dict):
            return loaded
        if content_of(loaded) != content_of(stored_data(template)):
            rows = items_from_form(request.form)
            message = _(
                "The form has changes that are not saved. Save the draft first, then "
                "publish. Nothing was published."
            )
            return _unsaved_page(template, rows, loaded["name"], 409, {"_form": [message]})
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
