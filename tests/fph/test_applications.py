"""Applications: the public easy-read form, its rules (lines, ceiling, contact, consent, nonce),
references, the assisted entry, eligibility, withdrawal and the status workflow."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.secret_codes import keyed_hash
from participation.extensions import db
from participation.fph import services
from participation.fph.models import AppStatus, Application, BudgetLine

from ..conftest import count, csrf_from
from .test_funds_support import (
    COM, FAC, MALPASSE, count_where, data, form, grant, hood, login, make_application, make_fund,
)


def _own(fund) -> int:
    """Applications of the test's fund (the demo fund has its own)."""
    return count_where(Application, Application.fund_id == fund.id)


def _post_apply(client, fund, **overrides):
    page = client.get(f"/fph/{fund.id}/apply?lang=en")
    payload = form(**overrides)
    payload["csrf_token"] = csrf_from(page.get_data(as_text=True))
    return client.post(f"/fph/{fund.id}/apply", data=payload)


def test_the_form_offers_five_budget_lines_and_a_nonce_without_javascript(client, demo):
    fund = make_fund()
    html = client.get(f"/fph/{fund.id}/apply").get_data(as_text=True)
    assert all(f'name="lines-{i}-amount"' in html for i in range(5))
    assert re.search(r'name="nonce"[^>]*value="[^"]{16,}"', html) or re.search(r'value="[^"]{16,}"[^>]*name="nonce"', html)


def test_a_resident_applies_with_two_lines_and_gets_a_reference_and_a_private_link(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    app = db.session.scalar(sa.select(Application).filter_by(fund_id=fund.id))
    assert app.reference == "FPH-2026-001" and app.reference in html
    assert app.amount_requested == 200 and [(l.label, l.amount) for l in app.lines] == [("Goûter", 120), ("Jeux", 80)]
    assert app.status == AppStatus.submitted and app.channel == Channel.web
    secret = re.search(r"/fph/a/([A-Z0-9]+)", html).group(1)
    assert app.follow_key_hash == keyed_hash("fph-follow", secret)
    assert secret not in (app.follow_key_hash or "")
    assert client.get(f"/fph/a/{secret}").status_code == 200


def test_an_amount_above_the_ceiling_is_refused_and_nothing_is_saved(client, demo):
    fund = make_fund(ceiling=1500)
    lines_before = count(BudgetLine)
    resp = _post_apply(client, fund, **{"lines-0-amount": "1000", "lines-1-amount": "600"})
    assert resp.status_code == 422
    assert "above the fund" in resp.get_data(as_text=True) and "1,500" in resp.get_data(as_text=True)
    assert _own(fund) == 0 and count(BudgetLine) == lines_before


def test_an_application_without_any_budget_line_is_refused(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, **{"lines-0-what": "", "lines-0-amount": "", "lines-1-what": "",
                                        "lines-1-amount": ""})
    assert resp.status_code == 422
    assert "at least one budget line" in resp.get_data(as_text=True)
    assert _own(fund) == 0


def test_a_line_with_a_label_but_no_amount_gets_an_error_next_to_it(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, **{"lines-2-what": "Affiches"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="lines-2-amount-error"' in html and "Write the amount of this line." in html
    assert _own(fund) == 0


def test_a_phone_or_an_email_is_required(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, contact_phone="", contact_email="")
    assert resp.status_code == 422
    assert 'id="contact_phone-error"' in resp.get_data(as_text=True)
    assert _own(fund) == 0


def test_an_email_alone_is_enough(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, contact_phone="", contact_email="awa@example.org")
    assert resp.status_code == 200
    assert db.session.scalar(sa.select(Application.contact_email).filter_by(fund_id=fund.id)) == "awa@example.org"


def test_the_consent_box_is_required(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, consent=None)
    assert resp.status_code == 422 and 'id="consent-error"' in resp.get_data(as_text=True)
    assert _own(fund) == 0


def test_a_retried_post_with_the_same_nonce_records_one_application(client, demo):
    fund = make_fund()
    page = client.get(f"/fph/{fund.id}/apply?lang=en")
    payload = {**form(nonce="the-same-nonce-1234567"), "csrf_token": csrf_from(page.get_data(as_text=True))}
    first = client.post(f"/fph/{fund.id}/apply", data=payload)
    second = client.post(f"/fph/{fund.id}/apply", data=payload)
    assert first.status_code == second.status_code == 200
    assert _own(fund) == 1
    link = lambda r: re.search(r"/fph/a/[A-Z0-9]+", r.get_data(as_text=True)).group(0)  # noqa: E731
    assert link(first) == link(second)


def test_a_post_without_a_nonce_saves_nothing(client, demo):
    fund = make_fund()
    resp = _post_apply(client, fund, nonce="")
    assert resp.status_code == 422 and _own(fund) == 0


def test_references_are_numbered_per_fund(demo):
    fund, other = make_fund(), make_fund(name="Autre fonds")
    first, _s = make_application(fund)
    second, _s = make_application(fund)
    third, _s = make_application(other)
    assert (first.reference, second.reference, third.reference) == ("FPH-2026-001", "FPH-2026-002", "FPH-2026-001")


def test_a_reference_already_taken_is_skipped_not_duplicated(demo):
    fund = make_fund()
    first, _s = make_application(fund)
    first.reference = "FPH-2026-002"  # the next number by count is now taken
    db.session.commit()
    second, _s = make_application(fund)
    assert second.reference == "FPH-2026-003"
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Application.reference)))
                             .where(Application.fund_id == fund.id)) == 2


