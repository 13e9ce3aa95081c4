"""Back office of the référentiel's governance side, on the `governance` blueprint: values of
entered indicators, verbatims (residents' words) and their moderation, evaluators' API tokens.

Who: values are read by the contract's readers (`access.can_view`) and written by its editors
(`access.can_edit_values`); verbatims by its moderators (`access.can_moderate_verbatims`);
tokens by whoever may hold one (`access.can_hold_token`), and revoked by their holder or the
contract's admins. Also registers the governance demo data, after the questionnaires' (whose
indicators it completes).
"""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ..admin import indicators as indicator_services
from ..admin.forms import ConfirmForm
from ..admin.services import RuleError
from ..core import permissions as perm
from ..core.content_i18n import preload, translate
from ..core.demo import register_loader as register_demo_loader
from ..core.errors import render_error
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import staff_required
from ..core.territories import Category, Contract, Indicator, IndicatorSource, Neighbourhood, top_categories
from ..extensions import db
from ..questionnaires import views as _questionnaires  # noqa: F401  (its demo loader runs before ours)
from . import access, demo, tokens as token_services, verbatims as verbatim_services
from .forms import (
    ORIGIN_LABELS, STATUS_LABELS, YEAR_MAX, YEAR_MIN, IndicatorValueForm, TakeSuggestionForm, TokenForm, VerbatimForm,
    VerbatimStatusForm, language_choices,
)
from .metrics import METRICS
from .models import ApiToken, IndicatorValue, Verbatim, VerbatimOrigin, VerbatimStatus
from .views import bp

register_demo_loader(demo.load)


# --- helpers for the référentiel page (templates/admin/referentiel.html) ----------------------------


def metric_label(key: str | None) -> str:
    metric = METRICS.get(key or "")
    return str(metric.label) if metric else (key or "")


def number(value: float | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.##")


bp.add_app_template_global(access, "governance_access")
bp.add_app_template_global(metric_label, "governance_metric_label")
bp.add_app_template_global(number, "governance_number")


# --- values of entered indicators ---------------------------------------------------------------------


def _scope_label(value: IndicatorValue, contract: Contract) -> str:
    if value.neighbourhood is not None:
        return value.neighbourhood.label
    if value.commune is not None:
        return _("%(commune)s: the whole commune", commune=value.commune.name)
    return _("%(contract)s: the whole contract", contract=contract.name)


@bp.route("/indicators/<int:indicator_id>/values", methods=["GET", "POST"])
@staff_required
def indicator_values(indicator_id):
    indicator = db.get_or_404(Indicator, indicator_id)
    contract = indicator.contract
    perm.ensure(access.can_view(current_user, contract))
    if indicator.source is not IndicatorSource.entered:
        return render_error(404, _("This indicator is computed from the app's data: it has no values entered by hand."))
    can_edit = access.can_edit_values(current_user, contract)
    form = IndicatorValueForm()
    form.scope.choices = indicator_services.scope_choices(contract)
    status = 200
    if request.method == "POST":
        perm.ensure(can_edit)
        if form.validate_on_submit():
            try:
                _row, created = indicator_services.save_value(indicator, form.scope.data, form.year.data,
                                                              form.value.data, form.source_note.data)
                db.session.commit()
            except RuleError:
                db.session.rollback()
                form.scope.errors.append(_("Choose the contract, one of its communes or one of its neighbourhoods."))
            except IntegrityError:
                # Someone saved the same place and year between our look-up and our insert.
                db.session.rollback()
                flash(_("Someone else saved a value for this place and year at the same moment. Check the list, "
                        "then send yours again to replace it."), "error")
                status = 409
            else:
                flash(_("Value added.") if created else _("Value replaced."), "success")
                return redirect(url_for("governance.indicator_values", indicator_id=indicator.id))
        if form.errors:
            status = 422
    elif request.args.get("scope") and parse_int(request.args.get("year")) is not None:
        # "Change" on a line of the list: the form filled with that value, to replace it.
        chosen = next((v for v in indicator_services.values_of(indicator)
                       if v.scope_key == request.args["scope"] and v.year == parse_int(request.args["year"])), None)
        if chosen is not None:
            form = IndicatorValueForm(formdata=None, data={"scope": chosen.scope_key, "year": chosen.year,
                                                           "value": chosen.value, "source_note": chosen.source_note})
            form.scope.choices = indicator_services.scope_choices(contract)
    preload([indicator], current_locale())
    values = indicator_services.values_of(indicator)
    return render(
        "governance/referentiel/values.html", indicator=indicator, contract=contract, form=form, can_edit=can_edit,
        rows=[(v, _scope_label(v, contract)) for v in values], status=status,
    )


@bp.post("/values/<int:value_id>/delete")
@staff_required
def indicator_value_delete(value_id):
    value = db.get_or_404(IndicatorValue, value_id)
    indicator = value.indicator
    perm.ensure(access.can_edit_values(current_user, indicator.contract))
    if ConfirmForm().validate_on_submit():
        indicator_services.delete_value(value)
        db.session.commit()
        flash(_("Value deleted."), "success")
    return redirect(url_for("governance.indicator_values", indicator_id=indicator.id))


# --- verbatims -----------------------------------------------------------------------------------------

VERBATIM_ERRORS = {
    "indicator": ("indicator", lambda: _("Choose an indicator of this contract.")),
    "category": ("category", lambda: _("Choose a défi or orientation of this contract.")),
    "neighbourhood": ("neighbourhood", lambda: _("Choose a neighbourhood of this contract.")),
    "attach": ("category", lambda: _("Attach the words to an indicator, a défi or orientation, or both.")),
    "year": ("year", lambda: _("Enter a year between %(start)s and %(end)s.", start=YEAR_MIN, end=YEAR_MAX)),
    "text": ("text", lambda: _("Write the words.")),
}


def _contract_choices(contract: Contract):
    tops = top_categories(contract)
    indicators = indicator_services.contract_indicators(contract)
    preload([*tops, *indicators], current_locale())
    locale = current_locale()
    categories = [SelectChoice("", _("None"))] + [
        SelectChoice(str(c.id), f"{c.code} {translate(c, 'name', locale).text}") for c in tops]
    indicator_choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(i.id), f"{i.code} {translate(i, 'name', locale).text}") for i in indicators]
    neighbourhoods = [SelectChoice("", _("No particular neighbourhood"))] + [
        SelectChoice(str(n.id), n.label) for commune in contract.communes for n in commune.neighbourhoods]
    return tops, indicators, categories, indicator_choices, neighbourhoods


