"""The evaluator of the demo contract takes the figures away, on a phone, in French and in Arabic:
from the governance dashboard she downloads the spreadsheet (XLSX), the annual report (PDF) and
the open-data package (ZIP), and each file is opened for real (openpyxl, poppler's `pdftotext`,
the data package's CSV files and, when installed, Frictionless's validation). Then she makes an
API token in the back office, reads it once, and a script calls the API with it: the figures it
gets are those of the dashboard and of the files; without the token, the API says 401 in JSON.
Finally she revokes the token, and the API refuses it. axe-core checks every page reached.

The live server is shared with journeys that write (questionnaire answers…): nothing here
asserts a count of the demo; every figure is compared between the outputs of this journey."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from participation.core.demo import register_loader
from participation.governance import demo as governance_demo
from participation.questionnaires import views as _questionnaires  # noqa: F401  (its demo loader runs first)

from .conftest import login

pytestmark = pytest.mark.browser

# The live server's demo must hold the governance demo (a no-op once the référentiel's views
# register its loader).
register_loader(governance_demo.load)

EVA = "evaluation@amp.demo"
SLUG = "aix-marseille-provence"
#: The headline figure compared between the dashboard, the files and the API.
METRIC = "questionnaires.responses"
#: A published verbatim of Frais Vallon (2025), attached to the indicator I-SECU (défi D3).
WORDS = "Le soir, on rentre vite : il n'y a plus de lumière après le parking."
INDICATOR = "I-SECU"
#: Pending and rejected words of the demo: in no file.
HIDDEN = ["Les fins de mois, on choisit entre la cantine", "Le gardien du bâtiment C ne fait rien"]
SELECTION_ARGS = ("commune", "neighbourhood", "from", "to", "category")


def number(text: str) -> int:
    """A whole number as the page shows it (thousands separated by spaces of any kind)."""
    digits = re.sub(r"[\s\u202f\u00a0]", "", text)
    assert digits.isdigit(), text
    return int(digits)


def flat(text: str) -> str:
    """Text with every run of white space as one space (a PDF wraps lines where it likes)."""
    return re.sub(r"\s+", " ", text)


def download(page, link, folder: Path, suffix: str) -> Path:
    # (the link answers once the whole file is made: the PDF takes a while on a busy machine)
    with page.expect_download(timeout=120_000) as info:
        link.click(timeout=120_000)
    dl = info.value
    assert dl.failure() is None, dl.failure()
    name = dl.suggested_filename
    assert name.endswith(suffix) and SLUG in name, name
    path = folder / name
    dl.save_as(path)
    return path


# --- the files ----------------------------------------------------------------------------------


def read_package(path: Path, folder: Path) -> tuple[dict, dict[str, list[dict]]]:
    """The data package's descriptor and its resources' rows; each resource's file is there, a
    CSV whose header is its schema's fields; Frictionless validates it when installed."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert "datapackage.json" in names and "README.md" in names, names
        descriptor = json.loads(z.read("datapackage.json"))
        assert descriptor["resources"], descriptor
        rows = {}
        for resource in descriptor["resources"]:
            assert resource["path"] in names, f"{resource['path']} is described but not in the zip"
            text = z.read(resource["path"]).decode(resource.get("encoding", "utf-8"))
            table = list(csv.reader(io.StringIO(text)))
            fields = [f["name"] for f in resource["schema"]["fields"]]
            assert table and table[0] == fields, (resource["name"], table[:1], fields)
            assert all(len(r) == len(fields) for r in table[1:]), resource["name"]
            rows[resource["name"]] = [dict(zip(fields, r)) for r in table[1:]]
        z.extractall(folder / "package")
    try:
        import frictionless
    except ImportError:  # the checks above stand in for it
        return descriptor, rows
    report = frictionless.validate(str(folder / "package" / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:20]
    return descriptor, rows


def read_workbook(path: Path, descriptor: dict, package_rows: dict[str, list[dict]]) -> tuple[str, dict[str, list[dict]]]:
    """The read-me sheet first, then one sheet per section: each with the headers of the package's
    resource of the same title and as many rows as its CSV file. (The read-me's title, the rows
    of each sheet by resource name.)"""
    wb = openpyxl.load_workbook(path, read_only=True)
    readme, *sections = wb.worksheets
    assert sections, wb.sheetnames
    readme_rows = [row for row in readme.iter_rows(values_only=True) if row]
    readme_first_column = {row[0] for row in readme_rows}
    by_title = {r["title"]: r for r in descriptor["resources"]}
    out = {}
    for ws in sections:
        assert ws.title in readme_first_column, f"the read-me does not list the sheet {ws.title!r}"
        resource = by_title[ws.title]
        header, *rows = [list(r) for r in ws.iter_rows(values_only=True)]
        assert header == [f["title"] for f in resource["schema"]["fields"]], (ws.title, header)
        assert len(rows) == len(package_rows[resource["name"]]), ws.title
        names = [f["name"] for f in resource["schema"]["fields"]]
        out[resource["name"]] = [dict(zip(names, r)) for r in rows]
    assert out["figures"], "the figures sheet holds figures"
    return readme_rows[0][0], out


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


# --- the API, called as a script would ---------------------------------------------------------------


def call_api(base: str, path: str, token: str | None, lang: str, **args) -> tuple[int, str, dict]:
    query = urllib.parse.urlencode(args)
    request = urllib.request.Request(f"{base}/api/v1{path}" + (f"?{query}" if query else ""),
                                     headers={"Accept-Language": lang, "Accept": "application/json"})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get_content_type(), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), json.loads(exc.read())


