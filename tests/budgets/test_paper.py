"""Paper ballots in the back office: polling points and printed ballots, handing them out
against a voter's code, double keying by two officials, mismatches, reconciliation."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.admin.services import create_staff, grant_role
from participation.budgets.demo import VOTE_TITLE, demo_codes
from participation.budgets.models import (
    Ballot,
    Channel,
    PaperEntry,
    PaperToken,
    Phase,
    PollingPoint,
    Process,
    Proposal,
    VoteRecord,
)
from participation.core.territories import Commune
from participation.core.users import Role, User
from participation.extensions import db

from ..conftest import Auth, count, csrf_from

FAC = "animatrice@amp.demo"  # facilitator, Marseille
AMP_ADMIN = "admin@amp.demo"
MEDIATOR = "mediatrice.nord@amp.test"  # mediator on all of Marseille, made below
PASSWORD = "a-long-test-password"


@pytest.fixture
def process(demo):
    """The demo's Marseille budget: vote open, approval of up to 3 projects, voter codes."""
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    admin = db.session.scalar(sa.select(User).filter_by(email=AMP_ADMIN))
    mediator, _created = create_staff(MEDIATOR, "Inès Roux", PASSWORD)
    grant_role(admin, mediator, Role.mediator, marseille)
    db.session.commit()
    return process


@pytest.fixture
def official(app, process):
    """official(email) → a logged-in client, pages in English."""

    def login(email):
        client = app.test_client()
        assert Auth(client).login(email, PASSWORD if email == MEDIATOR else None).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return login


@pytest.fixture
def resident(app):
    client = app.test_client()
    client.get("/?lang=en")
    return client


def post(client, url, data=None):
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def tokens(official, process) -> list[str]:
    """Five paper ballots printed for one polling point."""
    resp = post(official(FAC), f"/admin/budgets/{process.id}/paper/points",
                {"name": "Maison de quartier Frais Vallon", "tokens": "5"})
    assert resp.status_code == 302
    return list(db.session.scalars(sa.select(PaperToken.token).order_by(PaperToken.id)))


def key(client, process, token, numbers=(), invalid=False):
    ids = dict(db.session.execute(sa.select(Proposal.number, Proposal.id).filter_by(process_id=process.id)).all())
    data = {"token": token, **{f"p{ids[n]}": "1" for n in numbers}}
    if invalid:
        data["invalid"] = "y"
    return post(client, f"/admin/budgets/{process.id}/paper/key", data)


def paper_ballots() -> list[Ballot]:
    return list(db.session.scalars(sa.select(Ballot).where(Ballot.channel == Channel.paper)))


def hand_out(client, process, code, point=None):
    if point is None:
        point = db.session.scalar(sa.select(PollingPoint.id).filter_by(process_id=process.id).order_by(PollingPoint.id))
    return post(client, f"/admin/budgets/{process.id}/paper/hand-out", {"code": code, "point": str(point)})


