"""The demo's marches exploratoires, page by page, in French and in Arabic on a phone: every
public page a resident reaches (the contract's walks, the walk with its map and numbered list,
its report, the public map and list of observations, the follow-up walk point by point, the
walk to come) and every back-office page the facilitator uses to run them (the list, a walk,
moderation, one observation, recommendations, one recommendation, the follow-up's points,
recording on the tablet, the recording sheet, figures). axe-core checks every page reached."""
from __future__ import annotations

import re

import pytest

from participation.core.demo import register_loader
from participation.walks import demo as walk_demo

from .conftest import login

pytestmark = pytest.mark.browser

# The live server's demo must hold the walks (a no-op once walks/views.py registers the loader).
register_loader(walk_demo.load, walk_demo.notes)

SLUG = "aix-marseille-provence"
#: Each demo walk's title as shown in each language (all three are translated into Arabic).
WALK = {"fr": walk_demo.WALK_TITLE, "ar": walk_demo.WALK_TITLE_AR}
FOLLOW = {"fr": walk_demo.FOLLOW_TITLE, "ar": walk_demo.FOLLOW_TITLE_AR}
PLANNED = {"fr": walk_demo.PLANNED_TITLE, "ar": walk_demo.PLANNED_TITLE_AR}


def hrefs_in(locator, pattern: str) -> list[str]:
    """Paths of the links in `locator` matching `pattern`, in page order, without repeats."""
    found = []
    for href in locator.evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        path = (href or "").split("?")[0].split("#")[0]
        if re.fullmatch(pattern, path) and path not in found:
            found.append(path)
    return found


def hrefs(web, pattern: str) -> list[str]:
    return hrefs_in(web.page.locator("main a"), pattern)


def href_of(web, text: str, pattern: str) -> str:
    """The one link to the demo walk named `text` (other journeys add walks of their own)."""
    found = hrefs_in(web.page.locator("main a", has_text=text), pattern)
    assert len(found) == 1, (text, found)
    return found[0]


def walk_path(web, text: str) -> str:
    """The public page of the demo walk named `text`, whether its title links to the walk or
    to its report."""
    found = {re.sub(r"/report$", "", p) for p in hrefs_in(web.page.locator("main a", has_text=text),
                                                          r"/w/\d+(/report)?")}
    assert len(found) == 1, (text, found)
    return found.pop()


def main_text(web) -> str:
    return web.page.locator("main").inner_text()


def test_a_resident_tours_the_demo_walks(web, lang):
    web.visit(f"/c/{SLUG}/walks?lang={lang}")
    walk = walk_path(web, WALK[lang])
    follow = walk_path(web, FOLLOW[lang])
    planned = walk_path(web, PLANNED[lang])

    # The walk: the app's own map, numbered like the list of the published observations.
    web.visit(walk)
    page = web.page
    assert page.locator("main svg .walk-map-point").count() >= 9
    body = main_text(web)
    assert "Centre social Frais Vallon" in body
    if lang == "fr":
        assert "Le soir je fais le détour par l'avenue" in body
    else:
        assert "في المساء أسلك طريق الشارع الكبير" in body
    # Observations still to check are not public, nor is who recorded them.
    assert "moteur allumé" not in body and "Claire Martin" not in body
    photos = page.locator("main img")
    assert photos.count() >= 10
    assert all(alt.strip() for alt in photos.evaluate_all("els => els.map(e => e.getAttribute('alt') || '')"))

    web.visit(walk + "/report")
    report = main_text(web)
    assert "Réparer l'éclairage du passage souterrain" in report  # a recommendation, followed to done
    assert page.locator("main svg .walk-map-point").count() >= 9
    response = page.request.get(web.url(walk + "/report.pdf"))
    assert response.status == 200 and response.body()[:5] == b"%PDF-"

    web.visit(f"/c/{SLUG}/walks/observations?lang={lang}")
    assert page.locator("main svg .walk-map-point").count() >= 9

    # The follow-up walk shows, point by point, what changed.
    web.visit(follow)
    assert "Les cinq lampes fonctionnent" in main_text(web)

    # The walk to come: an invitation in Malpassé Corot.
    web.visit(planned)
    assert "pour tous Corot" in main_text(web)

    web.visit(f"/q/QN01323M?lang={lang}")  # its neighbourhood page


def test_the_facilitator_runs_the_demo_walks(web, lang):
    login(web, "animatrice@amp.demo", lang)
    web.visit(f"/admin/walks/?lang={lang}")
    walk = href_of(web, WALK[lang], r"/admin/walks/\d+")
    follow = href_of(web, FOLLOW[lang], r"/admin/walks/\d+")
    planned = href_of(web, PLANNED[lang], r"/admin/walks/\d+")

    web.visit(walk)
    web.visit(walk + "/observations")
    # Two observations wait for a check: the moderation page shows them to staff.
    assert "moteur allumé" in main_text(web)
    observations = hrefs(web, r"/admin/walks/observations/\d+")
    assert len(observations) >= 12
    web.visit(observations[0])
    web.visit(walk + "/recommendations")
    recommendations = hrefs(web, r"/admin/walks/recommendations/\d+")
    assert len(recommendations) == 3
    web.visit(recommendations[0])

    web.visit(follow)
    web.visit(follow + "/points")
    assert "Les cinq lampes fonctionnent" in main_text(web)

    web.visit(planned)
    web.visit(planned + "/record")
    web.visit(planned + "/record-sheet")

    web.visit(f"/admin/walks/figures?lang={lang}")
    frais_vallon = web.page.locator("#figures-scope option", has_text="Frais Vallon").get_attribute("value")
    web.page.select_option("#figures-scope", frais_vallon)
    with web.page.expect_navigation():
        web.page.locator("main form button[type=submit]").click()
    web.check()
    assert web.page.locator("#walks-held").inner_text() == "2"
    assert web.page.locator("#participants").inner_text() == "23"
