"""Governance downloads (CSV, XLSX, Frictionless data package, PDF): each one downloads and
parses, shows the same protected figures ("s" in every format where the report suppresses),
follows the selection (area, years, défi), carries published verbatims only and no personal
data, and is refused to those who may not read the area, with a clear 400 for a bad selection."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from participation.core.exports import FORMULA_START
from participation.core.territories import Category, Commune, Contract, Indicator, IndicatorSource, Neighbourhood
from participation.core.users import User
from participation.extensions import db
from participation.governance import verbatims
from participation.governance.models import IndicatorValue, VerbatimOrigin, VerbatimStatus, scope_key
from participation.governance.report import COLUMNS

from ..conftest import Auth

AMP = "aix-marseille-provence"
EVA = "evaluation@amp.demo"
FAC = "animatrice@amp.demo"
MED = "mediateur@amp.demo"
AMP_ADMIN = "admin@amp.demo"
NAR_ADMIN = "admin@narbonne.demo"

PUBLISHED = "Le square est enfin éclairé le soir."
PENDING = "On attend toujours les bancs promis."
REJECTED = "Texte refusé par la modération."


def contract(slug=AMP) -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=slug))


def commune(insee: str) -> Commune:
    return db.session.scalar(sa.select(Commune).filter_by(insee_code=insee, contract_id=contract().id))


def hood(qpv: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv))


def category(code: str) -> Category:
    return db.session.scalar(sa.select(Category).filter_by(contract_id=contract().id, code=code))


@pytest.fixture
def data(app, demo):
    """The demo, plus an entered indicator with values (one named like a formula), and a
    published, a pending and a rejected verbatim in Frais Vallon."""
    amp = contract()
    frais_vallon = hood("QN01322M")
    d3, o2 = category("D3"), category("O2")
    safe = Indicator(contract_id=amp.id, code="I-TEST", name="Part des habitants qui se sentent bien", unit="%",
                     description="Mesurée par l'enquête annuelle.", category_id=d3.id, source=IndicatorSource.entered,
                     baseline=40, baseline_year=2024, target=55, target_year=2030, scale="0 à 100 %")
    formula = Indicator(contract_id=amp.id, code="I-FORMULA", name="=HYPERLINK(\"http://evil\")", unit="%",
                        category_id=o2.id, source=IndicatorSource.entered)
    db.session.add_all([safe, formula])
    db.session.flush()
    db.session.add_all([
        IndicatorValue(indicator_id=safe.id, scope_key=scope_key(None, None), year=2025, value=47.5,
                       source_note="Enquête cadre de vie 2025"),
        IndicatorValue(indicator_id=safe.id, commune_id=frais_vallon.commune_id, neighbourhood_id=frais_vallon.id,
                       scope_key=scope_key(frais_vallon.commune_id, frais_vallon.id), year=2025, value=38,
                       source_note="Enquête cadre de vie 2025"),
    ])
    for text, status in ((PUBLISHED, VerbatimStatus.published), (PENDING, VerbatimStatus.pending),
                         (REJECTED, VerbatimStatus.rejected)):
        v = verbatims.add(amp, text=text, locale="fr", year=2025, origin=VerbatimOrigin.table,
                          neighbourhood=frais_vallon, indicator=safe)
        verbatims.set_status(v, status)
    db.session.commit()
    return {"amp": amp.id, "marseille": frais_vallon.commune_id, "aix": commune("13001").id,
            "frais_vallon": frais_vallon.id, "d3": d3.id, "o2": o2.id}


@pytest.fixture
def login(app):
    def as_(email: str | None):
        client = app.test_client()
        if email is not None:
            assert Auth(client).login(email).status_code == 302
        return client

    return as_


def url(data, fmt: str, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"lang": "en", **args}.items())
    return f"/admin/governance/{data['amp']}/export.{fmt}?{query}"


def read_csv(body: bytes) -> list[dict]:
    text = body.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def sheet_rows(wb, title: str) -> list[dict]:
    ws = wb[title]
    rows = list(ws.iter_rows(values_only=True))
    headers = rows[0]
    return [dict(zip(headers, r)) for r in rows[1:] if any(c is not None for c in r)]


def read_zip(body: bytes) -> tuple[dict, dict[str, list[dict]], str]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        descriptor = json.loads(z.read("datapackage.json"))
        tables = {r["name"]: list(csv.DictReader(io.StringIO(z.read(r["path"]).decode("utf-8"))))
                  for r in descriptor["resources"]}
        return descriptor, tables, z.read("README.md").decode("utf-8")


def key(row: dict) -> tuple:
    return (row["section"], row["code"], row["area_code"], str(row["year"]))


# --- each format ---------------------------------------------------------------------------------


def test_the_csv_has_the_report_columns_and_a_file_name_naming_the_selection(data, login):
    resp = login(EVA).get(url(data, "csv", **{"from": 2024, "to": 2026}))
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="gouvernance-aix-marseille-provence-contrat-2024-2026.csv"')
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.data.startswith("\ufeff".encode())
    rows = read_csv(resp.data)
    assert list(rows[0]) == list(COLUMNS)
    assert {r["section"] for r in rows} == {"figures", "comparison", "indicators"}
    total = next(r for r in rows if r["section"] == "figures" and r["code"] == "tables.participations" and not r["year"])
    assert total["level"] == "contract" and total["area_code"] == AMP
    # The entered value of the contract, for 2025; the other years have none.
    values = {r["year"]: r["value"] for r in rows if r["code"] == "I-TEST"}
    assert values == {"2024": "", "2025": "47.5", "2026": ""}


def test_a_label_that_looks_like_a_formula_is_defused_in_csv_and_xlsx(data, login):
    client = login(EVA)
    rows = read_csv(client.get(url(data, "csv")).data)
    label = next(r["label"] for r in rows if r["code"] == "I-FORMULA")
    assert label == "'=HYPERLINK(\"http://evil\")"
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url(data, "xlsx")).data))
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "'=HYPERLINK(\"http://evil\")" in cells
    assert not [c for c in cells if c.startswith(FORMULA_START)]


def test_the_xlsx_starts_with_a_read_me_then_a_sheet_per_section(data, login):
    resp = login(EVA).get(url(data, "xlsx"))
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"].endswith('.xlsx"')
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["Read me", "Figures", "Comparison", "Indicators", "Profile", "Verbatims"]
    readme = [[c for c in row if c is not None] for row in wb["Read me"].iter_rows(values_only=True)]
    flat = [c for row in readme for c in row]
    assert flat[0] == "Governance figures: Contrat de ville Aix-Marseille-Provence"
    assert "Extracted on" in flat and "Disclosure rules" in flat
    assert any(isinstance(c, str) and c.startswith("“s”: a count of fewer than 11 people") for c in flat)
    assert any(isinstance(c, str) and "3 recipients" in c for c in flat)
    assert any(isinstance(c, str) and "moderator" in c for c in flat)
    # One line per metric and indicator: definition, unit, source, baseline, target.
    headers = next(row for row in readme if row and row[0] == "Code")
    assert headers[:7] == ["Code", "Type", "Name", "Definition", "Unit", "Kind", "Source"]
    line = dict(zip(headers, next(row for row in wb["Read me"].iter_rows(values_only=True) if row[0] == "I-TEST")))
    assert line["Definition"] == "Mesurée par l'enquête annuelle."
    assert line["Source"] == "Entered by hand: Enquête cadre de vie 2025"
    assert (line["Baseline"], line["Baseline year"], line["Target"], line["Target year"]) == (40, 2024, 55, 2030)
    metric = dict(zip(headers, next(row for row in wb["Read me"].iter_rows(values_only=True)
                                    if row[0] == "tables.participations")))
    assert metric["Definition"].startswith("Check-ins by QR code")
    assert metric["Source"] == "Computed from tables de quartier"
    figures = sheet_rows(wb, "Figures")
    assert list(figures[0]) == ["Section", "Code", "Name", "Unit", "Kind", "Level", "Area code", "Area", "Year", "Value"]
    assert any(r["Code"] == "tables.participations" and r["Kind"] == "number of people" for r in figures)
    profile = sheet_rows(wb, "Profile")
    assert {r["Dimension"] for r in profile} >= {"age_band", "gender", "residence", "language", "channel"}


def test_the_headers_follow_the_interface_language(app, data, login):
    from flask_babel import gettext

    wb = openpyxl.load_workbook(io.BytesIO(login(EVA).get(url(data, "xlsx", lang="fr")).data))
    with app.test_request_context("/?lang=fr"):
        expected = [gettext("Read me"), gettext("Figures")], gettext("Value")
    assert wb.sheetnames[:2] == expected[0]
    assert wb.worksheets[1]["J1"].value == expected[1]


def test_the_data_package_is_a_valid_tabular_data_package(data, login):
    resp = login(EVA).get(url(data, "zip", **{"from": 2024, "to": 2025}))
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="gouvernance-aix-marseille-provence-contrat-2024-2025.zip"')
    descriptor, tables, readme = read_zip(resp.data)
    # Data Package / Tabular Data Package (specs.frictionlessdata.io): required and typed keys.
    assert descriptor["profile"] == "tabular-data-package"
    assert re.fullmatch(r"[a-z0-9._/-]+", descriptor["name"])
    assert descriptor["title"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", descriptor["created"])
    assert descriptor["licenses"] == [{"name": "etalab-2.0", "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
                                       "title": "Licence Ouverte / Open Licence 2.0"}]
    names = [r["name"] for r in descriptor["resources"]]
    assert names == ["figures", "comparison", "indicators", "definitions", "profile", "verbatims"]
    for resource in descriptor["resources"]:
        assert re.fullmatch(r"[a-z0-9._-]+", resource["name"])
        assert resource["profile"] == "tabular-data-resource"
        assert resource["path"].endswith(".csv") and not resource["path"].startswith("/") and ".." not in resource["path"]
        assert resource["format"] == "csv" and resource["mediatype"] == "text/csv" and resource["encoding"] == "utf-8"
        assert resource["dialect"]["delimiter"] == "," and resource["dialect"]["header"] is True
        schema = resource["schema"]
        assert schema["missingValues"] == ["", "s"]
        fields = schema["fields"]
        assert all(f["name"] and f["type"] in {"string", "integer", "number"} and f["description"] for f in fields)
        rows = tables[resource["name"]]
        header = list(rows[0]) if rows else None
        if header is not None:
            assert header == [f["name"] for f in fields]
        for f in fields:
            for row in rows:
                value = row[f["name"]]
                if value in schema["missingValues"]:
                    continue
                if f["type"] == "integer":
                    assert re.fullmatch(r"-?\d+", value), (resource["name"], f["name"], value)
                elif f["type"] == "number":
                    float(value)
                if "enum" in f.get("constraints", {}):
                    assert value in f["constraints"]["enum"]
    assert [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]] == list(COLUMNS)
    assert "# Governance figures: Contrat de ville Aix-Marseille-Provence" in readme
    assert "etalab" in readme and "“s”" in readme and "data/figures.csv" in readme


def test_the_data_package_passes_the_frictionless_validator(data, login, tmp_path):
    import frictionless  # a test dependency (pyproject.toml): CI validates, never skips

    with zipfile.ZipFile(io.BytesIO(login(EVA).get(url(data, "zip")).data)) as z:
        z.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])


def test_the_pdf_downloads(data, login):
    resp = login(EVA).get(url(data, "pdf", **{"from": 2024, "to": 2026}))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="gouvernance-aix-marseille-provence-contrat-2024-2026.pdf"')


# --- the same protected figures everywhere ----------------------------------------------------------


def test_suppressed_cells_are_s_in_every_format(data, login):
    client = login(EVA)
    rows = read_csv(client.get(url(data, "csv")).data)
    suppressed = {key(r) for r in rows if r["value"] == "s"}
    assert suppressed, "the demo has small counts: some cells must be suppressed"
    shown = {key(r): r["value"] for r in rows if r["value"] not in ("s", "")}
    assert shown
    # XLSX: the same cells, by section, code, area and year (a total's year is the period there).
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url(data, "xlsx")).data))
    xlsx = {}
    for title, section in (("Figures", "figures"), ("Comparison", "comparison"), ("Indicators", "indicators")):
        for r in sheet_rows(wb, title):
            year = "" if isinstance(r["Year"], str) else str(r["Year"])
            xlsx[(section, r["Code"], r["Area code"], year)] = r["Value"]
    assert {k for k, v in xlsx.items() if v == "s"} == suppressed
    assert [(k, xlsx[k], v) for k, v in shown.items() if str(xlsx[k]) != v] == []
    # Data package: the same again, "s" declared as a missing value.
    descriptor, tables, _readme = read_zip(client.get(url(data, "zip")).data)
    package = {key(r): r["value"] for name in ("figures", "comparison", "indicators") for r in tables[name]}
    assert {k for k, v in package.items() if v == "s"} == suppressed
    assert all(package[k] == v for k, v in shown.items())
    # The profile's small cells too (the demo's walks and tables have few people per age band).
    assert "s" in {r["value"] for r in tables["profile"]}
    assert "s" in {r["Value"] for r in sheet_rows(wb, "Profile")}


def test_only_published_verbatims_leave(data, login):
    client = login(EVA)
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url(data, "xlsx")).data))
    words = sheet_rows(wb, "Verbatims")
    # (the demo's own published words come too: keep this test's indicator)
    assert [(r["Words"], r["Language"], r["Year"], r["QPV code"], r["Défi or orientation"], r["Indicator"])
            for r in words if r["Indicator"] == "I-TEST"] == [(PUBLISHED, "fr", 2025, "QN01322M", "D3", "I-TEST")]
    _descriptor, tables, _readme = read_zip(client.get(url(data, "zip")).data)
    assert PUBLISHED in [r["text"] for r in tables["verbatims"]]
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
    package = json.dumps(tables, ensure_ascii=False)
    for hidden in (PENDING, REJECTED):
        assert hidden not in cells and hidden not in package


def test_no_staff_name_or_e_mail_appears_in_any_export(data, login):
    client = login(EVA)
    texts = [client.get(url(data, "csv")).get_data(as_text=True)]
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url(data, "xlsx")).data))
    texts += [" ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None) for ws in wb]
    with zipfile.ZipFile(io.BytesIO(client.get(url(data, "zip")).data)) as z:
        texts += [z.read(n).decode("utf-8") for n in z.namelist()]
    blob = "\n".join(texts)
    assert "@" not in blob
    for name in db.session.scalars(sa.select(User.name)):
        assert name not in blob, name


# --- the selection -------------------------------------------------------------------------------


def test_the_area_years_and_defi_filter_every_format(data, login):
    client = login(EVA)
    args = {"neighbourhood": data["frais_vallon"], "from": 2025, "to": 2026, "category": data["d3"]}
    resp = client.get(url(data, "csv", **args))
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="gouvernance-aix-marseille-provence-qn01322m-2025-2026-d3.csv"')
    rows = read_csv(resp.data)
    assert {r["area_code"] for r in rows} == {"QN01322M"}
    assert {r["year"] for r in rows} == {"", "2025", "2026"}
    indicators = {r["code"] for r in rows if r["section"] == "indicators"}
    assert "I-TEST" in indicators and "I-FORMULA" not in indicators  # I-FORMULA is under O2
    # Frais Vallon's own entered value, not the contract's.
    assert {r["year"]: r["value"] for r in rows if r["code"] == "I-TEST"} == {"2025": "38", "2026": ""}
    wb = openpyxl.load_workbook(io.BytesIO(client.get(url(data, "xlsx", **args)).data))
    assert {r["Area code"] for r in sheet_rows(wb, "Figures")} == {"QN01322M"}
    assert {r["Year"] for r in sheet_rows(wb, "Indicators")} == {2025, 2026}
    selection = next(row for row in wb["Read me"].iter_rows(values_only=True) if row[0] == "Selection")[1]
    assert "Frais Vallon" in selection and "2025 to 2026" in selection and "D3" in selection
    descriptor, tables, _readme = read_zip(client.get(url(data, "zip", **args)).data)
    assert descriptor["name"] == "gouvernance-aix-marseille-provence-qn01322m-2025-2026-d3"
    assert {r["area_code"] for r in tables["figures"]} == {"QN01322M"}
    assert PUBLISHED in [r["text"] for r in tables["verbatims"]]
    # Another défi: the verbatim (attached to an indicator of D3) is not in it.
    _d, other, _r = read_zip(client.get(url(data, "zip", category=data["o2"])).data)
    assert PUBLISHED not in [r["text"] for r in other["verbatims"]]
    assert {r["code"] for r in other["indicators"]} >= {"I-FORMULA"}


def test_a_commune_compares_its_own_neighbourhoods_only(data, login):
    rows = read_csv(login(EVA).get(url(data, "csv", commune=data["marseille"])).data)
    compared = {r["area_code"] for r in rows if r["section"] == "comparison"}
    marseille = {n.qpv_code for n in commune("13055").neighbourhoods} | {"13055"}
    assert compared == marseille
    assert {r["area_code"] for r in rows if r["section"] == "figures"} == {"13055"}


@pytest.mark.parametrize("args,message", [
    ({"from": "abc"}, "is not a whole number"),
    ({"from": 1999}, "The contract runs from"),
    ({"from": 2026, "to": 2025}, "The first year comes after the last one."),
    ({"commune": 999999}, "This commune is not part of the contract."),
    ({"neighbourhood": "QN01101M"}, "is not a whole number"),
    ({"category": 999999}, "not part of the contract's référentiel"),
])
def test_a_bad_selection_is_a_400_with_its_message(data, login, args, message):
    client = login(EVA)
    for fmt in ("csv", "xlsx", "zip", "pdf"):
        resp = client.get(url(data, fmt, **args))
        assert resp.status_code == 400
        assert message in resp.get_data(as_text=True).replace("&#39;", "'")


def test_a_neighbourhood_of_another_contract_is_refused(data, login):
    narbonne = hood("QN01101M")
    resp = login(EVA).get(url(data, "csv", neighbourhood=narbonne.id))
    assert resp.status_code == 400
    assert "This neighbourhood is not part of the contract." in resp.get_data(as_text=True)


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "zip", "pdf"])
def test_the_evaluator_and_the_admin_download_the_whole_contract(data, login, fmt):
    for email in (EVA, AMP_ADMIN):
        assert login(email).get(url(data, fmt)).status_code == 200


def test_a_facilitator_downloads_her_commune_only(data, login):
    client = login(FAC)
    resp = client.get(url(data, "csv", commune=data["marseille"]))
    assert resp.status_code == 200
    assert {r["area_code"] for r in read_csv(resp.data) if r["section"] == "figures"} == {"13055"}
    # Without a choice she gets her commune, as on the dashboard.
    resp = client.get(url(data, "csv"))
    assert resp.status_code == 200 and "-13055-" in resp.headers["Content-Disposition"]
    assert client.get(url(data, "csv", neighbourhood=data["frais_vallon"])).status_code == 200
    assert client.get(url(data, "csv", commune=data["aix"])).status_code == 403
    assert client.get(url(data, "xlsx", commune=data["aix"])).status_code == 403


def test_mediators_other_contracts_and_visitors_are_refused(data, login):
    assert login(MED).get(url(data, "csv", neighbourhood=data["frais_vallon"])).status_code == 403
    assert login(NAR_ADMIN).get(url(data, "csv")).status_code == 403
    resp = login(None).get(url(data, "csv"))
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert login(EVA).get("/admin/governance/999999/export.csv").status_code == 404
    assert login(EVA).get(f"/admin/governance/{2**40}/export.csv").status_code == 404
    assert login(EVA).get(f"/admin/governance/{data['amp']}/export.json").status_code == 404
