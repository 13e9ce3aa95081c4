"""The annual report (PDF) of the demo contract: figures, indicators with residents' words,
neighbourhood comparisons, French, English and Arabic (right to left), and small counts as "s"
with nothing that gives them away. Text is read back with poppler's `pdftotext`."""
from __future__ import annotations

import re
import subprocess
import tempfile
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from participation.core.channels import Channel
from participation.core.territories import Commune, Contract, Indicator, Neighbourhood
from participation.extensions import db
from participation.governance import annual_report, metrics as m
from participation.governance.models import Verbatim, VerbatimOrigin, VerbatimStatus
from participation.governance.report import build_report, selection_from_args
from participation.questionnaires.demo import BAROMETER_TITLE
from participation.questionnaires.models import Questionnaire, Response

SLUG = "aix-marseille-provence"
WORDS = "Les bancs du square Verdier ont enfin été réparés, on s'y retrouve le soir."
ARABIC_WORDS = "المصعد معطّل منذ أشهر والدرج مظلم في الليل."
HIDDEN_WORDS = "Proposition en attente de modération : Rue des Glycines, appeler Mme Zerbib."
SMALL_QPV = "QN01399T"
SMALL_NAME = "Quartier Témoin"
SMALL_RESPONSES = 5


def pdf_text(data: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True,
                              text=True).stdout


def contract() -> Contract:
    return db.session.scalar(sa.select(Contract).filter_by(slug=SLUG))


def render(app, lang: str = "en", **args):
    """(PDF bytes, report, labels of its headline figures in that language)."""
    data, report, labels, _profile = render_all(app, lang, **args)
    return data, report, labels


def render_all(app, lang: str = "en", **args):
    """As `render`, and the labels of the profile's mechanisms and dimensions."""
    with app.test_request_context("/"), force_locale(lang):
        report = build_report(selection_from_args(contract(), {k: str(v) for k, v in args.items()}))
        labels = [str(f.metric.label) for f in report.metrics]
        profile = ([str(x.label) for x in report.profile.mechanisms] + [str(x.label) for x in report.profile.dimensions]
                   if report.profile is not None else [])
        return annual_report.annual_report_pdf(report), report, labels, profile


@pytest.fixture
def words(demo):
    """Residents' words of the demo contract: one published (French) and one in Arabic on an
    indicator, one still waiting for moderation."""
    amp = contract()
    indicator = db.session.scalar(sa.select(Indicator).filter_by(contract_id=amp.id, code="I-SECU"))
    frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    year = date.today().year
    for text, locale, status in ((WORDS, "fr", VerbatimStatus.published), (ARABIC_WORDS, "ar", VerbatimStatus.published),
                                 (HIDDEN_WORDS, "fr", VerbatimStatus.pending)):
        db.session.add(Verbatim(contract_id=amp.id, indicator_id=indicator.id, category_id=indicator.category_id,
                                commune_id=frais_vallon.commune_id, neighbourhood_id=frais_vallon.id, text=text,
                                locale=locale, year=year, origin=VerbatimOrigin.table, status=status))
    db.session.commit()
    return indicator


@pytest.fixture
def small_neighbourhood(demo):
    """A neighbourhood of Marseille whose only participation is 5 questionnaire responses."""
    marseille = db.session.scalar(sa.select(Commune).join(Contract).where(Contract.slug == SLUG,
                                                                          Commune.insee_code == "13055"))
    nb = Neighbourhood(commune_id=marseille.id, qpv_code=SMALL_QPV, name=SMALL_NAME, population=1200)
    db.session.add(nb)
    db.session.flush()
    barometer = db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))
    for _ in range(SMALL_RESPONSES):
        db.session.add(Response(questionnaire_id=barometer.id, version_id=barometer.current_version.id,
                                channel=Channel.web, locale="fr", submitted_on=date.today(), neighbourhood_id=nb.id))
    db.session.commit()
    return nb


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


# --- content ------------------------------------------------------------------------------------


