"""Demo FPH: the 2026 fund of Malpassé Corot (Marseille), its committee, five applications,
a closed committee session that decided three of them (two grants, one refusal, one recusal),
a funded project paid in two instalments with its bilan, and the next session, planned.

Built through the services (`services` for funds, applications, payments and bilans;
`committee` for the session), so the demo obeys the same rules as the app: the money moves
through `money.py`. Running `load()` twice adds nothing.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from ..core.channels import Assistance, Channel
from ..core.territories import Category, Neighbourhood
from ..core.users import User
from ..extensions import db
from . import committee, services
from .committee import Ruling
from .models import CommitteeSession, DecisionMode, Fund, MemberRole, Outcome, SessionStatus, SourceKind

FUND_NAME = "FPH Malpassé Corot 2026"
QPV = "QN01323M"
CHAIR_EMAIL = "comite@amp.demo"
MEDIATOR_EMAIL = "mediateur@amp.demo"
SESSION_DAY = date(2026, 3, 19)
SESSION_PLACE = "Centre social Malpassé, salle 2"
NEXT_PLACE = "Maison pour tous Corot"

SOURCES = [
    (SourceKind.state, "État (BOP 147)", 6000),
    (SourceKind.commune, "Ville de Marseille", 3000),
    (SourceKind.tfpb, "13 Habitat (abattement TFPB)", 1000),
]
#: (name, role, linked staff account)
MEMBERS = [
    ("Fatou Diallo", MemberRole.chair, CHAIR_EMAIL),
    ("Samia Khelifi", MemberRole.resident, None),
    ("Jean-Pierre Roux", MemberRole.resident, None),
    ("Aïcha Mansouri", MemberRole.resident, None),
    ("Rachid Ouali", MemberRole.resident, None),
    ("Hélène Garnier (centre social)", MemberRole.partner, None),
    ("Thomas Lefèvre (Ville de Marseille)", MemberRole.observer, None),
]


def _application(key, title, audience, description, place, starts, ends, collective, lines, category,
                 submitted_on, assisted=False):
    return {"key": key, "title": title, "audience": audience, "description": description, "place": place,
            "starts_on": starts, "ends_on": ends, "collective": collective, "lines": lines, "category": category,
            "submitted_on": submitted_on, "assisted": assisted}


APPLICATIONS = [
    _application(
        "fete", "Fête de quartier de l'été", "Toutes les familles de la cité, petits et grands",
        "Un après-midi festif au pied des bâtiments : jeux pour les enfants, musique, un grand repas partagé "
        "où chacun apporte un plat. L'idée est que les voisins se rencontrent, anciens et nouveaux arrivants.",
        "Square central de Corot", date(2026, 6, 20), date(2026, 6, 20), "Les voisins de Corot",
        [("Location de la sono", 350), ("Jeux et structure gonflable", 500), ("Boissons et vaisselle réutilisable", 350)],
        "D5", date(2026, 2, 3)),
    _application(
        "cuisine", "Atelier cuisine des enfants", "Enfants de 6 à 11 ans et leurs parents",
        "Six mercredis après-midi, les enfants cuisinent avec des mamans du quartier des recettes de tous les pays, "
        "puis on mange ensemble. On apprend à manger équilibré sans dépenser beaucoup.",
        "Cuisine du centre social", date(2026, 4, 15), date(2026, 6, 30), "Collectif des mamans de Malpassé",
        [("Ingrédients", 480), ("Tabliers et ustensiles", 220), ("Livret de recettes imprimé", 150)],
        "O5.3", date(2026, 2, 10), assisted=True),
    _application(
        "fresque", "Fresque murale avec les jeunes", "Jeunes de 14 à 20 ans",
        "Peindre une grande fresque sur le mur du bâtiment C avec un artiste du quartier, pendant les vacances "
        "de printemps, sur le thème « notre quartier demain ».",
        "Mur du bâtiment C", date(2026, 4, 20), date(2026, 5, 2), "Jeunes de Corot",
        [("Peinture et matériel", 700), ("Intervention de l'artiste", 800)],
        "O1.4", date(2026, 2, 14)),
    _application(
        "foot", "Tournoi de football inter-quartiers", "Jeunes de 12 à 17 ans, filles et garçons",
        "Un tournoi sur le city stade avec les équipes de Frais Vallon et de la Busserine, arbitré par des "
        "jeunes formés par le club, avec un goûter pour tous.",
        "City stade de Malpassé", date(2027, 4, 11), date(2027, 4, 11), "Association sportive Malpassé",
        [("Maillots", 400), ("Goûter", 150), ("Coupes et médailles", 100)],
        "D7", date(2026, 10, 5)),
    _application(
        "tricot", "Cercle de tricot intergénérationnel", "Voisines et voisins de tous âges",
        "Se retrouver chaque semaine pour tricoter ensemble des écharpes et des bonnets, offerts ensuite aux "
        "maraudes de l'hiver. Les anciennes apprennent aux plus jeunes.",
        "Salle commune du bâtiment A", date(2027, 1, 6), date(2027, 3, 31), "",
        [("Laine", 250), ("Aiguilles et crochets", 80)],
        None, date(2026, 11, 2)),
]

RECUSAL = ("Aïcha Mansouri", "cuisine", "Sa sœur fait partie du collectif des mamans")
#: (application key, ruling)
DECISIONS = [
    ("fete", Ruling(Outcome.granted, votes_for=5, votes_against=0, abstentions=0, amount=1200)),
    ("cuisine", Ruling(Outcome.granted, votes_for=4, votes_against=0, abstentions=0, amount=800,
                       conditions="Acheter les ingrédients chez les commerçants du quartier ; "
                                  "envoyer le bilan avec les tickets de caisse.")),
    ("fresque", Ruling(Outcome.refused, votes_for=1, votes_against=3, abstentions=1,
                       reason="Le mur appartient à la copropriété voisine, qui n'a pas donné son accord. "
                              "Vous pouvez déposer le projet de nouveau avec l'accord écrit du syndic.")),
]
PAYMENTS = [(date(2026, 4, 2), 600, "Premier versement"), (date(2026, 6, 25), 600, "Solde")]
BILAN = {
    "summary": "Environ 180 personnes sont venues au square. Le repas partagé a très bien marché ; "
               "plusieurs voisins veulent organiser la prochaine fête. Il a plu en fin de journée.",
    "participants": 180,
    "spent": 1180,
    "received_on": date(2026, 7, 10),
}


def _fund(contract_id: int) -> Fund | None:
    return db.session.scalar(sa.select(Fund).filter_by(contract_id=contract_id, name=FUND_NAME))


def next_session_day() -> date:
    """The planned session: mid-December 2026, or in three weeks once that day has passed."""
    return max(date(2026, 12, 10), date.today() + timedelta(days=21))


def load(contracts) -> None:
    amp = contracts["amp"]
    if _fund(amp.id) is not None:
        return
    corot = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=QPV))
    fund = services.create_fund([corot], services.FundSettings(
        name=FUND_NAME, year=2026, ceiling=1500, decision_mode=DecisionMode.vote, quorum=3, bilan_days=60,
        rules="Projets d'habitants du quartier, sans association obligatoire, jusqu'à 1 500 € par projet. "
              "Le comité d'habitants se réunit environ tous les deux mois et décide à la majorité des votes exprimés.",
    ))
    for kind, label, amount in SOURCES:
        services.add_source(fund, kind, label, amount)
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_([CHAIR_EMAIL, MEDIATOR_EMAIL])))}
    members = {name: services.add_member(fund, name, role, users.get(email) if email else None)
               for name, role, email in MEMBERS}
    categories = {c.code: c.id for c in db.session.scalars(sa.select(Category).filter_by(contract_id=amp.id))}

    apps = {}
    for i, a in enumerate(APPLICATIONS, 1):
        data = services.ApplicationData(
            title=a["title"], audience=a["audience"], description=a["description"], place=a["place"],
            starts_on=a["starts_on"], ends_on=a["ends_on"], neighbourhood_id=corot.id, lines=a["lines"],
            collective=a["collective"], contact_name="(démo)", contact_phone="04 91 00 00 00",
            contact_email=f"porteurs{i}@example.org", category_id=categories.get(a["category"]),
        )
        extra = {}
        if a["assisted"]:
            extra = {"channel": Channel.assisted, "assistance": [Assistance.written_for, Assistance.read_aloud],
                     "entered_by": users.get(MEDIATOR_EMAIL)}
        app, _secret, _new = services.submit_application(
            fund, data, nonce=f"demo-fph-corot-2026-{a['key']}-nonce", today=a["submitted_on"], **extra)
        apps[a["key"]] = app
    for key in ("fete", "cuisine", "fresque", "foot"):
        services.set_eligibility(apps[key], True)

    # The closed session of March: three applications decided, one recusal.
    session = committee.create_session(fund, SESSION_DAY, SESSION_PLACE)
    for key, _ruling in DECISIONS:
        committee.add_to_agenda(session, apps[key])
    committee.set_attendance(session, [m.id for name, m in members.items() if name != "Rachid Ouali"])
    name, key, reason = RECUSAL
    committee.add_recusal(session, members[name].id, apps[key], reason)
    for key, ruling in DECISIONS:
        committee.decide(session, apps[key], ruling, today=SESSION_DAY)
    committee.close_session(session)

    # The summer party: paid in two instalments, then its bilan.
    fete = apps["fete"]
    for paid_on, amount, note in PAYMENTS:
        services.add_payment(fete, paid_on, amount, note)
    services.record_bilan(fete, summary=BILAN["summary"], participants=BILAN["participants"], spent=BILAN["spent"],
                          channel=Channel.web, today=BILAN["received_on"])

    # The next session, planned: the football tournament waits for it (eligible).
    committee.create_session(fund, next_session_day(), NEXT_PLACE)
    db.session.flush()


def notes() -> list[str]:
    fund = db.session.scalar(sa.select(Fund).filter_by(name=FUND_NAME))
    if fund is None:
        return []
    closed = db.session.scalar(sa.select(CommitteeSession).filter_by(fund_id=fund.id, status=SessionStatus.closed))
    planned = db.session.scalar(sa.select(CommitteeSession).filter_by(fund_id=fund.id, status=SessionStatus.planned))
    lines = [f"FPH \"{FUND_NAME}\": /admin/fph/{fund.id}/sessions (committee chair: {CHAIR_EMAIL})"]
    if closed:
        lines.append(f"  closed session with minutes: /admin/fph/sessions/{closed.id}/minutes")
    if planned:
        lines.append(f"  next session (planned): /admin/fph/sessions/{planned.id}")
    return lines
