"""Participatory-budget rules in action: phases, proposals, feasibility, voter codes,
voting (online and on paper), results. Services flush; the view commits once."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..core.channels import Assistance
from ..core.secret_codes import CODE_LENGTH, format_code, keyed_hash, new_code, normalise_code  # noqa: F401
from ..core.users import User, utcnow
from ..extensions import db
from ..links.models import ALPHABET
from . import rules
from .models import (
    DEFAULT_ACTIONS,
    PHASE_ORDER,
    Ballot,
    BallotChoice,
    Channel,
    Eligibility,
    Feasibility,
    Milestone,
    MilestoneStatus,
    OutcomeRule,
    Phase,
    Process,
    ProcessPhase,
    Proposal,
    VoteMode,
    VoterCode,
    VoterCodeBatch,
    VoteRecord,
    VotingMethod,
)



class RuleError(ValueError):
    """A request that breaks a rule of the process. `code` names it for a translated message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


class AlreadyReceived(Exception):
    """The same form was sent again (a double tap, or a retry after a lost answer): `record` is
    what the first send stored. Nothing new is written."""

    def __init__(self, record):
        super().__init__("already received")
        self.record = record


#: Shorter nonces are ignored (the form is then simply not protected against a resend).
NONCE_MIN_LENGTH = 16


def submission_hash(kind: str, scope_id: int, nonce: str | None, *content: str) -> str | None:
    """Keyed hash of a form's one-time nonce *and* of what it says. The text is part of it so
    that a form page kept open (or cached for the field) and used for a second, different idea
    is a new idea, never mistaken for a resend of the first."""
    if len(nonce or "") < NONCE_MIN_LENGTH:
        return None
    digest = hashlib.sha256("\x1f".join(c or "" for c in content).encode("utf-8")).hexdigest()
    return keyed_hash(kind, f"{scope_id}:{nonce}:{digest}")


def _received(model, nonce_hash: str | None):
    if nonce_hash is None:
        return None
    return db.session.scalar(sa.select(model).where(model.nonce_hash == nonce_hash))


# --- keys ---------------------------------------------------------------------------




# --- processes and phases -------------------------------------------------------------


def create_process(scope_object, title: str, envelope: int, original_locale: str, **settings) -> Process:
    scope = scope_object.scope
    settings = {"method": VotingMethod.approval, "outcome_rule": OutcomeRule.greedy, "vote_mode": VoteMode.codes,
                "eligibility": Eligibility.self_declared, **settings}
    process = Process(
        contract_id=scope.contract_id,
        commune_id=scope.commune_id,
        neighbourhood_id=scope.neighbourhood_id,
        title=title.strip(),
        envelope=envelope,
        original_locale=original_locale,
        **settings,
    )
    for position, phase in enumerate(PHASE_ORDER):
        actions = DEFAULT_ACTIONS[phase]
        process.phases.append(
            ProcessPhase(
                phase=phase,
                position=position,
                allows_submit="submit" in actions,
                allows_comment="comment" in actions,
                allows_vote="vote" in actions,
            )
        )
    try:
        rules_of(process).check()
    except ValueError as e:
        raise RuleError("bad_rules", detail=str(e)) from e
    db.session.add(process)
    db.session.flush()
    return process


def set_phase_dates(process: Process, dates: list[tuple]) -> None:
    """(starts_on, ends_on) per phase, in phase order; the database checks their order."""
    for phase, (starts_on, ends_on) in zip(process.phases, dates):
        if starts_on and ends_on and ends_on < starts_on:
            raise RuleError("date_order")
        phase.starts_on, phase.ends_on = starts_on, ends_on
    db.session.flush()


def rules_of(process: Process) -> rules.BallotRules:
    """The process's ballot rules; settings left over from another method are ignored."""
    method = process.method
    fields = {
        rules.Method.approval: {"min_picks": process.min_picks, "max_picks": process.max_picks},
        rules.Method.knapsack: {
            "min_share": Fraction(process.min_share_percent, 100) if process.min_share_percent else None
        },
        rules.Method.cumulative: {"points": process.points, "max_points_per_project": process.max_points_per_project},
        rules.Method.ranked: {"top_k": process.top_k},
    }[method]
    return rules.BallotRules(method=method, envelope=process.envelope, **fields)


