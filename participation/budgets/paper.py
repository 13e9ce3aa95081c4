"""Paper ballots: polling points, printed tokens, hand-outs that spend a voter's code on the
paper channel, double entry by two officials, mismatches and reconciliation."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..core.users import User
from ..extensions import db
from ..links.models import ALPHABET
from .models import Ballot, BallotChoice, Channel, PaperEntry, PaperToken, Phase, PollingPoint, Process, VoteRecord
from .services import RuleError, _new_receipt, check_choices, find_code, keyed_hash


def add_polling_point(process: Process, name: str, neighbourhood, tokens: int) -> PollingPoint:
    point = PollingPoint(process_id=process.id, name=name.strip(), neighbourhood_id=neighbourhood.id if neighbourhood else None)
    db.session.add(point)
    db.session.flush()
    for _ in range(tokens):
        db.session.add(PaperToken(process_id=process.id, polling_point_id=point.id,
                                  token="".join(secrets.choice(ALPHABET) for _ in range(8))))
    db.session.flush()
    return point


def hand_out_paper_ballot(process: Process, code: str, point: PollingPoint) -> None:
    """A voter shows their code slip at a polling point: the code is spent on the paper
    channel (so it cannot vote online too), with no link to the ballot they will fill in."""
    if process.phase != Phase.vote:
        raise RuleError("vote_closed")
    voter_code = find_code(process, code)
    if voter_code is None:
        raise RuleError("unknown_code")
    voter_key = f"code:{voter_code.id}"
    if db.session.scalar(sa.select(VoteRecord.id).where(VoteRecord.process_id == process.id, VoteRecord.voter_key == voter_key)):
        raise RuleError("already_voted")
    try:
        with db.session.begin_nested():
            db.session.add(VoteRecord(process_id=process.id, voter_key=voter_key, channel=Channel.paper,
                                      neighbourhood_id=voter_code.batch.neighbourhood_id, polling_point_id=point.id))
    except IntegrityError:
        raise RuleError("already_voted")


def canonical(choices: dict[int, int] | None) -> str:
    return "invalid" if choices is None else json.dumps({str(k): v for k, v in sorted(choices.items())}, sort_keys=True)


@dataclass(frozen=True)
class KeyingResult:
    #: "first" (waiting for a second official), "counted", "mismatch", or "invalid" (counted as invalid).
    state: str


def key_paper_ballot(process: Process, token: str, official: User, choices: dict[int, int] | None) -> KeyingResult:
    """One official keys one paper ballot. It counts once two different officials keyed the
    same content; a ballot that breaks the rules is recorded as invalid, never dropped."""
    # Only while the vote is open: the selection is computed when it closes.
    if process.phase != Phase.vote:
        raise RuleError("vote_closed")
    # Lock the token: two officials keying the same ballot at the same moment must see each
    # other's entry, or neither would make it count (PostgreSQL; SQLite serialises writes).
    paper = db.session.scalar(
        sa.select(PaperToken)
        .where(PaperToken.process_id == process.id, PaperToken.token == token.strip().upper())
        .with_for_update()
    )
    if paper is None:
        raise RuleError("unknown_token")
    if choices is not None and check_choices(process, choices):
        choices = None  # breaks the rules: an invalid ballot
    content = canonical(choices)
    # Write first, then look: our entry holds the write lock (SQLite) or the token row is
    # locked (PostgreSQL), so a colleague keying the same ballot now is seen, not missed.
    try:
        with db.session.begin_nested():
            db.session.add(PaperEntry(token_id=paper.id, official_id=official.id, content=content))
    except IntegrityError:
        raise RuleError("already_keyed")
    others = list(db.session.scalars(
        sa.select(PaperEntry).where(PaperEntry.token_id == paper.id, PaperEntry.official_id != official.id)
    ))
    if not others:
        return KeyingResult("first")
    if any(e.content == content for e in others):
        locator = keyed_hash("ballot", f"paper:{paper.id}")
        if db.session.scalar(sa.select(Ballot.id).where(Ballot.process_id == process.id, Ballot.locator == locator)) is None:
            ballot = Ballot(process_id=process.id, locator=locator, receipt=_new_receipt(), channel=Channel.paper,
                            is_valid=choices is not None)
            ballot.choices = [BallotChoice(proposal_id=pid, value=v) for pid, v in sorted((choices or {}).items())]
            try:
                with db.session.begin_nested():
                    db.session.add(ballot)
            except IntegrityError:
                pass  # a colleague's matching entry counted it at the same moment: once is enough
        return KeyingResult("counted" if choices is not None else "invalid")
    return KeyingResult("mismatch")


def paper_mismatches(process: Process) -> list[PaperToken]:
    """Tokens keyed by two or more officials who disagree, and not yet agreed by a third."""
    tokens = db.session.scalars(
        sa.select(PaperToken)
        .join(PaperEntry, PaperEntry.token_id == PaperToken.id)
        .where(PaperToken.process_id == process.id)
        .group_by(PaperToken.id)
        .having(sa.func.count(sa.distinct(PaperEntry.content)) > 1)
    ).all()
    counted = {
        l for (l,) in db.session.execute(sa.select(Ballot.locator).where(Ballot.process_id == process.id, Ballot.channel == Channel.paper))
    }
    return [t for t in tokens if keyed_hash("ballot", f"paper:{t.id}") not in counted]


def reconciliation(process: Process) -> list[dict]:
    """Per polling point: ballots printed, handed out (codes spent there), keyed by at least
    one official, counted, and valid. One GROUP BY query per figure, not one per point."""
    points = list(db.session.scalars(sa.select(PollingPoint).where(PollingPoint.process_id == process.id).order_by(PollingPoint.name)))
    printed = dict(db.session.execute(
        sa.select(PaperToken.polling_point_id, sa.func.count()).where(PaperToken.process_id == process.id)
        .group_by(PaperToken.polling_point_id)).all())
    handed = dict(db.session.execute(
        sa.select(VoteRecord.polling_point_id, sa.func.count()).where(VoteRecord.process_id == process.id,
                                                                    VoteRecord.polling_point_id.is_not(None))
        .group_by(VoteRecord.polling_point_id)).all())
    keyed = dict(db.session.execute(
        sa.select(PaperToken.polling_point_id, sa.func.count(sa.distinct(PaperEntry.token_id)))
        .join(PaperEntry, PaperEntry.token_id == PaperToken.id).where(PaperToken.process_id == process.id)
        .group_by(PaperToken.polling_point_id)).all())
    # A counted paper ballot is found from its token only through the keyed locator.
    point_of = {keyed_hash("ballot", f"paper:{tid}"): pid for tid, pid in db.session.execute(
        sa.select(PaperToken.id, PaperToken.polling_point_id).where(PaperToken.process_id == process.id))}
    counted: dict[int, list[bool]] = {}
    for locator, valid in db.session.execute(
        sa.select(Ballot.locator, Ballot.is_valid).where(Ballot.process_id == process.id, Ballot.channel == Channel.paper)
    ):
        if locator in point_of:
            counted.setdefault(point_of[locator], []).append(valid)
    return [
        {
            "point": point,
            "printed": printed.get(point.id, 0),
            "handed_out": handed.get(point.id, 0),
            "keyed": keyed.get(point.id, 0),
            "counted": len(counted.get(point.id, [])),
            "valid": sum(counted.get(point.id, [])),
        }
        for point in points
    ]
