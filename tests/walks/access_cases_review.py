"""Access-matrix cases for the review routes of exploratory walks (moderation, editing an
observation, recommendations, follow-up walks and their points), merged through access_cases.py.

Every route needs `access.can_manage` on the walk: the contract's admins and the Marseille
facilitator for the Frais Vallon walk, Narbonne's admin for the Narbonne walk (and the platform
admin everywhere). The points pages take the follow-up walk ({follow}); a point is an
observation of the walk it follows ({obs})."""
from __future__ import annotations

from .access_cases import W_MANAGE, on

EXPECTED: dict = {
    "walks_admin.observations": [*on("/admin/walks/{walk}/observations", W_MANAGE),
                                 *on("/admin/walks/{walk}/observations?show=pending", W_MANAGE),
                                 *on("/admin/walks/{walk}/observations", W_MANAGE, "POST")],
    "walks_admin.observation": [*on("/admin/walks/observations/{obs}", W_MANAGE),
                                *on("/admin/walks/observations/{obs}", W_MANAGE, "POST")],
    "walks_admin.observation_moderate": on("/admin/walks/observations/{obs}/moderate", W_MANAGE, "POST"),
    "walks_admin.photo_moderate": on("/admin/walks/photos/{photo}/moderate", W_MANAGE, "POST"),
    "walks_admin.observation_delete": on("/admin/walks/observations/{obs}/delete", W_MANAGE, "POST"),
    "walks_admin.recommendations": [*on("/admin/walks/{walk}/recommendations", W_MANAGE),
                                    *on("/admin/walks/{walk}/recommendations", W_MANAGE, "POST")],
    "walks_admin.recommendation": [*on("/admin/walks/recommendations/{rec}", W_MANAGE),
                                   *on("/admin/walks/recommendations/{rec}", W_MANAGE, "POST")],
    "walks_admin.follow_up": on("/admin/walks/{walk}/follow-up", W_MANAGE, "POST"),
    "walks_admin.points": on("/admin/walks/{follow}/points", W_MANAGE),
    "walks_admin.point": on("/admin/walks/{follow}/points/{obs}", W_MANAGE, "POST"),
}