def test_the_demo_contracts_report_holds_its_headline_figures_indicators_and_words(app, words):
    data, report, labels, profile_labels = render_all(app, "en")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    flat = " ".join(text.split())
    for heading in ("Annual report on participation", "Headline figures", "Year by year", "Neighbourhoods compared",
                    "How to read this report", "Definitions"):
        assert heading in text
    assert "Contrat de ville Aix-Marseille-Provence" in text
    # the participation profile: participations per mechanism, then one table per dimension
    assert report.profile is not None and "Who takes part" in text
    assert profile_labels and all(label in flat for label in profile_labels)
    assert labels and all(label in flat for label in labels)
    # every indicator of the référentiel, by code, with its défi or orientation
    for f in report.indicators:
        assert f"{f.indicator.code} · " in text
    assert f"{words.category.code} · " in text
    # the residents' words sit with their indicator; words waiting for moderation never appear
    assert WORDS in flat
    block = flat[flat.index(f"{words.code} · "):]
    assert WORDS in block[:4000]
    assert "Glycines" not in flat and "Zerbib" not in flat
    # the page footer: "page / pages" on every page
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()).group(1))
    assert f"1 / {pages}" in text and f"{pages} / {pages}" in text


def test_the_report_is_written_in_french_by_default(app, words):
    data, report, labels = render(app, "fr")
    flat = " ".join(pdf_text(data).split())
    assert labels and all(label in flat for label in labels)
    assert WORDS in flat
    # French numbers and dates: the cover gives today's date in French
    with app.test_request_context("/"), force_locale("fr"):
        from flask_babel import format_date

        today = format_date(date.today(), "long")
    assert today in flat


def test_the_arabic_report_reads_from_the_right_with_arabic_words_shaped(app, words):
    data, _report, labels = render(app, "ar")
    text = pdf_text(data)
    flat = " ".join(text.split())
    # pdftotext gives Arabic words in the order they are drawn: compare word by word, loosely.
    plain = _without_lam_alef(flat)
    assert labels and all(_without_lam_alef(word.strip("()")) in plain for label in labels for word in label.split())
    assert WORDS in flat
    for word in ARABIC_WORDS.rstrip(".").split():
        assert _without_lam_alef(word) in plain  # Arabic glyphs are drawn (and extractable), not dropped
    # Right to left: the cover's contract name ends at the right margin, as it starts at the
    # left margin in English.
    assert _line_box(data, "Aix-Marseille-Provence", side="right") > 595 - 18 * 72 / 25.4 - 3
    english, _r, _l = render(app, "en")
    assert _line_box(english, "Aix-Marseille-Provence", side="left") < 18 * 72 / 25.4 + 3


def _without_lam_alef(text: str) -> str:
    """Arabic compared loosely: without lam and alef (pdftotext gives the lam-alef ligature back
    as alef-lam) and without vowel marks (it may give them back elsewhere in the word)."""
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("\u0644", "").replace("\u0627", "")


def _line_box(data: bytes, word: str, side: str) -> float:
    """x of the right (or left) end of the first line of page 1 holding `word`, in points."""
    html = pdf_text(data, "-bbox-layout", "-f", "1", "-l", "1")
    for line in re.findall(r"<line (.*?)</line>", html, flags=re.S):
        if f">{word}<" in line:
            attrs = dict(re.findall(r'(xMin|xMax)="([\d.]+)"', line.split(">", 1)[0]))
            return float(attrs["xMax" if side == "right" else "xMin"])
    raise AssertionError(f"{word} not on the first page")


def test_a_commune_and_a_defi_selection_make_their_own_report(app, words):
    amp = contract()
    marseille = next(c for c in amp.communes if c.insee_code == "13055")
    data, report, _labels = render(app, "en", commune=marseille.id, category=words.category_id)
    flat = " ".join(pdf_text(data).split())
    assert "Area Marseille" in flat
    assert f"{words.category.code} · " in flat
    # only the défi's indicators
    codes = {f.indicator.code for f in report.indicators}
    assert words.code in codes
    assert all(f.indicator.category_id in report.selection.category_ids for f in report.indicators)
    # the comparison lists Marseille's neighbourhoods, not Aix's
    assert "Frais Vallon (Marseille)" in flat and "Encagnane" not in flat


# --- disclosure -------------------------------------------------------------------------------


