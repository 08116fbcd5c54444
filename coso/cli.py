"""Commands: ``flask --app app seed-demo | import-units | refresh-flags |
apply-settings``."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from coso import audit
from coso.extensions import db
from coso.models import Unit


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Wipe a database that already holds data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
@click.option("--branches", default=200, show_default=True, help="How many branches.")
@click.option("--months", default=6, show_default=True, help="Months of evaluations.")
@click.option("--communes", default=None, type=int, help="Commune unions (default: branches/10).")
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed.")
@with_appcontext
def seed_demo(
    force: bool, if_empty: bool, branches: int, months: int, communes: int | None, random_seed: int
) -> None:
    """Load a realistic demo province (refuses a non-empty database without --force)."""
    from coso import demo

    has_data = bool(db.session.scalar(sa.select(sa.func.count()).select_from(Unit)))
    if has_data and if_empty and not force:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    if has_data and not force:
        raise click.ClickException(
            "The database already holds data; run with --force to replace it with the demo."
        )
    if branches < 5 or months < 1 or months > 60:
        raise click.BadParameter("need at least 5 branches and 1 to 60 months")
    summary = demo.seed(
        branches=branches,
        months=months,
        communes=communes,
        random_seed=random_seed,
        wipe=force,
        progress=lambda msg: click.echo(msg),
    )
    click.echo(summary)
    click.secho(
        f"Demo users {', '.join(demo.DEMO_USERS)} — password '{demo.DEMO_PASSWORD}'. "
        "WARNING: for the demo only; never use these on a real server.",
        fg="yellow",
    )


@click.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only report what would happen.")
@with_appcontext
def import_units(file: Path, dry_run: bool) -> None:
    """Import units from CSV or XLSX (code, name, kind, parent_code): all rows or none."""
    from coso import unit_import

    with file.open("rb") as stream:
        try:
            rows = unit_import.read_rows(file.name, stream)
        except unit_import.ImportError_ as exc:
            raise click.ClickException(str(exc)) from exc
    report = unit_import.check(rows, root=None)
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
    created, updated = unit_import.apply(report, root=None)
    audit.record("units.import", file=file.name, created=created, updated=updated)
    db.session.commit()
    click.echo(f"imported: {created} created, {updated} updated")


@click.command("refresh-flags")
@with_appcontext
def refresh_flags() -> None:
    """Recompute every branch's state from its evaluations, and apply 'overdue'."""
    from coso import status

    counts = status.refresh_all()
    db.session.commit()
    click.echo(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())))


@click.command("apply-settings")
@click.option("--unit", "unit_code", default=None, help="Only this unit's subtree (default: all).")
@with_appcontext
def apply_settings(unit_code: str | None) -> None:
    """Re-judge branch states under the settings in force (when changed outside the app)."""
    from coso.admin.rejudge import rejudge

    if unit_code:
        roots = list(db.session.scalars(sa.select(Unit).where(Unit.code == unit_code)))
        if not roots:
            raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="--unit")
    else:
        roots = list(db.session.scalars(sa.select(Unit).where(Unit.parent_id.is_(None))))
    for root in roots:
        summary = rejudge(root)
        audit.record("settings.apply", unit_id=root.id, rejudged=summary.as_dict())
        db.session.commit()
        click.echo(
            f"{root.code}: {summary.evaluations} evaluations judged again, "
            f"{summary.branches} branch states recomputed"
        )


def init_app(app: Flask) -> None:
    for command in (seed_demo, import_units, refresh_flags, apply_settings):
        app.cli.add_command(command)