RULE_FIELDS = ("method", "outcome_rule", "envelope", "min_picks", "max_picks", "min_share_percent",
               "points", "max_points_per_project", "top_k", "vote_mode", "eligibility", "min_age",
               "residence_required")


def update_settings(process: Process, **values) -> None:
    """Change a process's settings; the voting rules are frozen once the vote has opened."""
    changing_rules = any(k in RULE_FIELDS and getattr(process, k) != v for k, v in values.items())
    if changing_rules and process.rules_frozen_at is not None:
        raise RuleError("rules_frozen")
    for k, v in values.items():
        setattr(process, k, v)
    try:
        rules_of(process).check()
    except ValueError as e:
        raise RuleError("bad_rules", detail=str(e)) from e
    db.session.flush()


def ballot_proposals(process: Process) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(
                Proposal.process_id == process.id,
                Proposal.feasibility == Feasibility.feasible,
                Proposal.is_hidden.is_(False),
                Proposal.merged_into_id.is_(None),
            )
            .order_by(Proposal.number)
        )
    )


def _who_voted_purged(process: Process) -> bool:
    from ..privacy.retention import PURGED

    return db.session.scalar(sa.select(sa.exists().where(
        VoteRecord.process_id == process.id, VoteRecord.voter_key.like(PURGED + "%")))) or False


def move_phase(process: Process, to: Phase) -> None:
    """Move to the next or the previous phase. Opening the vote freezes the rules and needs
    feasible proposals with a cost; leaving it computes the results."""
    here, there = PHASE_ORDER.index(process.phase), PHASE_ORDER.index(to)
    if abs(here - there) != 1:
        raise RuleError("phase_jump")
    if to == Phase.vote and process.phase == Phase.results and _who_voted_purged(process):
        # The purge forgot who voted (privacy.retention): a reopened vote could not tell a
        # previous voter from a new one, and turnout would count them twice.
        raise RuleError("who_voted_purged")
    if to == Phase.vote:
        candidates = ballot_proposals(process)
        if not candidates:
            raise RuleError("no_feasible_proposal")
        if any(p.cost is None for p in candidates):
            raise RuleError("missing_cost")
        process.rules_frozen_at = process.rules_frozen_at or utcnow()
    if process.phase == Phase.vote and to == Phase.results:
        result = compute_results(process)
        selected = set(result.selected)
        for p in process.proposals:
            p.is_selected = p.id in selected
    if process.phase == Phase.results and to == Phase.vote:
        for p in process.proposals:
            p.is_selected = False
    process.phase = to
    db.session.flush()


# --- proposals ------------------------------------------------------------------------


def submit_proposal(process: Process, *, channel: Channel = Channel.web, entered_by: User | None = None,
                    assistance: Iterable[Assistance] = (), nonce: str | None = None, **fields) -> Proposal:
    """A new idea. `assistance`: the kinds of help a mediator gave (assisted channel only).
    `nonce`: the form's one-time nonce; the same form sent again raises `AlreadyReceived`."""
    nonce_hash = submission_hash("proposal-nonce", process.id, nonce, fields.get("title"), fields.get("description"))
    if (first := _received(Proposal, nonce_hash)) is not None:
        raise AlreadyReceived(first)
    if not process.allows("submit"):
        raise RuleError("not_open")
    if fields.get("contact") and not fields.get("contact_consent"):
        raise RuleError("contact_consent")
    assistance = frozenset(assistance)
    if assistance and channel != Channel.assisted:
        raise RuleError("assistance")
    helped = {"helped_read_aloud": Assistance.read_aloud in assistance,
              "helped_translated": Assistance.translated in assistance,
              "helped_written_for": Assistance.written_for in assistance}
    for _attempt in range(5):
        number = (db.session.scalar(sa.select(sa.func.max(Proposal.number)).where(Proposal.process_id == process.id)) or 0) + 1
        proposal = Proposal(process_id=process.id, number=number, channel=channel, entered_by_id=entered_by.id if entered_by else None,
                            nonce_hash=nonce_hash, **helped, **fields)
        try:
            with db.session.begin_nested():
                db.session.add(proposal)
            return proposal
        except IntegrityError:
            if (first := _received(Proposal, nonce_hash)) is not None:  # the same form, sent twice at once
                raise AlreadyReceived(first) from None
            continue  # two proposals took the same number at once: draw again
    raise RuleError("busy")


