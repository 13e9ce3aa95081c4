"""The walk's report as a PDF (fpdf2, through `core.pdf.Document`), in the page's language, in
the same order as the HTML report: cover facts, the walkers' profile (small counts as "s"), the
group's conclusions, the map, the summary by theme, every published observation with its
published photos, the recommendations and, for a follow-up walk, point by point what was done.

The map is drawn with PDF lines and shapes from the same `maps.build(...)` figures as the SVG
(in millimetres here), never as a picture, and without tiles. Ratings are written in words (the
smiley faces are not in the font). Photos come from the walks' private store, reduced; a photo
missing from the disk is left out rather than failing the report.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import format_date, format_decimal, gettext as _

from ..core.pdf import MUTED, Document, safe_text
from ..core.templating import tr
from ..followup.labels import STATUSES
from . import labels, maps
from .report import PublicWalk

#: Fill of the numbered circles by rating (the number and the list say it; colour only helps).
RATING_FILLS = {1: (246, 193, 184), 2: (246, 193, 184), 3: (243, 227, 162), 4: (185, 224, 193), 5: (185, 224, 193)}
GROUND = (244, 241, 234)
ROUTE = (11, 79, 156)
#: The map's box (mm): the page's text width, in the proportions of the SVG map.
MAP_HEIGHT_RATIO = maps.HEIGHT / maps.WIDTH


def _t(obj, field: str) -> str:
    return str(tr(obj, field)) if obj is not None else ""


def _day(day, fmt: str = "long") -> str:
    return format_date(day, fmt) if day else ""


def render_pdf(data: PublicWalk, *, locale: str, rtl: bool, preview: bool = False) -> bytes:
    walk = data.walk
    title = _t(walk, "title")
    doc = Document(title=_("Report of the exploratory walk: %(title)s", title=title), lang=locale, rtl=rtl,
                   footer_text=f"{_('Exploratory walk')} · {title}", author=walk.contract.name)
    doc.add_page()
    _cover(doc, data, preview)
    _profile(doc, data)
    if walk.summary:
        doc.heading(_("The group's conclusions"), 2)
        doc.paragraph(_t(walk, "summary"))
    _map(doc, data)
    _themes(doc, data)
    _observations(doc, data)
    if data.recommendations or walk.follows is None:
        _recommendations(doc, data)
    if walk.follows is not None:
        _reviews(doc, data)
    if data.follow_ups:
        doc.heading(_("Follow-up walks"), 2)
        for f in data.follow_ups:
            doc.paragraph(f"{_t(f, 'title')} — {_day(f.walked_on)}")
    return doc.to_bytes()


def _cover(doc: Document, data: PublicWalk, preview: bool) -> None:
    walk = data.walk
    doc.paragraph(f"{_('Report of the exploratory walk')} · {walk.neighbourhood.label}", muted=True)
    doc.heading(_t(walk, "title"), 1)
    if preview:
        doc.paragraph(_("Preview: this report is not public yet."), bold=True)
    when = _day(walk.walked_on, "full")
    if walk.starts_at:
        when = f"{when}, {_('at %(time)s', time=walk.starts_at)}"
    facts = [
        (_("Neighbourhood"), walk.neighbourhood.label),
        (_("Date"), when),
        (_("Time of day"), str(labels.TIMES_OF_DAY[walk.time_of_day])),
        (_("Who walks"), str(labels.GROUP_TYPES[walk.group_type])),
        (_("Meeting point"), walk.meeting_point),
        (_("Guided by"), walk.guides),
        (_("Walkers"), str(walk.participants) if walk.participants else ""),
        (_("Report published on"), _day(walk.published_on)),
    ]
    doc.facts(facts)
    if walk.follows is not None:
        doc.paragraph(_("This walk checks what became of the points of an earlier walk:")
                      + f" {_t(walk.follows, 'title')} ({_day(walk.follows.walked_on)})")
    doc.paragraph(url_for("walks.report", walk_id=walk.id, _external=True), size=8, muted=True)


def _profile(doc: Document, data: PublicWalk) -> None:
    if not data.profile:
        return
    doc.heading(_("Who walked"), 2)
    if not data.profile_shown:
        doc.paragraph(_("The walkers' profile is not shown: the group had fewer than 11 people, who could be "
                        "recognised."), muted=True)
        return
    for p in data.profile:
        if not p.shown:
            continue
        head = _("Age") if p.dimension == "age_band" else _("Gender")
        rows = [(label, str(cell)) for label, cell in zip(p.labels, p.line.cells)]
        rows.append((_("Total"), str(p.line.total)))
        doc.table_rows((head, _("Walkers")), rows, col_widths=(110, doc.content_width - 110))
    doc.paragraph(_("To protect the walkers, counts of fewer than 11 people are shown as “s”."), size=8, muted=True)


def _map(doc: Document, data: PublicWalk) -> None:
    width = doc.content_width
    height = round(width * MAP_HEIGHT_RATIO, 2)
    walk_map = maps.build(data.walk, data.observations, public=True, width=width, height=height)
    if walk_map.frame is not None:
        doc.ensure_space(height + 24)  # the heading goes with its map
    doc.heading(_("Map of the walk"), 2)
    if walk_map.frame is None:
        doc.paragraph(_("No position has been given: there is no map."), muted=True)
        return
    doc.ensure_space(height + 8)
    x0, y0 = doc.l_margin, doc.get_y()
    draw_map(doc, walk_map, x0, y0)
    doc.set_y(y0 + height + 2)
    doc.paragraph(_("Squares: stops of the route, in order. Circles: observations, numbered as in the list."),
                  size=8, muted=True)
    if walk_map.unplaced:
        doc.paragraph(_("Observations without a position are not on the map: %(numbers)s.",
                        numbers=", ".join(str(o.number) for o in walk_map.unplaced)), size=8, muted=True)


def draw_map(doc: Document, walk_map: maps.WalkMap, x0: float, y0: float) -> None:
    """The map in PDF primitives: ground, route (dashed), stops (numbered squares), observations
    (numbered circles), scale bar and north. The map is geographic: never mirrored."""
    doc.set_line_width(0.3)
    doc.set_draw_color(160, 160, 160)
    doc.set_fill_color(*GROUND)
    doc.rect(x0, y0, walk_map.width, walk_map.height, style="DF")
    if len(walk_map.route) > 1:
        doc.set_draw_color(*ROUTE)
        doc.set_line_width(1.0)
        doc.set_dash_pattern(dash=2.5, gap=1.5)
        doc.polyline([(x0 + x, y0 + y) for x, y in walk_map.route], style="D")
        doc.set_dash_pattern()
    doc.set_line_width(0.5)
    for stop in walk_map.stops:
        doc.set_draw_color(*ROUTE)
        doc.set_fill_color(255, 255, 255)
        doc.rect(x0 + stop.x - 2.4, y0 + stop.y - 2.4, 4.8, 4.8, style="DF")
        doc.set_text_color(*ROUTE)
        doc.centred_text(x0 + stop.x, y0 + stop.y, str(stop.position), size=6.5, bold=True)
    doc.set_line_width(0.4)
    for marker in walk_map.markers:
        doc.set_draw_color(27, 27, 27)
        doc.set_fill_color(*RATING_FILLS.get(marker.rating, (255, 255, 255)))
        doc.circle(x0 + marker.x, y0 + marker.y, 3.4, style="DF")
        doc.set_text_color(27, 27, 27)
        doc.centred_text(x0 + marker.x, y0 + marker.y, str(marker.number), size=7.5, bold=True)
    doc.set_draw_color(27, 27, 27)
    doc.set_text_color(27, 27, 27)
    doc.set_line_width(0.6)
    if walk_map.scale_units:
        y = y0 + walk_map.height - 5
        doc.line(x0 + 4, y, x0 + 4 + walk_map.scale_units, y)
        doc.centred_text(x0 + 4 + walk_map.scale_units / 2, y - 2.5, f"{walk_map.scale_metres} m", size=7)
    nx = x0 + walk_map.width - 6
    doc.centred_text(nx, y0 + 5, "N", size=8, bold=True)
    doc.line(nx, y0 + 7.5, nx, y0 + 13)
    doc.set_line_width(0.2)
    doc.set_fill_color(255, 255, 255)


def _numbers(numbers) -> str:
    return ", ".join(str(n) for n in numbers)


def _themes(doc: Document, data: PublicWalk) -> None:
    doc.heading(_("Summary by theme"), 2)
    if not data.themes:
        doc.paragraph(_("No observation has been published yet."), muted=True)
        return
    rows = []
    for line in data.themes:
        name = _t(line.theme, "name") if line.theme is not None else _("No theme")
        if line.average_step:
            average = f"{labels.rating_words(line.average_step)} ({format_decimal(line.average, '0.0')} / 5)"
        else:
            average = _("Not rated")
        rows.append((name, str(line.count), average, _numbers(line.numbers)))
    doc.table_rows((_("Theme"), _("Observations"), _("Average rating"), _("Numbers")), rows,
                   col_widths=(58, 28, 50, doc.content_width - 136))


def _observations(doc: Document, data: PublicWalk) -> None:
    doc.heading(_("Observations"), 2)
    if not data.observations:
        doc.paragraph(_("No observation has been published yet."), muted=True)
        return
    for obs in data.observations:
        observation_block(doc, obs, data.photos.get(obs.id, []))


def observation_block(doc: Document, obs, photos, *, point: bool = False, intro: str = "") -> None:
    theme = _t(obs.theme, "name") if obs.theme is not None else _("No theme")
    doc.ensure_space(28)
    if point:
        title = _("Point %(number)s: %(theme)s", number=obs.number, theme=theme)
    else:
        title = f"{obs.number}. {theme}"
    doc.paragraph(title, size=11, bold=True, after=0.5)
    if intro:
        doc.paragraph(intro, size=8, bold=True, muted=True, after=0.5)
    line = labels.rating_words(obs.rating) if obs.rating else _("Not rated")
    if not obs.located:
        line = f"{line} · {_('Not on the map (no position)')}"
    doc.paragraph(line, muted=True, after=0.5)
    if obs.seen:
        doc.paragraph(_t(obs, "seen"), after=0.5)
    if obs.quote:
        doc.paragraph(f"« {_t(obs, 'quote')} »", indent=6, after=0.5)
    _photos(doc, photos)
    doc.ln(2)


def _photos(doc: Document, photos) -> None:
    """Two photos a row, at most 62 mm high, their captions below."""
    from .public import PDF_PHOTO_SIDE, sized_photo

    loaded = []
    for ph in photos:
        try:
            loaded.append((ph, sized_photo(ph.sha, PDF_PHOTO_SIDE).read_bytes()))
        except (OSError, ValueError):
            continue  # a photo lost from the disk: the report goes out without it
    gap = 4
    box_w = (doc.content_width - gap) / 2
    for i in range(0, len(loaded), 2):
        row = loaded[i:i + 2]
        sizes = []
        for ph, _data in row:
            ratio = (ph.height / ph.width) if ph.width and ph.height else 0.75
            w = box_w
            h = w * ratio
            if h > 62:
                h, w = 62, 62 / ratio
            sizes.append((w, h))
        captions = any(ph.caption for ph, _d in row)
        doc.ensure_space(max(h for _w, h in sizes) + (8 if captions else 2))
        y = doc.get_y()
        bottom = y
        for k, ((ph, jpeg), (w, h)) in enumerate(zip(row, sizes)):
            slot = k * (box_w + gap)
            x = (doc.w - doc.r_margin - slot - w) if doc.rtl else (doc.l_margin + slot)
            try:
                doc.jpeg(jpeg, x, y, w, h)
            except Exception:  # noqa: BLE001 — a picture fpdf cannot read must not fail the report
                continue
            if ph.caption:
                doc.set_font("DejaVu", "", 7.5)
                doc.set_text_color(*MUTED)
                doc.set_xy(x, y + h + 0.5)
                doc.multi_cell(w, 3.4, safe_text(ph.caption), align=doc.align)
                doc.set_text_color(27, 27, 27)
                doc.set_font("DejaVu", "", 10)
            bottom = max(bottom, doc.get_y() if ph.caption else y + h)
        doc.set_xy(doc.l_margin, max(bottom, y + max(h for _w, h in sizes)) + 2)


def _status(item, overdue: bool) -> str:
    text = str(STATUSES[item.status])
    return f"{text} — {_('Overdue')}" if overdue else text


def _recommendations(doc: Document, data: PublicWalk) -> None:
    doc.heading(_("Recommendations"), 2)
    if not data.recommendations:
        doc.paragraph(_("No recommendation has been sent yet."), muted=True)
        return
    doc.paragraph(_("Each recommendation is addressed to an institution, which must answer; its progress is public."),
                  muted=True)
    for r in data.recommendations:
        f = r.followup
        doc.ensure_space(24)
        doc.paragraph(_t(f, "title"), size=11, bold=True, after=0.5)
        doc.facts([
            (_("Addressed to"), _t(f.institution, "name") if f.institution else _("(not chosen yet)")),
            (_("Due by"), _day(f.action_due_on)),
            (_("Status"), _status(f, r.overdue)),
            (_("Observations"), _numbers(r.numbers)),
        ], label_width=40)
        doc.paragraph(url_for("followup.detail", followup_id=f.id, _external=True), size=8, muted=True)


def _reviews(doc: Document, data: PublicWalk) -> None:
    from ..followup.services import is_overdue

    original = data.walk.follows
    doc.heading(_("Point by point: what was done"), 2)
    if not data.reviews:
        doc.paragraph(_("No point of the first walk has been published."), muted=True)
        return
    for r in data.reviews:
        observation_block(doc, r.observation, r.photos, point=True,
                          intro=_("Seen on %(day)s", day=_day(original.walked_on)))
        facts = []
        if r.recommendations:
            facts.append((_("Recommendations"), "\n".join(
                f"{_t(f, 'title')} — {_status(f, is_overdue(f, data.today))}" for f in r.recommendations)))
        else:
            facts.append((_("Recommendations"), _("No recommendation on this point.")))
        if r.check is not None:
            found = str(labels.POINT_OUTCOMES[r.check.outcome])
            if r.check.note:
                found = f"{found}\n{r.check.note}"
            if r.new_observation is not None:
                new = _("Observation %(number)s of the follow-up walk", number=r.new_observation.number)
                found = f"{found}\n{new}"
        else:
            found = _("Not checked yet")
        facts.append((_("What the follow-up walk found"), found))
        doc.facts(facts, label_width=48)
