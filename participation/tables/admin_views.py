"""Back office of tables de quartier: the list, creating and editing a table, planning
meetings, their agenda, and the minutes (written per agenda item, then validated and published).

Who may do what: everything here needs `access.can_manage` on the table (a manager role on a
scope covering it, or being one of its facilitators), except the list and the table's page,
which also show the table to those who take attendance or read its figures (the pages that
do that are in attendance_views.py and interpellation_views.py). Every view loads the object,
checks, parses, calls a service, commits once and renders; a broken rule rolls everything
back and answers 422 with the reason next to the form.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.territories import Neighbourhood
from ..core.users import User
from ..extensions import db
from . import access, services
from .forms import ConfirmForm, EditTableForm, ItemForm, MeetingForm, MoveForm, NewMeetingForm, TableForm, minutes_form
from .labels import MEETING_STATUSES, MINUTES_STATUSES, error_message
from .models import (
    AgendaItem, Meeting, MeetingStatus, MinutesStatus, NeighbourhoodTable, table_facilitators, table_neighbourhoods,
)
from .public import get_or_404
from .views import admin_bp

#: Roles that see a table in the back office (what each may do there is checked per page).
VIEWERS = access.MANAGERS | access.ATTENDANCE_ROLES | access.FIGURE_READERS


def can_view(user: User, table: NeighbourhoodTable) -> bool:
    return (access.can_manage(user, table) or access.can_take_attendance(user, table)
            or access.can_view_figures(user, table))


def _managed_table(table_id: int) -> NeighbourhoodTable:
    table = get_or_404(NeighbourhoodTable, table_id)
    perm.ensure(access.can_manage(current_user, table))
    return table


def _managed_meeting(meeting_id: int) -> Meeting:
    meeting = get_or_404(Meeting, meeting_id)
    perm.ensure(access.can_manage(current_user, meeting.table))
    return meeting


def _managed_item(item_id: int) -> AgendaItem:
    item = get_or_404(AgendaItem, item_id)
    perm.ensure(access.can_manage(current_user, item.meeting.table))
    return item


def _refused(e: services.TableError) -> list[str]:
    db.session.rollback()
    return [error_message(e)]


def _visible_clause(user: User):
    """Tables in the user's scopes for VIEWERS, tables spanning a neighbourhood where the user
    takes attendance, and tables naming the user as a facilitator (refined by `can_view`)."""
    if user.is_superadmin:
        return sa.true()
    T = NeighbourhoodTable
    clauses = [perm.scope_clause(user, VIEWERS, T.contract_id, T.commune_id, T.neighbourhood_id)]
    field_neighbourhoods = [g.neighbourhood_id for g in user.grants
                            if g.role in access.ATTENDANCE_ROLES and g.neighbourhood_id is not None]
    if field_neighbourhoods:
        clauses.append(T.id.in_(sa.select(table_neighbourhoods.c.table_id).where(
            table_neighbourhoods.c.neighbourhood_id.in_(field_neighbourhoods))))
    contracts = {g.contract_id for g in user.grants}
    if contracts:
        clauses.append(sa.and_(T.contract_id.in_(contracts), T.id.in_(
            sa.select(table_facilitators.c.table_id).where(table_facilitators.c.user_id == user.id))))
    return sa.or_(*clauses)


# --- choices -------------------------------------------------------------------------------


def _neighbourhood_choices(table: NeighbourhoodTable | None) -> list[SelectChoice]:
    found = services.managed_neighbourhoods(current_user)
    if table is not None:
        found = [n for n in found if n.commune.contract_id == table.contract_id]
        found += [n for n in table.neighbourhoods if n.id not in {x.id for x in found}]
        found.sort(key=lambda n: (n.commune.name, n.name))
    several_contracts = len({n.commune.contract_id for n in found}) > 1
    return [SelectChoice(str(n.id), f"{n.commune.contract.name} › {n.commune.name} › {n.name}" if several_contracts
             else f"{n.commune.name} › {n.name}") for n in found]


def _facilitator_choices(contract_ids, table: NeighbourhoodTable | None = None) -> list[SelectChoice]:
    users = services.eligible_facilitators(contract_ids)
    if table is not None:
        users += [u for u in table.facilitators if u.id not in {x.id for x in users}]
    return [SelectChoice(str(u.id), u.name) for u in users]


def _table_form(form_class, table: NeighbourhoodTable | None = None, **kwargs):
    form = form_class(**kwargs)
    form.neighbourhoods.choices = _neighbourhood_choices(table)
    contract_ids = ({table.contract_id} if table is not None
                    else {int(n.commune.contract_id) for n in services.managed_neighbourhoods(current_user)})
    form.facilitators.choices = _facilitator_choices(contract_ids, table)
    return form


def _chosen(form) -> tuple[list[Neighbourhood], list[User]]:
    """The ticked neighbourhoods and facilitators (ids already checked against the choices)."""
    n_ids = [i for i in map(parse_int, form.neighbourhoods.data or ()) if i is not None]
    u_ids = [i for i in map(parse_int, form.facilitators.data or ()) if i is not None]
    neighbourhoods = list(db.session.scalars(sa.select(Neighbourhood).where(Neighbourhood.id.in_(n_ids)))) if n_ids else []
    users = list(db.session.scalars(sa.select(User).where(User.id.in_(u_ids)))) if u_ids else []
    return neighbourhoods, users


# --- list and creation ---------------------------------------------------------------------


@admin_bp.get("/")
@staff_required
def index():
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, VIEWERS)))
    tables = [t for t in db.session.scalars(
        sa.select(NeighbourhoodTable).where(_visible_clause(current_user))
        .order_by(NeighbourhoodTable.active.desc(), NeighbourhoodTable.name, NeighbourhoodTable.id)
    ) if can_view(current_user, t)]
    preload(tables, current_locale())
    now = services.local_now()
    next_meeting = {t.id: next(iter(services.upcoming(t, now)), None) for t in tables}
    return render("tables/admin/index.html", tables=tables, next_meeting=next_meeting,
                  can_create=bool(services.managed_neighbourhoods(current_user)),
                  can_manage=lambda t: access.can_manage(current_user, t))


@admin_bp.route("/new", methods=["GET", "POST"])
@staff_required
def create():
    form = _table_form(TableForm, formdata=None if request.method == "GET" else request.form)
    perm.ensure(bool(form.neighbourhoods.choices))
    errors = []
    if request.method == "POST":
        if form.validate_on_submit():
            neighbourhoods, facilitators = _chosen(form)
            try:
                table = services.create_table(
                    form.name.data, neighbourhoods, description=form.description.data or "",
                    usual_place=form.usual_place.data or "", facilitators=facilitators,
                    original_locale=current_locale(), user=current_user)
            except services.TableError as e:
                errors = _refused(e)
            else:
                db.session.commit()
                flash(_("Table de quartier created. Plan its first meeting."), "success")
                return redirect(url_for("tables_admin.table", table_id=table.id))
        return render("tables/admin/new.html", form=form, errors=errors, status=422)
    return render("tables/admin/new.html", form=form, errors=errors)


# --- one table -------------------------------------------------------------------------------


def _table_page(table: NeighbourhoodTable, form=None, errors=(), status: int = 200):
    manager = access.can_manage(current_user, table)
    if form is None and manager:
        form = _table_form(EditTableForm, table, formdata=None, data={
            "name": table.name, "description": table.description, "usual_place": table.usual_place,
            "active": table.active, "neighbourhoods": [str(n.id) for n in table.neighbourhoods],
            "facilitators": [str(u.id) for u in table.facilitators]})
    now = services.local_now()
    meetings = table.meetings
    preload([table, *meetings], current_locale())
    return render("tables/admin/table.html", table=table, form=form if manager else None, errors=errors,
                  upcoming=services.upcoming(table, now), past=services.past(table, now), manager=manager,
                  MEETING_STATUSES=MEETING_STATUSES, MINUTES_STATUSES=MINUTES_STATUSES, status=status)


@admin_bp.get("/<int:table_id>")
@staff_required
def table(table_id):
    item = get_or_404(NeighbourhoodTable, table_id)
    perm.ensure(can_view(current_user, item))
    return _table_page(item)


@admin_bp.post("/<int:table_id>/edit")
@staff_required
def table_edit(table_id):
    item = _managed_table(table_id)
    form = _table_form(EditTableForm, item)
    errors = []
    if form.validate_on_submit():
        neighbourhoods, facilitators = _chosen(form)
        try:
            services.update_table(item, name=form.name.data, description=form.description.data or "",
                                  usual_place=form.usual_place.data or "", active=form.active.data,
                                  neighbourhoods=neighbourhoods, facilitators=facilitators, user=current_user)
        except services.TableError as e:
            errors = _refused(e)
            item = db.session.get(NeighbourhoodTable, table_id)
        else:
            db.session.commit()
            flash(_("Table saved."), "success")
            return redirect(url_for("tables_admin.table", table_id=item.id))
    return _table_page(item, form=form, errors=errors, status=422)


# --- meetings --------------------------------------------------------------------------------


@admin_bp.route("/<int:table_id>/meetings/new", methods=["GET", "POST"])
@staff_required
def meeting_new(table_id):
    table = _managed_table(table_id)
    errors = []
    if request.method == "GET":
        form = NewMeetingForm(formdata=None, data={"place": table.usual_place})
        return render("tables/admin/meeting_new.html", table=table, form=form, errors=errors)
    form = NewMeetingForm()
    if form.validate_on_submit():
        try:
            meeting = services.create_meeting(table, original_locale=current_locale(), **form.meeting_data())
        except services.TableError as e:
            errors = _refused(e)
            table = db.session.get(NeighbourhoodTable, table_id)
        else:
            db.session.commit()
            flash(_("Meeting planned. Add the points of its agenda."), "success")
            return redirect(url_for("tables_admin.meeting", meeting_id=meeting.id))
    return render("tables/admin/meeting_new.html", table=table, form=form, errors=errors, status=422)


def _meeting_form_data(meeting: Meeting) -> dict:
    return {"title": meeting.title, "day": meeting.starts_at.date(), "starts": meeting.starts_at.time(),
            "ends": meeting.ends_at.time() if meeting.ends_at else None, "place": meeting.place,
            "address": meeting.address, "accessibility": meeting.accessibility,
            "interpreted": list(meeting.interpreted or ()), "status": meeting.status.value}


def _meeting_page(meeting: Meeting, form=None, item_form=None, errors=(), status: int = 200):
    form = form or MeetingForm(formdata=None, data=_meeting_form_data(meeting))
    item_form = item_form or ItemForm(formdata=None, prefix="item")
    preload([meeting.table, meeting, *meeting.items], current_locale())
    return render("tables/admin/meeting.html", meeting=meeting, table=meeting.table, form=form, item_form=item_form,
                  confirm=ConfirmForm(formdata=None), move=MoveForm(formdata=None), errors=errors,
                  MEETING_STATUSES=MEETING_STATUSES, MINUTES_STATUSES=MINUTES_STATUSES, status=status)


@admin_bp.route("/meetings/<int:meeting_id>", methods=["GET", "POST"])
@staff_required
def meeting(meeting_id):
    item = _managed_meeting(meeting_id)
    if request.method == "GET":
        return _meeting_page(item)
    form = MeetingForm()
    errors = []
    if form.validate_on_submit():
        try:
            services.update_meeting(item, status=MeetingStatus(form.status.data), **form.meeting_data())
        except services.TableError as e:
            errors = _refused(e)
            item = db.session.get(Meeting, meeting_id)
        else:
            db.session.commit()
            flash(_("Meeting saved."), "success")
            return redirect(url_for("tables_admin.meeting", meeting_id=item.id))
    return _meeting_page(item, form=form, errors=errors, status=422)


# --- agenda ----------------------------------------------------------------------------------


@admin_bp.post("/meetings/<int:meeting_id>/items")
@staff_required
def item_add(meeting_id):
    meeting = _managed_meeting(meeting_id)
    form = ItemForm(prefix="item")
    errors = []
    if form.validate_on_submit():
        try:
            added = services.add_item(meeting, form.title.data, form.description.data or "", current_locale())
        except services.TableError as e:
            errors = _refused(e)
            meeting = db.session.get(Meeting, meeting_id)
        else:
            db.session.commit()
            flash(_("Agenda item added."), "success")
            return redirect(url_for("tables_admin.meeting", meeting_id=meeting.id, _anchor=f"item-{added.id}"))
    return _meeting_page(meeting, item_form=form, errors=errors, status=422)


@admin_bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@staff_required
def item(item_id):
    agenda_item = _managed_item(item_id)
    errors = []
    if request.method == "GET":
        form = ItemForm(formdata=None, data={"title": agenda_item.title, "description": agenda_item.description})
        return render("tables/admin/item.html", item=agenda_item, meeting=agenda_item.meeting, form=form, errors=errors)
    form = ItemForm()
    if form.validate_on_submit():
        try:
            services.update_item(agenda_item, form.title.data, form.description.data or "")
        except services.TableError as e:
            errors = _refused(e)
            agenda_item = db.session.get(AgendaItem, item_id)
        else:
            db.session.commit()
            flash(_("Agenda item saved."), "success")
            return redirect(url_for("tables_admin.meeting", meeting_id=agenda_item.meeting_id,
                                    _anchor=f"item-{agenda_item.id}"))
    return render("tables/admin/item.html", item=agenda_item, meeting=agenda_item.meeting, form=form, errors=errors,
                  status=422)


@admin_bp.post("/items/<int:item_id>/move")
@staff_required
def item_move(item_id):
    agenda_item = _managed_item(item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _meeting_page(agenda_item.meeting, errors=[_("This change could not be made.")], status=422)
    services.move_item(agenda_item, form.direction.data)
    db.session.commit()
    return redirect(url_for("tables_admin.meeting", meeting_id=agenda_item.meeting_id, _anchor=f"item-{agenda_item.id}"))


@admin_bp.post("/items/<int:item_id>/delete")
@staff_required
def item_delete(item_id):
    agenda_item = _managed_item(item_id)
    meeting_id = agenda_item.meeting_id
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_item(agenda_item)
    db.session.commit()
    flash(_("Agenda item deleted."), "success")
    return redirect(url_for("tables_admin.meeting", meeting_id=meeting_id, _anchor="agenda"))


# --- minutes ---------------------------------------------------------------------------------


def _minutes_page(meeting: Meeting, form=None, errors=(), status: int = 200):
    preload([meeting.table, meeting, *meeting.items], current_locale())
    return render("tables/admin/minutes.html", meeting=meeting, table=meeting.table,
                  form=form or minutes_form(meeting.items), confirm=ConfirmForm(formdata=None), errors=errors,
                  published=meeting.minutes_status is MinutesStatus.published, has_minutes=services.has_minutes(meeting),
                  MINUTES_STATUSES=MINUTES_STATUSES, status=status)


@admin_bp.route("/meetings/<int:meeting_id>/minutes", methods=["GET", "POST"])
@staff_required
def minutes(meeting_id):
    meeting = _managed_meeting(meeting_id)
    if request.method == "GET":
        return _minutes_page(meeting)
    form = minutes_form(meeting.items, posted=True)
    if not form.validate_on_submit():
        return _minutes_page(meeting, form=form, status=422)
    services.save_minutes(meeting, form.texts())
    db.session.commit()
    if meeting.minutes_status is MinutesStatus.published:
        flash(_("Minutes saved. They are published: the changes are already on the public page."), "success")
    else:
        flash(_("Minutes saved as a draft. They are not public until you publish them."), "success")
    return redirect(url_for("tables_admin.minutes", meeting_id=meeting.id))


@admin_bp.post("/meetings/<int:meeting_id>/minutes/publish")
@staff_required
def minutes_publish(meeting_id):
    meeting = _managed_meeting(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.publish_minutes(meeting, current_user)
    except services.TableError as e:
        errors = _refused(e)
        return _minutes_page(db.session.get(Meeting, meeting_id), errors=errors, status=422)
    db.session.commit()
    flash(_("Minutes validated and published on the meeting's public page."), "success")
    return redirect(url_for("tables_admin.minutes", meeting_id=meeting.id))


@admin_bp.post("/meetings/<int:meeting_id>/minutes/withdraw")
@staff_required
def minutes_withdraw(meeting_id):
    meeting = _managed_meeting(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_minutes(meeting)
    except services.TableError as e:
        errors = _refused(e)
        return _minutes_page(db.session.get(Meeting, meeting_id), errors=errors, status=422)
    db.session.commit()
    flash(_("Minutes withdrawn from the public page. They are a draft again."), "success")
    return redirect(url_for("tables_admin.minutes", meeting_id=meeting.id))