def proposal_channels(process: Process) -> dict:
    """How the process's ideas came in: {"web", "assisted", "paper": count, "help": {Assistance:
    count}} (an assisted idea may have several kinds of help). Every idea counts, hidden or merged."""
    row = db.session.execute(
        sa.select(*(sa.func.count().filter(Proposal.channel == c) for c in Channel),
                  *(sa.func.count().filter(col.is_(True)) for col in (
                      Proposal.helped_read_aloud, Proposal.helped_translated, Proposal.helped_written_for)))
        .where(Proposal.process_id == process.id)
    ).one()
    channels = list(Channel)
    out = {c.value: int(row[i]) for i, c in enumerate(channels)}
    out["help"] = {a: int(row[len(channels) + i]) for i, a in enumerate(
        (Assistance.read_aloud, Assistance.translated, Assistance.written_for))}
    return out


def review(proposal: Proposal, feasible: bool, reason: str, revised_cost: int | None) -> None:
    if proposal.process.rules_frozen_at is not None:
        raise RuleError("rules_frozen")
    if not reason.strip():
        raise RuleError("reason_required")
    if feasible and revised_cost is None and proposal.estimated_cost is None:
        raise RuleError("cost_required")
    proposal.feasibility = Feasibility.feasible if feasible else Feasibility.unfeasible
    proposal.feasibility_reason = reason.strip()
    proposal.revised_cost = revised_cost
    db.session.flush()


def moderate(proposal: Proposal, hide: bool, reason: str) -> None:
    if hide and not reason.strip():
        raise RuleError("reason_required")
    if hide and proposal.process.rules_frozen_at is not None and proposal.on_ballot:
        raise RuleError("rules_frozen")
    proposal.is_hidden = hide
    proposal.hidden_reason = reason.strip() if hide else ""
    db.session.flush()


def merge(proposal: Proposal, into: Proposal) -> None:
    """A near-duplicate is merged into another: it leaves the ballot and points to it."""
    if proposal.id == into.id or into.process_id != proposal.process_id or into.merged_into_id is not None:
        raise RuleError("bad_merge")
    if proposal.process.rules_frozen_at is not None:
        raise RuleError("rules_frozen")
    proposal.merged_into_id = into.id
    for other in db.session.scalars(sa.select(Proposal).where(Proposal.merged_into_id == proposal.id)):
        other.merged_into_id = into.id
    db.session.flush()


# --- voter codes ----------------------------------------------------------------------


def generate_codes(process: Process, size: int, neighbourhood, created_by: User) -> list[str]:
    """Draw `size` codes; return them in clear (only now: the database keeps a keyed hash)."""
    if not 1 <= size <= 2000:
        raise RuleError("batch_size", max=2000)
    batch = VoterCodeBatch(process_id=process.id, neighbourhood_id=neighbourhood.id if neighbourhood else None,
                           size=size, created_by_id=created_by.id)
    db.session.add(batch)
    db.session.flush()
    codes = []
    while len(codes) < size:
        code = new_code()
        codes.append(code)
    db.session.execute(
        sa.insert(VoterCode),
        [{"process_id": process.id, "batch_id": batch.id, "code_hash": keyed_hash("code", c)} for c in codes],
    )
    return codes


def find_code(process: Process, code: str) -> VoterCode | None:
    return db.session.scalar(
        sa.select(VoterCode).where(VoterCode.process_id == process.id, VoterCode.code_hash == keyed_hash("code", normalise_code(code)))
    )


