"""The demo's table de quartier and FPH fund, page by page, in French and in Arabic on a phone:
what a resident reaches from the neighbourhood pages (the table, a meeting with its minutes,
the follow-up register and a demand answered, the fund, its form and its funded projects), and
every back-office page a facilitator uses to run them (meetings, attendance, check-in sheet,
minutes, interpellations, figures, follow-up steps, institutions, the committee session with
its recusal and its refusal, the minutes). axe-core checks every page reached."""
from __future__ import annotations

import re

import pytest

from .conftest import login

pytestmark = pytest.mark.browser

TABLE_PAGE = re.compile(r"/t/\d+$")
MEETING_PAGE = re.compile(r"/t/m/\d+$")


def hrefs(web, selector: str, pattern: str) -> list[str]:
    """Links of the current page matching `pattern`, in page order, without repeats."""
    return hrefs_in(web.page.locator(selector), pattern)


def href_of(web, text: str, pattern: str) -> str:
    """The one link to the demo's object named `text` (other journeys add tables and funds)."""
    links = web.page.locator("main a", has_text=text)
    found = hrefs_in(links, pattern)
    assert len(found) == 1, (text, found)
    return found[0]


def hrefs_in(locator, pattern: str) -> list[str]:
    found = []
    for href in locator.evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        path = (href or "").split("?")[0].split("#")[0]
        if re.fullmatch(pattern, path) and path not in found:
            found.append(path)
    return found


#: The demo table's name as shown in each language (translated into Arabic), and the fund's.
TABLE = {"fr": "Table de quartier de Frais Vallon", "ar": "طاولة حي فري فالون"}
FUND = "FPH Malpassé Corot 2026"


def test_a_resident_follows_the_demo_table_and_fund(web, lang):
    page = web.page
    web.visit(f"/q/QN01322M?lang={lang}")  # Frais Vallon: the table's neighbourhood page
    table = href_of(web, TABLE[lang], r"/t/\d+")
    web.visit(table)
    meetings = hrefs(web, "main a", r"/t/m/\d+")
    assert len(meetings) >= 3, meetings  # the coming meeting and two past ones
    # Both demo interpellations are open (answered, in progress): the table reports on them.
    body = page.locator("main").inner_text()
    assert "Éclairage du chemin de l'école" in body and "Ascenseur du bâtiment B en panne" in body
    # The past meetings' minutes are public: the last one's decision to write to 13 Habitat again
    # (in Arabic, that item's summary is translated; its decision shows in the original French).
    texts = []
    for meeting in meetings:
        web.visit(meeting)
        texts.append(page.locator("main").inner_text())
    assert any("Relancer 13 Habitat par écrit" in t for t in texts)
    if lang == "ar":
        assert any("ردّت البلدية بخصوص الإنارة" in t for t in texts)

    # (the table's interpellations: the demo walk's recommendations are in the register too)
    web.visit(f"/c/aix-marseille-provence/follow-up?kind=interpellation&lang={lang}")
    demands = hrefs(web, "main a", r"/follow-up/\d+")
    assert len(demands) >= 2
    web.visit(demands[0])
    assert page.locator("main").inner_text().count("13 Habitat") + page.locator("main").inner_text().count(
        "Ville de Marseille") >= 1

    web.visit(f"/q/QN01323M?lang={lang}")  # Malpassé Corot: the fund's neighbourhood page
    fund = href_of(web, FUND, r"/fph/\d+")
    web.visit(fund)
    web.visit(fund + "/apply")
    web.visit(fund + "/projects")
    projects = page.locator("main").inner_text()
    # Two projects were granted; the refused mural is not a funded project.
    assert "Fête de quartier de l'été" in projects and "Atelier cuisine des enfants" in projects
    assert "Fresque murale avec les jeunes" not in projects
    assert "Aïcha" not in projects and "@" not in projects  # no names of members, no contacts


def test_a_facilitator_runs_the_demo_table(web, lang, open_browsing):
    page = web.page
    login(web, "animatrice@amp.demo", lang)
    web.visit(f"/admin/tables/?lang={lang}")
    table = href_of(web, TABLE[lang], r"/admin/tables/\d+")
    web.visit(table)
    for path in (table + "/interpellations", table + "/interpellations/new", table + "/figures",
                 table + "/meetings/new"):
        web.visit(path)
    web.visit(table)
    meetings = hrefs(web, "main a", r"/admin/tables/meetings/\d+")
    assert meetings
    meeting = meetings[-1]
    for path in (meeting, meeting + "/attendance", meeting + "/checkin-sheet", meeting + "/minutes"):
        web.visit(path)
    web.visit(meeting)
    items = hrefs(web, "main a", r"/admin/tables/items/\d+")
    if items:
        web.visit(items[0])

    web.visit(f"/admin/followup/?lang={lang}")
    demands = hrefs(web, "main a", r"/admin/followup/\d+")
    assert len(demands) >= 2
    web.visit(demands[0])
    web.visit(f"/admin/followup/?lang={lang}")
    # The list of institutions is the whole contract's: its administrator keeps it.
    assert not hrefs(web, "main a", r"/admin/followup/institutions/\d+")
    admin = open_browsing(lang)
    login(admin, "admin@amp.demo", lang)
    admin.visit(f"/admin/followup/?lang={lang}")
    institutions = hrefs(admin, "main a", r"/admin/followup/institutions/\d+")
    assert institutions
    admin.visit(institutions[0])
    assert "13 Habitat" in admin.page.locator("main").inner_text()


def test_the_fph_committee_work_is_on_record(web, lang):
    page = web.page
    login(web, "animatrice@amp.demo", lang)
    web.visit(f"/admin/fph/?lang={lang}")
    fund = href_of(web, FUND, r"/admin/fph/\d+")
    web.visit(fund)
    for path in (fund + "/sessions", fund + "/figures", fund + "/applications/new", "/admin/fph/new"):
        web.visit(path)
    web.visit(fund)
    applications = hrefs(web, "main a", r"/admin/fph/applications/\d+")
    assert len(applications) >= 5
    web.visit(applications[0])
    web.visit(fund + "/sessions")
    sessions = hrefs(web, "main a", r"/admin/fph/sessions/\d+")
    assert len(sessions) >= 2  # the closed session and the next one
    minutes = []
    for session in sessions:
        web.visit(session)
        web.visit(session + "/minutes")
        minutes.append(page.locator("main").inner_text())
    # The closed session: a recusal, two grants and a refusal with its reason.
    assert any("Aïcha Mansouri" in m and "Fresque murale avec les jeunes" in m and "copropriété" in m
               for m in minutes), minutes
