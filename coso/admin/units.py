"""The unit tree: browse, add, edit, move, deactivate; import and export the spreadsheet.

Units are never deleted: history (evaluations, audit events) points at them.
Managing the tree needs ``administer``, inside the administrator's subtree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, clock, scope, unit_import
from coso.admin.blueprint import bp
from coso.admin.common import (
    csv_response,
    int_arg,
    render_page,
    sign_rows,
    unit_by_code,
    unit_in_scope,
    unsign_rows,
    xlsx_response,
)
from coso.admin.forms import UNIT_FIELDS, MoveSchema, UnitSchema
from coso.checklists import current_template
from coso.extensions import db
from coso.fields import form_data, plain_errors
from coso.guidance import guidance_for, period_of
from coso.judging.queries import settings_for_path
from coso.models import Evaluation, Unit, User

ACTION = "administer"
IMPORT_SALT = "coso.units.import"
MAX_CHILDREN = 500


# --- Rules (no request in here)


def unit_values(unit: Unit) -> dict[str, Any]:
    """A unit's fields as the edit form shows them."""
    party = unit.secretary_party_member
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "secretary_name": unit.secretary_name or "",
        "secretary_since": unit.secretary_since.isoformat() if unit.secretary_since else "",
        "secretary_party_member": "" if party is None else ("yes" if party else "no"),
        "member_count": "" if unit.member_count is None else str(unit.member_count),
    }


def code_taken(code: str, unit: Unit | None = None) -> bool:
    """True when another unit already has ``code``."""
    query = sa.select(Unit.id).where(Unit.code == code)
    if unit is not None:
        query = query.where(Unit.id != unit.id)
    return db.session.scalar(query) is not None


def kind_problem(unit: Unit, kind: str) -> str | None:
    """Why ``unit`` cannot take ``kind``: branches are leaves, and an evaluated branch stays one."""
    if kind == unit.kind:
        return None
    if kind == "branch" and db.session.scalar(sa.select(Unit.id).where(Unit.parent_id == unit.id)):
        return _("Units are under this one, so it cannot become a branch.")
    if unit.is_branch and db.session.scalar(
        sa.select(Evaluation.id).where(Evaluation.branch_id == unit.id).limit(1)
    ):
        return _("This branch has evaluations, so its kind cannot change.")
    return None


def deactivate_problem(unit: Unit, user: User) -> str | None:
    """Why ``unit`` cannot be deactivated now, in words; None when it can."""
    if unit.id == user.unit_id:
        return _("You cannot deactivate the unit your own account belongs to.")
    children = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Unit)
        .where(Unit.parent_id == unit.id, Unit.active.is_(True))
    )
    if children:
        return _("%(n)s active units are under it: move or deactivate them first.", n=children)
    users = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.unit_id == unit.id, User.active.is_(True))
    )
    if users:
        return _("%(n)s active users belong to it: move or deactivate them first.", n=users)
    return None


def _parent_code(unit: Unit) -> str | None:
    return unit.parent.code if unit.parent else None


def apply_edit(unit: Unit, data: dict[str, Any]) -> None:
    """Write edited fields onto a unit and record the change (caller commits)."""
    before = unit_import.audit_snapshot(unit, _parent_code(unit))
    previous_secretary = unit.secretary_name
    for key, value in data.items():
        setattr(unit, key, value)
    unit_import.note_secretary(unit, previous_secretary)
    after = unit_import.audit_snapshot(unit, _parent_code(unit))
    audit.record("unit.update", obj=unit, unit_id=unit.id, **unit_import.diff(before, after))


def add_unit(parent: Unit, data: dict[str, Any]) -> Unit:
    """Create a unit under ``parent`` and record it (caller commits)."""
    from coso.models.units import place

    unit = Unit(**data)
    place(unit, parent)
    unit_import.note_secretary(unit, None)
    audit.record(
        "unit.create",
        obj=unit,
        unit_id=unit.id,
        after=unit_import.audit_snapshot(unit, parent.code),
    )
    return unit


def move_unit(unit: Unit, parent: Unit) -> dict[str, Any]:
    """Move a unit (its subtree and its users' scope follow) and re-judge if settings differ."""
    from coso.judging.rejudge import rejudge

    old_settings = settings_for_path(unit.path)
    before = {"parent_code": _parent_code(unit), "path": unit.path}
    unit_import.move(unit, parent)
    db.session.flush()
    after = {"parent_code": parent.code, "path": unit.path}
    details: dict[str, Any] = {"before": before, "after": after}
    if settings_for_path(unit.path) != old_settings:
        details["rejudged"] = rejudge(unit).as_dict()
    audit.record("unit.move", obj=unit, unit_id=unit.id, **details)
    return details


def set_active(unit: Unit, active: bool) -> None:
    audit.record(
        "unit.activate" if active else "unit.deactivate",
        obj=unit,
        unit_id=unit.id,
        before={"active": unit.active},
        after={"active": active},
    )
    unit.active = active


# --- Views


