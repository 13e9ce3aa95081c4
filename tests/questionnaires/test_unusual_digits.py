"""Digits that Python's str.isdigit() accepts but int() refuses ("²", "٣"…) are bad input like
any other: a clear answer, never a 500."""
from __future__ import annotations

import pytest

from .test_answering import Resident, _option_id, barometer

ODD = ["²", "٣", "１２"]


@pytest.fixture
def resident(client, demo):
    return Resident(client, barometer(), lang="en")


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_rank_is_refused_not_a_crash(resident, typed):
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    page = resident.next({resident.field("Q4"): "no", resident.field("Q6", f"o{_option_id(resident, 'Q6', 'clean')}"): typed})
    assert page.status_code == 422


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_residence_is_ignored_not_a_crash(resident, typed):
    resident.start()
    resident.next({resident.field("Q1"): "4"})
    resident.next({resident.field("Q4"): "no"})
    resident.next()
    page = resident.next({"p_residence": typed})
    assert page.status_code in (200, 422)


@pytest.mark.parametrize("typed", ODD)
def test_an_odd_neighbourhood_id_in_the_form_is_ignored(resident, typed):
    resident.start()
    page = resident.next({resident.field("Q1"): "4", "picked": typed})
    assert page.status_code in (200, 422)


@pytest.mark.parametrize("typed", ODD)
def test_staff_pages_read_odd_ids_as_nothing(app, demo, typed):
    from ..conftest import Auth

    client = app.test_client()
    Auth(client).login("animatrice@amp.demo")
    q = barometer()
    assert client.get(f"/admin/questionnaires/{q.id}/results", query_string={"nb": typed}).status_code == 200
    assert client.get(f"/admin/questionnaires/{q.id}/moderation", query_string={"page": typed}).status_code == 200
