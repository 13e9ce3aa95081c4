"""Roles are granted on a scope and inherited downwards, never sideways or upwards."""
import pytest
import sqlalchemy as sa

from participation.core import permissions as perm
from participation.core.territories import Commune, Contract, Neighbourhood, Scope
from participation.core.users import Role, RoleGrant, User
from participation.extensions import db
from participation.links.models import ShortLink

CONTRACT = Scope(1)
COMMUNE = Scope(1, 10)
QUARTIER = Scope(1, 10, 100)


@pytest.mark.parametrize(
    "grant,target,expected",
    [
        (CONTRACT, CONTRACT, True),
        (CONTRACT, COMMUNE, True),
        (CONTRACT, QUARTIER, True),
        (COMMUNE, QUARTIER, True),
        (COMMUNE, COMMUNE, True),
        (COMMUNE, CONTRACT, False),
        (QUARTIER, COMMUNE, False),
        (QUARTIER, Scope(1, 10, 101), False),
        (COMMUNE, Scope(1, 11, 110), False),
        (CONTRACT, Scope(2), False),
        (CONTRACT, Scope(2, 10, 100), False),
    ],
)
def test_scope_covers_only_what_lies_inside(grant, target, expected):
    assert grant.covers(target) is expected


def test_scope_level():
    assert (CONTRACT.level, COMMUNE.level, QUARTIER.level) == ("contract", "commune", "neighbourhood")


def _user(*grants):
    user = User(email="x@y.z", name="X", is_enabled=True)
    user.grants = [RoleGrant(role=r, contract_id=s.contract_id, commune_id=s.commune_id, neighbourhood_id=s.neighbourhood_id) for r, s in grants]
    return user


def test_has_role_needs_the_role_and_the_scope():
    user = _user((Role.mediator, QUARTIER))
    assert perm.has_role(user, {Role.mediator}, QUARTIER)
    assert not perm.has_role(user, {Role.admin}, QUARTIER)
    assert not perm.has_role(user, {Role.mediator}, COMMUNE)


def test_superadmin_has_every_role_everywhere():
    user = User(email="r@y.z", name="R", is_superadmin=True, is_enabled=True)
    assert perm.has_role(user, {Role.admin}, Scope(99, 1, 2))


def test_a_commune_admin_cannot_manage_an_account_that_also_works_elsewhere():
    admin = _user((Role.admin, COMMUNE))
    staff = _user((Role.mediator, QUARTIER), (Role.mediator, Scope(1, 11, 110)))
    assert perm.can_view_staff(admin, staff)
    assert not perm.can_manage_account(admin, staff)
    assert perm.can_manage_account(_user((Role.admin, CONTRACT)), staff)


def test_scope_clause_lists_only_rows_inside_the_callers_scopes(app, demo):
    """A facilitator of Marseille sees Marseille's links, not the contract-wide one, not Aix's."""
    facilitator = db.session.scalar(sa.select(User).filter_by(email="animatrice@amp.demo"))
    visible = db.session.scalars(
        sa.select(ShortLink.code).where(
            perm.scope_clause(facilitator, perm.LINK_MANAGERS, ShortLink.contract_id, ShortLink.commune_id, ShortLink.neighbourhood_id)
        )
    ).all()
    assert visible == ["FRVAX26"]
    admin = db.session.scalar(sa.select(User).filter_by(email="admin@amp.demo"))
    all_amp = db.session.scalars(
        sa.select(ShortLink.code).where(
            perm.scope_clause(admin, perm.LINK_MANAGERS, ShortLink.contract_id, ShortLink.commune_id, ShortLink.neighbourhood_id)
        )
    ).all()
    assert sorted(all_amp) == ["AMPCV26", "FRVAX26"]
    narbonne_admin = db.session.scalar(sa.select(User).filter_by(email="admin@narbonne.demo"))
    assert db.session.scalars(
        sa.select(ShortLink.code).where(
            perm.scope_clause(narbonne_admin, perm.LINK_MANAGERS, ShortLink.contract_id, ShortLink.commune_id, ShortLink.neighbourhood_id)
        )
    ).all() == []


def test_database_refuses_a_neighbourhood_grant_without_its_commune(app, demo):
    user = db.session.scalar(sa.select(User).filter_by(email="mediateur@amp.demo"))
    n = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01306M"))
    db.session.add(RoleGrant(user_id=user.id, role=Role.mediator, contract_id=n.commune.contract_id, neighbourhood_id=n.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_the_same_grant_twice(app, demo):
    user = db.session.scalar(sa.select(User).filter_by(email="evaluation@amp.demo"))
    contract = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    db.session.add(RoleGrant(user_id=user.id, role=Role.evaluator, contract_id=contract.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_neighbourhood_scope_names_its_commune_and_contract(app, demo):
    n = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    assert n.scope == Scope(marseille.contract_id, marseille.id, n.id)
