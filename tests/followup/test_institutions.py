"""Each contract's editable list of institutions (on a contract of its own: the demo data
has institutions already)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from participation.core.territories import Commune, Contract
from participation.core.users import User
from participation.extensions import db
from participation.followup import services
from participation.followup.models import Institution, InstitutionKind


ADMIN = "root@followup.test"
PASSWORD = "a-long-test-password"


@pytest.fixture
def demo(demo):
    """The demo data, a bare contract with two communes, and a platform administrator."""
    contract = Contract(slug="contrat-test", name="Contrat test", period_start=2024, period_end=2030)
    contract.communes = [Commune(insee_code="99001", name="Alpha"), Commune(insee_code="99002", name="Beta")]
    root = User(email=ADMIN, name="Root", is_superadmin=True)
    root.set_password(PASSWORD)
    db.session.add_all([contract, root])
    db.session.commit()
    return demo


def bare() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug="contrat-test"))


def names(contract: Contract) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Institution.name).filter_by(contract_id=contract.id).order_by(Institution.name)))


def page(contract: Contract) -> str:
    return f"/admin/followup/institutions/{contract.id}"


def test_usual_institutions_cover_each_commune_and_the_usual_partners(demo):
    contract = bare()
    added = services.ensure_default_institutions(contract)
    kinds = [i.kind for i in added]
    assert kinds.count(InstitutionKind.city) == len(contract.communes)
    assert "Ville d'Alpha" in names(contract)
    for kind in (InstitutionKind.metropolis, InstitutionKind.state, InstitutionKind.caf, InstitutionKind.landlord):
        assert kind in kinds


def test_usual_institutions_are_added_once(demo):
    contract = bare()
    first = len(services.ensure_default_institutions(contract))
    assert first > 0
    assert services.ensure_default_institutions(contract) == []
    assert len(names(contract)) == first


def test_usual_institutions_button(auth, demo):
    contract = bare()
    auth.login(ADMIN, PASSWORD)
    resp = auth.post(page(contract), {"action": "defaults"}, form_page=page(contract))
    assert resp.status_code == 302
    assert "CAF" in names(contract)
    again = auth.post(page(contract), {"action": "defaults"}, form_page=page(contract))
    assert again.status_code == 302
    assert names(contract).count("CAF") == 1


def test_add_an_institution(auth, demo):
    contract = bare()
    auth.login(ADMIN, PASSWORD)
    resp = auth.post(page(contract), {"new-name": "13 Habitat", "new-kind": "landlord", "new-answer_days": "45"},
                     form_page=page(contract))
    assert resp.status_code == 302
    added = db.session.scalar(sa.select(Institution).filter_by(contract_id=contract.id, name="13 Habitat"))
    assert (added.kind, added.answer_days, added.active) == (InstitutionKind.landlord, 45, True)


def test_a_name_already_on_the_list_is_refused(auth, demo):
    contract = bare()
    services.add_institution(contract, "13 Habitat", InstitutionKind.landlord)
    db.session.commit()
    auth.client.get("/?lang=en")
    auth.login(ADMIN, PASSWORD)
    resp = auth.post(page(contract), {"new-name": "13 habitat", "new-kind": "landlord", "new-answer_days": "45"},
                     form_page=page(contract))
    assert resp.status_code == 422
    assert "An institution already has this name." in resp.get_data(as_text=True)
    assert names(contract) == ["13 Habitat"]


def test_junk_institution_fields_are_refused(auth, demo):
    contract = bare()
    auth.login(ADMIN, PASSWORD)
    for data in ({"new-name": "X", "new-kind": "palace", "new-answer_days": "10"},
                 {"new-name": "X", "new-kind": "city", "new-answer_days": "0"},
                 {"new-name": "X", "new-kind": "city", "new-answer_days": "²"},
                 {"new-name": "", "new-kind": "city", "new-answer_days": "10"}):
        assert auth.post(page(contract), data, form_page=page(contract)).status_code == 422
    assert names(contract) == []


def test_rename_and_change_days(auth, demo):
    contract = bare()
    caf = services.add_institution(contract, "CAF", InstitutionKind.caf)
    db.session.commit()
    auth.login(ADMIN, PASSWORD)
    resp = auth.post(f"{page(contract)}/{caf.id}", {f"i{caf.id}-name": "CAF des Bouches-du-Rhône",
                                                    f"i{caf.id}-kind": "caf", f"i{caf.id}-answer_days": "30"},
                     form_page=page(contract))
    assert resp.status_code == 302
    db.session.expire_all()
    caf = db.session.get(Institution, caf.id)
    assert (caf.name, caf.answer_days) == ("CAF des Bouches-du-Rhône", 30)


def test_retire_and_reactivate(auth, demo):
    contract = bare()
    caf = services.add_institution(contract, "CAF", InstitutionKind.caf)
    db.session.commit()
    auth.login(ADMIN, PASSWORD)
    assert auth.post(f"{page(contract)}/{caf.id}", {"action": "retire"}, form_page=page(contract)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Institution, caf.id).active is False
    assert services.active_institutions(contract.id) == []
    assert auth.post(f"{page(contract)}/{caf.id}", {"action": "reactivate"}, form_page=page(contract)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Institution, caf.id).active is True


def test_an_institution_of_another_contract_is_404(auth, demo):
    contract = bare()
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    foreign = services.add_institution(nar, "CAF de l'Aude", InstitutionKind.caf)
    db.session.commit()
    auth.login(ADMIN, PASSWORD)
    resp = auth.post(f"{page(contract)}/{foreign.id}", {"action": "retire"}, form_page=page(contract))
    assert resp.status_code == 404
