"""Demo participatory budgets: one open for ideas (open mode), one at the vote (voter codes).

The vote's demo codes are fixed (drawn from a seeded generator) so that a newcomer can try
a QR slip: `flask demo-data` prints them. Real codes are random and shown only once.
"""
from __future__ import annotations

import random

import sqlalchemy as sa

from ..core.territories import Category, Commune, Neighbourhood
from ..extensions import db
from ..links.models import ALPHABET
from .models import Feasibility, Phase, Process, Proposal, VoteMode, VoterCode, VoterCodeBatch, VotingMethod
from .services import CODE_LENGTH, create_process, format_code, keyed_hash

VOTE_TITLE = "Budget participatif Marseille Nord 2026"
IDEAS_TITLE = "Budget participatif de Frais Vallon"

IDEAS = [
    # title, description, cost, category code, feasible?, reason
    ("Des bancs et de l'ombre au parc", "Installer six bancs et planter des arbres près de l'aire de jeux.", 18000, "O2.1", True, "Faisable par le service des espaces verts."),
    ("Un jardin partagé au pied des tours", "Transformer la pelouse de la rue des Lilas en jardin partagé avec des bacs.", 25000, "D1", True, "Faisable ; le bailleur met le terrain à disposition."),
    ("Éclairer le chemin de l'école", "Poser des lampadaires sur le chemin entre la cité et l'école Malpassé.", 60000, "D3", True, "Faisable ; coût revu après étude de la voirie."),
    ("Une fresque avec les jeunes", "Peindre une fresque sur le mur du gymnase avec les jeunes du quartier.", 12000, "O1.4", True, "Faisable avec une association d'artistes."),
    ("Wi-Fi gratuit à la maison de quartier", "Installer un accès Wi-Fi et deux ordinateurs en libre accès.", 9000, "O4.2", True, "Faisable ; l'abonnement est pris en charge par la commune."),
    ("Un terrain de foot synthétique", "Refaire le terrain de foot en gazon synthétique.", 140000, "O1.3", False, "Coût trop élevé pour l'enveloppe : un autre financement est étudié."),
]


def _codes(process_id: int, n: int) -> list[str]:
    rng = random.Random(f"demo-codes-{process_id}")
    return ["".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(n)]


def demo_codes(process: Process) -> list[str]:
    return [format_code(c) for c in _codes(process.id, 10)]


def load(contracts) -> None:
    amp = contracts["amp"]
    marseille = db.session.scalar(sa.select(Commune).filter_by(contract_id=amp.id, insee_code="13055"))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    if db.session.scalar(sa.select(Process.id).filter_by(contract_id=amp.id, title=VOTE_TITLE)) is None:
        process = create_process(
            marseille, VOTE_TITLE, 120000, "fr",
            description="150 000 habitants des quartiers nord décident de l'usage de 120 000 €.",
            method=VotingMethod.approval, max_picks=3, vote_mode=VoteMode.codes,
        )
        categories = {c.code: c.id for c in db.session.scalars(sa.select(Category).where(Category.contract_id == amp.id))}
        hoods = list(db.session.scalars(sa.select(Neighbourhood).where(Neighbourhood.commune_id == marseille.id).order_by(Neighbourhood.name)))
        for i, (title, description, cost, code, feasible, reason) in enumerate(IDEAS, 1):
            db.session.add(Proposal(
                process=process, number=i, title=title, description=description, estimated_cost=cost,
                category_id=categories.get(code), neighbourhood_id=hoods[i % len(hoods)].id,
                feasibility=Feasibility.feasible if feasible else Feasibility.unfeasible,
                feasibility_reason=reason, revised_cost=cost + 2000 if i == 3 else None, original_locale="fr",
            ))
        db.session.flush()
        # Straight to the vote (the demo of a facilitator's work is the other process).
        process.phase = Phase.vote
        from ..core.users import utcnow

        process.rules_frozen_at = utcnow()
        batch = VoterCodeBatch(process_id=process.id, neighbourhood_id=frais_vallon.id, size=10)
        db.session.add(batch)
        db.session.flush()
        for code in _codes(process.id, 10):
            db.session.add(VoterCode(process_id=process.id, batch_id=batch.id, code_hash=keyed_hash("code", code)))
    if db.session.scalar(sa.select(Process.id).filter_by(contract_id=amp.id, title=IDEAS_TITLE)) is None:
        create_process(
            frais_vallon, IDEAS_TITLE, 30000, "fr",
            description="Proposez vos idées pour le quartier : 30 000 € à partager.",
            method=VotingMethod.knapsack, vote_mode=VoteMode.open,
        )
    db.session.flush()


def notes() -> list[str]:
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    if process is None:
        return []
    return [f"Demo voting codes for /b/{process.id}/vote (QR: /v/<code>): " + ", ".join(demo_codes(process))]
