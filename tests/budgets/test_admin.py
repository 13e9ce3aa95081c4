"""Back office of participatory budgets: who manages what, settings and phases, review,
voter codes and their slips, follow-up; and a facilitator's whole run of a budget."""
from __future__ import annotations

import base64
import io
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image
from werkzeug.datastructures import MultiDict

from participation.budgets import services
from participation.budgets.demo import IDEAS_TITLE, VOTE_TITLE
from participation.budgets.models import (
    Ballot,
    Feasibility,
    Milestone,
    Phase,
    Process,
    ProcessPhase,
    Proposal,
    VoterCode,
    VoterCodeBatch,
    VotingMethod,
)
from participation.core.territories import Neighbourhood
from participation.extensions import db

from ..conftest import Auth, count, csrf_from

FAC = "animatrice@amp.demo"  # facilitator, Marseille
AMP_ADMIN = "admin@amp.demo"
MED = "mediateur@amp.demo"  # mediator, Frais Vallon
NAR_ADMIN = "admin@narbonne.demo"


@pytest.fixture
def vote_process(demo):
    return db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))


@pytest.fixture
def ideas_process(demo):
    return db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))


@pytest.fixture
def staff(app):
    """staff(email) → a client logged in as that demo account, pages in English."""

    def login(email):
        client = app.test_client()
        assert Auth(client).login(email).status_code == 302
        client.get("/admin/?lang=en")
        return client

    return login


@pytest.fixture
def resident(app):
    client = app.test_client()
    client.get("/?lang=en")
    return client


def post(client, url, data=None, prefix=None, **kw):
    """POST with a CSRF token (under the form's prefix, if any) taken from the back office home."""
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    payload = {f"{prefix}-csrf_token" if prefix else "csrf_token": token}
    payload.update(data or {})
    return client.post(url, data=payload, **kw)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def propose(resident, process, title, cost, **extra):
    page = text(resident.get(f"/b/{process.id}/propose"))
    data = {"csrf_token": csrf_from(page), "title": title, "description": f"{title}, pour le quartier.",
            "estimated_cost": str(cost), **extra}
    resp = resident.post(f"/b/{process.id}/propose", data=data)
    assert resp.status_code == 302, text(resp)
    return resp


def review(client, process, number, feasible=True, reason="Étudié par les services.", revised_cost=None):
    data = {f"r{number}-feasible": "yes" if feasible else "no", f"r{number}-reason": reason}
    if revised_cost is not None:
        data[f"r{number}-revised_cost"] = str(revised_cost)
    return post(client, f"/admin/budgets/{process.id}/proposals/{number}/review", data, prefix=f"r{number}")


def move(client, process, direction="next"):
    return post(client, f"/admin/budgets/{process.id}/phases/move", {"direction": direction})


def vote_online(resident, process, numbers):
    html = text(resident.get(f"/b/{process.id}/vote"))
    ids = {p.number: p.id for p in db.session.scalars(sa.select(Proposal).filter_by(process_id=process.id))}
    data = {"csrf_token": csrf_from(html), "nonce": re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1),
            "e-age_ok": "y", "e-resident": "y"}
    data.update({f"p{ids[n]}": "1" for n in numbers})
    return resident.post(f"/b/{process.id}/vote", data=data)


def settings_data(process, **changes):
    data = {"with_rules": "1", "title": process.title, "description": process.description,
            "envelope": str(process.envelope), "method": process.method.value,
            "outcome_rule": process.outcome_rule.value, "vote_mode": process.vote_mode.value,
            "eligibility": process.eligibility.value, "min_age": str(process.min_age)}
    for name in ("min_picks", "max_picks", "min_share_percent", "points", "max_points_per_project", "top_k"):
        if getattr(process, name) is not None:
            data[name] = str(getattr(process, name))
    if process.residence_required:
        data["residence_required"] = "y"
    data.update(changes)
    return data


