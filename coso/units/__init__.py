"""The union's unit tree: its rules, its pages, its spreadsheet import and export.

The pages attach to the ``admin`` blueprint (endpoints ``admin.unit*``); the
``import-units`` command loads a whole tree from a spreadsheet.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from coso import audit
from coso.extensions import db
from coso.units import imports, service


@click.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only report what would happen.")
@with_appcontext
def import_units(file: Path, dry_run: bool) -> None:
    """Import units from CSV or XLSX (code, name, kind, parent_code): all rows or none."""
    with file.open("rb") as stream:
        try:
            rows = imports.read_rows(file.name, stream)
        except imports.ImportError_ as exc:
            raise click.ClickException(str(exc)) from exc
    report = imports.check(rows, root=None)
    for row in report.errors:
        click.echo(f"row {row.number} ({row.code or '-'}): {'; '.join(row.errors)}", err=True)
    if not report.rows:
        raise click.ClickException("no rows to import")
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} row(s) with errors; nothing was imported")
    if dry_run:
        creates = sum(row.action == "create" for row in report.rows)
        click.echo(f"dry run: {creates} to create, {len(report.rows) - creates} to update")
        return
    created, updated = service.apply_import(report, root=None)
    audit.record("units.import", file=file.name, created=created, updated=updated)
    db.session.commit()
    click.echo(f"imported: {created} created, {updated} updated")


def init_app(app: Flask) -> None:
    """Attach the unit pages to the admin blueprint (before it is registered); add the command."""
    # Imported here, not at the top: the views pull in the web layer (the admin blueprint,
    # the pages' helpers), which the rules, the import and the command do not need.
    from coso.units import views  # noqa: F401

    app.cli.add_command(import_units)