def _get(model, raw):
    object_id = parse_int(raw)
    return db.session.get(model, object_id) if object_id is not None else None


def _filters(contract: Contract, tops, indicators) -> tuple[dict, dict]:
    """The list's filters from the query string; an unknown value is reported, not guessed."""
    args, chosen, errors = request.args, {}, {}
    if args.get("status"):
        try:
            chosen["status"] = VerbatimStatus(args["status"])
        except ValueError:
            errors["status"] = _("Choose a status of the list.")
    if args.get("category"):
        category = next((c for c in tops if str(c.id) == args["category"]), None)
        if category is None:
            errors["category"] = _("Choose a défi or orientation of this contract.")
        chosen["category"] = category
    if args.get("indicator"):
        indicator = next((i for i in indicators if str(i.id) == args["indicator"]), None)
        if indicator is None:
            errors["indicator"] = _("Choose an indicator of this contract.")
        chosen["indicator"] = indicator
    return chosen, errors


def _verbatim_form(contract: Contract, choices) -> VerbatimForm:
    _tops, _indicators, categories, indicator_choices, neighbourhoods = choices
    form = VerbatimForm(data={"locale": contract.default_locale, "year": date.today().year}
                        if request.method == "GET" else None)
    form.locale.choices = language_choices()
    form.neighbourhood.choices = neighbourhoods
    form.indicator.choices = indicator_choices
    form.category.choices = categories
    return form


def _add_verbatim(contract: Contract, form: VerbatimForm) -> bool:
    try:
        verbatim_services.add(
            contract, text=form.text.data, locale=form.locale.data or contract.default_locale, year=form.year.data,
            origin=VerbatimOrigin(form.origin.data), neighbourhood=_get(Neighbourhood, form.neighbourhood.data),
            indicator=_get(Indicator, form.indicator.data), category=_get(Category, form.category.data))
    except verbatim_services.VerbatimError as e:
        db.session.rollback()
        name, message = VERBATIM_ERRORS[str(e)]
        form[name].errors.append(message())
        return False
    db.session.commit()
    flash(_("Verbatim added: it waits for moderation."), "success")
    return True


def _take_suggestion(contract: Contract) -> tuple[bool, str | None]:
    form = TakeSuggestionForm(prefix="take")
    if not form.validate_on_submit():
        return False, _("The suggestion could not be read. Reload the page and try again.")
    category, indicator = _get(Category, form.category.data), _get(Indicator, form.indicator.data)
    if (form.category.data and category is None) or (form.indicator.data and indicator is None):
        return False, _("Choose a défi or orientation, or an indicator, of this contract.")
    try:
        verbatim_services.take(contract, form.source.data, indicator=indicator, category=category)
    except verbatim_services.VerbatimError as e:
        db.session.rollback()
        if str(e) == "source":
            return False, _("This suggestion was already taken, or is no longer published.")
        if str(e) == "attach":
            return False, _("Choose the défi or orientation these words are about.")
        return False, _("Choose a défi or orientation, or an indicator, of this contract.")
    db.session.commit()
    return True, None


