"""Staff and roles in the back office: creating accounts, granting and revoking roles
inside one's own scopes, disabling accounts and ending their sessions."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext, ngettext

from participation.core.territories import Commune, Contract, Neighbourhood
from participation.core.users import ROLE_LABELS, Role, RoleGrant, StaffSession, User
from participation.extensions import db

from ..conftest import Auth, count

AMP_ADMIN = "admin@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"
MEDIATOR = "mediateur@amp.demo"
NEW_PASSWORD = "a-fresh-temporary-password"


# --- helpers ------------------------------------------------------------------------


def translated(app, locale: str, msgid: str, **variables) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid, **variables)


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def user_by_email(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def contract(slug: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.slug == slug))


def neighbourhood(qpv: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).where(Neighbourhood.qpv_code == qpv))


def grants_of(email: str) -> list[RoleGrant]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(RoleGrant).join(User, RoleGrant.user_id == User.id).where(User.email == email))
    )


def staff_form(email="nouvelle@amp.demo", name="Nadia Ouali", password=NEW_PASSWORD, role="mediator", scope=""):
    return {"email": email, "name": name, "password": password, "role": role, "scope": scope}


@pytest.fixture
def amp_admin(auth, demo):
    assert auth.login(AMP_ADMIN).status_code == 302
    return auth


def login_elsewhere(app, email: str) -> Auth:
    """A second browser (another phone, another computer) logged in as `email`."""
    other = Auth(app.test_client())
    assert other.login(email).status_code == 302
    assert other.client.get("/admin/").status_code == 200
    return other


def is_sent_to_login(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- creating staff ---------------------------------------------------------------


def test_admin_creates_staff_member_with_first_role(amp_admin, app):
    frais_vallon = neighbourhood("QN01322M")

    resp = amp_admin.post("/admin/staff/new", staff_form(scope=f"n{frais_vallon.id}"), form_page="/admin/staff/new")

    assert resp.status_code == 302
    created = user_by_email("nouvelle@amp.demo")
    assert created is not None and created.name == "Nadia Ouali"
    assert resp.headers["Location"].endswith(f"/admin/staff/{created.id}")
    [grant] = created.grants
    assert grant.role == Role.mediator
    assert (grant.contract_id, grant.commune_id, grant.neighbourhood_id) == (
        frais_vallon.commune.contract_id,
        frais_vallon.commune_id,
        frais_vallon.id,
    )
    assert grant.granted_by_id == user_by_email(AMP_ADMIN).id


def test_new_staff_password_is_stored_hashed(amp_admin):
    amp = contract("aix-marseille-provence")

    amp_admin.post("/admin/staff/new", staff_form(scope=f"c{amp.id}"), form_page="/admin/staff/new")

    created = user_by_email("nouvelle@amp.demo")
    assert NEW_PASSWORD not in created.password_hash
    assert created.password_hash.startswith("scrypt:")
    assert created.check_password(NEW_PASSWORD)


def test_new_staff_member_can_log_in_with_the_temporary_password(amp_admin, app):
    amp = contract("aix-marseille-provence")
    amp_admin.post("/admin/staff/new", staff_form(scope=f"c{amp.id}"), form_page="/admin/staff/new")

    newcomer = Auth(app.test_client())
    assert newcomer.login("nouvelle@amp.demo", NEW_PASSWORD).status_code == 302
    assert newcomer.client.get("/admin/").status_code == 200


def test_creating_with_an_existing_email_adds_the_role_to_that_account(amp_admin):
    air_bel = neighbourhood("QN01319M")
    users_before = count(User)

    resp = amp_admin.post(
        "/admin/staff/new",
        staff_form(email=MEDIATOR, name="Someone Else", scope=f"n{air_bel.id}", role="facilitator"),
        form_page="/admin/staff/new",
    )

    assert resp.status_code == 302
    assert count(User) == users_before
    grants = {(g.role, g.neighbourhood_id) for g in grants_of(MEDIATOR)}
    assert (Role.facilitator, air_bel.id) in grants
    assert (Role.mediator, neighbourhood("QN01322M").id) in grants


def test_creating_with_an_existing_email_does_not_change_its_password(amp_admin):
    hash_before = user_by_email(MEDIATOR).password_hash
    amp = contract("aix-marseille-provence")

    amp_admin.post(
        "/admin/staff/new",
        staff_form(email=MEDIATOR, password="an-attempt-to-take-over", scope=f"c{amp.id}", role="evaluator"),
        form_page="/admin/staff/new",
    )

    mediator = user_by_email(MEDIATOR)
    assert mediator.password_hash == hash_before
    assert not mediator.check_password("an-attempt-to-take-over")
    assert mediator.name == "Karim Haddad"


def test_existing_email_is_matched_whatever_its_case(amp_admin):
    users_before = count(User)
    amp = contract("aix-marseille-provence")

    resp = amp_admin.post(
        "/admin/staff/new",
        staff_form(email="Mediateur@AMP.demo", password="", scope=f"c{amp.id}", role="evaluator"),
        form_page="/admin/staff/new",
    )

    assert resp.status_code == 302
    assert count(User) == users_before
    assert Role.evaluator in {g.role for g in grants_of(MEDIATOR)}


def test_new_account_without_password_is_refused_with_a_clear_error(amp_admin, app):
    amp = contract("aix-marseille-provence")
    users_before, grants_before = count(User), count(RoleGrant)

    resp = amp_admin.post("/admin/staff/new", staff_form(password="", scope=f"c{amp.id}"), form_page="/admin/staff/new")

    assert resp.status_code == 422
    assert translated(app, "fr", "A new account needs a temporary password.") in text_of(resp)
    db.session.expire_all()
    assert (count(User), count(RoleGrant)) == (users_before, grants_before)
    assert user_by_email("nouvelle@amp.demo") is None


@pytest.mark.parametrize("scope_of", ["contract", "commune", "neighbourhood"])
def test_admin_cannot_grant_a_role_outside_their_scope(amp_admin, scope_of):
    narbonne = contract("grand-narbonne")
    value = {
        "contract": lambda: f"c{narbonne.id}",
        "commune": lambda: f"m{narbonne.communes[0].id}",
        "neighbourhood": lambda: f"n{neighbourhood('QN01101M').id}",
    }[scope_of]()
    users_before, grants_before = count(User), count(RoleGrant)

    resp = amp_admin.post("/admin/staff/new", staff_form(scope=value), form_page="/admin/staff/new")

    assert resp.status_code in (403, 422)
    db.session.expire_all()
    assert (count(User), count(RoleGrant)) == (users_before, grants_before)


def test_admin_cannot_grant_an_existing_staff_member_a_role_outside_their_scope(amp_admin):
    mediator = user_by_email(MEDIATOR)
    narbonne = contract("grand-narbonne")
    grants_before = count(RoleGrant)

    resp = amp_admin.post(
        f"/admin/staff/{mediator.id}/grants",
        {"role": "admin", "scope": f"c{narbonne.id}"},
        form_page=f"/admin/staff/{mediator.id}",
    )

    assert resp.status_code in (403, 422)
    db.session.expire_all()
    assert count(RoleGrant) == grants_before
    assert all(g.contract_id != narbonne.id for g in grants_of(MEDIATOR))


def test_new_staff_form_offers_only_scopes_of_the_admins_contract(amp_admin):
    body = text_of(amp_admin.client.get("/admin/staff/new"))

    assert "Frais Vallon" in body
    assert "Narbonne" not in body and "Razimbaud" not in body


def test_nul_byte_in_a_new_staff_members_name_is_not_a_server_error(amp_admin):
    amp = contract("aix-marseille-provence")

    resp = amp_admin.post(
        "/admin/staff/new", staff_form(name="Nadia\x00Ouali", scope=f"c{amp.id}"), form_page="/admin/staff/new"
    )

    assert resp.status_code < 500


# --- roles on an existing account ---------------------------------------------------


def test_admin_grants_a_role_to_an_existing_staff_member(amp_admin):
    mediator = user_by_email(MEDIATOR)
    air_bel = neighbourhood("QN01319M")

    resp = amp_admin.post(
        f"/admin/staff/{mediator.id}/grants",
        {"role": "mediator", "scope": f"n{air_bel.id}"},
        form_page=f"/admin/staff/{mediator.id}",
    )

    assert resp.status_code == 302
    assert (Role.mediator, air_bel.id) in {(g.role, g.neighbourhood_id) for g in grants_of(MEDIATOR)}


def test_granting_over_htmx_returns_only_the_roles_fragment_with_the_new_role(amp_admin, app):
    mediator = user_by_email(MEDIATOR)
    air_bel = neighbourhood("QN01319M")

    resp = amp_admin.post(
        f"/admin/staff/{mediator.id}/grants",
        {"role": "evaluator", "scope": f"n{air_bel.id}"},
        form_page=f"/admin/staff/{mediator.id}",
        headers={"HX-Request": "true"},
    )

    body = text_of(resp)
    assert resp.status_code == 200
    assert "<html" not in body.lower() and "<body" not in body.lower()
    with app.test_request_context(), force_locale("fr"):
        label = str(ROLE_LABELS[Role.evaluator])
    assert f"{label} — Air Bel (Marseille)" in body
    assert any("HX-Request" in v for v in resp.headers.get_all("Vary"))
    assert (Role.evaluator, air_bel.id) in {(g.role, g.neighbourhood_id) for g in grants_of(MEDIATOR)}


def test_htmx_grant_fragment_comes_with_an_empty_form_ready_for_the_next_grant(amp_admin):
    mediator = user_by_email(MEDIATOR)
    air_bel = neighbourhood("QN01319M")

    resp = amp_admin.post(
        f"/admin/staff/{mediator.id}/grants",
        {"role": "evaluator", "scope": f"n{air_bel.id}"},
        form_page=f"/admin/staff/{mediator.id}",
        headers={"HX-Request": "true"},
    )

    body = resp.get_data(as_text=True)
    assert 'name="csrf_token"' in body
    assert f'value="n{air_bel.id}" selected' not in body


def test_admin_revokes_a_role(amp_admin):
    mediator = user_by_email(MEDIATOR)
    [grant_id] = [g.id for g in mediator.grants]

    resp = amp_admin.post(
        f"/admin/staff/{mediator.id}/grants/{grant_id}/revoke", form_page=f"/admin/staff/{mediator.id}"
    )

    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant_id) is None
    assert grants_of(MEDIATOR) == []


def test_revoking_without_csrf_token_removes_nothing(amp_admin):
    mediator = user_by_email(MEDIATOR)
    [grant] = mediator.grants

    resp = amp_admin.client.post(f"/admin/staff/{mediator.id}/grants/{grant.id}/revoke")

    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant.id) is not None


def test_admin_cannot_revoke_a_role_outside_their_scope(amp_admin):
    sophie = user_by_email(NAR_ADMIN)
    [grant] = sophie.grants

    resp = amp_admin.post(f"/admin/staff/{sophie.id}/grants/{grant.id}/revoke")

    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant.id) is not None


def test_admin_cannot_remove_their_own_admin_role(amp_admin, app):
    me = user_by_email(AMP_ADMIN)
    [grant] = me.grants

    resp = amp_admin.post(
        f"/admin/staff/{me.id}/grants/{grant.id}/revoke", form_page=f"/admin/staff/{me.id}", follow_redirects=True
    )

    assert resp.status_code == 200
    assert translated(app, "fr", "You cannot remove your own administrator role.") in text_of(resp)
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant.id) is not None


# --- account: disable, re-enable, end sessions -------------------------------------------


def test_disabling_an_account_ends_its_open_sessions(amp_admin, app):
    mediator_browser = login_elsewhere(app, MEDIATOR)
    mediator = user_by_email(MEDIATOR)

    resp = amp_admin.post(f"/admin/staff/{mediator.id}/enabled", form_page=f"/admin/staff/{mediator.id}")

    assert resp.status_code == 302
    assert user_by_email(MEDIATOR).is_enabled is False
    assert is_sent_to_login(mediator_browser.client.get("/admin/"))


def test_disabled_account_cannot_log_in_again(amp_admin, app):
    mediator = user_by_email(MEDIATOR)
    amp_admin.post(f"/admin/staff/{mediator.id}/enabled", form_page=f"/admin/staff/{mediator.id}")

    again = Auth(app.test_client())
    resp = again.login(MEDIATOR)

    assert resp.status_code == 422
    assert is_sent_to_login(again.client.get("/admin/"))


def test_re_enabling_an_account_lets_the_person_log_in_again(amp_admin, app):
    mediator = user_by_email(MEDIATOR)
    toggle = f"/admin/staff/{mediator.id}/enabled"
    amp_admin.post(toggle, form_page=f"/admin/staff/{mediator.id}")

    resp = amp_admin.post(toggle, form_page=f"/admin/staff/{mediator.id}")

    assert resp.status_code == 302
    assert user_by_email(MEDIATOR).is_enabled is True
    login_elsewhere(app, MEDIATOR)  # asserts the login and the back office work


def test_admin_cannot_disable_their_own_account(amp_admin):
    me = user_by_email(AMP_ADMIN)

    resp = amp_admin.post(f"/admin/staff/{me.id}/enabled", form_page=f"/admin/staff/{me.id}")

    assert resp.status_code == 403
    assert user_by_email(AMP_ADMIN).is_enabled is True


def test_ending_all_sessions_logs_the_person_out_everywhere(amp_admin, app):
    phone = login_elsewhere(app, MEDIATOR)
    laptop = login_elsewhere(app, MEDIATOR)
    mediator = user_by_email(MEDIATOR)

    resp = amp_admin.post(f"/admin/staff/{mediator.id}/sessions/revoke", form_page=f"/admin/staff/{mediator.id}")

    assert resp.status_code == 302
    assert is_sent_to_login(phone.client.get("/admin/"))
    assert is_sent_to_login(laptop.client.get("/admin/"))


def test_ending_all_sessions_keeps_the_account_enabled(amp_admin, app):
    login_elsewhere(app, MEDIATOR)
    mediator = user_by_email(MEDIATOR)

    amp_admin.post(f"/admin/staff/{mediator.id}/sessions/revoke", form_page=f"/admin/staff/{mediator.id}")

    db.session.expire_all()
    open_sessions = db.session.scalar(
        sa.select(sa.func.count()).where(StaffSession.user_id == mediator.id, StaffSession.revoked_at.is_(None))
    )
    assert open_sessions == 0
    assert user_by_email(MEDIATOR).is_enabled is True
    login_elsewhere(app, MEDIATOR)


def test_ending_someone_elses_sessions_leaves_the_admin_logged_in(amp_admin, app):
    login_elsewhere(app, MEDIATOR)
    mediator = user_by_email(MEDIATOR)

    amp_admin.post(f"/admin/staff/{mediator.id}/sessions/revoke", form_page=f"/admin/staff/{mediator.id}")

    assert amp_admin.client.get("/admin/").status_code == 200


def test_admin_cannot_end_sessions_of_staff_of_another_contract(amp_admin, app):
    narbonne_browser = login_elsewhere(app, NAR_ADMIN)
    sophie = user_by_email(NAR_ADMIN)

    resp = amp_admin.post(f"/admin/staff/{sophie.id}/sessions/revoke")

    assert resp.status_code == 403
    assert narbonne_browser.client.get("/admin/").status_code == 200


# --- what each admin sees -----------------------------------------------------------------


def test_amp_staff_list_does_not_show_narbonne_staff(amp_admin):
    body = text_of(amp_admin.client.get("/admin/staff"))

    assert "Karim Haddad" in body and "Claire Martin" in body
    assert "Sophie Garcia" not in body and NAR_ADMIN not in body


def test_narbonne_staff_list_does_not_show_amp_staff(auth, demo):
    auth.login(NAR_ADMIN)

    body = text_of(auth.client.get("/admin/staff"))

    assert "Sophie Garcia" in body
    for name in ("Amina Benali", "Claire Martin", "Karim Haddad", "Fatou Diallo", "Jean Rossi"):
        assert name not in body


def test_admin_cannot_open_staff_of_another_contract(amp_admin):
    sophie = user_by_email(NAR_ADMIN)

    assert amp_admin.client.get(f"/admin/staff/{sophie.id}").status_code == 403


@pytest.fixture
def mediator_also_in_narbonne(demo):
    """Karim also facilitates in Narbonne: a grant the AMP admin must not see."""
    mediator = user_by_email(MEDIATOR)
    narbonne = contract("grand-narbonne")
    grant = RoleGrant(user=mediator, role=Role.facilitator, contract_id=narbonne.id)
    db.session.add(grant)
    db.session.commit()
    return grant.id


def test_staff_detail_shows_only_grants_inside_the_viewers_scopes(amp_admin, mediator_also_in_narbonne):
    mediator = user_by_email(MEDIATOR)

    body = text_of(amp_admin.client.get(f"/admin/staff/{mediator.id}"))

    assert "Frais Vallon (Marseille)" in body
    assert "Narbonne" not in body
    assert f"/grants/{mediator_also_in_narbonne}/revoke" not in body


def test_staff_detail_counts_the_hidden_grants(amp_admin, app, mediator_also_in_narbonne):
    mediator = user_by_email(MEDIATOR)

    body = text_of(amp_admin.client.get(f"/admin/staff/{mediator.id}"))

    with app.test_request_context(), force_locale("fr"):
        note = ngettext(
            "%(num)d other role outside your scopes.", "%(num)d other roles outside your scopes.", 1
        )
    assert note in body


def test_staff_detail_of_narbonne_admin_shows_the_narbonne_grant_and_hides_the_amp_one(
    auth, app, mediator_also_in_narbonne
):
    auth.login(NAR_ADMIN)
    mediator = user_by_email(MEDIATOR)

    body = text_of(auth.client.get(f"/admin/staff/{mediator.id}"))

    assert "Contrat de ville du Grand Narbonne" in body
    assert "Frais Vallon" not in body
    with app.test_request_context(), force_locale("fr"):
        assert ngettext("%(num)d other role outside your scopes.", "%(num)d other roles outside your scopes.", 1) in body


def test_admin_cannot_disable_an_account_that_also_works_in_another_contract(amp_admin, mediator_also_in_narbonne):
    mediator = user_by_email(MEDIATOR)

    resp = amp_admin.post(f"/admin/staff/{mediator.id}/enabled", form_page=f"/admin/staff/{mediator.id}")

    assert resp.status_code == 403
    assert user_by_email(MEDIATOR).is_enabled is True


def test_staff_detail_without_hidden_grants_shows_no_hidden_count(amp_admin, app):
    mediator = user_by_email(MEDIATOR)

    body = text_of(amp_admin.client.get(f"/admin/staff/{mediator.id}"))

    with app.test_request_context(), force_locale("fr"):
        singular = ngettext("%(num)d other role outside your scopes.", "%(num)d other roles outside your scopes.", 1)
    assert singular not in body


@pytest.mark.parametrize("email", ["animatrice@amp.demo", MEDIATOR, "evaluation@amp.demo"])
def test_staff_without_admin_role_cannot_list_or_create_staff(auth, demo, email):
    auth.login(email)

    assert auth.client.get("/admin/staff").status_code == 403
    assert auth.client.get("/admin/staff/new").status_code == 403


def test_new_staff_form_offers_the_communes_of_the_admins_contract(amp_admin):
    marseille = db.session.scalar(sa.select(Commune).where(Commune.insee_code == "13055"))

    body = amp_admin.client.get("/admin/staff/new").get_data(as_text=True)

    assert f'value="m{marseille.id}"' in body
