"""Demo table de quartier: "Table de quartier de Frais Vallon" (Frais Vallon and Malpassé Corot,
so its area is the commune of Marseille), run by Claire Martin, with two past meetings (minutes
published, one item's summary also in Arabic), a meeting to come with Arabic interpretation,
anonymous check-ins (some phones came to both past meetings) and a paper sign-in count, and two
interpellations followed to an answer (one of them late on what was promised).

Dates are relative to today, so the demo always has a past and a future. Loading twice adds
nothing (the table is looked up by its name).
"""
from __future__ import annotations

import random
from datetime import date, time, timedelta

import sqlalchemy as sa

from ..core.channels import Channel
from ..core.content_i18n import set_translation
from ..core.profiles import AgeBand, Gender
from ..core.secret_codes import keyed_hash
from ..core.territories import Neighbourhood
from ..core.users import User
from ..extensions import db
from ..followup import services as followup
from ..followup.models import Institution, InstitutionKind, Kind, Status
from . import services
from .models import (
    CheckIn, Interpellation, InterpellationLink, InterpellationMeeting, MeetingStatus, NeighbourhoodTable, PaperTally,
    TallyDimension,
)

TABLE_NAME = "Table de quartier de Frais Vallon"
FACILITATOR = "animatrice@amp.demo"
#: Attendee tokens kept on demo phones: the first four came to both past meetings.
TOKENS = [f"demo-attendee-{i}" for i in range(1, 9)]

EARLIER_AGENDA = [
    ("Tour de table : ce qui va, ce qui ne va pas",
     "Chacun dit en deux minutes ce qui a changé depuis l'été.",
     "Beaucoup de remarques sur l'éclairage du chemin de l'école et sur l'ascenseur du bâtiment B.",
     "Écrire à la Ville pour l'éclairage et à 13 Habitat pour l'ascenseur (interpellations)."),
    ("Fête de quartier du printemps",
     "",
     "Idée d'une fête au pied des immeubles, avec les associations.",
     "Un groupe de cinq habitantes prépare un projet pour le FPH."),
]
AGENDA = [
    ("Réponses des institutions à nos interpellations",
     "Où en sont l'éclairage et l'ascenseur ?",
     "La Ville a répondu pour l'éclairage : travaux prévus. 13 Habitat a commandé la pièce de l'ascenseur, "
     "mais la date promise est dépassée.",
     "Relancer 13 Habitat par écrit ; demander la date exacte des travaux d'éclairage."),
    ("Propreté et encombrants",
     "Les dépôts sauvages derrière le gymnase.",
     "Les dépôts reviennent chaque semaine. La Métropole propose un ramassage mensuel.",
     "Tester le ramassage mensuel jusqu'en mars, puis faire le point."),
    ("Questions diverses",
     "",
     "Présentation du baromètre du cadre de vie par le médiateur.",
     ""),
]
SUMMARY_AR = ("ردّت البلدية بخصوص الإنارة: الأشغال مبرمجة. طلبت شركة 13 Habitat قطعة المصعد، "
              "لكن الموعد الموعود قد فات.")
UPCOMING_AGENDA = [
    ("Bilan du ramassage des encombrants", "Le test mensuel a-t-il marché ?"),
    ("Projets FPH du quartier", "Les habitants présentent leurs idées de micro-projets."),
]

INTERPELLATIONS = [
    # title, body, institution, status path, answer
    ("Éclairage du chemin de l'école",
     "Le chemin entre la cité et l'école Frais Vallon n'est pas éclairé le soir. Les enfants rentrent dans le noir "
     "l'hiver. Nous demandons la pose de lampadaires avant la fin de l'année.",
     "Ville de Marseille", (Status.sent, Status.answered),
     "La Ville a inscrit la pose de quatre lampadaires au programme de travaux du premier trimestre."),
    ("Ascenseur du bâtiment B en panne",
     "L'ascenseur du bâtiment B est en panne depuis trois mois. Des personnes âgées ne peuvent plus sortir. "
     "Nous demandons une réparation rapide et une solution en attendant.",
     "13 Habitat", (Status.sent, Status.answered, Status.in_progress),
     "13 Habitat a commandé la pièce et s'engage à remettre l'ascenseur en service sous trois semaines."),
]


def _institution(contract, name: str, kind: InstitutionKind, answer_days: int) -> Institution:
    found = db.session.scalar(sa.select(Institution).where(
        Institution.contract_id == contract.id, sa.func.lower(Institution.name) == name.lower()))
    if found is None:
        found = Institution(contract_id=contract.id, name=name, kind=kind, answer_days=answer_days, active=True,
                            original_locale="fr")
        db.session.add(found)
        db.session.flush()
    return found


def _meeting(table, day: date, agenda, *, published: bool, validated_by, title: str = "", interpreted=()):
    meeting = services.create_meeting(
        table, day=day, starts=time(18, 0), ends=time(20, 0), title=title,
        address="Centre social Frais Vallon, 53 boulevard Gustave Ganay, 13013 Marseille",
        accessibility="Salle de plain-pied, accessible en fauteuil. Garde d'enfants sur place.",
        interpreted=interpreted, original_locale="fr")
    for entry in agenda:
        item = services.add_item(meeting, entry[0], entry[1], "fr")
        if len(entry) > 2:
            item.summary, item.decisions = entry[2], entry[3]
    db.session.flush()
    if published:
        meeting.status = MeetingStatus.held
        services.publish_minutes(meeting, validated_by, on=day + timedelta(days=3))
    return meeting