def _context(unit: Unit, **overrides: Any) -> dict[str, Any]:
    user = current_user
    ancestors = (
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.id.in_(unit.ancestor_ids[:-1]), scope.scope_clause(user))
            .order_by(Unit.depth)
        ).all()
        if unit.parent_id
        else []
    )
    children = db.session.scalars(
        sa.select(Unit)
        .where(Unit.parent_id == unit.id)
        .order_by(Unit.active.desc(), Unit.name)
        .limit(MAX_CHILDREN + 1)
    ).all()
    users = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.unit_id == unit.id)
    )
    today = clock.today()
    context: dict[str, Any] = {
        "unit": unit,
        "ancestors": ancestors,
        "children": children[:MAX_CHILDREN],
        "more_children": len(children) > MAX_CHILDREN,
        "user_count": users,
        "guidance": guidance_for(unit, period_of(today)),
        "period": period_of(today),
        "template": current_template(unit),
        "edit": unit_values(unit),
        "add": {"kind": "branch"},
        "move": {},
        "errors": {"edit": {}, "add": {}, "move": {}, "active": {}},
        "kinds": unit_import.UNIT_KINDS,
    }
    context.update(overrides)
    return context


def _render_unit(unit: Unit, status: int = 200, **overrides: Any) -> ResponseReturnValue:
    return render_page("admin/unit.html", "admin/_unit.html", status, **_context(unit, **overrides))


@bp.get("/units")
@login_required
def units() -> ResponseReturnValue:
    """The tree starts at the administrator's own unit."""
    scope.require(current_user, ACTION)
    return redirect(url_for("admin.unit", unit_id=current_user.unit_id))


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int) -> ResponseReturnValue:
    """One unit: its place in the tree, its units, and the forms that change it."""
    return _render_unit(unit_in_scope(unit_id, ACTION))


@bp.get("/units/search")
@login_required
def unit_search() -> ResponseReturnValue:
    """Find a unit of my area by code or name."""
    scope.require(current_user, ACTION)
    q = request.args.get("q", "").strip()[:100]
    found: list[Unit] = []
    if q:
        pattern = f"%{q.lower()}%"
        found = list(
            db.session.scalars(
                sa.select(Unit)
                .where(
                    scope.scope_clause(current_user),
                    sa.or_(
                        sa.func.lower(Unit.name).like(pattern),
                        sa.func.lower(Unit.code).like(pattern),
                    ),
                )
                .order_by(Unit.depth, Unit.name)
                .limit(30)
            )
        )
    return render_page("admin/unit_search.html", "admin/_unit_search.html", q=q, found=found)


def _load_unit_form() -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any]]:
    """Validate the posted unit form; returns (data or None, raw values, errors)."""
    raw = form_data(request.form, UNIT_FIELDS)
    values = {key: value or "" for key, value in raw.items()}
    try:
        data = UnitSchema(today=clock.today()).load(raw)
    except ValidationError as exc:
        return None, values, plain_errors(exc.messages)
    data["name"] = " ".join(data["name"].split())
    return data, values, {}


@bp.post("/units/<int:unit_id>/edit")
@login_required
def unit_edit(unit_id: int) -> ResponseReturnValue:
    """Rename a unit, change its code or kind, or its branch profile."""
    unit = unit_in_scope(unit_id, ACTION)
    data, values, errors = _load_unit_form()
    if data is not None:
        if code_taken(data["code"], unit):
            errors["code"] = [_("Another unit already has this code.")]
        problem = kind_problem(unit, data["kind"])
        if problem:
            errors["kind"] = [problem]
    if data is None or errors:
        return _render_unit(unit, 422, edit=values, errors=_errors(edit=errors))
    try:
        apply_edit(unit, data)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        errors = {"code": [_("Another unit already has this code.")]}
        return _render_unit(unit, 422, edit=values, errors=_errors(edit=errors))
    flash(_("Saved."), "info")
    return redirect(url_for("admin.unit", unit_id=unit.id), code=303)


@bp.post("/units/<int:unit_id>/add")
@login_required
def unit_add(unit_id: int) -> ResponseReturnValue:
    """Add a unit under this one."""
    parent = unit_in_scope(unit_id, ACTION)
    data, values, errors = _load_unit_form()
    if parent.is_branch:
        errors["_form"] = [_("A branch has no units under it.")]
    elif not parent.active:
        errors["_form"] = [_("This unit is deactivated; reactivate it first.")]
    if data is not None and code_taken(data["code"]):
        errors["code"] = [_("Another unit already has this code.")]
    if data is None or errors:
        return _render_unit(parent, 422, add=values, errors=_errors(add=errors))
    try:
        child = add_unit(parent, data)
        db.session.commit()
    except IntegrityError:
        # Someone took the code between our check and our insert.
        db.session.rollback()
        errors = {"code": [_("Another unit already has this code.")]}
        return _render_unit(parent, 422, add=values, errors=_errors(add=errors))
    flash(_("Unit %(name)s added.", name=child.name), "info")
    return redirect(url_for("admin.unit", unit_id=child.id), code=303)