def test_five_responses_are_an_s_and_the_five_is_nowhere(app, small_neighbourhood):
    """The neighbourhood's 5 responses are suppressed: "s" in the headline table, the year-by-
    year chart and the contract's comparison, and no 5 next to the neighbourhood anywhere."""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                             .where(Response.neighbourhood_id == small_neighbourhood.id)) == SMALL_RESPONSES
    data, report, labels = render(app, "en", neighbourhood=small_neighbourhood.id)
    responses = next(f for f in report.metrics if f.metric.key == "questionnaires.responses")
    assert responses.total.suppressed
    text = pdf_text(data, "-layout")
    with app.test_request_context("/"), force_locale("en"):
        label = f"{responses.metric.label} ({responses.metric.unit})"
    headline = lines_with(text, label)
    assert headline, text[:3000]
    # the headline line, then the chart's caption: both end in "s", neither holds a 5
    summary = headline[0]
    assert summary.split()[-1] == "s" and not re.search(r"\b5\b", summary)
    chart = text.split(label)[2].split("\n\n")[0] if text.count(label) > 1 else ""
    this_year = [line for line in chart.splitlines() if line.strip().startswith(str(date.today().year))]
    assert this_year and this_year[0].split()[-1] == "s"
    assert not re.search(r"\b5\b", chart)

    contract_pdf, contract_report, _labels = render(app, "en")
    rows = lines_with(pdf_text(contract_pdf, "-layout"), f"{SMALL_NAME} (Marseille)")
    assert rows  # one line per comparison table
    for row in rows:
        figures = row.split(f"{SMALL_NAME} (Marseille)", 1)[1].split()
        assert "5" not in figures
    responses_col = next(i for i, f in enumerate(contract_report.metrics) if f.metric.key == "questionnaires.responses")
    table_row = rows[responses_col // annual_report.COMPARISON_COLUMNS]
    figures = table_row.split(f"{SMALL_NAME} (Marseille)", 1)[1].split()
    assert figures[responses_col % annual_report.COMPARISON_COLUMNS] == "s"


def test_every_suppressed_figure_prints_s(app, small_neighbourhood):
    _data, report, _labels = render(app, "en", neighbourhood=small_neighbourhood.id)
    suppressed = [v for f in report.metrics for v in [f.total, *(v for _y, v in f.by_year)] if v.suppressed]
    assert suppressed
    assert {annual_report.cell(v) for v in suppressed} == {"s"}
    assert annual_report.cell(m.NA) == annual_report.NO_VALUE


# --- drawing ----------------------------------------------------------------------------------


def test_bars_are_as_long_as_their_numbers_and_s_has_none(app, monkeypatch):
    drawn = []
    original = annual_report.AnnualDocument.rect

    def spy(self, x, y, w, h, style=None, *args, **kwargs):
        drawn.append(w)
        return original(self, x, y, w, h, style, *args, **kwargs)

    monkeypatch.setattr(annual_report.AnnualDocument, "rect", spy)
    with app.test_request_context("/"), force_locale("en"):
        for rtl in (False, True):
            drawn.clear()
            doc = annual_report.AnnualDocument(title="t", lang="en", rtl=rtl)
            doc.add_page()
            annual_report.bar_chart(doc, [("a", m.Value(40)), ("b", m.Value(10)), ("c", m.S), ("d", m.Value(0))],
                                    caption="Chart")
            assert len(drawn) == 2 and drawn[0] == pytest.approx(4 * drawn[1])
            text = pdf_text(doc.to_bytes(), "-layout")
            assert re.search(r"c\s+s\b", text) or re.search(r"\bs\s+c\b", text)


def test_odd_words_do_not_break_the_report(app, words):
    """A quote with bidi overrides, control characters and emoji still gives a readable file."""
    db.session.add(Verbatim(contract_id=words.contract_id, indicator_id=words.id, text="On\u202e retourne\x07 tout 🙂 ça",
                            locale="fr", year=date.today().year, origin=VerbatimOrigin.other,
                            status=VerbatimStatus.published))
    db.session.commit()
    flat = " ".join(pdf_text(render(app, "en")[0]).split())
    assert "On retourne tout ça" in flat or "On retourne tout  ça" in flat
