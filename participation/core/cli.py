"""Command-line tools: `flask demo-data`, `flask create-admin`, `flask check-catalogs`."""
import click
from flask.cli import with_appcontext

from ..extensions import db


def register_cli(app) -> None:
    @app.cli.command("demo-data")
    @with_appcontext
    def demo_data():
        """Load the demo contracts, territories, référentiels and staff (idempotent)."""
        from .demo import DEMO_PASSWORD, DEMO_STAFF, demo_notes, load

        counts = load()
        db.session.commit()
        click.echo(f"Demo data ready: {counts['contracts']} contracts, {counts['neighbourhoods']} neighbourhoods, {counts['staff']} staff.")
        click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, _name, role, contract, path in DEMO_STAFF:
            where = " / ".join(path) if path else "whole contract"
            click.echo(f"  {email:24} {role.value:17} {contract} ({where})")
        for line in demo_notes():
            click.echo(line)

    @app.cli.command("purge-unsent-photos")
    @click.option("--hours", default=48, show_default=True, help="Keep photos of unfinished questionnaires this long.")
    @with_appcontext
    def purge_unsent_photos(hours):
        """Delete questionnaire photos attached to no answer (never sent) after some hours."""
        from datetime import timedelta

        from ..questionnaires.services import purge_unsent_photos as purge

        click.echo(f"{purge(timedelta(hours=hours))} unsent photos deleted.")

    @app.cli.command("purge-field-photos")
    @click.option("--days", default=30, show_default=True,
                  help="Keep photos uploaded by field tablets for a submission that has not come this long.")
    @with_appcontext
    def purge_field_photos(days):
        """Delete photos a tablet uploaded for a submission that never arrived."""
        from ..extensions import db
        from ..field.services import purge_staged

        count = purge_staged(days)
        db.session.commit()
        click.echo(f"{count} field photos deleted.")

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", prompt=True)
    @click.password_option()
    @with_appcontext
    def create_admin(email, name, password):
        """Create a platform administrator (or make an existing account one)."""
        from ..accounts.services import find_user
        from .users import User

        if len(password) < 12:
            raise click.UsageError("The password needs at least 12 characters.")
        user = find_user(email)
        if user is None:
            user = User(email=email.strip().lower(), name=name.strip())
            db.session.add(user)
        user.set_password(password)
        user.is_superadmin = True
        user.is_enabled = True
        db.session.commit()
        click.echo(f"Platform administrator ready: {user.email}")