def test_a_closed_fund_shows_a_clear_page_and_saves_nothing(client, demo):
    fund = make_fund(accepting=False)
    resp = client.get(f"/fph/{fund.id}/apply?lang=en")
    assert resp.status_code == 409 and "does not take applications" in resp.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(f"/fph/{fund.id}/apply", data={**form(), "csrf_token": token})
    assert resp.status_code == 409 and _own(fund) == 0


@pytest.mark.parametrize("amount", ["٣٠", "²", "-5", "1e3", "12.5", "99999999999999999999999", "abc"])
def test_junk_amounts_are_an_error_next_to_the_field_never_a_500(client, demo, amount):
    fund = make_fund()
    resp = _post_apply(client, fund, **{"lines-0-amount": amount})
    assert resp.status_code == 422
    assert 'id="lines-0-amount-error"' in resp.get_data(as_text=True)
    assert _own(fund) == 0


@pytest.mark.parametrize("field,value", [("neighbourhood", "99999"), ("neighbourhood", "x"), ("starts_on", "2026-13-45"),
                                         ("ends_on", "2026-01-01"), ("title", "x" * 500)])
def test_junk_fields_are_refused_with_422(client, demo, field, value):
    fund = make_fund(qpvs=(MALPASSE, "QN01322M"))
    resp = _post_apply(client, fund, **{field: value})
    assert resp.status_code == 422 and _own(fund) == 0


def test_the_neighbourhood_is_picked_among_the_funds(client, demo):
    fund = make_fund(qpvs=(MALPASSE, "QN01322M"))
    resp = _post_apply(client, fund, neighbourhood=str(hood("QN01322M").id))
    assert resp.status_code == 200
    assert db.session.scalar(sa.select(Application.neighbourhood_id).filter_by(fund_id=fund.id)) == hood("QN01322M").id


def test_a_single_neighbourhood_fund_sets_it_without_asking(client, demo):
    fund = make_fund()
    assert _post_apply(client, fund).status_code == 200
    assert db.session.scalar(sa.select(Application.neighbourhood_id).filter_by(fund_id=fund.id)) == hood(MALPASSE).id


# --- assisted entry --------------------------------------------------------------------------


def test_a_facilitator_enters_an_application_marked_assisted_and_sees_the_link_to_give(client, auth, demo):
    fund = make_fund(accepting=False)  # staff may still enter applications received otherwise
    login(auth, FAC)
    page = client.get(f"/admin/fph/{fund.id}/applications/new?lang=en")
    assert page.status_code == 200
    payload = {**form(), "channel": "assisted", "assistance": ["read_aloud", "written_for"],
               "csrf_token": csrf_from(page.get_data(as_text=True))}
    resp = client.post(f"/admin/fph/{fund.id}/applications/new", data=payload)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Give this link to the residents" in html and re.search(r"/fph/a/[A-Z0-9]+", html)
    app = db.session.scalar(sa.select(Application).filter_by(fund_id=fund.id))
    assert app.channel == Channel.assisted and app.assistance == ["read_aloud", "written_for"]
    assert app.entered_by.email == FAC