@pytest.fixture
def ideas_at_vote(ideas_process, staff, resident):
    """The Frais Vallon budget with three studied ideas (two feasible), vote open."""
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    propose(resident, ideas_process, "Un jardin partagé", 15000)
    propose(resident, ideas_process, "Un stade couvert", 400000)
    fac = staff(FAC)
    review(fac, ideas_process, 1)
    review(fac, ideas_process, 2, revised_cost=14000)
    review(fac, ideas_process, 3, feasible=False, reason="Trop cher pour l'enveloppe.")
    assert move(fac, ideas_process).status_code == 302
    assert move(fac, ideas_process).status_code == 302
    return reload(ideas_process)


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buf, "PNG")
    return buf.getvalue()


# --- who manages what ------------------------------------------------------------------


def test_the_marseille_facilitator_manages_the_marseille_process(staff, vote_process):
    resp = staff(FAC).get(f"/admin/budgets/{vote_process.id}")
    assert resp.status_code == 200
    assert "Move on to the phase “Results”" in text(resp)


def test_the_narbonne_admin_is_refused_the_marseille_process(staff, vote_process):
    assert staff(NAR_ADMIN).get(f"/admin/budgets/{vote_process.id}").status_code == 403


def test_the_narbonne_admin_cannot_move_the_marseille_process(staff, vote_process):
    assert move(staff(NAR_ADMIN), vote_process).status_code == 403
    assert reload(vote_process).phase == Phase.vote


def test_a_mediator_cannot_open_the_settings_of_a_budget_of_their_neighbourhood(staff, ideas_process):
    assert staff(MED).get(f"/admin/budgets/{ideas_process.id}").status_code == 403


def test_the_list_shows_only_budgets_in_the_callers_areas(staff, vote_process, ideas_process):
    marseille = text(staff(FAC).get("/admin/budgets/"))
    narbonne = text(staff(NAR_ADMIN).get("/admin/budgets/"))
    assert VOTE_TITLE in marseille and IDEAS_TITLE in marseille
    assert VOTE_TITLE not in narbonne and IDEAS_TITLE not in narbonne


def test_a_mediator_lists_the_budget_of_their_neighbourhood_only(staff, vote_process, ideas_process):
    page = text(staff(MED).get("/admin/budgets/"))
    assert IDEAS_TITLE in page
    assert VOTE_TITLE not in page  # Marseille-wide: wider than the mediator's neighbourhood
    assert 'action="/admin/budgets/new"' not in page  # mediators do not create budgets


def test_the_dashboard_links_to_the_budgets(staff, demo):
    assert 'href="/admin/budgets/"' in text(staff(FAC).get("/admin/"))


# --- creating a process ----------------------------------------------------------------


def _frais_vallon(demo):
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))


def test_a_facilitator_creates_a_budget_in_their_commune(staff, demo):
    hood = _frais_vallon(demo)
    data = {"scope": f"n{hood.id}", "title": "Budget des jeunes", "envelope": "8000", "method": "cumulative",
            "points": "10", "max_points_per_project": "4", "min_picks": "2", "outcome_rule": "equal_shares",
            "vote_mode": "codes", "eligibility": "verified", "min_age": "11", "residence_required": "y"}
    resp = post(staff(FAC), "/admin/budgets/new", data)
    assert resp.status_code == 302
    process = db.session.scalar(sa.select(Process).filter_by(title="Budget des jeunes"))
    assert (process.neighbourhood_id, process.method, process.points, process.min_age) == (hood.id, VotingMethod.cumulative, 10, 11)
    assert process.min_picks is None  # a parameter of another method is not kept
    assert [p.phase for p in process.phases] == list(Phase)


def test_a_facilitator_cannot_create_a_budget_outside_their_commune(staff, demo):
    aix = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01302M"))
    before = count(Process)
    resp = post(staff(FAC), "/admin/budgets/new", {"scope": f"n{aix.id}", "title": "Ailleurs", "envelope": "1000",
                                                   "method": "approval", "outcome_rule": "greedy", "vote_mode": "codes",
                                                   "eligibility": "self_declared", "min_age": "16"})
    assert resp.status_code == 422
    assert count(Process) == before


