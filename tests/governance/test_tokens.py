"""Evaluators' API tokens: made by whoever may hold one, shown once, stored as a SHA-256 only,
verified while the token is active and its holder still may hold it, revoked by the holder or
the contract's admins."""
from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa


from participation.core.users import Role, RoleGrant, User
from participation.extensions import db
from participation.governance import tokens
from participation.governance.models import ApiToken

from .backoffice import AMP_ADMIN, EVA, FAC, MED, NAR_ADMIN, contract, post, staff, text  # noqa: F401  (staff: a fixture; names for the cases)

TOKEN_RE = re.compile(r'id="new-token"[^>]*value="([^"]+)"')


def user(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def url(slug="aix-marseille-provence") -> str:
    return f"/admin/governance/{contract(slug).id}/tokens"


def all_tokens() -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


# --- the services -----------------------------------------------------------------------------------


def test_a_token_is_stored_as_its_sha256_only(demo):
    token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    db.session.commit()
    assert raw.startswith(tokens.PREFIX) and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = db.session.execute(sa.select(ApiToken.__table__)).mappings().one()
    assert raw not in {str(v) for v in stored.values()}
    assert (stored["label"], stored["created_on"], stored["last_used_on"], stored["revoked_on"]) == (
        "Tableur", date.today(), None, None)


def test_two_tokens_are_different(demo):
    _a, first = tokens.issue(user(EVA), contract(), "A")
    _b, second = tokens.issue(user(EVA), contract(), "B")
    assert first != second


def test_verify_finds_the_token_and_records_the_day_it_was_used(demo):
    token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    db.session.commit()
    assert tokens.verify(raw) == token
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_on == date.today()


@pytest.mark.parametrize("raw", ["", "pgov_unknown", "x" * 5000, None, 42])
def test_verify_refuses_what_is_no_token(demo, raw):
    tokens.issue(user(EVA), contract(), "Tableur")
    assert tokens.verify(raw) is None


def test_verify_refuses_a_revoked_token(demo):
    token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    tokens.revoke(token)
    assert token.revoked_on == date.today()
    assert tokens.verify(raw) is None


def test_verify_refuses_a_token_whose_holder_is_disabled(demo):
    token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    user(EVA).is_enabled = False
    db.session.flush()
    assert tokens.verify(raw) is None
    assert token.last_used_on is None


def test_verify_refuses_a_token_whose_holder_lost_the_role(demo):
    _token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    for grant in list(user(EVA).grants):
        db.session.delete(grant)
    db.session.flush()
    db.session.expire_all()
    assert tokens.verify(raw) is None


def test_verify_refuses_a_token_whose_holder_now_only_covers_a_commune(demo):
    eva = user(EVA)
    _token, raw = tokens.issue(eva, contract(), "Tableur")
    grant = eva.grants[0]
    marseille = contract().communes[0]
    grant.commune_id = marseille.id
    grant.scope_key = RoleGrant.key_for(marseille.scope)
    db.session.flush()
    db.session.expire_all()
    assert tokens.verify(raw) is None


def test_verify_does_not_write_twice_on_the_same_day(demo):
    token, raw = tokens.issue(user(EVA), contract(), "Tableur")
    token.last_used_on = date.today() - timedelta(days=3)
    db.session.flush()
    assert tokens.verify(raw).last_used_on == date.today()
    assert tokens.verify(raw).last_used_on == date.today()


@pytest.mark.parametrize("email", [FAC, MED, NAR_ADMIN])
def test_only_the_contracts_evaluators_and_admins_get_a_token(demo, email):
    with pytest.raises(tokens.TokenError):
        tokens.issue(user(email), contract(), "Essai")
    assert all_tokens() == []


# --- the page ---------------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_never_again(staff):
    client = staff(EVA)
    resp = post(client, url(), {"label": "Tableur de l'évaluation"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    page = text(resp)
    assert "Copy it now: it is shown only once." in page
    raw = TOKEN_RE.search(page).group(1)
    (token,) = all_tokens()
    assert (token.user_id, token.contract_id, token.label) == (user(EVA).id, contract().id, "Tableur de l'évaluation")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    again = text(client.get(url()))
    assert raw not in again and "Tableur de l'évaluation" in again and "never" in again
    assert tokens.verify(raw) == token


def test_a_token_needs_a_name(staff):
    resp = post(staff(EVA), url(), {"label": " "})
    assert resp.status_code == 422
    assert "Name the token, e.g. the tool that will use it." in text(resp) and 'id="new-token"' not in text(resp)
    assert all_tokens() == []


def test_the_page_lists_only_ones_own_tokens_to_an_evaluator(staff):
    tokens.issue(user(AMP_ADMIN), contract(), "Outil de l'admin")
    tokens.issue(user(EVA), contract(), "Outil de Jean")
    db.session.commit()
    page = text(staff(EVA).get(url()))
    assert "Outil de Jean" in page and "Outil de l'admin" not in page


def test_the_contracts_admin_sees_and_revokes_the_evaluators_token(staff):
    token, raw = tokens.issue(user(EVA), contract(), "Outil de Jean")
    db.session.commit()
    client = staff(AMP_ADMIN)
    page = text(client.get(url()))
    assert "Other people's tokens for this contract" in page and "Outil de Jean" in page and "Jean Rossi" in page
    resp = post(client, f"/admin/governance/tokens/{token.id}/revoke", {})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url())
    assert all_tokens()[0].revoked_on == date.today()
    assert tokens.verify(raw) is None


def test_an_evaluator_revokes_their_own_token(staff):
    token, raw = tokens.issue(user(EVA), contract(), "Outil de Jean")
    db.session.commit()
    client = staff(EVA)
    assert post(client, f"/admin/governance/tokens/{token.id}/revoke", {}).status_code == 302
    db.session.expire_all()
    assert tokens.verify(raw) is None
    assert "revoked on" in text(client.get(url()))


def test_an_evaluator_cannot_revoke_someone_elses_token(staff):
    token, raw = tokens.issue(user(AMP_ADMIN), contract(), "Outil de l'admin")
    db.session.commit()
    assert post(staff(EVA), f"/admin/governance/tokens/{token.id}/revoke", {}).status_code == 403
    assert tokens.verify(raw) is not None


def test_another_contracts_admin_cannot_revoke_our_tokens(staff):
    token, raw = tokens.issue(user(EVA), contract(), "Outil de Jean")
    db.session.commit()
    assert post(staff(NAR_ADMIN), f"/admin/governance/tokens/{token.id}/revoke", {}).status_code == 403
    assert tokens.verify(raw) is not None


@pytest.mark.parametrize("email", [FAC, MED, NAR_ADMIN])
def test_others_reach_neither_the_page_nor_make_a_token(staff, email):
    client = staff(email)
    assert client.get(url()).status_code == 403
    assert post(client, url(), {"label": "Essai"}).status_code == 403
    assert all_tokens() == []


def test_unknown_tokens_and_contracts_are_404(staff):
    client = staff(EVA)
    assert client.get("/admin/governance/999999/tokens").status_code == 404
    assert post(client, "/admin/governance/tokens/999999/revoke", {}).status_code == 404


def test_a_holder_who_lost_the_role_may_still_revoke_their_token(staff):
    """Someone moved to a commune-wide role keeps a way to kill the tokens they made."""
    eva = user(EVA)
    token, _raw = tokens.issue(eva, contract(), "Outil de Jean")
    grant = eva.grants[0]
    marseille = contract().communes[0]
    grant.commune_id, grant.scope_key = marseille.id, RoleGrant.key_for(marseille.scope)
    db.session.commit()
    client = staff(EVA)
    assert client.get(url()).status_code == 403
    resp = post(client, f"/admin/governance/tokens/{token.id}/revoke", {})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/")
    assert all_tokens()[0].revoked_on == date.today()
    assert Role.evaluator == grant.role
