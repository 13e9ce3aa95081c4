"""Downloads: aggregated results (suppressed as on the page), response-level data (managers
only, no response id, only published text), codebook; CSV with BOM and ";" option, XLSX,
formula cells neutralised."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa

from participation.core.exports import to_csv
from participation.extensions import db
from participation.questionnaires.models import Answer, Option, Response

from .test_results import (
    EVALUATOR, FACILITATOR, FEATURED_TEXT, MEDIATOR, PENDING_OTHER, PENDING_TEXT, PUBLISHED_TEXT, QUESTIONS,
    REJECTED_TEXT, logged_in, question, small_questionnaire, the_barometer,
)

BOM = "\ufeff"


@pytest.fixture
def small(demo):
    return small_questionnaire()


@pytest.fixture
def barometer(demo):
    return the_barometer()


@pytest.fixture
def login(app):
    return lambda email: logged_in(app, email)


def get(client, q, what, fmt, query=""):
    return client.get(f"/admin/questionnaires/{q.id}/export/{what}.{fmt}?lang=en&{query}")


def rows_of(response, delimiter=",") -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def workbook(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def all_xlsx_text(response) -> str:
    wb = workbook(response)
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row)


# --- core/exports.to_csv -----------------------------------------------------------------------


def test_to_csv_keeps_commas_by_default_and_takes_a_semicolon():
    assert to_csv(["a", "b"], [[1, "x;y"]]) == BOM + "a,b\r\n1,x;y\r\n"
    assert to_csv(["a", "b"], [[1, "x;y"]], delimiter=";") == BOM + 'a;b\r\n1;"x;y"\r\n'


# --- (1) aggregated results ------------------------------------------------------------------------


def test_results_csv_has_the_exact_figures_with_s(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "results", "csv"))
    assert rows[0] == ["Question", "Text", "Type", "Value", "Respondents", "Percent", "Answered", "Statistic"]
    s = {r[3]: r[4:7] for r in rows if r[0] == "S"}
    assert s == {"a": ["20", "57.1", "35"], "b": ["s", "s", "35"], "c": ["s", "s", "35"]}
    yn = {r[3]: r[4:6] for r in rows if r[0] == "YN"}
    assert yn == {"yes": ["s", "s"], "no": ["s", "s"]}
    m = {r[3]: r[4] for r in rows if r[0] == "M"}
    assert m == {"x": "30", "y": "14", "z": "s"}
    mean = next(r for r in rows if r[0] == "SC" and r[3] == "mean")
    assert mean[7] == "3.03"


def test_results_csv_lists_the_respondents_by_channel(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "results", "csv"))
    channel = {r[3]: r[4] for r in rows if r[0] == "channel"}
    assert channel == {"web": "s", "assisted": "0", "paper": "s"}


def test_results_csv_with_semicolons_uses_decimal_commas(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "results", "csv", "sep=semicolon"), delimiter=";")
    assert next(r for r in rows if r[0] == "S" and r[3] == "a")[4:6] == ["20", "57,1"]


def test_results_csv_with_labels(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "results", "csv", "values=labels"))
    assert {r[3] for r in rows if r[0] == "S"} == {"Option A", "Option B", "Autre"}
    assert {r[3] for r in rows if r[0] == "channel"} == {"online", "assisted", "paper"}


def test_results_csv_follows_the_filters(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "results", "csv", "from=2026-03-01&to=2026-03-31"))
    assert {r[3]: r[4:7] for r in rows if r[0] == "S"} == {"a": ["20", "100", "20"], "b": ["0", "0", "20"],
                                                            "c": ["0", "0", "20"]}


def test_results_xlsx_opens_with_its_sheets_and_s(small, login):
    wb = workbook(get(login(EVALUATOR), small, "results", "xlsx"))
    assert wb.sheetnames == ["Results", "Respondents", "About"]
    rows = list(wb["Results"].iter_rows(values_only=True))
    s = {r[3]: r[4] for r in rows if r[0] == "S"}
    assert s == {"a": 20, "b": "s", "c": "s"}


# --- (2) response-level data -------------------------------------------------------------------------


@pytest.mark.parametrize("email, status", [(EVALUATOR, 403), (MEDIATOR, 403), (FACILITATOR, 200),
                                           ("admin@amp.demo", 200)])
def test_response_level_data_is_for_managers_only(small, login, email, status):
    client = login(email)
    assert get(client, small, "responses", "csv").status_code == status
    assert get(client, small, "responses", "xlsx").status_code == status


@pytest.mark.parametrize("email, status", [(EVALUATOR, 200), (FACILITATOR, 200), (MEDIATOR, 403),
                                           ("admin@narbonne.demo", 403)])
def test_results_and_codebook_are_for_result_readers(small, login, email, status):
    client = login(email)
    for what in ("results", "codebook"):
        for fmt in ("csv", "xlsx"):
            assert get(client, small, what, fmt).status_code == status


def test_response_level_data_has_one_row_per_response_and_no_id(small, login):
    response = get(login(FACILITATOR), small, "responses", "csv")
    body = response.get_data(as_text=True)
    rows = rows_of(response)
    assert len(rows) == 1 + 35
    for rid in db.session.scalars(sa.select(Response.id).where(Response.version_id == small.current_version.id)):
        assert rid not in body
    assert rows[0][:8] == ["Version", "Month", "Channel", "Help given", "Language", "Neighbourhood", "Age band", "Gender"]
    assert rows[0][8:] == ["S", "S_other", "YN", "M_x", "M_y", "M_z", "SC", "R_r1", "R_r2", "R_r3", "N", "D", "T"]


def test_response_level_data_gives_the_month_in_a_random_order(small, login):
    rows = rows_of(get(login(FACILITATOR), small, "responses", "csv"))
    months = [r[1] for r in rows[1:]]
    assert set(months) == {"2026-03", "2026-04"}  # never the day
    assert months != sorted(months)  # not in the order of answering (random ids)


def test_response_level_data_values(small, login):
    rows = rows_of(get(login(FACILITATOR), small, "responses", "csv"))
    header = rows[0]
    by_row = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    (first,) = [r for r in by_row if r["T"] == FEATURED_TEXT]  # i = 0: answered on 2026-03-01
    assert first["Month"] == "2026-03" and first["Channel"] == "web" and first["Language"] == "ar"
    assert first["Neighbourhood"] == "QN01322M" and first["Age band"] == "25_39" and first["Gender"] == "woman"
    assert (first["S"], first["YN"], first["M_x"], first["M_y"], first["M_z"]) == ("a", "yes", "1", "0", "0")
    assert (first["R_r1"], first["R_r2"], first["R_r3"]) == ("1", "2", "3")
    assert first["D"] == "2026-01"  # a date answer, rounded to the month
    assert first["T"] == FEATURED_TEXT and first["N"] == "0"
    late = [r for r in by_row if r["S"] == "c"]  # i ≥ 32: "other", with a pending text
    assert len(late) == 3 and {r["S_other"] for r in late} == {""}  # pending: not exported
    # i = 32 ticked nothing in M: its M cells are empty, not "0" (unanswered is not "no").
    unticked = [r for r in late if r["M_z"] != "1"]
    assert len(unticked) == 1 and unticked[0]["M_x"] == unticked[0]["M_y"] == unticked[0]["M_z"] == ""


def test_response_level_data_with_labels(small, login):
    rows = rows_of(get(login(FACILITATOR), small, "responses", "csv", "values=labels"))
    (first,) = [r for r in (dict(zip(rows[0], row, strict=True)) for row in rows[1:]) if r["T"] == FEATURED_TEXT]
    assert first["S"] == "Option A" and first["Channel"] == "online" and first["Neighbourhood"] == "Frais Vallon"


def test_pending_and_rejected_texts_are_in_no_export(small, login):
    client = login(FACILITATOR)
    for what in ("results", "responses", "codebook"):
        for fmt in ("csv", "xlsx"):
            response = get(client, small, what, fmt)
            body = response.get_data(as_text=True) if fmt == "csv" else all_xlsx_text(response)
            for secret in (PENDING_TEXT, PENDING_OTHER, REJECTED_TEXT):
                assert secret not in body, (what, fmt, secret)
    published = get(client, small, "responses", "csv").get_data(as_text=True)
    assert FEATURED_TEXT in published and PUBLISHED_TEXT in published


def test_a_formula_in_a_published_text_is_neutralised(small, login):
    t = question(small, "T")
    answer = db.session.scalar(sa.select(Answer).where(Answer.question_id == t.id, Answer.text == PUBLISHED_TEXT))
    answer.text = '=HYPERLINK("http://evil.example","clic")'
    db.session.commit()
    client = login(FACILITATOR)
    rows = rows_of(get(client, small, "responses", "csv"))
    column = rows[0].index("T")
    assert "'=HYPERLINK(\"http://evil.example\",\"clic\")" in [r[column] for r in rows]
    assert not any(r[column].startswith("=") for r in rows)
    wb = workbook(get(client, small, "responses", "xlsx"))
    values = [c for row in wb.active.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "'=HYPERLINK(\"http://evil.example\",\"clic\")" in values and not any(v.startswith("=") for v in values)


def test_a_formula_in_an_option_label_is_neutralised_in_the_codebook_and_results(small, login):
    option = db.session.scalar(sa.select(Option).where(Option.question_id == question(small, "S").id, Option.code == "a"))
    option.label = "@SUM(1+1)"
    db.session.commit()
    client = login(EVALUATOR)
    codebook = rows_of(get(client, small, "codebook", "csv"))
    assert ["S", "", "", "", "", "", "", "a", "'@SUM(1+1)", "'@SUM(1+1)"] in codebook
    results = rows_of(get(client, small, "results", "csv", "values=labels"))
    assert any(r[3] == "'@SUM(1+1)" for r in results)


# --- (3) codebook -----------------------------------------------------------------------------------


def test_codebook_lists_every_question_and_option_code(small, login):
    rows = rows_of(get(login(EVALUATOR), small, "codebook", "csv"))
    assert rows[0][:8] == ["Question", "Section", "Type", "Required", "Condition", "Category", "Indicator", "Value"]
    question_rows = [r for r in rows[1:] if r[2] and r[2] != "Response variable"]
    assert [r[0] for r in question_rows] == [code for code, _kind, _options in QUESTIONS]
    option_pairs = {(r[0], r[7]) for r in rows[1:] if not r[2]}
    assert option_pairs == {(code, o) for code, _kind, options in QUESTIONS for o, _label in options}
    assert {(r[0], r[7]) for r in rows if r[2] == "Response variable"} >= {("channel", "web"), ("channel", "paper"),
                                                                          ("gender", "woman"), ("age_band", "75_plus")}


def test_codebook_gives_both_languages_and_the_condition(barometer, login):
    rows = rows_of(login(EVALUATOR).get(f"/admin/questionnaires/{barometer.id}/export/codebook.csv?lang=ar"))
    q5 = next(r for r in rows if r[0] == "Q5" and r[2])
    assert q5[4] == "Q4 = yes"
    assert q5[8] == "Où avez-vous trouvé de l'aide pour cette démarche ?"
    assert q5[9] == "أين وجدتم المساعدة لهذا الإجراء؟"
    q1 = next(r for r in rows if r[0] == "Q1" and r[2])
    assert q1[5] == "O2" and q1[6] == "I-CADRE"


def test_codebook_xlsx_has_one_sheet_per_table(small, login):
    wb = workbook(get(login(EVALUATOR), small, "codebook", "xlsx"))
    assert wb.sheetnames == ["Questions", "Options", "Response variables"]
    codes = [r[0] for r in wb["Questions"].iter_rows(min_row=2, values_only=True)]
    assert codes == [code for code, _kind, _options in QUESTIONS]


# --- the downloads page and bad requests ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["export/foo.csv", "export/results.pdf", "export/responses.txt", "export/.csv"])
def test_unknown_downloads_are_404(small, login, path):
    assert login(FACILITATOR).get(f"/admin/questionnaires/{small.id}/{path}").status_code == 404


def test_downloads_page_lists_response_data_only_for_managers(small, login):
    evaluator = login(EVALUATOR).get(f"/admin/questionnaires/{small.id}/exports?lang=en").get_data(as_text=True)
    facilitator = login(FACILITATOR).get(f"/admin/questionnaires/{small.id}/exports?lang=en").get_data(as_text=True)
    assert "export/results.csv" in evaluator and "export/codebook.xlsx" in evaluator
    assert "export/responses" not in evaluator
    assert "export/responses.csv" in facilitator


def test_downloads_page_carries_the_values_choice(small, login):
    html = login(EVALUATOR).get(f"/admin/questionnaires/{small.id}/exports?values=labels").get_data(as_text=True)
    assert "values=labels" in html and "sep=semicolon" in html


def test_garbage_export_options_fall_back_to_defaults(small, login):
    response = get(login(EVALUATOR), small, "results", "csv", "sep=zz&values=qq&from=notadate&channel=xyz&version=x")
    assert response.status_code == 200
    assert rows_of(response)[0][0] == "Question"


def test_demo_results_export_suppresses_the_small_neighbourhood(barometer, login):
    rows = rows_of(login(EVALUATOR).get(f"/admin/questionnaires/{barometer.id}/export/results.csv?lang=en"
                                        "&values=labels"))
    malpasse = next(r for r in rows if r[0] == "neighbourhood" and r[3] == "Malpassé Corot")
    assert malpasse[4] == "s" and malpasse[5] == "s"
