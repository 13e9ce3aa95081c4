"""The governance dashboard: the demo contract's figures for its evaluator, a facilitator kept
to their commune, refusals, a bad selection answered 400 with its message and the form, small
counts shown as "s" (never the count), residents' words shown only once published, numbers in
the page's language, and the back office's link to it."""
from __future__ import annotations

import html
import re
from datetime import date
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.demo import register_loader
from participation.core.territories import Category, Commune, Contract, Neighbourhood
from participation.extensions import db
from participation.governance import demo as governance_demo
from participation.governance.models import Verbatim, VerbatimOrigin, VerbatimStatus
from participation.questionnaires import builder
from participation.questionnaires import views as _questionnaires  # noqa: F401  (its demo loader runs first)
from participation.questionnaires.models import Response, Status

from ..conftest import Auth

# The governance demo (indicators with baselines and targets, entered values, verbatims): a no-op
# once the référentiel's views register it.
register_loader(governance_demo.load)

EVA = "evaluation@amp.demo"
FAC = "animatrice@amp.demo"
MED = "mediateur@amp.demo"
COM = "comite@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"
AMP_ADMIN = "admin@amp.demo"

PUBLISHED_FR = "Le soir, on rentre vite : il n'y a plus de lumière après le parking."
PUBLISHED_AR = "نحب حيّنا، لكن المصعد معطّل منذ أشهر."
PENDING = "Les fins de mois, on choisit entre la cantine et l'électricité."
REJECTED = "Le gardien du bâtiment C ne fait rien, il faut le renvoyer."


def amp() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


def nar() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))


