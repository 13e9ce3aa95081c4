"""A table's interpellations in the back office: the list (drafts included, overdue flagged),
raising a new one, and recording that the table was told where one stands at a meeting.
Moving them through the workflow (send, answered…) happens on the shared follow-up pages
(`followup_admin.detail`), where the table's listed facilitators are managers too
(`interpellations.register()`, called below when this module is imported)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.templating import tr
from ..core.territories import top_categories
from ..extensions import db
from ..followup import services as followup_services
from ..followup.models import FollowUp, Institution
from . import access, interpellations
from .attendance_views import safe_url
from .interpellation_forms import InterpellationForm, ReportForm
from .models import Interpellation, Meeting, MeetingStatus, NeighbourhoodTable
from .views import admin_bp, bp

interpellations.register()


@bp.app_template_global()
def table_interpellation_links(items) -> dict:
    """followup id -> [InterpellationMeeting] (raised / reported), for _meeting_interpellations.html."""
    return interpellations.meeting_links(item.id for item in items)


@bp.app_template_global()
def followup_admin_url(item) -> str | None:
    """The shared back-office page of a demand (None while that page does not exist)."""
    return safe_url("followup_admin.detail", followup_id=item.id)


@bp.app_template_global()
def table_meeting_url(meeting) -> str | None:
    return safe_url("tables.meeting", meeting_id=meeting.id)


def _managed_table(table_id: int) -> NeighbourhoodTable:
    table = db.get_or_404(NeighbourhoodTable, table_id)
    perm.ensure(access.can_manage(current_user, table))
    return table


def _meetings(table: NeighbourhoodTable) -> list[Meeting]:
    return [m for m in table.meetings if m.status is not MeetingStatus.cancelled]


def _meeting_choices(table: NeighbourhoodTable, blank: str | None) -> list[SelectChoice]:
    choices = [SelectChoice("", blank)] if blank else []
    for m in reversed(_meetings(table)):
        title = str(tr(m, "title"))
        label = m.starts_at.strftime("%Y-%m-%d") + (f" · {title}" if title else "")
        choices.append(SelectChoice(str(m.id), label))
    return choices


def _set_choices(form: InterpellationForm, table: NeighbourhoodTable) -> None:
    institutions = followup_services.active_institutions(table.contract_id)
    tops = top_categories(table.contract)
    categories = [c for top in tops for c in (top, *top.children)]
    preload([*institutions, *categories, *table.meetings], current_locale())
    form.institution.choices = [SelectChoice("", _("(to choose later)"))] + [
        SelectChoice(str(i.id), str(tr(i, "name"))) for i in institutions
    ]
    form.category.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(str(c.id), f"{c.code} {tr(c, 'name')}") for c in categories
    ]
    form.meeting.choices = _meeting_choices(table, _("(none)"))


def _chosen(form_field, model, belongs) -> tuple[object | None, bool]:
    """(object, ok) for a posted id: empty → (None, True); unknown or elsewhere → (None, False)."""
    raw = (form_field.data or "").strip()
    if not raw:
        return None, True
    number = parse_int(raw)
    obj = db.session.get(model, number) if number is not None else None
    if obj is None or not belongs(obj):
        return None, False
    return obj, True


def _report_form(table: NeighbourhoodTable, item: FollowUp, formdata=None) -> ReportForm:
    form = ReportForm(formdata=formdata, prefix=f"r{item.id}")
    form.meeting.choices = _meeting_choices(table, _("Choose the meeting"))
    return form


def _list_page(table: NeighbourhoodTable, failed: tuple[int, ReportForm] | None = None, status: int = 200):
    items = interpellations.for_table(table)
    preload([table, *items, *(i.institution for i in items if i.institution), *table.meetings], current_locale())
    forms = {item.id: _report_form(table, item) for item in items}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render("tables/interpellations.html", table=table, items=items, forms=forms,
                  links=interpellations.meeting_links(i.id for i in items), status=status)


@admin_bp.get("/<int:table_id>/interpellations", endpoint="interpellations")
@perm.staff_required
def interpellations_view(table_id):
    return _list_page(_managed_table(table_id))


@admin_bp.route("/<int:table_id>/interpellations/new", methods=["GET", "POST"])
@perm.staff_required
def interpellation_new(table_id):
    table = _managed_table(table_id)
    form = InterpellationForm()
    _set_choices(form, table)
    if request.method == "GET" and request.args.get("meeting"):
        form.meeting.data = request.args.get("meeting", "")[:20]
    if form.validate_on_submit():
        institution, ok_i = _chosen(form.institution, Institution,
                                    lambda i: i.contract_id == table.contract_id and i.active)
        meeting, ok_m = _chosen(form.meeting, Meeting, lambda m: m.table_id == table.id)
        category_id = parse_int(form.category.data or "")
        if not ok_i:
            form.institution.errors = [_("Choose an institution of the list.")]
        if not ok_m:
            form.meeting.errors = [_("Choose a meeting of this table.")]
        if ok_i and ok_m:
            try:
                item = interpellations.raise_interpellation(
                    table, form.title.data, body=form.body.data or "", institution=institution,
                    category_id=category_id, meeting=meeting, original_locale=current_locale(), user=current_user,
                )
            except followup_services.FollowUpError:
                db.session.rollback()
                form.category.errors = [_("Choose a défi or orientation of the list.")]
            else:
                db.session.commit()
                flash(_("Interpellation saved as a draft. Send it from its follow-up page."), "success")
                target = safe_url("followup_admin.detail", followup_id=item.id)
                return redirect(target or url_for("tables_admin.interpellations", table_id=table.id))
    status = 422 if request.method == "POST" else 200
    preload([table], current_locale())
    return render("tables/interpellation_new.html", table=table, form=form, status=status)


@admin_bp.post("/<int:table_id>/interpellations/<int:followup_id>/report")
@perm.staff_required
def interpellation_report(table_id, followup_id):
    """The table was told where this demand stands, at a meeting."""
    table = _managed_table(table_id)
    link = db.session.get(Interpellation, followup_id)
    if link is None or link.table_id != table.id:
        abort(404)
    form = _report_form(table, link.followup, request.form)
    if form.validate_on_submit():
        meeting, ok = _chosen(form.meeting, Meeting, lambda m: m.table_id == table.id)
        if meeting is None or not ok:
            form.meeting.errors = [_("Choose a meeting of this table.")]
        else:
            if interpellations.report_back(link, meeting, form.note.data, user=current_user):
                db.session.commit()
                flash(_("Recorded: reported back at the meeting."), "success")
            else:
                flash(_("This meeting was already recorded for this interpellation."), "success")
            return redirect(url_for("tables_admin.interpellations", table_id=table.id, _anchor=f"i{followup_id}"))
    return _list_page(table, failed=(followup_id, form), status=422)

