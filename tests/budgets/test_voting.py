"""Voting online with a code from a QR slip: one ballot per code, retries, changes, secrecy."""
from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from participation.budgets import services
from participation.budgets.demo import IDEAS_TITLE, VOTE_TITLE, demo_codes
from participation.budgets.models import Ballot, Phase, Process, Proposal, VoteRecord
from participation.extensions import db

from ..conftest import count, csrf_from


@pytest.fixture
def vote_process(demo):
    return db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))


def _open_ballot(client, code: str) -> str:
    resp = client.get(f"/v/{code}")
    assert resp.status_code == 302
    return client.get(resp.headers["Location"]).get_data(as_text=True)


def _ballot_ids(html: str) -> list[str]:
    return re.findall(r'type="checkbox" id="(p\d+)"', html)


def _nonce(html: str) -> str:
    return re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1)


def _submit(client, process, html, picks, nonce=None, eligible=True, lang="en"):
    data = {"csrf_token": csrf_from(html), "nonce": nonce or _nonce(html)}
    if eligible:
        data.update({"e-age_ok": "y", "e-resident": "y"})
    for pid in picks:
        data[pid] = "1"
    return client.post(f"/b/{process.id}/vote?lang={lang}", data=data)


def test_the_slip_qr_opens_the_ballot(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    assert len(_ballot_ids(html)) == 5  # the five feasible projects, not the unfeasible one
    assert "Choose up to 3 projects." in client.get(f"/b/{vote_process.id}/vote?lang=en").get_data(as_text=True)


def test_a_vote_is_recorded_once_with_a_receipt(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    resp = _submit(client, vote_process, html, _ballot_ids(html)[:2])
    assert resp.status_code == 302
    page = client.get(f"/b/{vote_process.id}/voted?lang=en").get_data(as_text=True)
    receipt = re.search(r'receipt code">([A-Z0-9]+)<', page).group(1)
    assert count(Ballot) == 1 and count(VoteRecord) == 1
    assert db.session.scalar(sa.select(Ballot.receipt)) == receipt


def test_a_retried_submission_shows_already_recorded_with_the_same_receipt(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    nonce = _nonce(html)
    _submit(client, vote_process, html, _ballot_ids(html)[:1], nonce=nonce)
    first = db.session.scalar(sa.select(Ballot.receipt))
    resp = _submit(client, vote_process, html, _ballot_ids(html)[:1], nonce=nonce)  # the lost-response retry
    assert resp.status_code == 302
    page = client.get(f"/b/{vote_process.id}/voted?lang=en").get_data(as_text=True)
    assert "Your vote was already recorded" in page and first in page
    assert count(Ballot) == 1


def test_voting_again_replaces_the_ballot(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    ids = _ballot_ids(html)
    _submit(client, vote_process, html, ids[:1])
    html = client.get(f"/b/{vote_process.id}/vote?lang=en").get_data(as_text=True)
    assert "You have already voted" in html
    _submit(client, vote_process, html, ids[1:4])
    db.session.expire_all()
    assert count(Ballot) == 1 and count(VoteRecord) == 1
    ballot = db.session.scalar(sa.select(Ballot))
    assert sorted(f"p{c.proposal_id}" for c in ballot.choices) == sorted(ids[1:4])


def test_a_ballot_that_breaks_the_rules_is_refused_and_nothing_is_written(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    resp = _submit(client, vote_process, html, _ballot_ids(html)[:4])  # 4 > max 3
    assert resp.status_code == 422
    assert "Choose at most 3 projects." in resp.get_data(as_text=True)
    assert count(Ballot) == 0 and count(VoteRecord) == 0


def test_eligibility_must_be_confirmed(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    resp = _submit(client, vote_process, html, _ballot_ids(html)[:1], eligible=False)
    assert resp.status_code == 422
    assert "Please confirm that you may vote" in resp.get_data(as_text=True)
    assert count(Ballot) == 0


def test_a_wrong_code_is_refused_plainly(client, vote_process):
    page = client.get(f"/b/{vote_process.id}/vote").get_data(as_text=True)
    resp = client.post(f"/b/{vote_process.id}/code?lang=en", data={"code": "AAAAA-22222", "csrf_token": csrf_from(page)})
    assert resp.status_code == 422
    assert "This code is not valid for this vote" in resp.get_data(as_text=True)
    assert client.get("/v/AAAAA22222").status_code == 404


def test_a_typed_code_works_with_dashes_spaces_and_lower_case(client, vote_process):
    page = client.get(f"/b/{vote_process.id}/vote").get_data(as_text=True)
    code = demo_codes(vote_process)[1].lower().replace("-", " - ")
    resp = client.post(f"/b/{vote_process.id}/code", data={"code": code, "csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert _ballot_ids(client.get(resp.headers["Location"]).get_data(as_text=True))


def test_running_total_fragment_for_htmx(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    ids = _ballot_ids(html)
    resp = client.post(
        f"/b/{vote_process.id}/vote/check?lang=en",
        data={"csrf_token": csrf_from(html), ids[0]: "1", ids[1]: "1"},
        headers={"HX-Request": "true"},
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in text
    assert "2 projects chosen" in text and "120,000" in text


def test_parallel_submissions_with_one_code_count_exactly_once(app, vote_process):
    """Eight phones send the same code at the same moment: one ballot, one who-voted row."""
    code = demo_codes(vote_process)[2]
    clients, pages = [], []
    for _ in range(8):
        c = app.test_client()
        pages.append(_open_ballot(c, code))
        clients.append(c)
    ids = _ballot_ids(pages[0])
    barrier = threading.Barrier(len(clients))
    statuses = []

    def go(c, html, i):
        barrier.wait()
        statuses.append(_submit(c, vote_process, html, [ids[i % len(ids)]]).status_code)

    threads = [threading.Thread(target=go, args=(c, h, i)) for i, (c, h) in enumerate(zip(clients, pages))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 500 not in statuses and set(statuses) <= {302, 422}
    db.session.expire_all()
    assert count(Ballot) == 1 and count(VoteRecord) == 1


def test_who_voted_and_the_ballot_box_share_no_key(app):
    """Ballot secrecy by schema: no foreign key or common column links the two tables,
    and the ballot box keeps no time."""
    metadata = db.metadata
    ballots, records, codes = (metadata.tables[n] for n in ("budget_ballots", "budget_vote_records", "budget_voter_codes"))
    linked = {fk.column.table.name for fk in ballots.foreign_keys} | {
        fk.column.table.name for fk in metadata.tables["budget_ballot_choices"].foreign_keys
    }
    assert not linked & {"budget_vote_records", "budget_voter_codes"}
    assert not {fk.column.table.name for fk in records.foreign_keys} & {"budget_ballots", "budget_ballot_choices"}
    assert not any(isinstance(c.type, sa.DateTime) for c in ballots.columns)
    assert not any(isinstance(c.type, sa.DateTime) for c in records.columns)  # the day only
    assert "code" not in {c.name for c in codes.columns}  # only a keyed hash of the code


def test_the_published_ballots_let_a_voter_find_their_receipt(client, vote_process):
    html = _open_ballot(client, demo_codes(vote_process)[0])
    _submit(client, vote_process, html, _ballot_ids(html)[:2])
    receipt = db.session.scalar(sa.select(Ballot.receipt))
    assert client.get(f"/b/{vote_process.id}/ballots").status_code == 409  # not during the vote
    process = db.session.get(Process, vote_process.id)
    services.move_phase(process, Phase.results)
    db.session.commit()
    page = client.get(f"/b/{vote_process.id}/ballots?receipt={receipt.lower()}&lang=en").get_data(as_text=True)
    assert "Your ballot is in the list" in page
    results = client.get(f"/b/{vote_process.id}/results?lang=en").get_data(as_text=True)
    assert "Valid ballots" in results and "<svg" in results and "<table" in results


def test_proposals_cannot_be_submitted_during_the_vote(client, vote_process):
    assert client.get(f"/b/{vote_process.id}/propose").status_code == 409


def test_a_resident_submits_an_idea_without_an_account(client, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    resp = client.post(
        f"/b/{process.id}/propose",
        data={"csrf_token": csrf_from(page), "title": "Des bancs", "description": "Des bancs près de l'école.",
              "estimated_cost": "3000"},
    )
    assert resp.status_code == 302
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id))
    assert proposal.number == 1 and proposal.channel.value == "web" and proposal.contact == ""
    assert "Des bancs" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_contact_details_need_consent_and_nothing_is_written_without_it(client, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    resp = client.post(
        f"/b/{process.id}/propose?lang=en",
        data={"csrf_token": csrf_from(page), "title": "Des bancs", "description": "Des bancs près de l'école.",
              "contact": "06 12 34 56 78"},
    )
    assert resp.status_code == 422
    assert "Tick the box" in resp.get_data(as_text=True)
    assert count(Proposal) == 6  # only the demo's


def test_a_mediator_entry_is_marked_assisted(client, auth, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    auth.login("mediateur@amp.demo")
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    client.post(f"/b/{process.id}/propose", data={"csrf_token": csrf_from(page), "title": "Un abri",
                                                   "description": "Un abri pour l'arrêt de bus."})
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id))
    assert proposal.channel.value == "assisted" and proposal.entered_by_id is not None


def test_results_exports_csv_xlsx_and_pb_parse_back(client, vote_process):
    import io

    from openpyxl import load_workbook
    from pabutools.election.pabulib import parse_pabulib_from_string

    for i, code in enumerate(demo_codes(vote_process)[:4]):
        c = client.application.test_client()
        html = _open_ballot(c, code)
        _submit(c, vote_process, html, _ballot_ids(html)[i % 3 : i % 3 + 2])
    process = db.session.get(Process, vote_process.id)
    assert client.get(f"/b/{process.id}/results.csv").status_code == 409  # not during the vote
    services.move_phase(process, Phase.results)
    db.session.commit()
    csv_text = client.get(f"/b/{process.id}/results.csv?lang=en").get_data(as_text=True)
    assert csv_text.startswith("\ufeffNumber,Project,") and "Des bancs et de l'ombre au parc" in csv_text
    wb = load_workbook(io.BytesIO(client.get(f"/b/{process.id}/results.xlsx?lang=en").data))
    assert wb.sheetnames == ["Summary", "Projects", "Turnout"]
    assert wb["Summary"]["A5"].value == "Valid ballots" and wb["Summary"]["B5"].value == 4
    instance, profile = parse_pabulib_from_string(client.get(f"/b/{process.id}/results.pb").get_data(as_text=True))
    assert len(instance) == 5 and len(profile) == 4
    assert instance.budget_limit == 120000


def test_csv_cells_cannot_run_as_formulas():
    from participation.core.exports import safe_cell, to_csv

    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe_cell("-2") == "'-2" and safe_cell(-2) == -2
    assert "'@SUM" in to_csv(["a"], [["@SUM(A1)"]])


def _jpeg_with_gps() -> bytes:
    import io

    from PIL import Image

    img = Image.new("RGB", (2400, 1200), "green")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated
    exif[0x8825] = {1: "N", 2: (43.0, 20.0, 0.0)}  # GPS
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_an_idea_with_a_photo_keeps_no_location_data(client, demo):
    import io

    from PIL import Image

    process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    raw = _jpeg_with_gps()
    assert b"Exif" in raw
    resp = client.post(
        f"/b/{process.id}/propose",
        data={"csrf_token": csrf_from(page), "title": "Un banc", "description": "Un banc à l'ombre du platane.",
              "photos": [(io.BytesIO(raw), "IMG_0001.jpg", "image/jpeg")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id))
    photo = proposal.photos[0]
    served = client.get(f"/media/{photo.sha256}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"Exif" not in served.data and b"GPS" not in served.data
    img = Image.open(io.BytesIO(served.data))
    assert max(img.size) <= 1600 and img.size[1] > img.size[0]  # resized, and turned upright
    assert f"/media/{photo.sha256}.jpg" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_written(client, demo):
    import io

    process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    resp = client.post(
        f"/b/{process.id}/propose?lang=en",
        data={"csrf_token": csrf_from(page), "title": "Un banc", "description": "Un banc à l'ombre du platane.",
              "photos": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "photo.jpg", "image/jpeg")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "This file is not a photo" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.process_id == process.id)) == 0


def test_a_missing_nonce_never_finds_another_voters_ballot(client, vote_process):
    """Two voters whose forms lost their nonce: neither sees the other's receipt."""
    first = _open_ballot(client, demo_codes(vote_process)[0])
    _submit(client, vote_process, first, _ballot_ids(first)[:1])
    other = client.application.test_client()
    html = _open_ballot(other, demo_codes(vote_process)[1])
    data = {"csrf_token": csrf_from(html), "nonce": "", "e-age_ok": "y", "e-resident": "y", _ballot_ids(html)[1]: "1"}
    resp = other.post(f"/b/{vote_process.id}/vote?lang=en", data=data)
    assert resp.status_code == 422
    assert "Your form expired" in resp.get_data(as_text=True)
    assert count(Ballot) == 1


def test_a_hidden_idea_keeps_its_number_but_not_its_title_in_the_public_list(client, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id, number=6))
    proposal.is_hidden, proposal.hidden_reason = True, "Hors sujet"
    db.session.commit()
    html = client.get(f"/b/{process.id}?lang=en").get_data(as_text=True)
    assert "Un terrain de foot synthétique" not in html and "#6" in html
    detail = client.get(f"/b/{process.id}/p/6?lang=en").get_data(as_text=True)
    assert "Hors sujet" in detail and "Un terrain de foot synthétique" not in detail


def test_a_facilitator_can_make_a_qr_link_for_a_budget_and_for_each_idea(client, auth, demo):
    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    auth.login("animatrice@amp.demo")
    page = client.get("/admin/links/new").get_data(as_text=True)
    assert f'value="/b/{process.id}"' in page and f'value="/b/{process.id}/vote"' in page
    assert f'value="/b/{process.id}/p/1"' in page
    resp = auth.post("/admin/links/new", {"target": f"/b/{process.id}/p/1", "title": ""}, form_page="/admin/links/new")
    assert resp.status_code == 302
    from participation.links.models import ShortLink

    link = db.session.scalar(sa.select(ShortLink).filter_by(target_path=f"/b/{process.id}/p/1"))
    assert client.get(f"/p/{link.code}").headers["Location"] == f"/b/{process.id}/p/1"
