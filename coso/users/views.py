"""Users: list, create, edit roles and home unit, deactivate, reset a password, import.

Needs ``manage_users``, inside the manager's subtree; only an administrator
grants the admin role or changes an administrator's account, and nobody
changes their own roles, home unit or access (so nobody locks themselves out).
"""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, scope
from coso.admin.blueprint import bp
from coso.extensions import db, reading_phase
from coso.fields import form_data, plain_errors
from coso.models import Unit, User
from coso.spreadsheets import SheetError, sign_rows, unsign_rows
from coso.units.queries import unit_by_code
from coso.users import imports, queries, service
from coso.users.queries import username_taken
from coso.users.rules import ACTION, ROLES, generate_password, grantable_roles
from coso.users.schema import PasswordSchema, UserCreateSchema, UserEditSchema
from coso.users.words import password_problems, role_problem
from coso.web import PAGE_SIZE, page_arg, render_page, user_now

IMPORT_SALT = "coso.users.import"


def user_or_403(user_id: int) -> User:
    """A user the signed-in manager may change: 404 unknown, 403 otherwise."""
    scope.require(current_user, ACTION)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not queries.may_manage(current_user, user):
        abort(403, description=_("This account is outside what you may manage."))
    return user


@bp.get("/users")
@login_required
def users() -> ResponseReturnValue:
    """Users of my area, filtered by name, role and whether they may sign in."""
    scope.require(current_user, ACTION)
    q = request.args.get("q", "").strip()[:60]
    role = request.args.get("role", "")
    state = request.args.get("state", "")
    page = page_arg()
    return render_page(
        "admin/users.html",
        "admin/_users.html",
        result=queries.users_page(current_user, q, role, state, page, PAGE_SIZE),
        q=q,
        role=role,
        state=state,
        roles=ROLES,
    )


def _user_form(**context: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "values": {},
        "errors": {},
        "roles": grantable_roles(current_user),
    }
    base.update(context)
    return base


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new() -> ResponseReturnValue:
    """Create an account; without a password one is made up and shown once."""
    scope.require(current_user, ACTION)
    if request.method == "GET":
        values = {"unit_code": request.args.get("unit", "")[:40], "roles": []}
        return render_page(
            "admin/user_new.html", "admin/_user_new.html", **_user_form(values=values)
        )
    raw = form_data(request.form, ("username", "display_name", "unit_code"))
    raw["username"] = (raw["username"] or "").lower() or None
    raw["roles"] = request.form.getlist("roles")
    passwords = form_data(request.form, ("password", "password2"))
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = UserCreateSchema().load(raw)
    except ValidationError as exc:
        errors.update(plain_errors(exc.messages))
    try:
        PasswordSchema(username=raw["username"] or "").load(passwords)
    except ValidationError as exc:
        errors.update(plain_errors(exc.messages))
    unit = None
    if data:
        if queries.username_taken(data["username"]):
            errors["username"] = [_("This username is taken.")]
        problem = role_problem(current_user, None, data["roles"])
        if problem:
            errors["roles"] = [problem]
        unit, unit_problem = unit_by_code(data["unit_code"], current_user, ACTION)
        if unit_problem:
            errors["unit_code"] = [unit_problem]
    if errors or unit is None:
        values = {key: value or "" for key, value in raw.items()}
        return render_page(
            "admin/user_new.html",
            "admin/_user_new.html",
            422,
            **_user_form(values=values, errors=errors),
        )
    password = passwords["password"] or generate_password()
    try:
        user = service.create_user(data, unit, password)
        db.session.commit()
    except IntegrityError:
        # The same username was created between our check and our insert.
        db.session.rollback()
        values = {key: value or "" for key, value in raw.items()}
        errors = {"username": [_("This username is taken.")]}
        return render_page(
            "admin/user_new.html",
            "admin/_user_new.html",
            422,
            **_user_form(values=values, errors=errors),
        )
    if passwords["password"]:
        flash(_("Account %(name)s created.", name=user.username), "info")
        return redirect(url_for("admin.user", user_id=user.id), code=303)
    return render_page(
        "admin/password_shown.html",
        "admin/_password_shown.html",
        target=user,
        password=password,
        created=True,
    )