def test_a_points_vote_without_points_is_refused(staff, demo):
    resp = post(staff(FAC), "/admin/budgets/new", {"scope": f"n{_frais_vallon(demo).id}", "title": "Sans points",
                                                   "envelope": "1000", "method": "cumulative", "outcome_rule": "greedy",
                                                   "vote_mode": "codes", "eligibility": "self_declared", "min_age": "16"})
    assert resp.status_code == 422
    assert "The points method needs a number of points." in text(resp)


# --- settings and phases ---------------------------------------------------------------


def test_settings_change_before_the_vote(staff, ideas_process):
    resp = post(staff(FAC), f"/admin/budgets/{ideas_process.id}/settings",
                settings_data(ideas_process, envelope="35000", min_share_percent="50"))
    assert resp.status_code == 302
    process = reload(ideas_process)
    assert (process.envelope, process.min_share_percent) == (35000, 50)


def test_once_the_vote_opened_a_rule_change_is_refused(staff, ideas_at_vote):
    resp = post(staff(FAC), f"/admin/budgets/{ideas_at_vote.id}/settings", settings_data(ideas_at_vote, envelope="50000"))
    assert resp.status_code == 422
    assert "The vote has opened: its rules can no longer change." in text(resp)
    assert reload(ideas_at_vote).envelope == 30000


def test_once_the_vote_opened_the_rules_are_shown_read_only_and_the_title_still_changes(staff, ideas_at_vote):
    fac = staff(FAC)
    page = text(fac.get(f"/admin/budgets/{ideas_at_vote.id}"))
    assert "its rules can no longer change" in page
    assert 'name="envelope"' not in page
    resp = post(fac, f"/admin/budgets/{ideas_at_vote.id}/settings", {"title": "Budget de Frais Vallon 2026", "description": ""})
    assert resp.status_code == 302
    assert reload(ideas_at_vote).title == "Budget de Frais Vallon 2026"


def test_the_vote_cannot_open_without_a_feasible_proposal(staff, ideas_process):
    fac = staff(FAC)
    assert move(fac, ideas_process).status_code == 302  # ideas → study
    resp = move(fac, ideas_process)
    assert resp.status_code == 422
    assert "The vote needs at least one feasible proposal." in text(resp)
    assert reload(ideas_process).phase == Phase.feasibility


def test_the_first_phase_has_no_previous_phase(staff, ideas_process):
    resp = move(staff(FAC), ideas_process, "previous")
    assert resp.status_code == 422
    assert "Phases move one step at a time." in text(resp)


def test_phase_dates_are_saved(staff, ideas_process):
    data = {f"phases-{i}-starts_on": "" for i in range(6)}
    data.update({"phases-0-starts_on": "2026-03-01", "phases-0-ends_on": "2026-04-15"})
    assert post(staff(FAC), f"/admin/budgets/{ideas_process.id}/phases/dates", data).status_code == 302
    first = db.session.scalar(sa.select(ProcessPhase).filter_by(process_id=ideas_process.id, phase=Phase.proposals))
    assert (str(first.starts_on), str(first.ends_on)) == ("2026-03-01", "2026-04-15")


def test_a_phase_cannot_end_before_it_starts(staff, ideas_process):
    data = {f"phases-{i}-starts_on": "" for i in range(6)}
    data.update({"phases-0-starts_on": "2026-04-15", "phases-0-ends_on": "2026-03-01"})
    resp = post(staff(FAC), f"/admin/budgets/{ideas_process.id}/phases/dates", data)
    assert resp.status_code == 422
    assert "The end comes before the start." in text(resp)


def test_the_process_page_links_to_the_public_page_and_translations(staff, ideas_process):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_process.id}"))
    assert f'href="/b/{ideas_process.id}"' in page
    assert f'href="/admin/translations/budget_processes/{ideas_process.id}"' in page


def phase_actions(client, process, submit=(), comment=(), vote=()):
    data = [("submit", p.value) for p in submit] + [("comment", p.value) for p in comment] + [("vote", p.value) for p in vote]
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    return client.post(f"/admin/budgets/{process.id}/phases/actions", data=MultiDict([("csrf_token", token), *data]))


