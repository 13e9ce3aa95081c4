"""Access-matrix cases of the public walk pages, the report, photos and exports (part A).

The matrix walk is walked, not published, and its observation and photo are still to check: the
walk page is public, the report is a preview for its managers only, the photo is seen only by
staff who may record on the walk (404 for everyone else), and the public exports answer
everyone (with nothing unchecked in them). The staff export of one walk is for figure readers
and managers."""
from __future__ import annotations

from .access_cases import EVERYONE, W_FIGURES, W_MANAGE, W_RECORD, on

AMP = "aix-marseille-provence"
NAR = "grand-narbonne"


def _contracts(path_tpl: str, method: str = "GET"):
    return [(f"{key}-{path_tpl}", method, (lambda slug: lambda f: path_tpl.format(slug=slug))(slug), EVERYONE)
            for key, slug in (("own", AMP), ("foreign", NAR))]


EXPECTED: dict = {
    "walks.index": _contracts("/c/{slug}/walks"),
    "walks.walk": on("/w/{walk}", EVERYONE, foreign=EVERYONE),
    "walks.report": on("/w/{walk}/report", W_MANAGE),
    "walks.report_pdf": on("/w/{walk}/report.pdf", W_MANAGE),
    "walks.observations": _contracts("/c/{slug}/walks/observations"),
    "walks.photo": [*on("/w/photos/{photo}.jpg", W_RECORD), *[
        (f"{label}-thumb", m, b, who) for label, m, b, who in on("/w/photos/{photo}.jpg?size=thumb", W_RECORD)]],
    "walks.export": [*_contracts("/c/{slug}/walks/observations.csv"), *_contracts("/c/{slug}/walks/actions.geojson")],
    "walks_admin.export": [*on("/admin/walks/{walk}/observations.geojson", W_FIGURES), *[
        (f"{label}-actions", m, b, who) for label, m, b, who in on("/admin/walks/{walk}/actions.csv", W_FIGURES)]],
}
