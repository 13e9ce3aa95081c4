"""Access-matrix cases of the walks' back office (part B1: list, creation, the walk's page,
details, walkers, status, recording QR and sheet, grid, route), merged by access_cases.py."""
from __future__ import annotations

from .access_cases import W_FIGURES, W_MANAGE, W_RECORD, on

#: Who sees a walk's page: those who manage it, record on it, or read its figures.
W_VIEW = W_RECORD | W_FIGURES

EXPECTED: dict = {
    "walks_admin.index": [("-", "GET", lambda f: "/admin/walks/", W_VIEW | {"nar_admin"})],
    "walks_admin.create": [
        ("-", "GET", lambda f: "/admin/walks/new", W_MANAGE | {"nar_admin"}),
        ("-post", "POST", lambda f: "/admin/walks/new", W_MANAGE | {"nar_admin"}),
    ],
    "walks_admin.walk": on("/admin/walks/{walk}", W_VIEW),
    "walks_admin.edit": on("/admin/walks/{walk}/edit", W_MANAGE, "POST"),
    "walks_admin.profile": on("/admin/walks/{walk}/profile", W_MANAGE, "POST"),
    "walks_admin.status": on("/admin/walks/{walk}/status", W_MANAGE, "POST"),
    "walks_admin.recording": on("/admin/walks/{walk}/recording", W_MANAGE, "POST"),
    "walks_admin.record_sheet": on("/admin/walks/{walk}/record-sheet", W_RECORD),
    "walks_admin.theme_add": on("/admin/walks/{walk}/themes", W_MANAGE, "POST"),
    "walks_admin.theme": on("/admin/walks/themes/{theme}", W_MANAGE, "POST"),
    "walks_admin.theme_move": on("/admin/walks/themes/{theme}/move", W_MANAGE, "POST"),
    "walks_admin.theme_delete": on("/admin/walks/themes/{theme}/delete", W_MANAGE, "POST"),
    "walks_admin.waypoint_add": on("/admin/walks/{walk}/waypoints", W_MANAGE, "POST"),
    "walks_admin.waypoint": on("/admin/walks/waypoints/{point}", W_MANAGE, "POST"),
    "walks_admin.waypoint_move": on("/admin/walks/waypoints/{point}/move", W_MANAGE, "POST"),
    "walks_admin.waypoint_delete": on("/admin/walks/waypoints/{point}/delete", W_MANAGE, "POST"),
}