def allowed_actions(process) -> dict[Phase, set[str]]:
    db.session.expire_all()
    return {ph.phase: ph.actions for ph in db.session.scalars(sa.select(ProcessPhase).filter_by(process_id=process.id))}


def test_the_process_page_shows_the_actions_allowed_per_phase(staff, ideas_process):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_process.id}"))
    assert re.search(r'name="submit" value="proposals" id="submit-proposals"\s+checked', page)
    assert not re.search(r'name="comment" value="proposals" id="comment-proposals"\s+checked', page)
    assert 'name="vote" value="vote"' in page and 'name="vote" value="proposals"' not in page


def test_comments_are_allowed_in_the_ideas_phase(staff, ideas_process):
    resp = phase_actions(staff(FAC), ideas_process, submit=[Phase.proposals], comment=[Phase.proposals, Phase.feasibility],
                         vote=[Phase.vote])
    assert resp.status_code == 302
    actions = allowed_actions(ideas_process)
    assert actions[Phase.proposals] == {"submit", "comment"}
    assert actions[Phase.feasibility] == {"comment"}
    assert actions[Phase.vote] == {"vote"}
    assert actions[Phase.results] == set()
    assert reload(ideas_process).allows("comment")


def test_unticking_every_box_of_a_phase_closes_it(staff, ideas_process):
    assert phase_actions(staff(FAC), ideas_process, vote=[Phase.vote]).status_code == 302
    assert allowed_actions(ideas_process)[Phase.proposals] == set()


def test_voting_in_the_ideas_phase_is_refused_and_nothing_is_saved(staff, ideas_process):
    before = allowed_actions(ideas_process)
    resp = phase_actions(staff(FAC), ideas_process, submit=[Phase.proposals], comment=[Phase.proposals],
                         vote=[Phase.proposals, Phase.vote])
    assert resp.status_code == 422
    assert "Voting can only be allowed in the vote phase." in text(resp)
    assert allowed_actions(ideas_process) == before


def test_a_mediator_cannot_change_the_actions_of_phases(staff, ideas_process):
    before = allowed_actions(ideas_process)
    assert phase_actions(staff(MED), ideas_process, comment=[Phase.proposals]).status_code == 403
    assert allowed_actions(ideas_process) == before


# --- review, moderation, merge ---------------------------------------------------------


def test_a_review_marks_a_proposal_feasible_with_a_revised_cost(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    assert review(staff(FAC), ideas_process, 1, revised_cost=13500).status_code == 302
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=ideas_process.id, number=1))
    assert (proposal.feasibility, proposal.revised_cost, proposal.feasibility_reason) == (
        Feasibility.feasible, 13500, "Étudié par les services.")


def test_a_review_needs_a_public_reason(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    resp = review(staff(FAC), ideas_process, 1, reason="")
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(Proposal.feasibility).filter_by(process_id=ideas_process.id)) == Feasibility.pending


