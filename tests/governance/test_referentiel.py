"""The référentiel's indicators with their source, baseline and target, the values entered by
hand for an entered indicator (add, replace, delete, who may), and the governance demo data."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from participation.admin import indicators as indicator_services
from participation.core.territories import Category, Direction, Indicator, IndicatorSource, Neighbourhood
from participation.extensions import db
from participation.governance.models import IndicatorValue, Verbatim, VerbatimStatus

from .backoffice import AMP_ADMIN, EVA, FAC, MED, NAR_ADMIN, contract, post, staff, text  # noqa: F401  (staff: a fixture; names for the cases)


def indicator(code: str, slug="aix-marseille-provence") -> Indicator | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Indicator).filter_by(contract_id=contract(slug).id, code=code))


def category_id(code: str, slug="aix-marseille-provence") -> str:
    return str(db.session.scalar(sa.select(Category.id).filter_by(contract_id=contract(slug).id, code=code)))


def hood(code: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


FULL = {"code": "I-NEW", "name": "Part des jeunes accompagnés", "unit": "%", "source": "entered", "metric": "",
        "option_codes": "", "scale": "0 à 100 %", "direction": "up", "baseline": "12,5", "baseline_year": "2024",
        "target": "20", "target_year": "2030", "period_years": "1"}


def new_indicator(client, **fields):
    data = {**FULL, "category": category_id("O3"), **fields}
    return post(client, f"/admin/contracts/{contract().id}/indicators/new", data)


# --- the indicator form ---------------------------------------------------------------------------


def test_an_entered_indicator_keeps_its_scale_direction_baseline_and_target(staff):
    resp = new_indicator(staff(AMP_ADMIN), direction="down", period_years="3")
    assert resp.status_code == 302
    made = indicator("I-NEW")
    assert (made.source, made.metric, made.option_codes, made.scale, made.direction) == (
        IndicatorSource.entered, None, None, "0 à 100 %", Direction.down)
    assert (made.baseline, made.baseline_year, made.target, made.target_year, made.period_years) == (12.5, 2024, 20.0, 2030, 3)


def test_a_computed_share_keeps_its_metric_and_option_codes(staff):
    resp = new_indicator(staff(AMP_ADMIN), source="computed", metric="questionnaires.share", option_codes=" 4, 5,4 ")
    assert resp.status_code == 302
    made = indicator("I-NEW")
    assert (made.source, made.metric, made.option_codes) == (IndicatorSource.computed, "questionnaires.share", ["4", "5"])


def test_option_codes_are_kept_only_for_the_share_metric(staff):
    assert new_indicator(staff(AMP_ADMIN), source="computed", metric="questionnaires.responses",
                         option_codes="4").status_code == 302
    assert indicator("I-NEW").option_codes is None


def test_an_entered_indicator_forgets_a_metric_chosen_by_mistake(staff):
    assert new_indicator(staff(AMP_ADMIN), metric="questionnaires.responses").status_code == 302
    assert indicator("I-NEW").metric is None


@pytest.mark.parametrize("fields,field,message", [
    ({"source": "computed", "metric": ""}, "metric", "A computed indicator needs what it is computed from."),
    ({"source": "computed", "metric": "nothing.such"}, "metric", "Choose one of the figures of the list."),
    ({"source": "computed", "metric": "questionnaires.share", "option_codes": ""}, "option_codes",
     "Give the codes of the options counted, e.g. 4, 5."),
    ({"option_codes": "4; 5"}, "option_codes", "Codes are letters, digits, dashes or underscores, separated by commas."),
    ({"baseline_year": "1989"}, "baseline_year", "Enter a year between 1990 and 2100."),
    ({"target_year": "2101"}, "target_year", "Enter a year between 1990 and 2100."),
    ({"target_year": "٢٠٣٠"}, "target_year", "Enter a year between 1990 and 2100."),
    ({"baseline_year": "2026", "target_year": "2025"}, "target_year",
     "The target year cannot come before the baseline year."),
    ({"baseline": "douze"}, "baseline", "Enter a number, for example 12,5."),
    ({"baseline": "1e5"}, "baseline", "Enter a number, for example 12,5."),
    ({"target": "nan"}, "target", "Enter a number, for example 12,5."),
    ({"baseline_year": ""}, "baseline_year", "Give the year of this value."),
    ({"target": ""}, "target", "Give the value of this year, or leave both empty."),
    ({"period_years": "0"}, "period_years", "Enter a whole number of years from 1 to 10."),
    ({"period_years": "11"}, "period_years", "Enter a whole number of years from 1 to 10."),
    ({"source": "guessed"}, "source", "Not a valid choice."),
])
def test_a_wrong_measure_is_refused_with_a_clear_message(staff, fields, field, message):
    resp = new_indicator(staff(AMP_ADMIN), **fields)
    assert resp.status_code == 422
    page = text(resp)
    assert message in page and f'id="{field}-error"' in page
    assert indicator("I-NEW") is None


def test_baseline_and_target_may_both_be_left_empty(staff):
    resp = new_indicator(staff(AMP_ADMIN), baseline="", baseline_year="", target="", target_year="")
    assert resp.status_code == 302
    made = indicator("I-NEW")
    assert (made.baseline, made.baseline_year, made.target, made.target_year) == (None, None, None, None)


def test_the_edit_form_shows_the_current_measure(staff):
    target = indicator("I-CADRE")
    page = text(staff(AMP_ADMIN).get(f"/admin/indicators/{target.id}/edit"))
    assert '<option selected value="questionnaires.share">' in page
    assert 'value="4, 5"' in page and 'value="38"' in page and 'value="2030"' in page


def test_a_post_without_the_measure_fields_keeps_the_measure(staff):
    """An older client posting only code, name, unit and category changes nothing else."""
    target = indicator("I-CADRE")
    resp = post(staff(AMP_ADMIN), f"/admin/indicators/{target.id}/edit",
                {"code": "I-CADRE", "name": "Satisfaction", "unit": "%", "category": category_id("O2")})
    assert resp.status_code == 302
    edited = indicator("I-CADRE")
    assert (edited.name, edited.source, edited.metric, edited.option_codes, edited.baseline) == (
        "Satisfaction", IndicatorSource.computed, "questionnaires.share", ["4", "5"], 38.0)


def test_deleting_an_indicator_deletes_its_values_and_detaches_its_verbatims(staff):
    target = indicator("I-CHOMAGE")
    said = db.session.scalars(sa.select(Verbatim.id).filter_by(indicator_id=target.id)).all()
    assert said and indicator_services.entered_values(target) > 0
    page = text(staff(AMP_ADMIN).get(f"/admin/indicators/{target.id}/edit"))
    assert "values entered by hand will be deleted with it" in page
    assert post(staff(AMP_ADMIN), f"/admin/indicators/{target.id}/delete", {}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)
                             .filter_by(indicator_id=target.id)) == 0
    assert all(db.session.get(Verbatim, v).indicator_id is None for v in said)


# --- the référentiel page -------------------------------------------------------------------------


def test_the_referentiel_lists_indicators_by_defi_with_source_and_baseline_to_target(staff):
    page = text(staff(EVA).get(f"/admin/contracts/{contract().id}/referentiel"))
    d3 = page.index('<caption><span class="code">D3</span>')
    secu = page.index("I-SECU")
    assert d3 < secu < page.index("</table>", d3)
    row = page[secu:page.index("</tr>", secu)]
    assert "Computed" in row and "Share of respondents (tagged questions)" in row and "answers 4, 5" in row
    assert "31 % (2024)" in row and "45 % (2030)" in row and "higher is better" in row
    chomage = page[page.index("I-CHOMAGE"):]
    chomage = chomage[:chomage.index("</tr>")]
    assert "Entered by hand" in chomage and "lower is better" in chomage
    assert f"/admin/governance/indicators/{indicator('I-CHOMAGE').id}/values" in chomage
    # The evaluator reads values and moderates verbatims, but does not edit the référentiel.
    assert "/edit" not in chomage
    assert f"/admin/governance/{contract().id}/verbatims" in page and f"/admin/governance/{contract().id}/tokens" in page


def test_a_facilitator_sees_the_indicators_without_the_values_links(staff):
    page = text(staff(FAC).get(f"/admin/contracts/{contract().id}/referentiel"))
    assert "I-CHOMAGE" in page
    assert "/admin/governance/" not in page


def test_an_indicator_without_a_defi_is_listed_apart(staff):
    assert new_indicator(staff(AMP_ADMIN), category="").status_code == 302
    page = text(staff(AMP_ADMIN).get(f"/admin/contracts/{contract().id}/referentiel"))
    loose = page.index("Not attached to a challenge or orientation")
    assert loose < page.index("I-NEW")


# --- values of an entered indicator -----------------------------------------------------------------


def values_url(code="I-CHOMAGE") -> str:
    return f"/admin/governance/indicators/{indicator(code).id}/values"


def value_of(code: str, scope: str, year: int) -> IndicatorValue | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(IndicatorValue).filter_by(indicator_id=indicator(code).id, scope_key=scope,
                                                                 year=year))


def count_values(code="I-CHOMAGE") -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)
                             .filter_by(indicator_id=indicator(code).id))


def scope_of(qpv: str) -> str:
    n = hood(qpv)
    return f"neighbourhood:{n.id}"


def test_the_values_are_listed_by_year_and_place_with_their_source(staff):
    page = text(staff(EVA).get(values_url()))
    assert "<caption>Values by year and place</caption>" in page
    first = page.index("<th scope=\"row\">2026</th>")
    assert first < page.index("<th scope=\"row\">2025</th>") < page.index("<th scope=\"row\">2024</th>")
    assert "Frais Vallon (Marseille)" in page
    assert "INSEE, recensement de la population 2026 (estimation QPV)" in page
    assert "Contrat de ville Aix-Marseille-Provence: the whole contract" in page


def test_a_value_typed_with_a_decimal_comma_is_added(staff):
    client = staff(EVA)
    scope = scope_of("QN01322M")
    resp = post(client, values_url(), {"scope": scope, "year": "2027", "value": "12,5", "source_note": "INSEE, RP 2027"})
    assert resp.status_code == 302
    added = value_of("I-CHOMAGE", scope, 2027)
    assert (added.value, added.source_note, added.neighbourhood_id, added.commune_id, added.entered_on) == (
        12.5, "INSEE, RP 2027", hood("QN01322M").id, hood("QN01322M").commune_id, date.today())
    assert "Value added." in text(client.get(values_url()))


@pytest.mark.parametrize("typed,number", [("12.5", 12.5), (" 1 234,5 ", 1234.5), ("1\u202f234", 1234.0), ("-3", -3.0),
                                          (",5", 0.5), ("0", 0.0)])
def test_numbers_are_read_the_french_way_or_with_a_dot(staff, typed, number):
    resp = post(staff(EVA), values_url(), {"scope": "contract", "year": "2027", "value": typed, "source_note": "Note"})
    assert resp.status_code == 302
    assert value_of("I-CHOMAGE", "contract", 2027).value == number


def test_the_same_place_and_year_replaces_the_value_instead_of_adding_one(staff):
    client = staff(EVA)
    scope = scope_of("QN01322M")
    before = count_values()
    old = value_of("I-CHOMAGE", scope, 2025)
    resp = post(client, values_url(), {"scope": scope, "year": "2025", "value": "30,1", "source_note": "INSEE, RP 2025 révisé"})
    assert resp.status_code == 302
    assert count_values() == before
    replaced = value_of("I-CHOMAGE", scope, 2025)
    assert (replaced.id, replaced.value, replaced.source_note) == (old.id, 30.1, "INSEE, RP 2025 révisé")
    assert "Value replaced." in text(client.get(values_url()))


def test_change_fills_the_form_with_the_value(staff):
    scope = scope_of("QN01323M")
    page = text(staff(EVA).get(values_url() + f"?scope={scope}&year=2024"))
    assert f'<option selected value="{scope}">' in page
    assert 'value="35.1"' in page and 'value="INSEE, recensement de la population 2024 (estimation QPV)"' in page


def test_two_people_saving_the_same_place_and_year_at_once_get_a_message_not_an_error(staff, monkeypatch):
    """The look-up misses the other person's row (saved in between): the unique constraint
    refuses the insert, nothing is written and the page says so."""
    client = staff(EVA)
    scope = scope_of("QN01322M")
    before = value_of("I-CHOMAGE", scope, 2025).value
    real_scalar = db.session.scalar

    def stale_lookup(statement, *args, **kwargs):
        if "FROM indicator_values" in str(statement):
            return None
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", stale_lookup)
    resp = post(client, values_url(), {"scope": scope, "year": "2025", "value": "1", "source_note": "Autre"})
    monkeypatch.undo()
    assert resp.status_code == 409
    assert "Someone else saved a value for this place and year at the same moment." in text(resp)
    assert value_of("I-CHOMAGE", scope, 2025).value == before


@pytest.mark.parametrize("fields,field,message", [
    ({"value": "douze"}, "value", "Enter a number, for example 12,5."),
    ({"value": ""}, "value", "Enter the value."),
    ({"value": "1e3"}, "value", "Enter a number, for example 12,5."),
    ({"year": "1989"}, "year", "Enter a year between 1990 and 2100."),
    ({"year": ""}, "year", "Enter the year of the value."),
    ({"year": "20 25"}, "year", "Enter a year between 1990 and 2100."),
    ({"source_note": " "}, "source_note", "Say where the value comes from."),
    ({"source_note": "x" * 301}, "source_note", "Field cannot be longer than 300 characters."),
    ({"scope": "neighbourhood:999999"}, "scope", "Choose the contract, one of its communes or one of its neighbourhoods."),
    ({"scope": "commune:abc"}, "scope", "Choose the contract, one of its communes or one of its neighbourhoods."),
])
def test_a_wrong_value_is_refused_with_a_clear_message(staff, fields, field, message):
    before = count_values()
    data = {"scope": "contract", "year": "2027", "value": "3", "source_note": "INSEE", **fields}
    resp = post(staff(EVA), values_url(), data)
    assert resp.status_code == 422
    page = text(resp)
    assert message in page and f'id="{field}-error"' in page
    assert count_values() == before


def test_a_value_cannot_be_given_for_a_place_of_another_contract(staff):
    razimbaud = hood("QN01101M")
    before = count_values()
    resp = post(staff(EVA), values_url(), {"scope": f"neighbourhood:{razimbaud.id}", "year": "2027", "value": "3",
                                           "source_note": "INSEE"})
    assert resp.status_code == 422 and count_values() == before
    page = text(staff(EVA).get(values_url()))
    assert "Razimbaud" not in page and "Narbonne" not in page


def test_a_value_is_deleted(staff):
    target = value_of("I-CHOMAGE", "contract", 2024)
    assert post(staff(AMP_ADMIN), f"/admin/governance/values/{target.id}/delete", {}).status_code == 302
    assert value_of("I-CHOMAGE", "contract", 2024) is None


def test_a_computed_indicator_has_no_values_page(staff):
    resp = staff(EVA).get(values_url("I-CADRE"))
    assert resp.status_code == 404
    assert "it has no values entered by hand" in text(resp)


def test_a_reader_who_may_not_edit_sees_the_values_without_the_form(staff, app):
    """A facilitator of the whole contract reads the values; only admins and evaluators edit them."""
    from participation.core.users import Role, RoleGrant, User
    from participation.core.territories import Scope

    claire = db.session.scalar(sa.select(User).filter_by(email=FAC))
    amp = contract()
    db.session.add(RoleGrant(user_id=claire.id, role=Role.facilitator, scope_key=RoleGrant.key_for(Scope(amp.id)),
                             contract_id=amp.id))
    db.session.commit()
    client = staff(FAC)
    page = text(client.get(values_url()))
    assert "INSEE, recensement de la population 2026" in page
    assert "Add or replace a value" not in page and "/delete" not in page
    before = count_values()
    assert post(client, values_url(), {"scope": "contract", "year": "2027", "value": "3", "source_note": "X"}).status_code == 403
    value = value_of("I-CHOMAGE", "contract", 2024)
    assert post(client, f"/admin/governance/values/{value.id}/delete", {}).status_code == 403
    assert count_values() == before


@pytest.mark.parametrize("email", [FAC, MED, NAR_ADMIN])
def test_others_neither_read_nor_write_the_values(staff, email):
    client = staff(email)
    before = count_values()
    assert client.get(values_url()).status_code == 403
    assert post(client, values_url(), {"scope": "contract", "year": "2027", "value": "3", "source_note": "X"}).status_code == 403
    value = value_of("I-CHOMAGE", "contract", 2024)
    assert post(client, f"/admin/governance/values/{value.id}/delete", {}).status_code == 403
    assert count_values() == before


def test_unknown_values_and_indicators_are_404(staff):
    client = staff(EVA)
    assert client.get("/admin/governance/indicators/999999/values").status_code == 404
    assert post(client, "/admin/governance/values/999999/delete", {}).status_code == 404


# --- demo data ----------------------------------------------------------------------------------------


def governance_rows() -> dict:
    def rows(model, *columns):
        return sorted(tuple(getattr(r, c) for c in columns) for r in db.session.scalars(sa.select(model)))

    return {
        "indicators": rows(Indicator, "code", "source", "metric", "option_codes", "baseline", "target", "category_id"),
        "values": rows(IndicatorValue, "indicator_id", "scope_key", "year", "value", "source_note"),
        "verbatims": rows(Verbatim, "text", "status", "indicator_id", "category_id", "neighbourhood_id", "year"),
    }


def test_the_demo_gives_the_barometer_indicators_their_share_and_runs_twice_the_same(demo):
    cadre, secu = indicator("I-CADRE"), indicator("I-SECU")
    for target in (cadre, secu):
        assert (target.source, target.metric, target.option_codes) == (IndicatorSource.computed, "questionnaires.share",
                                                                      ["4", "5"])
        assert target.baseline_year == 2024 and target.target_year == 2030 and target.target > target.baseline
    # The barometer's scales code their satisfied answers "4" and "5".
    from participation.questionnaires.models import Option, Question

    for target in (cadre, secu):
        codes = set(db.session.scalars(sa.select(Option.code).join(Question).where(Question.indicator_id == target.id)))
        assert {"4", "5"} <= codes
    metrics = {i.metric for i in db.session.scalars(sa.select(Indicator).filter_by(source=IndicatorSource.computed))}
    from participation.governance.metrics import METRICS

    assert metrics <= set(METRICS)
    assert {"tables.participations", "questionnaires.responses", "fph.granted", "followup.answer_days",
            "walks.participants", "budgets.voters"} <= metrics
    before = governance_rows()
    demo.load()
    db.session.commit()
    assert governance_rows() == before


def test_the_demo_enters_values_with_sources_and_verbatims_of_every_status(demo):
    chomage, pauvrete = indicator("I-CHOMAGE"), indicator("I-PAUVRETE")
    assert chomage.source is IndicatorSource.entered and chomage.direction is Direction.down
    years = set(db.session.scalars(sa.select(IndicatorValue.year).filter_by(indicator_id=chomage.id)))
    assert years == {2024, 2025, 2026}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue).filter_by(
        indicator_id=chomage.id, year=2025).where(IndicatorValue.neighbourhood_id.is_not(None))) == 14
    assert count_values("I-PAUVRETE") > 0
    assert all(v.source_note for v in db.session.scalars(sa.select(IndicatorValue)))
    verbatims = list(db.session.scalars(sa.select(Verbatim)))
    assert 6 <= len(verbatims) <= 10
    statuses = [v.status for v in verbatims]
    assert statuses.count(VerbatimStatus.pending) == 1 and statuses.count(VerbatimStatus.rejected) == 1
    assert any(v.locale == "ar" and v.status is VerbatimStatus.published for v in verbatims)
    assert {v.indicator_id for v in verbatims} >= {indicator("I-SECU").id, indicator("I-CADRE").id}
    assert any(v.indicator_id is None and v.category_id is not None for v in verbatims)
    assert pauvrete.baseline is not None
