"""Public FPH pages: the fund, funded projects, the follow page; never a resident's name or
contact; short-link targets and neighbourhood openings."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db
from participation.fph import links
from participation.fph.models import CommitteeSession

from .test_funds_support import FRAIS_VALLON, MALPASSE, grant, hood, make_application, make_fund


def test_the_fund_page_explains_the_rules_the_ceiling_and_how_to_apply(client, demo):
    fund = make_fund(ceiling=1200, rules="Les projets doivent être collectifs.")
    html = client.get(f"/fph/{fund.id}?lang=en").get_data(as_text=True)
    assert "Les projets doivent être collectifs." in html and "1,200" in html
    assert f"/fph/{fund.id}/apply" in html


def test_the_fund_page_shows_the_next_committee_session(client, demo):
    fund = make_fund()
    day = date.today() + timedelta(days=10)
    db.session.add(CommitteeSession(fund_id=fund.id, held_on=day, place="Centre social"))
    db.session.commit()
    assert day.isoformat() in client.get(f"/fph/{fund.id}").get_data(as_text=True)


def test_a_closed_fund_page_says_so_without_the_apply_button(client, demo):
    fund = make_fund(accepting=False)
    html = client.get(f"/fph/{fund.id}?lang=en").get_data(as_text=True)
    assert "does not take applications" in html and f"/fph/{fund.id}/apply" not in html


def test_only_funded_projects_are_listed_and_never_a_contact(client, demo):
    fund = make_fund()
    funded, _s = make_application(fund, title="Jardin partagé")
    make_application(fund, title="Projet en attente")
    grant(funded, 900)
    for url in (f"/fph/{fund.id}", f"/fph/{fund.id}/projects"):
        html = client.get(url).get_data(as_text=True)
        assert "Jardin partagé" in html and "Les voisins du B" in html
        assert "Projet en attente" not in html
        assert "Awa Traoré" not in html and "0612345678" not in html and "awa@example.org" not in html


def test_the_follow_page_never_shows_the_contact(client, demo):
    fund = make_fund()
    _app, secret = make_application(fund)
    html = client.get(f"/fph/a/{secret}").get_data(as_text=True)
    assert "Awa Traoré" not in html and "0612345678" not in html


def test_projects_are_filtered_by_neighbourhood(client, demo):
    fund = make_fund(qpvs=(MALPASSE, FRAIS_VALLON))
    a, _s = make_application(fund, title="Projet Malpassé", neighbourhood_id=hood(MALPASSE).id)
    b, _s = make_application(fund, title="Projet Frais Vallon", neighbourhood_id=hood(FRAIS_VALLON).id)
    grant(a, 500)
    grant(b, 500)
    html = client.get(f"/fph/{fund.id}/projects?neighbourhood={hood(MALPASSE).id}").get_data(as_text=True)
    assert "Projet Malpassé" in html and "Projet Frais Vallon" not in html


def test_a_junk_neighbourhood_filter_shows_everything(client, demo):
    fund = make_fund()
    a, _s = make_application(fund, title="Projet Malpassé")
    grant(a, 500)
    for junk in ("abc", "99999", "٣", ""):
        resp = client.get(f"/fph/{fund.id}/projects?neighbourhood={junk}")
        assert resp.status_code == 200 and "Projet Malpassé" in resp.get_data(as_text=True)


def test_unknown_funds_and_secrets_are_404(client, demo):
    assert client.get("/fph/999999").status_code == 404
    assert client.get("/fph/999999/apply").status_code == 404
    assert client.get("/fph/a/NOTASECRET").status_code == 404
    assert client.get("/fph/a/" + "A" * 500).status_code == 404


def test_the_follow_page_shows_the_grant_and_its_conditions(client, demo):
    fund = make_fund()
    app, secret = make_application(fund)
    grant(app, 700, conditions="Fournir les factures.")
    html = client.get(f"/fph/a/{secret}").get_data(as_text=True)
    assert "700" in html and "Fournir les factures." in html and 'name="summary"' in html


def test_short_link_targets_cover_the_fund_pages(demo):
    fund = make_fund()
    contract = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    paths = {t.path for t in links.public_targets(contract)}
    assert {f"/fph/{fund.id}", f"/fph/{fund.id}/apply", f"/fph/{fund.id}/projects"} <= paths


def test_a_fund_taking_applications_opens_on_its_neighbourhood_page(app, demo):
    with app.test_request_context():
        before = [o.title for o in links.openings(hood(MALPASSE))]  # the demo fund of Malpassé Corot is open
    fund = make_fund(name="FPH ouvert")
    make_fund(name="FPH fermé", accepting=False)
    with app.test_request_context():
        titles = [o.title for o in links.openings(hood(MALPASSE))]
        assert titles == ["FPH ouvert", *before]  # newest first, the closed one left out
        assert links.openings(hood(FRAIS_VALLON)) == []
    assert fund.accepting