def test_a_hidden_proposal_shows_its_public_reason(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    resp = post(staff(FAC), f"/admin/budgets/{ideas_process.id}/proposals/1/moderate",
                {"h1-hide": "1", "h1-reason": "Propos injurieux."}, prefix="h1")
    assert resp.status_code == 302
    assert "Propos injurieux." in text(resident.get(f"/b/{ideas_process.id}/p/1"))


def test_hiding_needs_a_reason(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    resp = post(staff(FAC), f"/admin/budgets/{ideas_process.id}/proposals/1/moderate", {"h1-hide": "1"}, prefix="h1")
    assert resp.status_code == 422
    assert "Give a reason: it is shown publicly." in text(resp)


def test_a_hidden_proposal_can_be_shown_again(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    fac = staff(FAC)
    post(fac, f"/admin/budgets/{ideas_process.id}/proposals/1/moderate", {"h1-hide": "1", "h1-reason": "Doublon."}, prefix="h1")
    post(fac, f"/admin/budgets/{ideas_process.id}/proposals/1/moderate", {"h1-hide": "0"}, prefix="h1")
    assert db.session.scalar(sa.select(Proposal.is_hidden).filter_by(process_id=ideas_process.id)) is False


def test_a_duplicate_is_merged_into_another_proposal(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    propose(resident, ideas_process, "Des bancs dans le parc", 10000)
    resp = post(staff(FAC), f"/admin/budgets/{ideas_process.id}/proposals/2/merge", {"m2-into": "1"}, prefix="m2")
    assert resp.status_code == 302
    merged = db.session.scalar(sa.select(Proposal).filter_by(process_id=ideas_process.id, number=2))
    assert merged.merged_into.number == 1


def test_the_review_list_filters_by_status(staff, ideas_at_vote):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_at_vote.id}/proposals?status=unfeasible"))
    assert "Un stade couvert" in page
    assert "Des bancs au parc" not in page


def test_the_review_list_answers_a_fragment_to_htmx(staff, ideas_at_vote):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_at_vote.id}/proposals?status=feasible", headers={"HX-Request": "true"}))
    assert "Des bancs au parc" in page and "<html" not in page


def test_the_contact_is_shown_to_process_managers(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000, contact_name="Nadia", contact="nadia@example.org",
            contact_consent="y")
    assert "nadia@example.org" in text(staff(FAC).get(f"/admin/budgets/{ideas_process.id}/proposals"))


def test_a_mediator_sees_the_review_list_without_contacts_nor_actions(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000, contact_name="Nadia", contact="nadia@example.org",
            contact_consent="y")
    resp = staff(MED).get(f"/admin/budgets/{ideas_process.id}/proposals")
    assert resp.status_code == 200
    page = text(resp)
    assert "Des bancs au parc" in page
    assert "nadia@example.org" not in page and "Nadia" not in page
    assert "/review" not in page


def test_a_mediator_cannot_review(staff, resident, ideas_process):
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    assert review(staff(MED), ideas_process, 1).status_code == 403


# --- comments ------------------------------------------------------------------------


@pytest.fixture
def commented(staff, resident, ideas_process):
    """Proposal #1 of the Frais Vallon budget with one comment (comments allowed while ideas are collected)."""
    propose(resident, ideas_process, "Des bancs au parc", 12000)
    assert phase_actions(staff(FAC), ideas_process, submit=[Phase.proposals], comment=[Phase.proposals],
                         vote=[Phase.vote]).status_code == 302
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=ideas_process.id, number=1))
    comment = services.add_comment(proposal, "Il faudrait aussi de l'ombre près des bancs.", "Sami", "fr")
    db.session.commit()
    return comment


def moderate_comment(client, process, comment, **data):
    prefix = f"c{comment.id}"
    return post(client, f"/admin/budgets/{process.id}/comments/{comment.id}/moderate",
                {f"{prefix}-{k}": v for k, v in data.items()}, prefix=prefix)


def test_comments_are_listed_with_their_author_and_day_on_the_review_page(staff, ideas_process, commented):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_process.id}/proposals"))
    assert "Il faudrait aussi de l&#39;ombre près des bancs." in page
    assert "Sami" in page
    assert f"/comments/{commented.id}/moderate" in page


def test_hiding_a_comment_needs_a_public_reason(staff, ideas_process, commented):
    resp = moderate_comment(staff(FAC), ideas_process, commented, hide="1", reason=" ")
    assert resp.status_code == 422
    assert "Give a reason: it is shown publicly." in text(resp)
    assert reload(commented).is_hidden is False


def test_a_hidden_comment_leaves_the_public_proposal_page(staff, resident, ideas_process, commented):
    assert "de l&#39;ombre" in text(resident.get(f"/b/{ideas_process.id}/p/1"))
    resp = moderate_comment(staff(FAC), ideas_process, commented, hide="1", reason="Hors sujet.")
    assert resp.status_code == 302
    comment = reload(commented)
    assert (comment.is_hidden, comment.hidden_reason) == (True, "Hors sujet.")
    public = text(resident.get(f"/b/{ideas_process.id}/p/1"))
    assert "de l&#39;ombre" not in public and "de l'ombre" not in public
    assert "Hors sujet." in text(staff(FAC).get(f"/admin/budgets/{ideas_process.id}/proposals"))


