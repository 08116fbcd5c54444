"""The unit tree's pages: browse, add, edit, move, deactivate; import and export the spreadsheet.

Routes only (parse, call, render): the rules are in :mod:`coso.units.rules`, the
reads in :mod:`coso.units.queries`, the writes in :mod:`coso.units.service`.
Managing the tree needs ``administer``, inside the administrator's subtree.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, clock, scope
from coso.admin.blueprint import bp
from coso.checklists.queries import current_template
from coso.extensions import db, reading_phase
from coso.fields import form_data, plain_errors, squash
from coso.guidance.queries import guidance_for
from coso.guidance.rules import period_of
from coso.models import Unit
from coso.models.units import UNIT_KINDS
from coso.spreadsheets import (
    Heading,
    SheetError,
    file_name,
    listed,
    response,
    sign_rows,
    unsign_rows,
)
from coso.units import queries, rules, service, words
from coso.units.imports import check, export_rows, read_rows
from coso.units.queries import unit_by_code
from coso.units.schema import UNIT_FIELDS, MoveSchema, UnitSchema
from coso.web import int_arg, render_page, unit_in_scope

ACTION = "administer"
IMPORT_SALT = "coso.units.import"
#: The export's columns are the import's (a file round-trips); dates and counts typed.
EXPORT_COLUMNS = listed(rules.COLUMNS, {"secretary_since": "date", "member_count": "int"})


def _context(unit: Unit, **overrides: Any) -> dict[str, Any]:
    today = clock.today()
    context: dict[str, Any] = {
        "unit": unit,
        **queries.surroundings(unit, current_user),
        "guidance": guidance_for(unit, period_of(today)),
        "period": period_of(today),
        "template": current_template(unit),
        "edit": rules.form_values(unit),
        "add": {"kind": "branch"},
        "move": {},
        "errors": {"edit": {}, "add": {}, "move": {}, "active": {}},
        "kinds": UNIT_KINDS,
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
    found = queries.search(current_user, q) if q else []
    return render_page("admin/unit_search.html", "admin/_unit_search.html", q=q, found=found)


def _load_unit_form(
    current_code: str | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any]]:
    """Validate the posted unit form; returns (data or None, raw values, errors).

    ``current_code``: the edited unit's code (kept as it is, even from before the code rule).
    """
    raw = form_data(request.form, UNIT_FIELDS)
    values = {key: value or "" for key, value in raw.items()}
    try:
        data = UnitSchema(today=clock.today(), current_code=current_code).load(raw)
    except ValidationError as exc:
        return None, values, plain_errors(exc.messages)
    data["name"] = squash(data["name"])
    return data, values, {}


@bp.post("/units/<int:unit_id>/edit")
@login_required
def unit_edit(unit_id: int) -> ResponseReturnValue:
    """Rename a unit, change its code or kind, or its branch profile."""
    unit = unit_in_scope(unit_id, ACTION)
    data, values, errors = _load_unit_form(unit.code)
    if data is not None:
        if queries.code_taken(data["code"], unit):
            errors["code"] = [_("Another unit already has this code.")]
        problem = queries.kind_problem(unit, data["kind"])
        if problem:
            errors["kind"] = [problem]
    if data is None or errors:
        return _render_unit(unit, 422, edit=values, errors=_errors(edit=errors))
    try:
        service.apply_edit(unit, data)
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
    elif data is not None and data["kind"] == "central":
        errors["kind"] = [_("The Central Committee is the top of the tree: no unit is above it.")]
    elif not parent.active:
        errors["_form"] = [_("This unit is deactivated; reactivate it first.")]
    if data is not None and queries.code_taken(data["code"]):
        errors["code"] = [_("Another unit already has this code.")]
    if data is None or errors:
        return _render_unit(parent, 422, add=values, errors=_errors(add=errors))
    try:
        child = service.add_unit(parent, data)
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
                code = rules.move_problem(unit, parent)
                problem = words.move_problem(code) if code else None
            if problem:
                errors["parent_code"] = [problem]
    if errors or parent is None:
        move_values = {"parent_code": raw.get("parent_code") or ""}
        return _render_unit(unit, 422, move=move_values, errors=_errors(move=errors))
    service.move_unit(unit, parent)
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
        problem = queries.deactivate_problem(unit, current_user)
    if problem:
        return _render_unit(unit, 422, errors=_errors(active={"_form": [problem]}))
    if unit.active != active:
        service.set_active(unit, active)
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
    with reading_phase():
        # The file is parsed with no transaction open, then checked in a read-only one.
        try:
            rows = read_rows(upload.filename, upload.stream)
        except SheetError as exc:
            return render_page(
                "admin/units_import.html",
                "admin/_units_import.html",
                422,
                root=root,
                report=None,
                file_error=str(exc),
            )
        report = check(rows, root)
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
    report = check(rows, root)
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
        created, updated = service.apply_import(report, root)
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
    # The file name carries the code, which may be from before the code rule (any
    # characters but spaces): ``response`` builds a header no code can break.
    name = file_name("units", unit.code, clock.today().isoformat())
    heading = Heading(_("Unit tree"), unit.name)
    return response(fmt, EXPORT_COLUMNS, export_rows(unit), name, "units", heading)