@bp.route("/<int:contract_id>/verbatims", methods=["GET", "POST"])
@staff_required
def verbatims(contract_id):
    contract = db.get_or_404(Contract, contract_id)
    perm.ensure(access.can_moderate_verbatims(current_user, contract))
    choices = _contract_choices(contract)
    tops, indicators = choices[0], choices[1]
    form = _verbatim_form(contract, choices)
    chosen, filter_errors = _filters(contract, tops, indicators)
    status, take_error = 200, None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "add":
            if form.validate_on_submit() and _add_verbatim(contract, form):
                return redirect(url_for("governance.verbatims", contract_id=contract.id, **request.args))
            status = 422
        elif action == "take":
            taken, take_error = _take_suggestion(contract)
            if taken:
                flash(_("Verbatim taken and published."), "success")
                return redirect(url_for("governance.verbatims", contract_id=contract.id, _anchor="suggestions"))
            status = 422
        else:
            return render_error(400)
    elif filter_errors:
        status = 400
    listed = verbatim_services.moderation_list(
        contract, status=chosen.get("status"), category=chosen.get("category"), indicator=chosen.get("indicator"))
    suggestions = verbatim_services.suggestions(contract)
    preload([v.indicator for v in listed if v.indicator] + [v.category for v in listed if v.category], current_locale())
    return render(
        "governance/referentiel/verbatims.html", contract=contract, form=form, verbatims=listed,
        suggestions=suggestions, filters=chosen, filter_errors=filter_errors, take_error=take_error,
        tops=tops, indicators=indicators, indicators_by_id={i.id: i for i in indicators},
        categories_by_id={c.id: c for c in tops}, neighbourhoods_by_id={
            n.id: n for commune in contract.communes for n in commune.neighbourhoods},
        status_labels=STATUS_LABELS, origin_labels=ORIGIN_LABELS, statuses=list(VerbatimStatus),
        status=status,
    )


@bp.post("/verbatims/<int:verbatim_id>/status")
@staff_required
def verbatim_status(verbatim_id):
    verbatim = db.get_or_404(Verbatim, verbatim_id)
    perm.ensure(access.can_moderate_verbatims(current_user, verbatim.contract))
    form = VerbatimStatusForm()
    if not form.validate_on_submit():
        return render_error(400, _("Choose publish, reject or back to moderation."))
    verbatim_services.set_status(verbatim, VerbatimStatus(form.status.data))
    db.session.commit()
    flash({VerbatimStatus.published: _("Verbatim published."), VerbatimStatus.rejected: _("Verbatim rejected."),
           VerbatimStatus.pending: _("Verbatim back to moderation.")}[verbatim.status], "success")
    return redirect(url_for("governance.verbatims", contract_id=verbatim.contract_id, _anchor=f"verbatim-{verbatim.id}"))


# --- API tokens ----------------------------------------------------------------------------------------


@bp.route("/<int:contract_id>/tokens", methods=["GET", "POST"])
@staff_required
def tokens(contract_id):
    contract = db.get_or_404(Contract, contract_id)
    perm.ensure(access.can_hold_token(current_user, contract))
    form = TokenForm()
    new_token, status = None, 200
    if form.validate_on_submit():
        _token, new_token = token_services.issue(current_user, contract, form.label.data)
        db.session.commit()
        form = TokenForm(formdata=None)
    elif form.errors:
        status = 422
    response = render(
        "governance/referentiel/tokens.html", contract=contract, form=form, new_token=new_token,
        own=token_services.tokens_of(current_user, contract),
        others=token_services.others_tokens(current_user, contract), status=status,
    )
    if new_token:
        # The token is in this page only: no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@staff_required
def token_revoke(token_id):
    token = db.get_or_404(ApiToken, token_id)
    perm.ensure(token_services.can_revoke(current_user, token))
    if ConfirmForm().validate_on_submit():
        token_services.revoke(token)
        db.session.commit()
        flash(_("Token revoked: it no longer opens the API."), "success")
    if access.can_hold_token(current_user, token.contract):
        return redirect(url_for("governance.tokens", contract_id=token.contract_id))
    return redirect(url_for("admin.dashboard"))