def _user_page(user: User, status: int = 200, **context: Any) -> ResponseReturnValue:
    values = {
        "display_name": user.display_name,
        "roles": user.role_list,
        "unit_code": user.unit.code,
    }
    full = _user_form(
        target=user,
        values=values,
        password_errors={},
        active_error=None,
        is_self=user.id == current_user.id,
    )
    full.update(context)
    return render_page("admin/user.html", "admin/_user.html", status, **full)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: int) -> ResponseReturnValue:
    """See and change an account: name, roles, home unit."""
    target = user_or_403(user_id)
    if request.method == "GET":
        return _user_page(target)
    raw = form_data(request.form, ("display_name", "unit_code"))
    raw["roles"] = request.form.getlist("roles")
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = UserEditSchema().load(raw)
    except ValidationError as exc:
        errors.update(plain_errors(exc.messages))
    unit = None
    if data:
        problem = role_problem(current_user, target, data["roles"])
        if problem:
            errors["roles"] = [problem]
        unit, unit_problem = unit_by_code(data["unit_code"], current_user, ACTION)
        if unit_problem:
            errors["unit_code"] = [unit_problem]
        elif unit is not None and target.id == current_user.id and unit.id != target.unit_id:
            errors["unit_code"] = [_("You cannot change your own home unit.")]
    if errors or unit is None:
        values = {key: value or "" for key, value in raw.items()}
        values["roles"] = raw["roles"]
        return _user_page(target, 422, values=values, errors=errors)
    service.update_user(target, data, unit)
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<int:user_id>/password")
@login_required
def user_password(user_id: int) -> ResponseReturnValue:
    """Set a new password, or make one up (shown once) when both fields are empty."""
    target = user_or_403(user_id)
    passwords = form_data(request.form, ("password", "password2"))
    try:
        PasswordSchema(username=target.username).load(passwords)
    except ValidationError as exc:
        return _user_page(target, 422, password_errors=plain_errors(exc.messages))
    password = passwords["password"] or generate_password()
    service.reset_password(target, password)
    db.session.commit()
    if passwords["password"]:
        flash(_("The password of %(name)s was changed.", name=target.username), "info")
        return redirect(url_for("admin.user", user_id=target.id), code=303)
    return render_page(
        "admin/password_shown.html",
        "admin/_password_shown.html",
        target=target,
        password=password,
        created=False,
    )


@bp.post("/users/<int:user_id>/active")
@login_required
def user_active(user_id: int) -> ResponseReturnValue:
    """Deactivate an account (its sessions stop working at once) or bring it back."""
    target = user_or_403(user_id)
    if request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form.get("active") == "1"
    if not active and target.id == current_user.id:
        return _user_page(target, 422, active_error=_("You cannot deactivate your own account."))
    if target.active != active:
        service.set_active(target, active)
        db.session.commit()
    flash(_("Reactivated.") if active else _("Deactivated."), "info")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


# --- Spreadsheet import


def _import_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    base: dict[str, Any] = {"report": None, "file_error": None, "token": None}
    base.update(context)
    return render_page("admin/users_import.html", "admin/_users_import.html", status, **base)


@bp.route("/users/import", methods=["GET", "POST"])
@login_required
def users_import() -> ResponseReturnValue:
    """Upload a list of users: a dry run shows every row's fate and changes nothing."""
    scope.require(current_user, ACTION)
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(422, file_error=_("Choose a .csv or .xlsx file."))
    with reading_phase():
        # The file is parsed with no transaction open, then checked in a read-only one.
        try:
            rows = imports.read_rows(upload.filename, upload.stream)
        except SheetError as exc:
            return _import_page(422, file_error=str(exc))
        report = imports.check(rows, user_now())
    return _import_page(
        200 if report.ok else 422,
        report=report,
        filename=upload.filename,
        token=sign_rows(rows, IMPORT_SALT) if report.ok else None,
    )


@bp.post("/users/import/apply")
@login_required
def users_import_apply() -> ResponseReturnValue:
    """Apply a checked list: every row, or none if anything changed since the dry run."""
    scope.require(current_user, ACTION)
    rows = unsign_rows(request.form.get("token", ""), IMPORT_SALT)
    filename = request.form.get("filename", "")[:200]
    if rows is None:
        return _import_page(422, file_error=_("This dry run has expired. Upload the file again."))
    manager = user_now()
    report = imports.check(rows, manager)
    if not report.ok:
        return _import_page(
            422,
            report=report,
            filename=filename,
            file_error=_("The data changed since the dry run; nothing was imported."),
        )
    try:
        created, updated, generated = imports.apply(report, manager)
        audit.record(
            "users.import", unit_id=manager.unit_id, file=filename, created=created, updated=updated
        )
        db.session.commit()
    except IntegrityError:
        # Another change landed between the check and the writes: nothing was kept.
        db.session.rollback()
        return _import_page(
            422, file_error=_("The data changed since the dry run; nothing was imported.")
        )
    return _import_page(
        done={"created": created, "updated": updated}, generated=generated, filename=filename
    )


@click.command("create-user")
@click.argument("username")
@click.option("--roles", required=True, help=f"Comma-separated, from: {', '.join(ROLES)}.")
@click.option("--unit", "unit_code", required=True, help="Home unit code (bounds what they see).")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.password_option(help="Asked for, not echoed, when not given.")
@with_appcontext
def create_user(
    username: str, roles: str, unit_code: str, display_name: str | None, password: str
) -> None:
    """Create a user with roles and a home unit."""
    username = username.strip().lower()
    role_list = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = set(role_list) - set(ROLES)
    if not role_list or unknown:
        raise click.BadParameter(f"roles must be from {', '.join(ROLES)}", param_hint="--roles")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="--unit")
    if username_taken(username):
        raise click.ClickException(f"user {username!r} already exists")
    problems = password_problems(password, username)
    if problems:
        raise click.ClickException("; ".join(problems))
    user = User(username=username, display_name=display_name or username, unit=unit)
    user.role_list = role_list
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", obj=user, unit_id=unit.id, username=username, roles=role_list)
    db.session.commit()
    click.echo(f"Created {username} ({', '.join(role_list)}) at {unit.name}.")
