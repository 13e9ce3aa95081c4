"""`flask privacy ...`: the retention purge (run it daily, e.g. from cron or a scheduler) and the
schedule it applies."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db

privacy_cli = AppGroup("privacy", help="Personal data: retention schedule and purge.")


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be purged, change nothing.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Apply the schedule as of this day (default: today).")
@click.option("--only", multiple=True, help="Only this class (repeatable); see `flask privacy schedule`.")
def purge_command(dry_run, today, only):
    """Apply the retention schedule: anonymise or delete what has been kept its full period."""
    from .retention import BY_KEY, purge

    unknown = [k for k in only if k not in BY_KEY]
    if unknown:
        raise click.UsageError(f"unknown class: {', '.join(unknown)} (known: {', '.join(BY_KEY)})")
    outcomes = purge(today.date() if today else None, dry_run=dry_run, only=list(only) or None,
                     origin="cli:privacy purge")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "due" if dry_run else "purged"
    for o in outcomes:
        click.echo(f"{o.data_class.key:28} {o.total:8} {verb}  (kept {o.period} {o.data_class.unit}, "
                   f"start event on or before {o.cutoff_day.isoformat()})")
    click.echo(("Dry run: nothing changed." if dry_run else "Done.") + f" Total {verb}: {sum(o.total for o in outcomes)}.")


@privacy_cli.command("schedule")
def schedule_command():
    """Print the retention schedule with the periods in force."""
    from .retention import SCHEDULE

    for c in SCHEDULE:
        click.echo(f"{c.key:28} {c.period():4} {c.unit:7} {c.setting}")


def register_cli(app) -> None:
    app.cli.add_command(privacy_cli)