def reconciliation_rows(client, process) -> dict[str, list[str]]:
    """{polling point name: its figures (printed, handed out, keyed, counted, valid, invalid)}, and "Total"."""
    page = text(client.get(f"/admin/budgets/{process.id}/paper"))
    return {name: re.findall(r"<td>(\d+)</td>", cells)
            for name, cells in re.findall(r'<tr[^>]*>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.DOTALL)}


# --- polling points and printed ballots ------------------------------------------------


def test_a_polling_point_gets_its_numbered_ballots(tokens):
    assert len(tokens) == len(set(tokens)) == 5
    assert db.session.scalar(sa.select(PollingPoint.name)) == "Maison de quartier Frais Vallon"


def test_the_printed_ballots_carry_each_number_the_projects_and_the_rules(official, process, tokens):
    point = db.session.scalar(sa.select(PollingPoint.id))
    page = text(official(FAC).get(f"/admin/budgets/{process.id}/paper/points/{point}/ballots"))
    assert page.count('class="paper-ballot"') == 5
    assert all(t in page for t in tokens)
    assert "Choose up to 3 projects." in page
    assert page.count("Des bancs et de l&#39;ombre au parc") == 5
    assert "Un terrain de foot synthétique" not in page  # not feasible: not on the ballot


def test_a_mediator_cannot_add_a_polling_point(official, process):
    resp = post(official(MEDIATOR), f"/admin/budgets/{process.id}/paper/points", {"name": "Ailleurs", "tokens": "3"})
    assert resp.status_code == 403
    assert count(PollingPoint) == 0


# --- double keying ---------------------------------------------------------------------


def test_a_first_entry_waits_for_a_second_official(official, process, tokens):
    fac = official(FAC)
    resp = key(fac, process, tokens[0], [1, 2])
    assert resp.status_code == 302
    assert "A second official must now key the same ballot." in text(fac.get(resp.headers["Location"]))
    assert paper_ballots() == []


def test_two_officials_keying_the_same_ballot_count_it_once(official, process, tokens):
    key(official(FAC), process, tokens[0], [1, 2])
    resp = key(official(MEDIATOR), process, tokens[0], [1, 2])
    assert resp.status_code == 302
    [ballot] = paper_ballots()
    assert ballot.is_valid and sorted(c.proposal_id for c in ballot.choices) == sorted(
        db.session.scalars(sa.select(Proposal.id).filter(Proposal.process_id == process.id, Proposal.number.in_([1, 2]))))


def test_the_counted_state_is_shown_to_the_second_official(official, process, tokens):
    key(official(FAC), process, tokens[0], [1, 2])
    mediator = official(MEDIATOR)
    resp = key(mediator, process, tokens[0], [1, 2])
    assert "Both entries match: the ballot is counted." in text(mediator.get(resp.headers["Location"]))


def test_a_third_matching_entry_does_not_count_the_ballot_twice(official, process, tokens):
    for email in (FAC, MEDIATOR, AMP_ADMIN):
        key(official(email), process, tokens[0], [3])
    assert len(paper_ballots()) == 1


def test_different_entries_are_a_mismatch_and_not_counted(official, process, tokens):
    key(official(FAC), process, tokens[0], [1, 2])
    mediator = official(MEDIATOR)
    resp = key(mediator, process, tokens[0], [1, 3])
    assert "The entries differ" in text(mediator.get(resp.headers["Location"]))
    assert paper_ballots() == []


def test_a_mismatch_is_listed_with_both_entries_side_by_side(official, process, tokens):
    key(official(FAC), process, tokens[0], [1, 2])
    key(official(MEDIATOR), process, tokens[0], [1, 3])
    page = text(official(AMP_ADMIN).get(f"/admin/budgets/{process.id}/paper/mismatches"))
    assert f"Ballot {tokens[0]}" in page
    assert "Claire Martin" in page and "Inès Roux" in page  # one column per official
    row = re.search(r"#2</span>.*?</tr>", page, re.DOTALL).group(0)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["1", "—"]  # #2 ticked by the first official only


def test_a_third_official_matching_one_entry_resolves_the_mismatch(official, process, tokens):
    key(official(FAC), process, tokens[0], [1, 2])
    key(official(MEDIATOR), process, tokens[0], [1, 3])
    admin = official(AMP_ADMIN)
    assert key(admin, process, tokens[0], [1, 2]).status_code == 302
    assert len(paper_ballots()) == 1
    assert "No entries differ." in text(admin.get(f"/admin/budgets/{process.id}/paper/mismatches"))


def test_the_same_official_cannot_key_a_ballot_twice(official, process, tokens):
    fac = official(FAC)
    key(fac, process, tokens[0], [1])
    resp = key(fac, process, tokens[0], [1])
    assert resp.status_code == 422
    assert "You have already keyed this ballot" in text(resp)
    assert count(PaperEntry) == 1 and paper_ballots() == []


def test_an_unknown_ballot_number_is_refused(official, process, tokens):
    resp = key(official(FAC), process, "ZZZZZZZZ", [1])
    assert resp.status_code == 422
    assert "No paper ballot has this number." in text(resp)
    assert count(PaperEntry) == 0


def test_a_spoilt_ballot_is_recorded_as_invalid(official, process, tokens):
    key(official(FAC), process, tokens[0], invalid=True)
    key(official(MEDIATOR), process, tokens[0], invalid=True)
    [ballot] = paper_ballots()
    assert ballot.is_valid is False and ballot.choices == []


def test_an_invalid_ballot_is_shown_in_the_reconciliation(official, process, tokens):
    key(official(FAC), process, tokens[0], invalid=True)
    key(official(MEDIATOR), process, tokens[0], invalid=True)
    key(official(FAC), process, tokens[1], [2])
    key(official(MEDIATOR), process, tokens[1], [2])
    page = text(official(FAC).get(f"/admin/budgets/{process.id}/paper"))
    row = re.search(r'<tr id="point-\d+">(.*?)</tr>', page, re.DOTALL).group(1)
    # printed, handed out, keyed, counted, valid, invalid
    assert re.findall(r"<td>(\d+)</td>", row) == ["5", "0", "2", "2", "1", "1"]


def test_a_ballot_breaking_the_rules_is_keyed_as_invalid(official, process, tokens):
    fac = official(FAC)
    resp = key(fac, process, tokens[0], [1, 2, 3, 4])  # up to 3 projects allowed
    assert "keyed as invalid" in text(fac.get(resp.headers["Location"]))
    key(official(MEDIATOR), process, tokens[0], invalid=True)
    [ballot] = paper_ballots()
    assert ballot.is_valid is False


def test_a_mediator_keys_paper_ballots(official, process, tokens):
    assert key(official(MEDIATOR), process, tokens[0], [1]).status_code == 302
    assert count(PaperEntry) == 1


def test_a_mediator_cannot_move_phases(official, process):
    resp = post(official(MEDIATOR), f"/admin/budgets/{process.id}/phases/move", {"direction": "next"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Process, process.id).phase == Phase.vote


def test_a_mediator_outside_the_area_cannot_key(official, app, process, tokens):
    client = app.test_client()
    Auth(client).login("mediateur@amp.demo")  # mediator of Frais Vallon only; this budget covers Marseille
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    resp = client.post(f"/admin/budgets/{process.id}/paper/key", data={"csrf_token": token, "token": tokens[0]})
    assert resp.status_code == 403


# --- codes and paper ---------------------------------------------------------------------


def _vote_with_code(resident, process, code):
    resp = resident.get(f"/v/{code}")
    assert resp.status_code == 302
    html = text(resident.get(resp.headers["Location"]))
    first = re.search(r'type="checkbox" id="(p\d+)"', html).group(1)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1)
    return resident.post(f"/b/{process.id}/vote", data={"csrf_token": csrf_from(html), "nonce": nonce,
                                                       "e-age_ok": "y", "e-resident": "y", first: "1"})


def test_handing_out_a_paper_ballot_spends_the_code_on_paper(official, process, tokens):
    assert hand_out(official(MEDIATOR), process, demo_codes(process)[0]).status_code == 302
    assert db.session.scalar(sa.select(VoteRecord.channel)) == Channel.paper


def test_a_code_handed_out_on_paper_cannot_vote_online(official, resident, process, tokens):
    code = demo_codes(process)[0]
    hand_out(official(MEDIATOR), process, code)
    resp = _vote_with_code(resident, process, code)
    assert resp.status_code == 422
    assert "This code was already used to vote on paper." in text(resp)
    assert count(Ballot) == 0


def test_a_code_that_voted_online_gets_no_paper_ballot(official, resident, process, tokens):
    code = demo_codes(process)[0]
    assert _vote_with_code(resident, process, code).status_code == 302
    resp = hand_out(official(MEDIATOR), process, code)
    assert resp.status_code == 422
    assert "This code has already been used to vote." in text(resp)
    assert db.session.scalar(sa.select(VoteRecord.channel)) == Channel.web


def test_an_unknown_code_gets_no_paper_ballot(official, process, tokens):
    resp = hand_out(official(MEDIATOR), process, "AAAAA-AAAAA")
    assert resp.status_code == 422
    assert count(VoteRecord) == 0


def test_the_reconciliation_counts_the_codes_exchanged_for_paper(official, process, tokens):
    mediator = official(MEDIATOR)
    for code in demo_codes(process)[:3]:
        hand_out(mediator, process, code)
    assert reconciliation_rows(mediator, process)["Total"][1] == "3"


def test_the_reconciliation_shows_the_codes_handed_out_per_polling_point(official, process, tokens):
    fac = official(FAC)
    assert post(fac, f"/admin/budgets/{process.id}/paper/points", {"name": "Mairie de secteur", "tokens": "3"}).status_code == 302
    mairie = db.session.scalar(sa.select(PollingPoint.id).filter_by(name="Mairie de secteur"))
    mediator = official(MEDIATOR)
    codes = demo_codes(process)
    for code in codes[:2]:
        assert hand_out(mediator, process, code).status_code == 302  # the first point: Frais Vallon
    assert hand_out(mediator, process, codes[2], point=mairie).status_code == 302
    assert db.session.scalar(sa.select(VoteRecord.polling_point_id).filter_by(channel=Channel.paper)
                             .order_by(VoteRecord.id.desc()).limit(1)) == mairie
    rows = reconciliation_rows(mediator, process)
    assert rows["Maison de quartier Frais Vallon"][:2] == ["5", "2"]
    assert rows["Mairie de secteur"][:2] == ["3", "1"]
    assert rows["Total"][:2] == ["8", "3"]


def test_with_several_polling_points_the_official_must_choose_theirs(official, process, tokens):
    fac = official(FAC)
    post(fac, f"/admin/budgets/{process.id}/paper/points", {"name": "Mairie de secteur", "tokens": "3"})
    resp = hand_out(fac, process, demo_codes(process)[0], point="")
    assert resp.status_code == 422
    assert count(VoteRecord) == 0


def test_after_a_hand_out_the_officials_polling_point_stays_chosen(official, process, tokens):
    fac = official(FAC)
    post(fac, f"/admin/budgets/{process.id}/paper/points", {"name": "Mairie de secteur", "tokens": "3"})
    mairie = db.session.scalar(sa.select(PollingPoint.id).filter_by(name="Mairie de secteur"))
    resp = hand_out(fac, process, demo_codes(process)[0], point=mairie)
    page = text(fac.get(resp.headers["Location"]))
    assert re.search(rf'<option selected value="{mairie}">|<option value="{mairie}" selected>', page)
