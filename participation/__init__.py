"""participation: resident participation in the contrats de ville (app factory)."""
from pathlib import Path

from flask import Flask

from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class=None) -> Flask:
    if config_class is None:
        from config import DevelopmentConfig as config_class
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    check = getattr(config_class, "check", None)
    if check:
        check()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):]).parent.mkdir(
            parents=True, exist_ok=True
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(app)  # before CSRF, so that requests refused for CSRF are counted too
    csrf.init_app(app)
    htmx.init_app(app)

    from .core import i18n, security, errors, templating
    from .accounts.services import init_login

    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    init_login(app, login_manager)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from .core.views import bp as core_bp
    from .accounts.views import bp as accounts_bp
    from .territories.views import bp as territories_bp
    from .links.views import bp as links_bp
    from .admin.views import bp as admin_bp
    from .budgets.views import bp as budgets_bp
    from .budgets.admin_views import bp as budgets_admin_bp
    from .questionnaires.views import routes as questionnaire_routes

    from .followup.views import routes as followup_routes
    from .tables.views import routes as table_routes
    from .fph.views import routes as fph_routes
    from .walks.views import routes as walk_routes
    from .field.views import routes as field_routes
    from .governance.views import routes as governance_routes
    from .privacy.views import routes as privacy_routes
    from .core import audit, jobs

    for bp in (core_bp, accounts_bp, territories_bp, links_bp, admin_bp, budgets_bp, budgets_admin_bp,
               *questionnaire_routes(), *followup_routes(), *table_routes(), *fph_routes(),
               *walk_routes(), *field_routes(), *governance_routes(), *privacy_routes(),
               *audit.routes(), *jobs.routes()):
        app.register_blueprint(bp)

    from .core.cli import register_cli

    register_cli(app)
    from .core.backup import register_cli as register_backup_cli
    from .privacy.cli import register_cli as register_privacy_cli

    register_backup_cli(app)
    register_privacy_cli(app)
    audit.init_app(app)
    jobs.init_app(app)
    return app