def test_a_hidden_comment_can_be_shown_again(staff, ideas_process, commented):
    fac = staff(FAC)
    moderate_comment(fac, ideas_process, commented, hide="1", reason="Hors sujet.")
    assert moderate_comment(fac, ideas_process, commented, hide="0").status_code == 302
    comment = reload(commented)
    assert (comment.is_hidden, comment.hidden_reason) == (False, "")


def test_a_mediator_reads_comments_but_cannot_moderate_them(staff, ideas_process, commented):
    med = staff(MED)
    page = text(med.get(f"/admin/budgets/{ideas_process.id}/proposals"))
    assert "de l&#39;ombre" in page and "/moderate" not in page
    assert moderate_comment(med, ideas_process, commented, hide="1", reason="Hors sujet.").status_code == 403
    assert reload(commented).is_hidden is False


def test_a_comment_of_another_budget_is_not_found(staff, vote_process, commented):
    resp = moderate_comment(staff(FAC), vote_process, commented, hide="1", reason="Hors sujet.")
    assert resp.status_code == 404
    assert reload(commented).is_hidden is False


# --- voter codes -----------------------------------------------------------------------


def generate(client, process, size=3, neighbourhood=""):
    return post(client, f"/admin/budgets/{process.id}/codes", {"size": str(size), "neighbourhood": neighbourhood})


SLIP_CODE = re.compile(r'class="slip-code"[^>]*>([A-Z0-9]{5}-[A-Z0-9]{5})<')


def test_generated_codes_are_shown_once_on_a_sheet_that_is_not_stored(staff, vote_process):
    resp = generate(staff(FAC), vote_process, size=12)
    assert resp.status_code == 200
    assert "no-store" in resp.headers["Cache-Control"]
    page = text(resp)
    assert len(SLIP_CODE.findall(page)) == 12
    assert page.count('class="slip-page"') == 2  # ten slips per page
    assert "shown only this once" in page


def test_a_generated_code_opens_the_ballot(staff, resident, vote_process):
    code = SLIP_CODE.search(text(generate(staff(FAC), vote_process))).group(1)
    resp = resident.get(f"/v/{code}")
    assert resp.status_code == 302
    assert "Your vote" in text(resident.get(resp.headers["Location"]))


def test_each_slip_carries_a_qr_code_of_its_voting_address(staff, vote_process):
    page = text(generate(staff(FAC), vote_process, size=1))
    code = SLIP_CODE.search(page).group(1)
    uri = re.search(r'class="slip-qr" src="data:image/png;base64,([^"]+)"', page).group(1)
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(uri))))
    url = urlsplit(barcode.text)
    assert url.scheme in ("http", "https") and url.netloc
    assert url.path == "/v/" + code.replace("-", "")


def test_codes_keep_the_neighbourhood_they_are_handed_out_in(staff, vote_process, demo):
    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01306M"))  # La Cayolle
    generate(staff(FAC), vote_process, size=2, neighbourhood=str(hood.id))
    batch = db.session.scalar(sa.select(VoterCodeBatch).order_by(VoterCodeBatch.id.desc()))
    assert (batch.neighbourhood_id, batch.size) == (hood.id, 2)
    assert count(VoterCode) == 10 + 2  # the demo's ten, and these two


def test_codes_are_not_shown_again_on_the_codes_page(staff, vote_process):
    fac = staff(FAC)
    code = SLIP_CODE.search(text(generate(fac, vote_process))).group(1)
    page = text(fac.get(f"/admin/budgets/{vote_process.id}/codes"))
    assert code not in page and code.replace("-", "") not in page
    assert "Codes are shown only once." in page


def test_too_many_codes_at_once_are_refused(staff, vote_process):
    before = count(VoterCode)
    assert generate(staff(FAC), vote_process, size=5000).status_code == 422
    assert count(VoterCode) == before