# --- voting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteReceipt:
    receipt: str
    #: True when this exact submission had already been recorded (a retry).
    already_recorded: bool
    #: True when an earlier ballot of the same voter was replaced.
    replaced: bool


def _new_receipt() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def check_choices(process: Process, choices: dict[int, int]) -> list:
    costs = {p.id: p.cost for p in ballot_proposals(process)}
    return rules.validate_ballot(rules_of(process), costs, choices)


def cast_vote(
    process: Process,
    *,
    voter: str,
    choices: dict[int, int],
    nonce: str,
    channel: Channel = Channel.web,
    neighbourhood_id: int | None = None,
) -> VoteReceipt:
    """Record a ballot for `voter` ("code:<CODE>" or "browser:<token>", its secret in clear).

    One transaction: the who-voted row (unique per voter, enforced by the database), then the
    ballot, found again for a change only through the voter's secret. The same form sent twice
    (same nonce) returns the first receipt; a new form from the same voter replaces the ballot.
    """
    if process.phase != Phase.vote or not process.allows("vote"):
        raise RuleError("vote_closed")
    kind, _, secret = voter.partition(":")
    if kind == "code":
        code = find_code(process, secret)
        if code is None:
            raise RuleError("unknown_code")
        voter_key = f"code:{code.id}"
        neighbourhood_id = code.batch.neighbourhood_id
    elif kind == "browser" and process.vote_mode == VoteMode.open:
        voter_key = f"browser:{keyed_hash('browser', secret)[:40]}"
    else:
        raise RuleError("unknown_code")
    if len(nonce) < 16:
        raise RuleError("form_expired")
    # Bound to the voter too: a form's nonce can only ever find that same voter's ballot.
    nonce_hash = keyed_hash("nonce", f"{voter}:{nonce}")
    again = db.session.scalar(sa.select(Ballot).where(Ballot.nonce_hash == nonce_hash))
    if again is not None:
        return VoteReceipt(again.receipt, already_recorded=True, replaced=False)
    violations = check_choices(process, choices)
    if violations:
        raise RuleError("invalid_ballot", violations=violations)

    locator = keyed_hash("ballot", voter)
    record = db.session.scalar(
        sa.select(VoteRecord).where(VoteRecord.process_id == process.id, VoteRecord.voter_key == voter_key)
    )
    if record is not None and record.channel == Channel.paper:
        raise RuleError("voted_on_paper")
    replaced = False
    try:
        with db.session.begin_nested():
            if record is None:
                db.session.add(VoteRecord(process_id=process.id, voter_key=voter_key, channel=channel,
                                          neighbourhood_id=neighbourhood_id))
                db.session.flush()
            replaced = bool(
                db.session.execute(
                    sa.delete(Ballot).where(Ballot.process_id == process.id, Ballot.locator == locator)
                ).rowcount
            )
            ballot = Ballot(process_id=process.id, locator=locator, nonce_hash=nonce_hash,
                            receipt=_new_receipt(), channel=channel)
            ballot.choices = [BallotChoice(proposal_id=pid, value=v) for pid, v in sorted(choices.items())]
            db.session.add(ballot)
            db.session.flush()
    except IntegrityError:
        # A parallel submission of the same voter (or form) won the race: report what it recorded.
        db.session.rollback()
        again = db.session.scalar(sa.select(Ballot).where(Ballot.nonce_hash == nonce_hash))
        if again is not None:
            return VoteReceipt(again.receipt, already_recorded=True, replaced=False)
        raise RuleError("busy")
    return VoteReceipt(ballot.receipt, already_recorded=False, replaced=replaced)


def has_voted(process: Process, voter: str) -> bool:
    return db.session.scalar(
        sa.select(sa.func.count()).where(Ballot.process_id == process.id, Ballot.locator == keyed_hash("ballot", voter))
    ) > 0


# --- comments ------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)(\+?\d[\d .-]{7,}\d)(?!\w)")


def mask_contacts(text: str) -> str:
    """Comments are public: emails and phone numbers typed into them are masked."""
    return _PHONE.sub("[…]", _EMAIL.sub("[…]", text))


