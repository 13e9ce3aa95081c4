"""Staff and role management, and référentiel edits. Services flush; the view commits."""
from __future__ import annotations

import sqlalchemy as sa
from wtforms.fields.choices import SelectChoice

from ..accounts.services import find_user
from ..core import permissions as perm
from ..core.territories import Category, CategoryKind, Commune, Contract, Neighbourhood, Scope, top_categories
from ..core.users import Role, RoleGrant, User
from ..extensions import db


class RuleError(ValueError):
    """A request that breaks a rule; the message is shown to the user (already translated)."""


def scope_choices(user: User, allowed=perm.can_administer) -> list[SelectChoice]:
    """Every contract, commune and neighbourhood where `allowed(user, place)` holds, as form
    choices (by default: where the user administers)."""
    choices: dict[str, str] = {}
    contracts = db.session.scalars(
        sa.select(Contract)
        .order_by(Contract.name)
        .options(sa.orm.selectinload(Contract.communes).selectinload(Commune.neighbourhoods))
    )
    for contract in contracts:
        if allowed(user, contract):
            choices[f"c{contract.id}"] = contract.name
        for commune in contract.communes:
            if allowed(user, commune):
                choices[f"m{commune.id}"] = f"{contract.name} › {commune.name}"
            for n in commune.neighbourhoods:
                if allowed(user, n):
                    choices[f"n{n.id}"] = f"{contract.name} › {commune.name} › {n.name}"
    return [SelectChoice(value, label) for value, label in choices.items()]


def parse_scope(value: str):
    """'c1' / 'm3' / 'n7' → the Contract / Commune / Neighbourhood, or None."""
    model = {"c": Contract, "m": Commune, "n": Neighbourhood}.get(value[:1])
    if model is None or not value[1:].isdigit():
        return None
    return db.session.get(model, int(value[1:]))


def grant_role(granted_by: User, user: User, role: Role, target) -> RoleGrant:
    scope: Scope = target.scope
    existing = db.session.scalar(
        sa.select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.scope_key == RoleGrant.key_for(scope)
        )
    )
    if existing:
        return existing
    grant = RoleGrant(
        user=user,
        role=role,
        contract_id=scope.contract_id,
        commune_id=scope.commune_id,
        neighbourhood_id=scope.neighbourhood_id,
        granted_by_id=granted_by.id,
    )
    db.session.add(grant)
    db.session.flush()
    return grant


def create_staff(email: str, name: str, password: str | None) -> tuple[User, bool]:
    """Returns the account and whether it is new."""
    user = find_user(email)
    if user is not None:
        return user, False
    if not password:
        raise RuleError("password")
    user = User(email=email.strip().lower(), name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, True


def visible_staff(viewer: User):
    grant_in_scope = perm.scope_clause(
        viewer, perm.STAFF_MANAGERS, RoleGrant.contract_id, RoleGrant.commune_id, RoleGrant.neighbourhood_id
    )
    return (
        sa.select(User)
        .where(User.id.in_(sa.select(RoleGrant.user_id).where(grant_in_scope)))
        .order_by(User.name)
    )


def category_parent_choices(contract: Contract) -> list[SelectChoice]:
    tops = top_categories(contract)
    return [SelectChoice("", "—")] + [SelectChoice(str(c.id), f"{c.code} {c.name}") for c in tops]


def save_category(category: Category, contract: Contract, data: dict) -> Category:
    kind = CategoryKind(data["kind"])
    parent = None
    if data.get("parent"):
        parent = db.session.get(Category, int(data["parent"]))
        if parent is None or parent.contract_id != contract.id or parent.parent_id is not None:
            raise RuleError("parent")
        if parent.id == category.id:
            raise RuleError("parent")
    if (kind == CategoryKind.subtheme) != (parent is not None):
        raise RuleError("subtheme")
    code = data["code"].strip()
    clash = db.session.scalar(
        sa.select(Category.id).where(Category.contract_id == contract.id, Category.code == code, Category.id != (category.id or 0))
    )
    if clash:
        raise RuleError("code")
    if category.id is not None and category.children and parent is not None:
        raise RuleError("nesting")
    category.contract = contract
    category.kind = kind
    category.parent = parent
    category.code = code
    category.name = data["name"].strip()
    category.description = (data.get("description") or "").strip()
    category.position = data.get("position") or 0
    db.session.add(category)
    db.session.flush()
    return category