@bp.post("/units/<int:unit_id>/move")
@login_required
def unit_move(unit_id: int) -> ResponseReturnValue:
    """Hang the unit under another parent of my area; everything under it follows."""
    unit = unit_in_scope(unit_id, ACTION)
    raw = form_data(request.form, ("parent_code",))
    errors: dict[str, Any] = {}
    try:
        MoveSchema().load(raw)
    except ValidationError as exc:
        errors = plain_errors(exc.messages)
    parent = None
    if not errors:
        if unit.id == current_user.unit_id:
            errors["parent_code"] = [_("You cannot move the unit your own account belongs to.")]
        else:
            parent, problem = unit_by_code(raw["parent_code"], current_user, ACTION)
            if parent is not None:
                problem = unit_import.move_problem(unit, parent)
            if problem:
                errors["parent_code"] = [problem]
    if errors or parent is None:
        move_values = {"parent_code": raw.get("parent_code") or ""}
        return _render_unit(unit, 422, move=move_values, errors=_errors(move=errors))
    move_unit(unit, parent)
    db.session.commit()
    flash(_("Moved under %(name)s.", name=parent.name), "info")
    return redirect(url_for("admin.unit", unit_id=unit.id), code=303)


@bp.post("/units/<int:unit_id>/active")
@login_required
def unit_active(unit_id: int) -> ResponseReturnValue:
    """Deactivate a unit (it keeps its history) or bring it back."""
    unit = unit_in_scope(unit_id, ACTION)
    if request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form.get("active") == "1"
    problem = None
    if active and unit.parent is not None and not unit.parent.active:
        problem = _("Its parent is deactivated; reactivate the parent first.")
    elif not active:
        problem = deactivate_problem(unit, current_user)
    if problem:
        return _render_unit(unit, 422, errors=_errors(active={"_form": [problem]}))
    if unit.active != active:
        set_active(unit, active)
        db.session.commit()
    flash(_("Reactivated.") if active else _("Deactivated."), "info")
    return redirect(url_for("admin.unit", unit_id=unit.id), code=303)


def _errors(**forms: dict[str, Any]) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {"edit": {}, "add": {}, "move": {}, "active": {}}
    errors.update(forms)
    return errors


# --- Spreadsheet import and export


@bp.route("/units/import", methods=["GET", "POST"])
@login_required
def units_import() -> ResponseReturnValue:
    """Upload the spreadsheet: a dry run shows every row's fate and changes nothing."""
    scope.require(current_user, ACTION)
    root = current_user.unit
    if request.method == "GET":
        return render_page(
            "admin/units_import.html", "admin/_units_import.html", root=root, report=None
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_page(
            "admin/units_import.html",
            "admin/_units_import.html",
            422,
            root=root,
            report=None,
            file_error=_("Choose a .csv or .xlsx file."),
        )
    try:
        rows = unit_import.read_rows(upload.filename, upload.stream)
    except unit_import.ImportError_ as exc:
        return render_page(
            "admin/units_import.html",
            "admin/_units_import.html",
            422,
            root=root,
            report=None,
            file_error=str(exc),
        )
    report = unit_import.check(rows, root)
    return render_page(
        "admin/units_import.html",
        "admin/_units_import.html",
        200 if report.ok else 422,
        root=root,
        report=report,
        filename=upload.filename,
        token=sign_rows(rows, IMPORT_SALT) if report.ok else None,
    )


@bp.post("/units/import/apply")
@login_required
def units_import_apply() -> ResponseReturnValue:
    """Apply a checked file: every row, or none if anything changed since the dry run."""
    scope.require(current_user, ACTION)
    root = current_user.unit
    rows = unsign_rows(request.form.get("token", ""), IMPORT_SALT)
    filename = request.form.get("filename", "")[:200]
    if rows is None:
        return render_page(
            "admin/units_import.html",
            "admin/_units_import.html",
            422,
            root=root,
            report=None,
            file_error=_("This dry run has expired. Upload the file again."),
        )
    report = unit_import.check(rows, root)
    if not report.ok:
        return render_page(
            "admin/units_import.html",
            "admin/_units_import.html",
            422,
            root=root,
            report=report,
            filename=filename,
            token=None,
            file_error=_("The data changed since the dry run; nothing was imported."),
        )
    try:
        created, updated = unit_import.apply(report, root)
        audit.record(
            "units.import", unit_id=root.id, file=filename, created=created, updated=updated
        )
        db.session.commit()
    except IntegrityError:
        # Another change landed between the check and the writes: nothing was kept.
        db.session.rollback()
        return render_page(
            "admin/units_import.html",
            "admin/_units_import.html",
            422,
            root=root,
            report=None,
            file_error=_("The data changed since the dry run; nothing was imported."),
        )
    flash(_("Imported: %(c)s created, %(u)s updated.", c=created, u=updated), "info")
    return redirect(url_for("admin.unit", unit_id=root.id), code=303)


@bp.get("/units/export")
@login_required
def units_export() -> ResponseReturnValue:
    """The tree under a unit in the import's columns, as CSV or XLSX."""
    unit = unit_in_scope(int_arg("unit") or current_user.unit_id, ACTION)
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(404)
    rows = unit_import.export_rows(unit)
    name = f"units-{unit.code}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(name, unit_import.COLUMNS, rows)
    return csv_response(name, unit_import.COLUMNS, rows)