def total(rows, code: str, is_total) -> object:
    """The value of the one total row of `code` among the rows of the figures section."""
    found = [r["value"] for r in rows if r["code"] == code and is_total(r)]
    assert len(found) == 1, (code, found)
    return found[0]


# --- the journey ------------------------------------------------------------------------------------


def test_the_evaluator_downloads_the_files_and_calls_the_api(web, lang, tmp_path):
    page = web.page
    login(web, EVA, lang)

    # The dashboard of the demo contract.
    link = page.locator("main a[href^='/admin/governance/']").first
    dashboard = link.get_attribute("href")
    contract_id = re.fullmatch(r"/admin/governance/(\d+)", dashboard).group(1)
    with page.expect_navigation():
        link.click()
    web.check()
    web.assert_language(lang)
    contract_name = page.locator("nav.breadcrumb li").last.inner_text().strip()
    card = number(page.locator(f"#gv-card-{METRIC.replace('.', '-')} .gv-value").inner_text())

    # The three downloads, with the dashboard's selection.
    exports = page.locator(".gv-exports")
    xlsx_link, pdf_link, zip_link = (exports.locator(f"a[href*='export.{fmt}']") for fmt in ("xlsx", "pdf", "zip"))
    href = xlsx_link.get_attribute("href")
    selection = {k: v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query) if k in SELECTION_ARGS}
    xlsx = download(page, xlsx_link, tmp_path, ".xlsx")
    pdf = download(page, pdf_link, tmp_path, ".pdf")
    package = download(page, zip_link, tmp_path, ".zip")
    web.check()  # still the dashboard, nothing went wrong

    # The data package: every resource's CSV is there and matches its schema.
    descriptor, package_rows = read_package(package, tmp_path)
    assert contract_name in descriptor["title"], (contract_name, descriptor["title"])
    csv_total = total(package_rows["figures"], METRIC, lambda r: r["year"] == "")
    assert int(csv_total) == card, (csv_total, card)
    package_words = {r["text"] for r in package_rows["verbatims"]}
    assert WORDS in package_words

    # The spreadsheet: a read-me, then the same sections and rows as the package.
    readme_title, sheets = read_workbook(xlsx, descriptor, package_rows)
    assert contract_name in readme_title, readme_title
    xlsx_total = total(sheets["figures"], METRIC, lambda r: not isinstance(r["year"], int))
    assert xlsx_total == card, (xlsx_total, card)
    assert {r["text"] for r in sheets["verbatims"]} == package_words

    # The annual report: the contract, an indicator of its référentiel with a resident's words.
    text = flat(pdf_text(pdf))
    assert contract_name in text
    assert INDICATOR in text and flat(WORDS) in text
    for outputs in (text, json.dumps(package_rows, ensure_ascii=False), json.dumps(sheets, ensure_ascii=False, default=str)):
        assert not any(hidden in outputs for hidden in HIDDEN)

    # An API token, made in the back office and shown once.
    web.visit(f"/admin/?lang={lang}")
    with page.expect_navigation():
        page.locator(f"main a[href='/admin/contracts/{contract_id}/referentiel']").click()
    web.check()
    with page.expect_navigation():
        page.locator(f"main a[href='/admin/governance/{contract_id}/tokens']").click()
    web.check()
    tokens_url = page.url
    label = f"Script d'évaluation ({lang})"
    page.fill("#label", label)
    with page.expect_navigation():
        page.locator(f"main form[action$='/{contract_id}/tokens'] button[type=submit]").click()
    web.check()
    shown = page.locator("#new-token")
    expect(shown).to_be_visible()
    token = shown.input_value()
    assert len(token) > 20
    expect(page.locator("table.governance-tokens tbody th", has_text=label)).to_have_count(1)
    web.visit(tokens_url)
    assert token not in page.content(), "the token is shown once only"

    # A script calls the API with it: the same figures as the dashboard and the files.
    status, content_type, body = call_api(web.base, f"/contracts/{SLUG}/figures", token, lang, **selection)
    assert (status, content_type) == (200, "application/json"), body
    assert body["contract"]["name"] == contract_name
    figures = [r for r in body["rows"] if r["section"] == "figures"]
    api_total = total(figures, METRIC, lambda r: r["year"] == "")
    assert api_total == card, (api_total, card)
    api_label = next(r["label"] for r in figures if r["code"] == METRIC)
    assert api_label == next(r["label"] for r in sheets["figures"] if r["code"] == METRIC), "labels in the same language"
    assert [{k: str(v) for k, v in r.items()} for r in figures] == package_rows["figures"]
    status, content_type, words = call_api(web.base, f"/contracts/{SLUG}/verbatims", token, lang, **selection)
    assert status == 200 and {v["text"] for v in words["verbatims"]} == package_words

    # Without the token, even from her logged-in browser: 401, in JSON.
    refused = page.request.get(f"{web.base}/api/v1/contracts/{SLUG}/figures", headers={"Accept-Language": lang})
    assert refused.status == 401 and refused.headers["content-type"].startswith("application/json")
    assert refused.json()["status"] == 401 and refused.json()["error"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    # An address the API does not have: 404, in JSON too.
    status, content_type, missing = call_api(web.base, f"/contracts/{SLUG}/nothing-here", token, lang)
    assert (status, content_type, missing["status"]) == (404, "application/json", 404)

    # She revokes it: the API refuses it from then on.
    row = page.locator("table.governance-tokens tbody tr", has=page.locator("th", has_text=label))
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    web.check()
    expect(row).to_have_count(1)
    assert row.locator("button[type=submit]").count() == 0, "a revoked token has no revoke button"
    status, content_type, body = call_api(web.base, f"/contracts/{SLUG}/figures", token, lang)
    assert (status, content_type, body["status"]) == (401, "application/json", 401)