def hood(code: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def commune(insee: str) -> Commune:
    return db.session.scalar(sa.select(Commune).filter_by(contract_id=amp().id, insee_code=insee))


def category(code: str, contract: Contract | None = None) -> Category:
    return db.session.scalar(sa.select(Category).filter_by(contract_id=(contract or amp()).id, code=code))


@pytest.fixture
def staff(app, demo):
    def login(email):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        return client

    return login


def url(contract_id: int | None = None, **args) -> str:
    args.setdefault("lang", "en")
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/admin/governance/{contract_id or amp().id}?{query}"


def page(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def plain(markup: str) -> str:
    """Text of some markup, no-break spaces as spaces (narrow ones, French thousands, are kept)."""
    return re.sub(r"<[^>]+>", "", markup).replace("\u00a0", " ")


class Tables(HTMLParser):
    """The rows (cell texts, spaces collapsed) of the table with id `table_id`."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth, self.rows, self.row, self.cell = table_id, 0, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += 1 if tag not in ("br", "img", "input") else 0
        elif tag == "table" and attrs.get("id") == self.table_id:
            self.depth = 1
        if not self.depth:
            return
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell.append(data)


def table(resp, table_id: str) -> list[list[str]]:
    parser = Tables(table_id)
    parser.feed(resp.get_data(as_text=True))
    assert parser.rows, f"no table #{table_id}"
    return parser.rows


def card(resp, key: str) -> str:
    match = re.search(rf'id="gv-card-{re.escape(key.replace(".", "-"))}".*?<dd class="gv-value">(.*?)</dd>',
                      resp.get_data(as_text=True), re.S)
    assert match, f"no card for {key}"
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(match.group(1))).split())


# --- who sees what ------------------------------------------------------------------------------


def test_the_evaluator_sees_the_demo_contracts_figures_and_words(staff):
    resp = staff(EVA).get(url())
    assert resp.status_code == 200
    body = page(resp)
    assert "Governance dashboard" in body and "Contrat de ville Aix-Marseille-Provence" in body
    # Headline figures of the demo: its 240 barometer responses and its two table meetings.
    assert card(resp, "questionnaires.responses") == "240"
    assert card(resp, "tables.meetings") == "2"
    # Each figure year by year, as a chart and as a table with a caption.
    assert 'id="gv-chart-questionnaires-responses"' in body and 'role="img"' in body
    rows = table(resp, "gv-chart-questionnaires-responses-table")
    assert rows[0] == ["Year", "Questionnaire responses"]
    assert ["All these years", "240"] in rows
    # Neighbourhoods side by side: Frais Vallon has 84 of the barometer's responses.
    compare = table(resp, "gv-compare")
    column = compare[0].index("Questionnaire responses")
    frais_vallon = next(r for r in compare if r[0].startswith("Frais Vallon"))
    assert frais_vallon[column] == "84"
    # The référentiel: an indicator with its baseline, latest value and target, and its words.
    articles = re.findall(r'<article class="gv-indicator"[^>]*>(.*?)</article>', body, re.S)
    indicator = next(a for a in articles if "I-SECU" in a)
    assert "Baseline (2024)" in indicator and "Target (2030)" in indicator
    assert "31 %" in plain(indicator) and "45 %" in plain(indicator)
    assert PUBLISHED_FR in indicator
    assert '<blockquote lang="fr" dir="ltr">' in indicator
    assert re.search(r'<blockquote lang="ar" dir="rtl"><p>' + re.escape(PUBLISHED_AR), body)
    assert "Frais Vallon (Marseille) · 2025" in indicator
    # Who takes part, per dimension.
    assert table(resp, "gv-profile-age-band")[0][0] == "Age band"


def test_export_links_keep_the_selection(staff):
    frais_vallon = hood("QN01322M")
    resp = staff(EVA).get(url(neighbourhood=frais_vallon.id, **{"from": 2025, "to": 2026}))
    assert resp.status_code == 200
    links = re.findall(r'href="([^"]*/export\.(?:csv|xlsx|zip|pdf)[^"]*)"', resp.get_data(as_text=True))
    assert {re.search(r"export\.(\w+)", link).group(1) for link in links} == {"csv", "xlsx", "zip", "pdf"}
    for link in links:
        link = html.unescape(link)
        assert f"/admin/governance/{amp().id}/export." in link
        assert f"neighbourhood={frais_vallon.id}" in link and "from=2025" in link and "to=2026" in link


def test_a_facilitator_lands_on_their_commune_and_is_offered_only_it(staff):
    client = staff(FAC)
    resp = client.get(url())
    assert resp.status_code == 200
    body = page(resp)
    assert re.search(r'<p class="lead" id="gv-area"><bdi>Marseille</bdi> ·', body)
    communes = re.search(r'<select id="gv-commune" name="commune">(.*?)</select>', body, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", communes) == ["Marseille"]
    hoods = re.search(r'<select id="gv-neighbourhood" name="neighbourhood">(.*?)</select>', body, re.S).group(1)
    assert "Frais Vallon" in hoods and "Encagnane" not in hoods and "Aix-en-Provence" not in hoods
    # No whole-contract comparison either: only Marseille's neighbourhoods.
    compare = [r[0] for r in table(resp, "gv-compare")[1:-1]]
    assert any(label.startswith("Frais Vallon") for label in compare)
    assert not any("Aix-en-Provence" in label for label in compare)
    # One of her neighbourhoods: shown.
    assert client.get(url(neighbourhood=hood("QN01322M").id)).status_code == 200


@pytest.mark.parametrize("where", ["commune", "neighbourhood"])
def test_a_facilitator_is_refused_other_communes(staff, where):
    target = commune("13001").id if where == "commune" else hood("QN01302M").id  # Aix, Encagnane
    assert staff(FAC).get(url(**{where: target})).status_code == 403


@pytest.mark.parametrize("email", [MED, COM, NAR_ADMIN])
def test_other_roles_are_refused(staff, email):
    assert staff(email).get(url()).status_code == 403


def test_anonymous_visitors_are_sent_to_login(app, demo):
    resp = app.test_client().get(url())
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_an_unknown_contract_is_not_found(staff):
    client = staff(EVA)
    assert client.get("/admin/governance/999999").status_code == 404
    assert client.get("/admin/governance/99999999999").status_code == 404


def test_the_admin_of_the_contract_sees_it_and_the_other_contract_admin_sees_theirs(staff):
    assert staff(AMP_ADMIN).get(url()).status_code == 200
    resp = staff(NAR_ADMIN).get(url(nar().id))
    assert resp.status_code == 200
    assert "Contrat de ville du Grand Narbonne" in page(resp)


# --- bad selections -----------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    ({"from": "x"}, "“x” is not a whole number."),
    ({"from": "٣"}, "is not a whole number."),
    ({"from": "2010"}, "The contract runs from 2024 to 2030: choose years in between."),
    ({"from": "2026", "to": "2025"}, "The first year comes after the last one."),
    ({"commune": "999999"}, "This commune is not part of the contract."),
    ({"commune": "99999999999"}, "This commune is not part of the contract."),  # beyond PostgreSQL's integers
    ({"neighbourhood": "narbonne"}, "This neighbourhood is not part of the contract."),
    ({"commune": "aix", "neighbourhood": "frais-vallon"}, "This neighbourhood is not in the chosen commune."),
    ({"category": "narbonne"}, "This défi or orientation is not part of the contract's référentiel."),
])
def test_a_bad_selection_answers_400_with_its_message_and_the_form(staff, args, message):
    values = {
        "narbonne": lambda k: (hood("QN01101M").id if k == "neighbourhood" else category("A1", nar()).id),
        "aix": lambda k: commune("13001").id,
        "frais-vallon": lambda k: hood("QN01322M").id,
    }
    args = {k: (values[v](k) if v in values else v) for k, v in args.items()}
    resp = staff(EVA).get(url(**args))
    assert resp.status_code == 400
    body = page(resp)
    assert 'id="gv-error"' in body and message in body
    assert '<form method="get"' in body and 'id="gv-from"' in body and 'id="gv-category"' in body
    assert 'id="gv-headline"' not in body


# --- protection ---------------------------------------------------------------------------------


@pytest.fixture
def five_in_corsy(demo):
    """Five responses from Corsy (Aix-en-Provence), a neighbourhood with none in the demo."""
    corsy = hood("QN01303M")
    q = builder.create_questionnaire(corsy.commune, "Enquête d'Aix", "fr")
    builder.add_question(q.current_version.sections[0], {"kind": "single", "text": "Votre avis ?"}, ["Oui", "Non"])
    builder.set_status(q, Status.open)
    for _ in range(5):
        db.session.add(Response(questionnaire_id=q.id, version_id=q.current_version.id, channel=Channel.web,
                                locale="fr", submitted_on=date.today(), neighbourhood_id=corsy.id))
    db.session.commit()
    return corsy


def test_a_neighbourhood_of_five_responses_shows_s_never_five(staff, five_in_corsy):
    client = staff(EVA)
    resp = client.get(url(commune=five_in_corsy.commune_id))
    assert resp.status_code == 200
    compare = table(resp, "gv-compare")
    column = compare[0].index("Questionnaire responses")
    corsy = next(r for r in compare if r[0].startswith("Corsy"))
    assert corsy[column] == "s"
    # Nothing in the commune's column lets the 5 be worked out: another cell is hidden too.
    assert sum(r[column] == "s" for r in compare[1:-1]) >= 2 or compare[-1][column] == "s"
    body = resp.get_data(as_text=True)
    assert "s: fewer than 11 people, not shown to protect privacy" in re.sub(r"<[^>]+>", "", html.unescape(body))

    resp = client.get(url(neighbourhood=five_in_corsy.id))
    assert card(resp, "questionnaires.responses") == "s"
    years = table(resp, "gv-chart-questionnaires-responses-table")
    this_year = next(r for r in years if r[0] == str(date.today().year))
    assert this_year[1] == "s" and "5" not in this_year[1]
    assert years[-1] == ["All these years", "s"]
    # The profile does not give it away either.
    totals = table(resp, "gv-profile-totals")
    questionnaires = next(r for r in totals if r[0] == "Questionnaires")
    assert questionnaires[1:] == ["s", "s"]


def test_only_published_words_are_shown(staff):
    body = page(staff(EVA).get(url()))
    assert PUBLISHED_FR in body and PUBLISHED_AR in body
    assert PENDING not in body and REJECTED not in body


def test_words_follow_the_selection(staff):
    client = staff(EVA)
    body = page(client.get(url(neighbourhood=hood("QN01323M").id)))  # Malpassé Corot
    assert "Depuis qu'il y a la médiatrice, je sors plus tranquille." in body
    assert PUBLISHED_FR not in body  # said in Frais Vallon
    body = page(client.get(url(**{"from": 2026, "to": 2026})))
    assert PUBLISHED_FR not in body  # said in 2025
    assert PUBLISHED_AR in body


def test_a_newly_published_word_appears_and_unpublishing_hides_it(staff):
    contract = amp()
    words = Verbatim(contract_id=contract.id, category_id=category("D7").id, text="Les jeunes veulent un local.",
                     locale="fr", year=2026, origin=VerbatimOrigin.other, status=VerbatimStatus.pending)
    db.session.add(words)
    db.session.commit()
    client = staff(EVA)
    assert "Les jeunes veulent un local." not in page(client.get(url()))
    words.status = VerbatimStatus.published
    db.session.commit()
    body = page(client.get(url()))
    assert "Les jeunes veulent un local." in body
    # Attached to a défi with no indicator: shown under that défi.
    assert re.search(r'id="gv-theme-%d".*Les jeunes veulent un local\.' % category("D7").id, body, re.S)


def test_the_category_filter_keeps_its_indicators_and_words(staff):
    d3 = category("D3")
    resp = staff(EVA).get(url(category=d3.id))
    assert resp.status_code == 200
    body = page(resp)
    assert "I-SECU" in body and PUBLISHED_FR in body
    assert "I-CADRE" not in body and PUBLISHED_AR not in body
    # Figures whose items carry no défi say so.
    assert "All défis: these items are not attached to one." in body


# --- language ----------------------------------------------------------------------------------


def test_numbers_are_written_the_page_languages_way(staff):
    client = staff(EVA)
    english = page(client.get(url()))
    french = page(client.get(url(lang="fr")))
    # The I-BUDGET target, 1,200 voters.
    assert "1,200 votants" in plain(english)
    assert re.search(r"1\u202f200 votants", plain(french))
    arabic = client.get(url(lang="ar"))
    assert arabic.status_code == 200
    assert '<html lang="ar" dir="rtl">' in arabic.get_data(as_text=True)
    assert 'direction="rtl"' in arabic.get_data(as_text=True)  # the charts are mirrored


def test_the_back_office_links_to_the_dashboard_for_its_readers(staff):
    link = f'href="/admin/governance/{amp().id}"'
    for email in (EVA, FAC, AMP_ADMIN):
        assert link in staff(email).get("/admin/").get_data(as_text=True), email
    for email in (MED, COM, NAR_ADMIN):
        assert link not in staff(email).get("/admin/").get_data(as_text=True), email