def test_a_mediator_cannot_generate_codes(staff, ideas_process):
    assert generate(staff(MED), ideas_process).status_code == 403


# --- follow-up -------------------------------------------------------------------------


@pytest.fixture
def ideas_in_implementation(ideas_at_vote, staff, resident):
    assert vote_online(resident, ideas_at_vote, [1, 2]).status_code == 302
    fac = staff(FAC)
    assert move(fac, ideas_at_vote).status_code == 302  # → results
    assert move(fac, ideas_at_vote).status_code == 302  # → implementation
    return reload(ideas_at_vote)


def add_milestone(client, process, number, text_, photo=True):
    data = {f"ms{number}-happened_on": "2026-09-14", f"ms{number}-status": "in_progress", f"ms{number}-text": text_}
    if photo:
        data[f"ms{number}-photo"] = (io.BytesIO(png_bytes()), "chantier.png")
    return post(client, f"/admin/budgets/{process.id}/proposals/{number}/milestones", data, prefix=f"ms{number}",
                content_type="multipart/form-data")


def test_a_milestone_with_a_photo_is_shown_on_the_public_proposal_page(staff, resident, ideas_in_implementation):
    resp = add_milestone(staff(FAC), ideas_in_implementation, 1, "Les bancs sont commandés.")
    assert resp.status_code == 302
    milestone = db.session.scalar(sa.select(Milestone))
    page = text(resident.get(f"/b/{ideas_in_implementation.id}/p/1"))
    assert "Les bancs sont commandés." in page
    assert f"/media/{milestone.photo_sha256}.jpg" in page
    assert resident.get(f"/media/{milestone.photo_sha256}.jpg").status_code == 200


def test_a_project_not_selected_gets_no_milestone(staff, ideas_in_implementation):
    resp = add_milestone(staff(FAC), ideas_in_implementation, 3, "Rien.", photo=False)
    assert resp.status_code == 422
    assert count(Milestone) == 0


def test_the_follow_up_lists_the_selected_projects_only(staff, ideas_in_implementation):
    page = text(staff(FAC).get(f"/admin/budgets/{ideas_in_implementation.id}/follow-up"))
    assert "Des bancs au parc" in page and "Un jardin partagé" in page
    assert "Un stade couvert" not in page


# --- the whole run ---------------------------------------------------------------------


def test_a_facilitator_runs_the_frais_vallon_budget_from_ideas_to_follow_up(staff, resident, ideas_process):
    # Residents send ideas through the public form.
    for title, cost in [("Des bancs au parc", 12000), ("Un jardin partagé", 15000), ("Un stade couvert", 400000)]:
        propose(resident, ideas_process, title, cost)
    fac = staff(FAC)
    # The facilitator records the services' study, then opens the vote.
    assert review(fac, ideas_process, 1).status_code == 302
    assert review(fac, ideas_process, 2, revised_cost=14000).status_code == 302
    assert review(fac, ideas_process, 3, feasible=False, reason="Trop cher.").status_code == 302
    assert move(fac, ideas_process).status_code == 302
    assert move(fac, ideas_process).status_code == 302
    process = reload(ideas_process)
    assert process.phase == Phase.vote and process.rules_frozen_at is not None
    # The rules are frozen.
    assert post(fac, f"/admin/budgets/{process.id}/settings", settings_data(process, envelope="50000")).status_code == 422
    # Residents vote in open mode (one vote per browser) on the public page.
    assert vote_online(resident, process, [1, 2]).status_code == 302
    assert count(Ballot) == 1
    # Closing the vote selects the projects that fit.
    assert move(fac, process).status_code == 302
    selected = db.session.scalars(sa.select(Proposal.number).filter_by(process_id=process.id, is_selected=True)).all()
    assert sorted(selected) == [1, 2]
    assert move(fac, process).status_code == 302
    assert reload(process).phase == Phase.implementation
    # The follow-up is published on the project's public page.
    assert add_milestone(fac, process, 2, "Les bacs sont installés.").status_code == 302
    assert "Les bacs sont installés." in text(resident.get(f"/b/{process.id}/p/2"))
