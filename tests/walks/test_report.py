"""The report of a walk, HTML and PDF: public only once published (a manager previews it before,
with a banner), in the reader's language with content translations; cover facts without any
name, the profile with small counts suppressed, the map with its numbered list, the summary by
theme, every published observation with its photos, the recommendations, and a follow-up walk
point by point. The PDF is a valid file whatever the text (Arabic, emoji, control characters)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from participation.core import pdf as core_pdf
from participation.core.content_i18n import set_translation
from participation.core.users import User
from participation.extensions import db
from participation.walks import services
from participation.walks.models import Moderation, WalkStatus

from .test_public import EXACT_STRINGS, FAC, MED, add_recommendations, make_follow_up, make_walk, obs, page


def report(client, walk, lang="en", query=""):
    return client.get(f"/w/{walk.id}/report?lang={lang}{query}")


def pdf(client, walk, lang="en"):
    return client.get(f"/w/{walk.id}/report.pdf?lang={lang}")


def page_count(data: bytes) -> int:
    """Pages of a PDF, read from the file itself (the page tree's /Count)."""
    counts = re.findall(rb"/Type /Pages\b", data)
    assert len(counts) == 1, "one page tree"
    match = re.search(rb"/Count (\d+)\s*/Kids", data)
    assert match, "the page tree has a count"
    return int(match.group(1))


def assert_valid_pdf(data: bytes) -> None:
    """A PDF header, an end-of-file marker, and a cross-reference table where startxref says."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    offset = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[offset:offset + 4] == b"xref"
    assert page_count(data) >= 1


@pytest.fixture
def written(monkeypatch):
    """Every piece of text the report hands to the PDF writer (fpdf2's own input)."""
    texts: list[str] = []
    for name in ("multi_cell", "cell"):
        original = getattr(core_pdf.Document, name)

        def spy(self, *args, _original=original, **kwargs):
            text = kwargs.get("text", args[2] if len(args) > 2 else "")
            texts.append(str(text))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(core_pdf.Document, name, spy)
    return texts


# --- who sees it -------------------------------------------------------------------------


def test_the_report_is_not_found_publicly_before_publication(client, demo):
    walk = make_walk(status=WalkStatus.walked)
    assert report(client, walk).status_code == 404
    assert pdf(client, walk).status_code == 404


def test_a_manager_previews_the_report_before_publication(client, auth, demo):
    walk = make_walk(status=WalkStatus.walked)
    auth.login(FAC)
    resp = report(client, walk)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Preview: this report is not public yet." in html
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_a_manager_downloads_the_preview_pdf(client, auth, demo):
    walk = make_walk(status=WalkStatus.walked)
    auth.login(FAC)
    resp = pdf(client, walk)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_a_mediator_does_not_preview_the_report(client, auth, demo):
    walk = make_walk(status=WalkStatus.walked)
    auth.login(MED)
    assert report(client, walk).status_code == 404


def test_the_published_report_is_public_without_a_preview_banner(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}/report")
    assert "Report of the exploratory walk" in html and "Preview" not in html


# --- what it says ------------------------------------------------------------------------


def test_the_report_gives_the_cover_facts_without_any_name(client, demo):
    walk = make_walk()
    walk.facilitators = [db.session.scalar(sa.select(User).filter_by(email=FAC))]
    services.set_profile(walk, 14, {("gender", "woman"): 14})
    db.session.commit()
    html = page(client, f"/w/{walk.id}/report")
    assert "Marche test des voisines" in html and "Frais Vallon" in html
    assert "Women" in html and "After dark" in html
    assert "<dt>Walkers</dt><dd>14</dd>" in html
    assert walk.facilitators[0].name not in html and FAC not in html


def test_the_report_suppresses_small_counts_of_the_profile(client, demo):
    walk = make_walk()
    services.set_profile(walk, 14, {("gender", "woman"): 12, ("gender", "man"): 2,
                                    ("age_band", "25_39"): 14})
    db.session.commit()
    html = page(client, f"/w/{walk.id}/report")
    gender = html.split("Walkers by gender")[1].split("</table>")[0]
    assert "<td>s</td>" in gender  # 2 men, and the 12 women that would give them away
    assert "<td>2</td>" not in gender and "<td>12</td>" not in gender
    assert "shown as “s”" in html


def test_the_report_hides_the_profile_of_a_small_group(client, demo):
    walk = make_walk()
    services.set_profile(walk, 8, {("gender", "woman"): 8})
    db.session.commit()
    html = page(client, f"/w/{walk.id}/report")
    assert "Walkers by gender" not in html
    assert "fewer than 11 people" in html


def test_the_report_has_the_groups_conclusions(client, demo):
    walk = make_walk()
    walk.summary = "Nous demandons plus de lumière."
    db.session.commit()
    assert "Nous demandons plus de lumière." in page(client, f"/w/{walk.id}/report")


def test_the_report_draws_the_map_with_its_numbered_list(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}/report")
    assert '<svg id="walk-map"' in html and 'class="walk-map-point' in html
    assert 'id="obs-1"' in html and 'id="obs-3"' in html
    assert "Observations without a position are not on the map: 3." in html


def test_the_report_summarises_by_theme_with_counts_ratings_in_words_and_numbers(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}/report")
    themes = html.split('class="table walk-themes"')[1].split("</table>")[0]
    lighting = themes.split("Lighting")[1].split("</tr>")[0]
    assert "<td>1</td>" in lighting and "Very bad" in lighting and '<a href="#obs-1">1</a>' in lighting
    cleanliness = themes.split("Cleanliness")[1].split("</tr>")[0]
    # Only the published observation 3 (rated 2) counts, not the pending one (rated 4).
    assert "<td>1</td>" in cleanliness and "Bad" in cleanliness and "(2.0 / 5)" in cleanliness
    assert '<a href="#obs-3">3</a>' in cleanliness and "#obs-2" not in cleanliness


def test_the_report_shows_published_observations_and_photos_only(client, demo):
    walk = make_walk()
    html = page(client, f"/w/{walk.id}/report")
    assert "Lampadaire cassé devant le 12" in html and "On a peur le soir" in html
    assert "Texte en attente secret" not in html
    assert 'alt="Lampadaire éteint"' in html and "Une poubelle cachée" not in html
    for exact in EXACT_STRINGS:
        assert exact not in html


def test_the_report_lists_recommendations_with_institution_due_date_status_and_numbers(client, demo):
    walk = make_walk()
    sent, _draft = add_recommendations(walk)
    html = page(client, f"/w/{walk.id}/report")
    recs = html.split('id="recommendations"')[1]
    assert "Réparer l&#39;éclairage" in recs and str(escape(sent.followup.institution.name)) in recs
    assert sent.followup.action_due_on.isoformat() in recs
    assert "followup-status--sent" in recs and '<a href="#obs-1">1</a>' in recs
    assert "Brouillon de recommandation" not in html


def test_the_report_of_a_follow_up_walk_goes_point_by_point(client, demo):
    walk = make_walk()
    add_recommendations(walk)
    follow = make_follow_up(walk)
    obs_new, _ = services.record_observation(follow, services.ObservationInput(
        client_id="public-test-follow-new", theme_id=follow.themes[0].id, rating=5, seen="Lampe neuve"))
    services.moderate_observation(obs_new, Moderation.published)
    services.set_status(follow, WalkStatus.published)
    db.session.commit()
    html = page(client, f"/w/{follow.id}/report")
    points = html.split('id="points"')[1]
    assert "Done: it has improved" in points and "Nothing has changed" in points
    assert "Lampadaire cassé devant le 12" in points and "Réparer l&#39;éclairage" in points
    assert "Note sur un point non publié" not in html


def test_the_report_is_in_the_readers_language_with_content_translations(client, demo):
    walk = make_walk()
    set_translation(obs(walk, 1), "seen", "ar", "عمود إنارة مكسور")
    db.session.commit()
    html = report(client, walk, lang="ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "عمود إنارة مكسور" in html
    # A text not translated yet is shown in its original language, and says so.
    assert '<span lang="fr" dir="ltr">Poubelles débordantes</span>' in html


def test_the_report_offers_its_original_language(client, demo):
    walk = make_walk()
    html = report(client, walk, lang="en").get_data(as_text=True)
    assert "Read it in its original language (Français)" in html


# --- the PDF -----------------------------------------------------------------------------


def test_the_pdf_is_a_pdf_file_to_download(client, demo):
    walk = make_walk()
    resp = pdf(client, walk)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="walk-report-marche-test-des-voisines-\d{4}-\d\d-\d\d-en\.pdf"', disposition)
    assert_valid_pdf(resp.data)


def test_the_pdf_file_name_is_french_in_french(client, demo):
    walk = make_walk()
    assert 'filename="rapport-marche-marche-test' in pdf(client, walk, "fr").headers["Content-Disposition"]


def test_the_pdf_holds_the_observations_recommendations_and_ratings_in_words(client, demo, written):
    walk = make_walk()
    add_recommendations(walk)
    assert pdf(client, walk).status_code == 200
    text = "\n".join(written)
    assert "Lampadaire cassé devant le 12" in text and "« On a peur le soir »" in text
    assert "Poubelles débordantes" in text and "Réparer l'éclairage" in text
    assert "Very bad" in text and "Lighting" in text
    assert "Texte en attente secret" not in text and "Brouillon de recommandation" not in text
    assert "Lampadaire éteint" in text  # the published photo's caption
    assert "Une poubelle cachée" not in text
    assert not any(face in text for face in ("😠", "🙁", "😐", "🙂", "😀"))


def test_the_pdf_embeds_the_published_photos_only(client, demo):
    walk = make_walk()
    data = pdf(client, walk).data
    assert data.count(b"/Subtype /Image") == 1


def test_the_pdf_draws_the_map_as_shapes_not_a_picture(client, demo):
    walk = make_walk()
    # Observation 3 (no position) and the pending 2 are not drawn: one circle, one stop, no tile.
    first = obs(walk, 1)
    services.moderate_photo(first.photos[0], Moderation.hidden)
    db.session.commit()
    data = pdf(client, walk).data
    assert b"/Subtype /Image" not in data
    assert_valid_pdf(data)


def test_the_pdf_of_a_follow_up_walk_goes_point_by_point(client, demo, written):
    walk = make_walk()
    add_recommendations(walk)
    follow = make_follow_up(walk)
    obs_new, _ = services.record_observation(follow, services.ObservationInput(
        client_id="public-test-follow-pdf", seen="Lampe neuve"))
    services.moderate_observation(obs_new, Moderation.published)
    services.set_status(follow, WalkStatus.published)
    db.session.commit()
    resp = pdf(client, follow)
    assert resp.status_code == 200
    text = "\n".join(written)
    assert "Done: it has improved" in text and "Le lampadaire a été réparé." in text
    assert "Nothing has changed" in text and "Note sur un point non publié" not in text


def test_the_pdf_of_an_arabic_report_is_valid(client, demo, written):
    walk = make_walk()
    set_translation(walk, "title", "ar", "مسيرة الجارات عند حلول الظلام")
    set_translation(obs(walk, 1), "seen", "ar", "عمود الإنارة مكسور أمام العمارة 12، ونخاف في الليل.")
    walk.summary = "خلاصة المجموعة: نطلب إنارة أفضل."
    walk.original_locale = "ar"
    db.session.commit()
    resp = pdf(client, walk, "ar")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].endswith('-ar.pdf"')
    assert_valid_pdf(resp.data)
    assert b"/Lang (ar)" in resp.data
    assert "عمود الإنارة مكسور أمام العمارة 12، ونخاف في الليل." in "\n".join(written)


@pytest.mark.parametrize("odd", [
    "😀🙁🤡 des émojis partout 🚧",
    "contrôle \x01\x07\x1b et \u202e renversé \u2066isolé\u2069 fin",
    "x" * 3000,
    "ﷺ 𝕏 \U0010FFFF \ue000 caractères rares",
    "ligne\r\nsuivante\rencore\ttab",
])
def test_the_pdf_never_fails_on_odd_text(client, demo, odd):
    walk = make_walk()
    walk.summary = odd
    walk.title = odd[:200]
    o = obs(walk, 1)
    o.quote = odd
    o.photos[0].caption = odd[:300]
    db.session.commit()
    resp = pdf(client, walk)
    assert resp.status_code == 200
    assert_valid_pdf(resp.data)


def test_a_pdf_without_any_position_has_no_map_but_is_valid(client, demo, written):
    walk = make_walk(status=WalkStatus.walked)
    for o in walk.observations:
        o.lat = o.lon = None
    for w in walk.waypoints:
        w.lat = w.lon = None
    services.set_status(walk, WalkStatus.published)
    db.session.commit()
    resp = pdf(client, walk)
    assert_valid_pdf(resp.data)
    assert "No position has been given: there is no map." in "\n".join(written)


def test_a_long_report_has_several_pages_numbered(client, demo, written):
    walk = make_walk(status=WalkStatus.walked)
    for i in range(25):
        o, _ = services.record_observation(walk, services.ObservationInput(
            client_id=f"public-test-long-{i:04d}", theme_id=walk.themes[i % 9].id, rating=1 + i % 5,
            seen=f"Observation longue numéro {i} " + "avec beaucoup de détails " * 12,
            lat=43.33 + i / 2000, lon=5.41 + i / 3000))
        services.moderate_observation(o, Moderation.published)
    services.set_status(walk, WalkStatus.published)
    db.session.commit()
    data = pdf(client, walk).data
    assert_valid_pdf(data)
    assert page_count(data) >= 3
    assert "Observation longue numéro 24" in "\n".join(written)


def test_the_pdf_is_public_only_once_published_even_in_another_language(client, demo):
    walk = make_walk(status=WalkStatus.walked)
    assert pdf(client, walk, "ar").status_code == 404
    walk.published_on = date.today() - timedelta(days=1)
    services.set_status(walk, WalkStatus.published)
    db.session.commit()
    assert pdf(client, walk, "ar").status_code == 200
