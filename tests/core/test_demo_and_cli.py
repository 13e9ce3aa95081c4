"""Demo data (idempotent, two isolated contracts), CLI commands, migrations."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from participation.core.territories import Category, CategoryKind, Commune, Contract, Neighbourhood
from participation.core.users import RoleGrant, User
from participation.extensions import db
from participation.links.models import ShortLink

from ..conftest import count

MODELS = (Contract, Commune, Neighbourhood, Category, User, RoleGrant, ShortLink)


def test_demo_data_is_idempotent(runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = {m.__name__: count(m) for m in MODELS}
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert {m.__name__: count(m) for m in MODELS} == counts
    assert "admin@amp.demo" in second.output and "demo-participation-2026" in second.output


def test_demo_has_the_aix_marseille_contract_with_real_places(app, demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    communes = {c.name: c.insee_code for c in amp.communes}
    assert len(communes) >= 4 and communes["Marseille"] == "13055" and communes["Aix-en-Provence"] == "13001"
    qpv = db.session.scalars(sa.select(Neighbourhood.name).join(Commune).where(Commune.contract_id == amp.id)).all()
    assert len(qpv) >= 10 and {"La Cayolle", "Air Bel", "Frais Vallon", "Beisson", "La Frescoule"} <= set(qpv)


def test_each_contract_has_its_own_referentiel(app, demo):
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    kinds = dict(
        db.session.execute(
            sa.select(Category.kind, sa.func.count()).where(Category.contract_id == amp.id).group_by(Category.kind)
        ).all()
    )
    assert kinds[CategoryKind.challenge] == 10 and kinds[CategoryKind.orientation] == 5
    assert kinds[CategoryKind.subtheme] >= 5
    nar_names = db.session.scalars(sa.select(Category.name).where(Category.contract_id == nar.id)).all()
    assert "Cohésion sociale" in nar_names and "Le défi du logement" not in nar_names


def test_create_admin_makes_a_platform_administrator(runner, app):
    result = runner.invoke(args=["create-admin", "--email", "Root@Example.fr", "--name", "Root", "--password", "a-long-password-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).filter_by(email="root@example.fr"))
    assert user.is_superadmin and user.check_password("a-long-password-1")


def test_create_admin_refuses_a_short_password(runner, app):
    result = runner.invoke(args=["create-admin", "--email", "r@example.fr", "--name", "R", "--password", "short"])
    assert result.exit_code != 0
    assert count(User) == 0


def test_models_and_migrations_agree(app):
    """The test database was built by the migrations: the models must describe it exactly."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
