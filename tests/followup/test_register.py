"""The public register of demands to institutions: what it lists, in which order, its filters."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.core.territories import Category, Neighbourhood
from participation.extensions import db
from participation.followup.models import Kind, Status

from .conftest import days_ago, institution, make_demand, sent

REGISTER = "/c/aix-marseille-provence/follow-up"


def titles_in(html: str, *titles: str) -> list[str]:
    """The given titles in the order the page shows them."""
    found = [(html.find(t), t) for t in titles if t in html]
    return [t for _pos, t in sorted(found)]


def row_of(html: str, title: str) -> str:
    """The register row (<li>…</li>) showing `title`."""
    rows = re.findall(r'(<li class="followup-item[^"]*">.*?</li>)', html, re.S)
    found = [r for r in rows if title in r]
    assert len(found) == 1, f"{title!r} is in {len(found)} rows"
    return found[0]


def test_drafts_are_not_listed(client, world):
    make_demand(world.amp, "Brouillon secret", qpv="QN01322M")
    make_demand(world.amp, "Demande envoyée", qpv="QN01322M", steps=(sent(3),))
    db.session.commit()
    html = client.get(REGISTER + "?lang=en").get_data(as_text=True)
    assert "Demande envoyée" in html
    assert "Brouillon secret" not in html


def test_overdue_demand_is_highlighted_with_words_and_listed_first(client, world):
    make_demand(world.amp, "Récente à l'heure", qpv="QN01322M", steps=(sent(2),))
    make_demand(world.amp, "Ancienne en retard", qpv="QN01322M", steps=(sent(90, due_in=30),))
    db.session.commit()
    html = client.get(REGISTER + "?lang=en").get_data(as_text=True)
    assert titles_in(html, "Récente à l&#39;heure", "Ancienne en retard") == ["Ancienne en retard", "Récente à l&#39;heure"]
    row = row_of(html, "Ancienne en retard")
    assert 'class="followup-item followup-item--overdue"' in row and "Overdue" in row
    assert "Waiting for an answer for" in row and "90 days" in row


def test_a_demand_due_today_is_not_yet_overdue(client, world):
    make_demand(world.amp, "Échéance aujourd'hui", qpv="QN01322M", steps=(sent(30, due_in=30),))
    db.session.commit()
    html = client.get(REGISTER + "?lang=en").get_data(as_text=True)
    row = row_of(html, "Échéance aujourd&#39;hui")
    assert "followup-item--overdue" not in row and "Overdue" not in row


def test_answered_demand_past_its_promised_action_day_is_overdue(client, world):
    make_demand(world.amp, "Action promise oubliée", qpv="QN01322M", steps=(
        sent(60), (Status.answered, days_ago(40), {"answer": "Nous le ferons.", "action_due_on": days_ago(10)})))
    db.session.commit()
    row = row_of(client.get(REGISTER + "?lang=en&overdue=1").get_data(as_text=True), "Action promise oubliée")
    assert "Overdue" in row and "Answered after" in row and "20 days" in row


def test_more_recently_sent_comes_first_among_those_on_time(client, world):
    make_demand(world.amp, "Envoyée il y a dix jours", qpv="QN01322M", steps=(sent(10),))
    make_demand(world.amp, "Envoyée hier", qpv="QN01322M", steps=(sent(1),))
    db.session.commit()
    html = client.get(REGISTER).get_data(as_text=True)
    assert titles_in(html, "Envoyée il y a dix jours", "Envoyée hier") == ["Envoyée hier", "Envoyée il y a dix jours"]


def test_filter_by_kind_and_status(client, world):
    make_demand(world.amp, "Une interpellation", qpv="QN01322M", steps=(sent(5),))
    make_demand(world.amp, "Une recommandation", qpv="QN01322M", kind=Kind.recommendation, steps=(sent(5),))
    make_demand(world.amp, "Une réponse reçue", qpv="QN01322M",
                steps=(sent(5), (Status.answered, days_ago(1), {"answer": "Oui."})))
    db.session.commit()
    html = client.get(REGISTER + "?kind=recommendation").get_data(as_text=True)
    assert "Une recommandation" in html and "Une interpellation" not in html
    html = client.get(REGISTER + "?status=answered").get_data(as_text=True)
    assert "Une réponse reçue" in html and "Une interpellation" not in html


def test_filter_by_institution(client, world):
    make_demand(world.amp, "À la CAF", qpv="QN01322M", steps=(sent(5),))
    make_demand(world.amp, "Au bailleur", qpv="QN01322M", to=institution(world.amp, "Bailleur social"), steps=(sent(5),))
    db.session.commit()
    html = client.get(REGISTER + f"?institution={institution(world.amp, 'Bailleur social').id}").get_data(as_text=True)
    assert "Au bailleur" in html and "À la CAF" not in html


def test_filter_by_neighbourhood_includes_commune_and_contract_wide_demands(client, world):
    make_demand(world.amp, "Pour Frais Vallon", qpv="QN01322M", steps=(sent(5),))
    make_demand(world.amp, "Pour Malpassé", qpv="QN01323M", steps=(sent(5),))
    make_demand(world.amp, "Pour tout Marseille", insee="13055", steps=(sent(5),))
    make_demand(world.amp, "Pour tout Aix", insee="13001", steps=(sent(5),))
    make_demand(world.amp, "Pour toute la métropole", steps=(sent(5),))
    db.session.commit()
    frais_vallon = db.session.scalar(sa.select(Neighbourhood.id).filter_by(qpv_code="QN01322M"))
    html = client.get(REGISTER + f"?neighbourhood={frais_vallon}").get_data(as_text=True)
    for shown in ("Pour Frais Vallon", "Pour tout Marseille", "Pour toute la métropole"):
        assert shown in html
    for hidden in ("Pour Malpassé", "Pour tout Aix"):
        assert hidden not in html


def test_filter_by_a_defi_includes_its_sub_themes(client, world):
    top = db.session.scalar(sa.select(Category).where(Category.contract_id == world.amp.id, Category.parent_id.is_(None),
                                                      Category.children.any()))
    child = top.children[0]
    other = db.session.scalar(sa.select(Category).where(Category.contract_id == world.amp.id, Category.parent_id.is_(None),
                                                        Category.id != top.id))
    make_demand(world.amp, "Classée au sous-thème", qpv="QN01322M", category_id=child.id, steps=(sent(5),))
    make_demand(world.amp, "Classée ailleurs", qpv="QN01322M", category_id=other.id, steps=(sent(5),))
    db.session.commit()
    html = client.get(REGISTER + f"?category={top.id}").get_data(as_text=True)
    assert "Classée au sous-thème" in html and "Classée ailleurs" not in html


def test_overdue_only(client, world):
    make_demand(world.amp, "À l'heure", qpv="QN01322M", steps=(sent(2),))
    make_demand(world.amp, "En retard", qpv="QN01322M", steps=(sent(90, due_in=30),))
    db.session.commit()
    html = client.get(REGISTER + "?overdue=1").get_data(as_text=True)
    assert "En retard" in html and "À l&#39;heure" not in html


def test_another_contracts_demands_are_not_listed(client, world):
    make_demand(world.nar, "Demande de Narbonne", qpv="QN01101M", steps=(sent(5),))
    db.session.commit()
    assert "Demande de Narbonne" not in client.get(REGISTER).get_data(as_text=True)
    assert "Demande de Narbonne" in client.get("/c/grand-narbonne/follow-up").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "kind=nope", "status=draft", "status=%C3%A9t%C3%A9", "institution=abc", "institution=999999", "institution=٣",
    "neighbourhood=-1", "category=1e9", "overdue=yes", "page=0", "page=x", "page=99999999999999999999",
])
def test_junk_filters_are_ignored_with_a_message(client, world, query):
    make_demand(world.amp, "Toujours là", qpv="QN01322M", steps=(sent(5),))
    db.session.commit()
    resp = client.get(f"{REGISTER}?lang=en&{query}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Toujours là" in html
    assert 'class="error"' in html


def test_a_filter_of_another_contract_is_refused(client, world):
    nar_caf = institution(world.nar, "CAF")
    resp = client.get(f"{REGISTER}?lang=en&institution={nar_caf.id}")
    assert "Choose an institution from the list." in resp.get_data(as_text=True)


def test_empty_states(client, world):
    html = client.get("/c/grand-narbonne/follow-up?lang=en").get_data(as_text=True)
    assert "No demand has been sent to an institution yet." in html
    html = client.get("/c/grand-narbonne/follow-up?lang=en&overdue=1").get_data(as_text=True)
    assert "No demand matches these filters." in html


def test_pagination_shows_fifty_per_page(client, world):
    for n in range(52):
        make_demand(world.nar, f"Demande numéro {n:02d}", qpv="QN01101M", steps=(sent(n + 1),))
    db.session.commit()
    first = client.get("/c/grand-narbonne/follow-up?lang=en").get_data(as_text=True)
    assert "52 demands" in first and "Page 1 of 2" in first
    assert first.count('class="followup-item') == 50 and "Demande numéro 00" in first
    second = client.get("/c/grand-narbonne/follow-up?lang=en&page=2").get_data(as_text=True)
    assert second.count('class="followup-item') == 2 and "Demande numéro 51" in second


def test_htmx_request_gets_the_results_fragment_only(client, world):
    make_demand(world.amp, "Pour le fragment", qpv="QN01322M", steps=(sent(5),))
    db.session.commit()
    resp = client.get(REGISTER + "?kind=interpellation", headers={"HX-Request": "true", "HX-Target": "followup-results"})
    html = resp.get_data(as_text=True)
    assert "Pour le fragment" in html and "<html" not in html
    assert "HX-Request" in resp.headers["Vary"]


def test_unknown_contract_is_404(client, world):
    assert client.get("/c/nowhere/follow-up").status_code == 404
