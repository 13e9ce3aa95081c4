"""Figures of exploratory walks for governance (staff): walks held, walkers and their profile,
observations by theme, photos published, recommendations. The reader chooses a place they may
read figures of (contract, commune or neighbourhood: `access.can_view_figures`) and a period;
each figure comes as an SVG chart with its data table. Counts of people below
`disclosure.MIN_CELL` are shown as "s"."""
from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..admin.services import parse_scope, scope_choices
from ..core import charts, disclosure
from ..core import permissions as perm
from ..core.htmx import render
from ..core.i18n import text_direction
from ..core.permissions import staff_required
from ..core.profiles import AGE_BANDS, GENDERS, AgeBand, Gender
from . import access, figures
from .labels import DEFAULT_THEMES, GROUP_TYPES, TIMES_OF_DAY, rating_words
from .views import admin_bp


def _period() -> tuple[date | None, date | None, dict[str, str]]:
    errors: dict[str, str] = {}
    values: list[date | None] = []
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()[:20]
        if not raw:
            values.append(None)
            continue
        try:
            values.append(date.fromisoformat(raw))
        except ValueError:
            errors[name] = _("Type a date as YYYY-MM-DD, or leave it empty.")
            values.append(None)
    date_from, date_to = values
    if date_from and date_to and date_to < date_from:
        errors["to"] = _("The end of the period comes before its start.")
        date_to = None
    return date_from, date_to, errors


def _place():
    """The place chosen in ?scope= (c1 / m3 / n7), by default the first the reader may read;
    403 when they may read none, 404 for an unknown place."""
    choices = scope_choices(current_user, access.can_view_figures)
    if not choices:
        abort(403)
    value = request.args.get("scope", "").strip()[:20] or choices[0].value
    place = parse_scope(value)
    if place is None:
        abort(404)
    perm.ensure(access.can_view_figures(current_user, place))
    return place, value, choices


def theme_labels() -> dict[str, str]:
    return {
        **{code: str(name) for code, name, _p in DEFAULT_THEMES},
        figures.OWN_THEME: _("Themes added by the groups"),
        figures.NO_THEME: _("No theme"),
    }


def profile_labels() -> dict[str, tuple[str, dict[str, str]]]:
    not_stated = _("Not stated")
    return {
        "age_band": (_("Age"), {**{a.value: str(AGE_BANDS[a]) for a in AgeBand}, figures.NOT_STATED: not_stated}),
        "gender": (_("Gender"), {**{g.value: str(GENDERS[g]) for g in Gender}, figures.NOT_STATED: not_stated}),
    }


def _count_chart(pairs, title: str, chart_id: str, rtl: bool):
    bars = [charts.Bar(label=label, value=n, text=str(n)) for label, n in pairs]
    return charts.bar_chart(bars, title=title, chart_id=chart_id, rtl=rtl) if any(n for _l, n in pairs) else None


def _rating(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{format_decimal(value, format='0.0')} ({rating_words(round(value))})"


@admin_bp.get("/figures", endpoint="figures")
@staff_required
def figures_view():
    """Governance figures of the walks held in a place over a period."""
    place, scope_value, choices = _place()
    date_from, date_to, errors = _period()
    shown = figures.protected(figures.figures(place.scope, date_from, date_to))
    raw = shown.raw
    rtl = text_direction() == "rtl"
    themes = theme_labels()
    charts_ = {
        "time": _count_chart([(str(TIMES_OF_DAY[t]), n) for t, n in raw.by_time_of_day.items()],
                             _("Walks held by time of day"), "walks-time-chart", rtl),
        "group": _count_chart([(str(GROUP_TYPES[g]), n) for g, n in raw.by_group_type.items() if n],
                              _("Walks held by group"), "walks-group-chart", rtl),
        "themes": _count_chart([(themes.get(t.code, t.code), t.observations) for t in raw.themes],
                               _("Observations by theme"), "walks-themes-chart", rtl),
    }
    rec = raw.recommendations
    recommendation_rows = [
        ("raised", _("Recommendations sent"), rec.raised),
        ("waiting", _("Waiting for an answer"), rec.sent),
        ("answered", _("Answered"), rec.answered),
        ("done", _("Done"), rec.done),
        ("refused", _("Refused"), rec.refused),
        ("overdue", _("Overdue"), rec.overdue),
    ]
    recommendation_chart = _count_chart([(label, n) for _k, label, n in recommendation_rows],
                                        _("Recommendations"), "walks-recommendations-chart", rtl)
    return render(
        "walks/admin/figures.html", shown=shown, raw=raw, place=place, scope_value=scope_value, choices=choices,
        errors=errors, date_from=request.args.get("from", "")[:20], date_to=request.args.get("to", "")[:20],
        charts=charts_, recommendation_rows=recommendation_rows, recommendation_chart=recommendation_chart,
        theme_labels=themes, profile_labels=profile_labels(), rating=_rating, times=TIMES_OF_DAY,
        groups=GROUP_TYPES, median=None if rec.median_answer_days is None else format_decimal(
            rec.median_answer_days, format="0.#"), min_cell=disclosure.MIN_CELL, zip=zip, status=422 if errors else 200,
    )