def _check_ins(meeting, contract_id: int, n: int, tokens: list[str], neighbourhoods, seed: str) -> None:
    rng = random.Random(seed)
    for i in range(n):
        token = tokens[i] if i < len(tokens) else None
        db.session.add(CheckIn(
            meeting_id=meeting.id,
            age_band=rng.choice([*AgeBand, None]),
            gender=rng.choice([Gender.woman, Gender.woman, Gender.man, None]),
            residence_id=rng.choice([n.id for n in neighbourhoods] + [None]),
            first_time=rng.choice([True, False, False, None]),
            attendee_key=keyed_hash(f"attendee:{contract_id}", token) if token else None,
            channel=Channel.web if rng.random() < 0.8 else Channel.assisted,
        ))
    db.session.flush()


def load(contracts) -> None:
    amp = contracts["amp"]
    if db.session.scalar(sa.select(NeighbourhoodTable.id).filter_by(contract_id=amp.id, name=TABLE_NAME)) is not None:
        return
    neighbourhoods = list(db.session.scalars(
        sa.select(Neighbourhood).where(Neighbourhood.qpv_code.in_(["QN01322M", "QN01323M"]))))
    claire = db.session.scalar(sa.select(User).filter_by(email=FACILITATOR))
    table = services.create_table(
        TABLE_NAME, neighbourhoods,
        description="Une assemblée ouverte à tous les habitants de Frais Vallon et de Malpassé Corot, "
                    "un jeudi par mois au centre social. On y parle de ce qui ne va pas, on décide ensemble "
                    "de ce qu'on demande aux institutions, et on suit leurs réponses.",
        usual_place="Centre social Frais Vallon", facilitators=[claire] if claire else [], original_locale="fr")
    set_translation(table, "name", "ar", "طاولة حي فري فالون")

    today = date.today()
    earlier = _meeting(table, today - timedelta(days=70), EARLIER_AGENDA, published=True, validated_by=claire,
                       title="Rentrée de la table")
    last = _meeting(table, today - timedelta(days=20), AGENDA, published=True, validated_by=claire,
                    title="Point sur les interpellations")
    set_translation(last.items[0], "summary", "ar", SUMMARY_AR)
    set_translation(last.items[0], "title", "ar", "ردود المؤسسات على مطالبنا")
    coming = _meeting(table, today + timedelta(days=10), [(t, d) for t, d in UPCOMING_AGENDA], published=False,
                      validated_by=None, title="Encombrants et projets FPH", interpreted=["ar"])
    set_translation(coming, "title", "ar", "النفايات الضخمة ومشاريع صندوق مبادرات السكان")

    _check_ins(earlier, amp.id, 11, TOKENS[:4] + TOKENS[6:7], neighbourhoods, "demo-table-earlier")
    _check_ins(last, amp.id, 18, TOKENS[:6], neighbourhoods, "demo-table-last")
    db.session.add(PaperTally(meeting_id=last.id, dimension=TallyDimension.total, value="", count=7))
    db.session.add(PaperTally(meeting_id=earlier.id, dimension=TallyDimension.total, value="", count=5))

    institutions = {
        "Ville de Marseille": _institution(amp, "Ville de Marseille", InstitutionKind.city, 60),
        "13 Habitat": _institution(amp, "13 Habitat", InstitutionKind.landlord, 30),
    }
    sent_on = earlier.starts_at.date() + timedelta(days=5)
    for n, (title, body, institution, path, answer) in enumerate(INTERPELLATIONS):
        item = followup.create(Kind.interpellation, table.scope, title, body=body,
                               institution=institutions[institution], original_locale="fr", user=claire,
                               on=earlier.starts_at.date())
        db.session.add(Interpellation(followup_id=item.id, table_id=table.id))
        db.session.flush()
        db.session.add(InterpellationMeeting(followup_id=item.id, meeting_id=earlier.id,
                                             link=InterpellationLink.raised))
        db.session.add(InterpellationMeeting(followup_id=item.id, meeting_id=last.id,
                                             link=InterpellationLink.reported))
        on = sent_on
        for step in path:
            if step is Status.sent:
                followup.move(item, step, on=on, user=claire)
            elif step is Status.answered:
                on = on + timedelta(days=20 + 5 * n)
                followup.move(item, step, on=on, answer=answer, user=claire,
                              action_due_on=today + timedelta(days=90) if n == 0 else today - timedelta(days=6))
            else:
                on = on + timedelta(days=3)
                followup.move(item, step, on=on, note="Pièce commandée, en attente de livraison.", user=claire)
    db.session.flush()


def notes() -> list[str]:
    table_id = db.session.scalar(sa.select(NeighbourhoodTable.id).filter_by(name=TABLE_NAME))
    if table_id is None:
        return []
    return [f"Table de quartier \"{TABLE_NAME}\": public page /t/{table_id}, run by {FACILITATOR}."]