def add_comment(proposal: Proposal, body: str, author_name: str, locale: str, channel: Channel = Channel.web,
                nonce: str | None = None):
    """A comment. `nonce`: the form's one-time nonce; the same form sent again raises `AlreadyReceived`."""
    from .models import ProposalComment

    nonce_hash = submission_hash("comment-nonce", proposal.id, nonce, body.strip(), author_name.strip())
    if (first := _received(ProposalComment, nonce_hash)) is not None:
        raise AlreadyReceived(first)
    if not proposal.process.allows("comment") or proposal.is_hidden:
        raise RuleError("comments_closed")
    body = mask_contacts(body.strip())
    if not body:
        raise RuleError("reason_required")
    comment = ProposalComment(proposal_id=proposal.id, body=body, author_name=mask_contacts(author_name.strip()),
                              locale=locale, channel=channel, nonce_hash=nonce_hash)
    try:
        with db.session.begin_nested():
            db.session.add(comment)
    except IntegrityError:  # the same form, sent twice at once: the other request stored it
        if (first := _received(ProposalComment, nonce_hash)) is not None:
            raise AlreadyReceived(first) from None
        raise
    return comment


def moderate_comment(comment, hide: bool, reason: str) -> None:
    if hide and not reason.strip():
        raise RuleError("reason_required")
    comment.is_hidden = hide
    comment.hidden_reason = reason.strip() if hide else ""
    db.session.flush()


# --- results -------------------------------------------------------------------------


def ballots_for_tally(process: Process) -> list[dict[int, int]]:
    rows = db.session.execute(
        sa.select(BallotChoice.ballot_id, BallotChoice.proposal_id, BallotChoice.value)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.process_id == process.id, Ballot.is_valid.is_(True))
        .order_by(BallotChoice.ballot_id)
    )
    ballots: dict[str, dict[int, int]] = {}
    for ballot_id, proposal_id, value in rows:
        ballots.setdefault(ballot_id, {})[proposal_id] = value
    return list(ballots.values())


def compute_results(process: Process):
    projects = {p.id: p.cost for p in ballot_proposals(process)}
    ballots = [{k: v for k, v in b.items() if k in projects} for b in ballots_for_tally(process)]
    ballots = [b for b in ballots if b]
    return rules.tally(projects, ballots, rules_of(process), process.outcome_rule)


def votes_by_channel(process: Process) -> dict[int, dict[Channel, int]]:
    rows = db.session.execute(
        sa.select(BallotChoice.proposal_id, Ballot.channel, sa.func.count())
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.process_id == process.id, Ballot.is_valid.is_(True))
        .group_by(BallotChoice.proposal_id, Ballot.channel)
    )
    out: dict[int, dict[Channel, int]] = {}
    for pid, channel, n in rows:
        out.setdefault(pid, {})[channel] = n
    return out


def turnout_by_neighbourhood(process: Process) -> list[tuple]:
    return db.session.execute(
        sa.select(VoteRecord.neighbourhood_id, VoteRecord.channel, sa.func.count())
        .where(VoteRecord.process_id == process.id)
        .group_by(VoteRecord.neighbourhood_id, VoteRecord.channel)
    ).all()


def find_code_anywhere(code: str) -> VoterCode | None:
    """A slip's QR names only the code: find which process it belongs to."""
    return db.session.scalar(sa.select(VoterCode).where(VoterCode.code_hash == keyed_hash("code", normalise_code(code))))


def summary(process: Process, costs: dict[int, int], choices: dict[int, int]):
    return rules.ballot_summary(rules_of(process), costs, choices)


# --- photos ---------------------------------------------------------------------------


