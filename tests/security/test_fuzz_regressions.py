"""What the fuzz found, kept as plain tests.

1. A number of more than 308 digits in any WTForms IntegerField with a NumberRange (a budget's
   settings, a resident's estimated cost, the questionnaire builder, the référentiel, the
   follow-up settings) raised OverflowError inside NumberRange: a 500. Those fields are now
   WholeNumberField (participation/core/numbers.py): an error next to the field.
2. /b/<id>?category=<400 digits> passed a number no database column takes to the query: a 500.
3. On PostgreSQL only: an id of 10 to 18 digits (parse_int took up to 18) posted as the version
   of a field-mode questionnaire page failed the query with NumericValueOutOfRange: a 500. Every
   integer column is a 32-bit INTEGER there, so parse_int now stops at 2,147,483,647.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from participation.extensions import db

from ..conftest import csrf_from
from .harness import WriteRecorder, parse_forms, plausible

HUGE = "9" * 400
FR_MESSAGE = "Écrivez un nombre entier, en chiffres, par exemple 150."
FAC = "animatrice@amp.demo"


def _ideas(demo):
    from participation.budgets.demo import IDEAS_TITLE
    from participation.budgets.models import Process

    return db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))


def _proposals() -> int:
    from participation.budgets.models import Proposal

    return db.session.scalar(sa.select(sa.func.count()).select_from(Proposal))


@pytest.mark.parametrize("value", [HUGE, "1" + "0" * 309, "٣", "-4", "1e3"])
def test_a_huge_estimated_cost_is_an_error_next_to_the_field(client, demo, value):
    process = _ideas(demo)
    before = _proposals()
    page = client.get(f"/b/{process.id}/propose").get_data(as_text=True)
    resp = client.post(f"/b/{process.id}/propose", data={
        "csrf_token": csrf_from(page), "title": "Un banc", "description": "Un banc à l'ombre du platane.",
        "estimated_cost": value})
    assert resp.status_code == 422
    assert FR_MESSAGE in resp.get_data(as_text=True).replace("&#39;", "'")
    assert _proposals() == before


def test_a_huge_minimum_age_in_a_new_budget_is_an_error_next_to_the_field(client, auth, demo):
    from participation.budgets.models import Process

    auth.login(FAC)
    page = client.get("/admin/budgets/").get_data(as_text=True)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Process))
    resp = client.post("/admin/budgets/new", data=MultiDict({
        "csrf_token": csrf_from(page), "title": "Budget test", "envelope": "10000", "min_age": HUGE}))
    assert resp.status_code == 422, resp.status_code
    assert FR_MESSAGE in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Process)) == before


def test_every_integer_field_reads_digits_only():
    """No form of the app uses WTForms' IntegerField directly any more (it takes any length)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "participation"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "IntegerField(" in p.read_text().replace("WholeNumberField(", "")
                 and p.name not in ("numbers.py",) and p.parts[-2:] != ("fph", "forms.py")]
    assert not offenders, f"IntegerField without a length limit in {offenders}"


@pytest.mark.parametrize("value", [HUGE, "99999999999", "2147483648", "-1", "abc", "٣", ""])
def test_a_huge_category_filter_is_no_error(client, demo, value):
    process = _ideas(demo)
    resp = client.get(f"/b/{process.id}", query_string={"category": value})
    assert resp.status_code == 200


def test_whole_number_field():
    from flask_wtf import FlaskForm
    from wtforms.validators import NumberRange, Optional

    from participation.core.numbers import WholeNumberField

    from config import TestConfig
    from participation import create_app

    app = create_app(TestConfig)

    class Form(FlaskForm):
        class Meta:
            csrf = False

        n = WholeNumberField("n", validators=[Optional(), NumberRange(min=0, max=10)])

    with app.test_request_context("/", method="POST", data={"n": HUGE}):
        form = Form()
        assert not form.validate() and form.n.data is None and form.n.errors
    with app.test_request_context("/", method="POST", data={"n": " 7 "}):
        form = Form()
        assert form.validate() and form.n.data == 7
    with app.test_request_context("/", method="POST", data={"n": "11"}):
        assert not Form().validate()
    with app.test_request_context("/", method="POST", data={"n": ""}):
        form = Form()
        assert form.validate() and form.n.data is None


def test_parse_int_stops_at_the_largest_integer_column_value():
    from participation.core.numbers import MAX_INT, parse_int

    assert MAX_INT == 2_147_483_647
    assert parse_int(str(MAX_INT)) == MAX_INT
    assert parse_int(str(MAX_INT + 1)) is None
    assert parse_int("9" * 18) is None


@pytest.mark.parametrize("version", ["99999999999", "2147483648", "-1", HUGE])
def test_a_field_page_posted_with_an_impossible_version_is_no_error(client, auth, demo, version):
    from participation.questionnaires.demo import BAROMETER_TITLE
    from participation.questionnaires.models import Questionnaire

    qid = db.session.scalar(sa.select(Questionnaire.id).filter_by(title=BAROMETER_TITLE))
    auth.login(FAC)
    url = f"/admin/questionnaires/{qid}/field"
    page = client.get(url).get_data(as_text=True)
    form = next(f for f in parse_forms(page, url) if f.action == url and "version" in f.fields)
    data = {name: plausible(f) for name, f in form.fields.items() if plausible(f) is not None}
    assert data.get("mode"), "the page's own mode, so that the view reads the version"
    data.update(csrf_token=csrf_from(page), version=version)
    with WriteRecorder(db.engine) as writes:
        resp = client.post(url, data=data)
        assert resp.status_code < 500
        if resp.status_code >= 400:
            assert not writes.take()


def test_a_rank_of_thousands_of_digits_is_a_format_problem():
    """4. A ranking answer of 7,000 digits reached int(), which refuses more than 4,300 digits
    (ValueError, a 500 on the field-mode page): it is now the ranking's format problem."""
    from types import SimpleNamespace

    from participation.questionnaires import logic
    from participation.questionnaires.models import Kind

    options = [SimpleNamespace(id=i, code=c, is_other=False, is_dont_know=False) for i, c in enumerate("abc", 1)]
    question = SimpleNamespace(kind=Kind.ranking, options=options, required=False, code="q1", id=1)
    raw = {logic.rank_field(question, options[0]): ["9" * 7000]}
    value, problem = logic.parse(question, raw)
    assert value is None and problem.code == "rank_format"
    raw = {logic.rank_field(question, options[0]): ["2"], logic.rank_field(question, options[1]): ["1"]}
    value, problem = logic.parse(question, raw)
    assert problem is None and value.codes == ("b", "a")
