"""Back office of tables de quartier: creating a table (scope from its neighbourhoods, only
neighbourhoods one manages, facilitators of the contract), editing it, the scoped list."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.core.territories import Commune, Contract, Neighbourhood, Scope
from participation.core.users import User
from participation.extensions import db
from participation.tables import services
from participation.tables.models import NeighbourhoodTable

from ..conftest import count, csrf_from

FAC = "animatrice@amp.demo"  # facilitator, commune of Marseille
MED = "mediateur@amp.demo"  # mediator, Frais Vallon
ADMIN = "admin@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"


def nb(code: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def user(email: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(email=email))


def named(name: str) -> list[NeighbourhoodTable]:
    return list(db.session.scalars(sa.select(NeighbourhoodTable).filter_by(name=name)))


def make_table(codes=("QN01322M", "QN01323M"), name="Table test", facilitators=()) -> NeighbourhoodTable:
    table = services.create_table(name, [nb(c) for c in codes], facilitators=facilitators)
    db.session.commit()
    return table


def post_create(client, auth, data, lang="en"):
    page = client.get(f"/admin/tables/new?lang={lang}")
    assert page.status_code == 200
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    return client.post("/admin/tables/new", data=payload)


# --- scope --------------------------------------------------------------------------------


def test_one_neighbourhood_gives_the_neighbourhood_scope(demo):
    assert services.narrowest_scope([nb("QN01322M")]) == nb("QN01322M").scope


def test_neighbourhoods_of_one_commune_give_the_commune_scope(demo):
    fv = nb("QN01322M")
    assert services.narrowest_scope([fv, nb("QN01323M")]) == Scope(fv.commune.contract_id, fv.commune_id)


def test_neighbourhoods_of_two_communes_give_the_contract_scope(demo):
    fv = nb("QN01322M")
    assert services.narrowest_scope([fv, nb("QN01302M")]) == Scope(fv.commune.contract_id)


def test_neighbourhoods_of_two_contracts_are_refused(demo):
    with pytest.raises(services.TableError) as e:
        services.narrowest_scope([nb("QN01322M"), nb("QN01101M")])
    assert e.value.code == "two_contracts"


def test_no_neighbourhood_is_refused(demo):
    with pytest.raises(services.TableError):
        services.narrowest_scope([])


def test_set_neighbourhoods_writes_the_scope_columns(demo):
    table = make_table(("QN01322M",))
    services.set_neighbourhoods(table, [nb("QN01322M"), nb("QN01302M")])
    assert (table.commune_id, table.neighbourhood_id) == (None, None)
    assert {n.qpv_code for n in table.neighbourhoods} == {"QN01322M", "QN01302M"}


def test_a_neighbourhood_the_user_does_not_manage_is_refused(demo):
    table = make_table(("QN01322M",))
    with pytest.raises(services.TableError) as e:
        services.set_neighbourhoods(table, [nb("QN01322M"), nb("QN01302M")], user(FAC))  # Aix: not hers
    assert e.value.code == "neighbourhood_not_managed"


def test_a_facilitator_of_another_contract_is_refused(demo):
    with pytest.raises(services.TableError) as e:
        services.create_table("T", [nb("QN01322M")], facilitators=[user(NAR_ADMIN)])
    assert e.value.code == "facilitator_elsewhere"


def test_a_committee_member_cannot_be_a_facilitator(demo):
    with pytest.raises(services.TableError):
        services.create_table("T", [nb("QN01322M")], facilitators=[user("comite@amp.demo")])


# --- creation through the pages --------------------------------------------------------------


def test_facilitator_creates_a_table_of_two_marseille_neighbourhoods(client, auth, demo):
    auth.login(FAC)
    fv, mc = nb("QN01322M"), nb("QN01323M")
    resp = post_create(client, auth, {"name": "Table du 13e", "description": "Ouverte à tous.",
                                      "usual_place": "Centre social", "neighbourhoods": [str(fv.id), str(mc.id)],
                                      "facilitators": [str(user(MED).id)]})
    assert resp.status_code == 302
    table = db.session.scalar(sa.select(NeighbourhoodTable).filter_by(name="Table du 13e"))
    assert (table.commune_id, table.neighbourhood_id) == (fv.commune_id, None)
    assert [u.email for u in table.facilitators] == [MED]
    assert table.original_locale == "en"


def test_create_form_offers_only_managed_neighbourhoods(client, auth, demo):
    auth.login(FAC)
    html = client.get("/admin/tables/new").get_data(as_text=True)
    assert "Frais Vallon" in html
    assert "Encagnane" not in html  # Aix-en-Provence: not hers
    assert "Razimbaud" not in html


def test_posting_a_neighbourhood_not_offered_is_refused(client, auth, demo):
    before = count(NeighbourhoodTable)
    auth.login(FAC)
    resp = post_create(client, auth, {"name": "T", "neighbourhoods": [str(nb("QN01302M").id)]})
    assert resp.status_code == 422
    assert count(NeighbourhoodTable) == before and not named("T")


def test_creating_without_neighbourhood_shows_the_error_next_to_the_field(client, auth, demo):
    before = count(NeighbourhoodTable)
    auth.login(FAC)
    resp = post_create(client, auth, {"name": "T"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="neighbourhoods-error"' in html and "Tick at least one neighbourhood." in html
    assert count(NeighbourhoodTable) == before and not named("T")


@pytest.mark.parametrize("junk", ["abc", "-1", "٣", "99999999999999999999", ""])
def test_junk_neighbourhood_ids_are_refused_without_error(client, auth, demo, junk):
    before = count(NeighbourhoodTable)
    auth.login(FAC)
    resp = post_create(client, auth, {"name": "T", "neighbourhoods": [junk], "facilitators": [junk]})
    assert resp.status_code == 422
    assert count(NeighbourhoodTable) == before and not named("T")


def test_a_mediator_cannot_create_a_table(client, auth, demo):
    auth.login(MED)
    assert client.get("/admin/tables/new").status_code == 403


def test_evaluator_cannot_create_a_table(client, auth, demo):
    auth.login("evaluation@amp.demo")
    assert client.get("/admin/tables/new").status_code == 403


# --- list, page, edit -------------------------------------------------------------------------


def test_list_shows_tables_of_the_users_scope_only(client, auth, demo):
    make_table(name="Table de Marseille")
    narbonne = db.session.scalar(sa.select(Commune).filter_by(insee_code="11262"))
    services.create_table("Table de Narbonne", list(narbonne.neighbourhoods)[:1])
    db.session.commit()
    auth.login(FAC)
    html = client.get("/admin/tables/").get_data(as_text=True)
    assert "Table de Marseille" in html and "Table de Narbonne" not in html


def test_mediator_of_one_neighbourhood_sees_a_commune_table_spanning_it(client, auth, demo):
    make_table(name="Table de Marseille")
    auth.login(MED)
    html = client.get("/admin/tables/").get_data(as_text=True)
    assert "Table de Marseille" in html


def test_mediator_does_not_see_a_table_of_other_neighbourhoods(client, auth, demo):
    make_table(("QN01306M", "QN01319M"), name="Table du Nord")
    auth.login(MED)
    assert "Table du Nord" not in client.get("/admin/tables/").get_data(as_text=True)


def test_mediator_sees_the_table_page_without_the_settings_form(client, auth, demo):
    table = make_table()
    auth.login(MED)
    resp = client.get(f"/admin/tables/{table.id}")
    assert resp.status_code == 200
    assert f"/admin/tables/{table.id}/edit" not in resp.get_data(as_text=True)


def test_edit_renames_and_deactivates(client, auth, demo):
    table = make_table()
    auth.login(FAC)
    page = client.get(f"/admin/tables/{table.id}?lang=en").get_data(as_text=True)
    resp = client.post(f"/admin/tables/{table.id}/edit", data={
        "csrf_token": csrf_from(page), "name": "Nouveau nom", "neighbourhoods": [str(nb("QN01322M").id)]})
    assert resp.status_code == 302
    db.session.expire_all()
    table = db.session.get(NeighbourhoodTable, table.id)
    assert table.name == "Nouveau nom" and table.active is False
    assert table.neighbourhood_id == nb("QN01322M").id


def test_a_listed_facilitator_manages_the_table_outside_her_roles(client, auth, demo):
    # the mediator (Frais Vallon) named facilitator of a table of Frais Vallon and Malpassé Corot
    table = make_table(facilitators=[user(MED)])
    auth.login(MED)
    html = client.get(f"/admin/tables/{table.id}").get_data(as_text=True)
    assert f"/admin/tables/{table.id}/edit" in html
    assert client.get(f"/admin/tables/{table.id}/meetings/new").status_code == 200


def test_unknown_table_is_404(client, auth, demo):
    auth.login(FAC)
    assert client.get("/admin/tables/999999").status_code == 404


def test_contract_of_a_table_cannot_change(demo):
    table = make_table()
    with pytest.raises(services.TableError):
        services.set_neighbourhoods(table, [nb("QN01101M")])
    assert db.session.scalar(sa.select(Contract.slug).where(Contract.id == table.contract_id)) == "aix-marseille-provence"