class PhotoRejected(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def process_photos(files) -> list:
    """Check and re-encode uploaded photos (EXIF stripped) before anything is written."""
    from ..core.photos import PhotoError, process_photo

    out = []
    for f in files or []:
        if not getattr(f, "filename", ""):
            continue
        try:
            out.append(process_photo(f, max_bytes=current_app.config["MAX_PHOTO_BYTES"]))
        except PhotoError as e:
            raise PhotoRejected(e.message) from e
    return out


def attach_photos(proposal: Proposal, photos: list) -> None:
    from ..core.photos import PhotoStore
    from .models import ProposalPhoto

    store = PhotoStore(current_app.config["UPLOAD_DIR"])
    for position, photo in enumerate(photos):
        store.save(photo)
        proposal.photos.append(ProposalPhoto(sha256=photo.sha256, width=photo.width, height=photo.height, position=position))
    db.session.flush()


# --- published results ----------------------------------------------------------------


def results_table(process: Process) -> dict:
    result = compute_results(process)
    by_channel = votes_by_channel(process)
    proposals = {p.id: p for p in ballot_proposals(process)}
    selected = list(result.selected)
    rows = []
    for pid, proposal in proposals.items():
        channels = by_channel.get(pid, {})
        rows.append({
            "proposal": proposal,
            "cost": proposal.cost,
            "web": channels.get(Channel.web, 0),
            "assisted": channels.get(Channel.assisted, 0),
            "paper": channels.get(Channel.paper, 0),
            "votes": result.votes.get(pid, 0),
            "score": result.scores.get(pid, 0),
            "selected": pid in selected,
            "rank": selected.index(pid) + 1 if pid in selected else None,
        })
    rows.sort(key=lambda r: (-r["score"], r["proposal"].number))
    turnout: dict = {}
    for neighbourhood_id, channel, n in turnout_by_neighbourhood(process):
        turnout.setdefault(neighbourhood_id, {})[channel] = n
    from ..core.territories import Neighbourhood

    names = {n.id: n.name for n in db.session.scalars(sa.select(Neighbourhood).where(Neighbourhood.id.in_([k for k in turnout if k])))}
    max_votes = max((r["votes"] for r in rows), default=0)
    return {
        "rows": rows,
        "spent": result.total_cost,
        "envelope": process.envelope,
        "ballots": db.session.scalar(sa.select(sa.func.count()).where(Ballot.process_id == process.id, Ballot.is_valid.is_(True))),
        "invalid": db.session.scalar(sa.select(sa.func.count()).where(Ballot.process_id == process.id, Ballot.is_valid.is_(False))),
        "turnout": [
            {"name": names.get(nid, ""), "web": ch.get(Channel.web, 0), "assisted": ch.get(Channel.assisted, 0),
             "paper": ch.get(Channel.paper, 0), "total": sum(ch.values())}
            for nid, ch in sorted(turnout.items(), key=lambda kv: names.get(kv[0], ""))
        ],
        "max_votes": max_votes,
    }


def published_ballots(process: Process) -> list[dict]:
    """Every ballot as (receipt, channel, validity, choices by proposal number), in receipt order."""
    numbers = dict(db.session.execute(sa.select(Proposal.id, Proposal.number).where(Proposal.process_id == process.id)).all())
    rows = db.session.execute(
        sa.select(Ballot.receipt, Ballot.channel, Ballot.is_valid, BallotChoice.proposal_id, BallotChoice.value)
        .outerjoin(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .where(Ballot.process_id == process.id)
        .order_by(Ballot.receipt)
    )
    out: dict[str, dict] = {}
    for receipt, channel, valid, pid, value in rows:
        entry = out.setdefault(receipt, {"receipt": receipt, "channel": channel, "valid": valid, "choices": []})
        if pid is not None:
            entry["choices"].append((numbers[pid], value))
    for entry in out.values():
        entry["choices"].sort()
    return list(out.values())


def add_milestone(proposal: Proposal, happened_on, status: MilestoneStatus, text: str, photo=None) -> Milestone:
    """A dated step of a selected project; its photo is already re-encoded (EXIF-free)."""
    from ..core.photos import PhotoStore

    if not proposal.is_selected:
        raise RuleError("not_selected")
    if not text.strip():
        raise RuleError("reason_required")
    sha = PhotoStore(current_app.config["UPLOAD_DIR"]).save(photo) if photo is not None else None
    milestone = Milestone(proposal_id=proposal.id, happened_on=happened_on, status=status, text=text.strip(), photo_sha256=sha)
    db.session.add(milestone)
    db.session.flush()
    return milestone