def test_the_assisted_form_refuses_an_unknown_kind_of_help(client, auth, demo):
    fund = make_fund()
    login(auth, FAC)
    page = client.get(f"/admin/fph/{fund.id}/applications/new")
    resp = client.post(f"/admin/fph/{fund.id}/applications/new", data={
        **form(), "channel": "assisted", "assistance": ["magic"], "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 422 and _own(fund) == 0


# --- review ----------------------------------------------------------------------------------


def test_not_eligible_needs_a_reason(client, auth, demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    login(auth, FAC)
    client.get("/admin/?lang=en")
    resp = auth.post(f"/admin/fph/applications/{app.id}/eligibility", {"decision": "ineligible", "reason": " "})
    assert resp.status_code == 422 and "Give the reason" in resp.get_data(as_text=True)
    db.session.refresh(app)
    assert app.status == AppStatus.submitted


def test_the_reason_of_not_eligible_is_shown_on_the_follow_page(client, auth, demo):
    fund = make_fund()
    app, secret = make_application(fund)
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{app.id}/eligibility",
                     {"decision": "ineligible", "reason": "Projet hors du quartier."})
    assert resp.status_code == 302
    db.session.refresh(app)
    assert app.status == AppStatus.ineligible
    assert "Projet hors du quartier." in client.get(f"/fph/a/{secret}").get_data(as_text=True)


def test_a_manager_marks_an_application_eligible(client, auth, demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    login(auth, FAC)
    assert auth.post(f"/admin/fph/applications/{app.id}/eligibility", {"decision": "eligible"}).status_code == 302
    db.session.refresh(app)
    assert app.status == AppStatus.eligible


def test_a_committee_member_reads_an_application_without_its_contact(client, auth, demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    login(auth, COM)
    html = client.get(f"/admin/fph/applications/{app.id}").get_data(as_text=True)
    assert "Fête de fin d" in html
    assert "Awa Traoré" not in html and "0612345678" not in html and "awa@example.org" not in html


def test_a_manager_sees_the_contact(client, auth, demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    login(auth, FAC)
    html = client.get(f"/admin/fph/applications/{app.id}").get_data(as_text=True)
    assert "Awa Traoré" in html and "0612345678" in html


def test_withdrawing_a_grant_not_paid_gives_the_money_back(client, auth, demo):
    fund = make_fund(envelope=5000)
    app, _secret = make_application(fund)
    grant(app, 800)
    assert fund.committed == 800
    login(auth, FAC)
    assert auth.post(f"/admin/fph/applications/{app.id}/withdraw", {"reason": "Le groupe renonce."}).status_code == 302
    db.session.refresh(fund)
    db.session.refresh(app)
    assert app.status == AppStatus.withdrawn and fund.committed == 0


def test_a_submitted_application_can_be_withdrawn_without_moving_money(demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    services.withdraw(app, "")
    assert app.status == AppStatus.withdrawn and fund.committed == 0


# --- workflow ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start,target,allowed", [
    (AppStatus.submitted, AppStatus.eligible, True),
    (AppStatus.submitted, AppStatus.granted, False),
    (AppStatus.eligible, AppStatus.scheduled, True),
    (AppStatus.scheduled, AppStatus.granted, True),
    (AppStatus.scheduled, AppStatus.eligible, True),
    (AppStatus.refused, AppStatus.granted, False),
    (AppStatus.paid, AppStatus.withdrawn, False),
    (AppStatus.bilan_received, AppStatus.closed, True),
    (AppStatus.closed, AppStatus.submitted, False),
])
def test_transition_table(start, target, allowed):
    assert services.transition_allowed(Application(status=start), target) is allowed


def test_set_status_refuses_a_forbidden_move_with_a_code(demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    with pytest.raises(services.ServiceError) as e:
        services.set_status(app, AppStatus.granted)
    assert e.value.code == "transition"


def test_refusing_needs_a_reason(demo):
    fund = make_fund()
    app, _secret = make_application(fund)
    services.set_status(app, AppStatus.eligible)
    services.set_status(app, AppStatus.scheduled)
    with pytest.raises(services.ServiceError) as e:
        services.set_status(app, AppStatus.refused)
    assert e.value.code == "reason_required"
    services.set_status(app, AppStatus.refused, reason="Budget épuisé.")
    assert app.status_reason == "Budget épuisé."


def test_bilan_due_on_is_the_end_plus_the_funds_delay(demo):
    fund = make_fund()
    fund.bilan_days = 30
    app, _secret = make_application(fund, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 20))
    assert services.bilan_due_on(app) == date(2026, 7, 20)
    app.ends_on = None
    assert services.bilan_due_on(app) == date(2026, 7, 1)
    app.starts_on = None
    assert services.bilan_due_on(app) is None


def test_the_service_refuses_over_the_ceiling_too(demo):
    fund = make_fund(ceiling=100)
    with pytest.raises(services.ServiceError) as e:
        services.submit_application(fund, data(), nonce="n" * 20)
    assert e.value.code == "over_ceiling"


@pytest.mark.skipif(__import__("tests.dbutil", fromlist=["backend"]).backend() != "postgresql",
                    reason="real concurrency needs PostgreSQL")
def test_concurrent_applications_get_distinct_references(app, demo):
    import secrets
    import threading

    from participation.fph.models import Fund

    fund_id = make_fund().id
    db.session.remove()
    barrier = threading.Barrier(5)
    errors = []

    def submit():
        with app.app_context():
            try:
                fund = db.session.get(Fund, fund_id)
                barrier.wait()
                services.submit_application(fund, data(), nonce=secrets.token_urlsafe(18))
                db.session.commit()
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    refs = list(db.session.scalars(sa.select(Application.reference).filter_by(fund_id=fund_id)))
    assert sorted(refs) == [f"FPH-2026-00{i}" for i in range(1, 6)]
