"""Short links: the public redirect, QR images and posters, and their management by staff."""
import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core import permissions as perm
from ..core.content_i18n import preload, translate
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import public, staff_required
from ..core.qr import qr_png, qr_svg
from ..core.search import contains
from ..core.territories import Contract
from ..extensions import db, limiter
from . import services
from .forms import DeactivateForm, LinkForm, PosterForm
from .models import ShortLink

bp = Blueprint("links", __name__)

QR_CACHE = "public, max-age=86400"


def _link_or_404(code: str) -> ShortLink:
    link = services.resolve(code)
    if link is None:
        abort(404)
    return link


def _lang_arg() -> str | None:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else None


# Only failed look-ups count, so a crowd scanning one poster behind one mobile IP is fine
# while guessing codes is throttled.
_guess_limit = limiter.limit("30 per minute", deduct_when=lambda r: r.status_code == 404)


@bp.get("/p/<code>")
@_guess_limit
@public
def follow(code):
    link = _link_or_404(code)
    lang = _lang_arg()
    target = link.target_path + (("&" if "?" in link.target_path else "?") + f"lang={lang}" if lang else "")
    return redirect(target, code=302)


@bp.get("/p/<code>/qr.svg")
@_guess_limit
@public
def qr_svg_image(code):
    return _qr_response(code, qr_svg, "image/svg+xml", "svg")


@bp.get("/p/<code>/qr.png")
@_guess_limit
@public
def qr_png_image(code):
    return _qr_response(code, qr_png, "image/png", "png")


def _qr_response(code: str, draw, mimetype: str, extension: str) -> Response:
    link = _link_or_404(code)
    resp = Response(draw(services.short_url(link, _lang_arg())), mimetype=mimetype)
    resp.headers["Cache-Control"] = QR_CACHE
    resp.headers["Content-Disposition"] = f'inline; filename="qr-{link.code}.{extension}"'
    return resp


@bp.get("/p/<code>/poster")
@_guess_limit
@public
def poster(code):
    """A printable A4 poster. Public: a table-de-quartier volunteer may print it too."""
    link = _link_or_404(code)
    form = PosterForm(request.args)
    form.set_choices(current_app.config["LANGUAGES"], _("(none)"))
    if not request.args:
        form.lang1.data = current_locale()
    langs = form.chosen() if form.validate() else [current_locale()]
    lines = []
    for lang in langs:
        with force_locale(lang):
            lines.append(
                {
                    "lang": lang,
                    "title": translate(link, "title", lang),
                    "instruction": _("Scan this code with your phone's camera to take part. No account needed."),
                    "or_type": _("Or type this address:"),
                }
            )
    return render(
        "links/poster.html",
        link=link,
        form=form,
        lines=lines,
        qr_lang=langs[0],
        display_url=services.display_url(link),
    )


# --- staff ---------------------------------------------------------------


def _visible_links():
    return sa.select(ShortLink).where(
        perm.scope_clause(
            current_user, perm.LINK_MANAGERS, ShortLink.contract_id, ShortLink.commune_id, ShortLink.neighbourhood_id
        )
    )


def _contracts_for_links() -> list[Contract]:
    ids = {s.contract_id for s in perm.managed_scopes(current_user, perm.LINK_MANAGERS)}
    query = sa.select(Contract).order_by(Contract.name)
    if not current_user.is_superadmin:
        query = query.where(Contract.id.in_(ids))
    return list(db.session.scalars(query))


def _allowed_targets() -> list[services.Target]:
    return [
        t
        for contract in _contracts_for_links()
        for t in services.targets_for(contract)
        if perm.can_manage_links(current_user, t.scope)
    ]


@bp.get("/admin/links")
@staff_required
def manage():
    perm.ensure(current_user.is_superadmin or bool(perm.managed_scopes(current_user, perm.LINK_MANAGERS)))
    q = (request.args.get("q") or "").strip()[:100]
    query = _visible_links().order_by(ShortLink.created_at.desc())
    if q:
        query = query.where(sa.or_(contains(ShortLink.title, q), ShortLink.code == q.upper()))
    links = list(db.session.scalars(query.limit(200)))
    preload(links, current_locale())
    return render(
        "links/manage.html",
        fragment="links/_list.html",
        links=links,
        q=q,
        can_create=bool(_contracts_for_links()),
    )


@bp.route("/admin/links/new", methods=["GET", "POST"])
@staff_required
def create():
    targets = _allowed_targets()
    if not targets:
        abort(403)
    by_path = {t.path: t for t in targets}
    form = LinkForm()
    form.target.choices = [SelectChoice(t.path, t.title, optgroup=t.group or None) for t in targets]
    if form.validate_on_submit():
        target = by_path[form.target.data]
        link = services.create_link(target, form.title.data or "", current_user, current_locale())
        db.session.commit()
        flash(_("Short link created."), "success")
        return redirect(url_for("links.detail", link_id=link.id))
    return render("links/new.html", form=form, status=422 if form.errors else 200)


def _managed_link(link_id: int) -> ShortLink:
    link = db.get_or_404(ShortLink, link_id)
    perm.ensure(perm.can_manage_links(current_user, link))
    return link


@bp.get("/admin/links/<int:link_id>")
@staff_required
def detail(link_id):
    link = _managed_link(link_id)
    poster_form = PosterForm(formdata=None)
    poster_form.set_choices(current_app.config["LANGUAGES"], _("(none)"))
    poster_form.lang1.data = current_locale()
    return render(
        "links/detail.html",
        link=link,
        short_url=services.short_url(link),
        poster_form=poster_form,
        deactivate_form=DeactivateForm(),
    )


@bp.post("/admin/links/<int:link_id>/deactivate")
@staff_required
def deactivate(link_id):
    link = _managed_link(link_id)
    if DeactivateForm().validate_on_submit():
        link.is_active = not link.is_active
        db.session.commit()
        flash(_("Link reactivated.") if link.is_active else _("Link deactivated: its QR codes no longer open anything."), "success")
    return redirect(url_for("links.detail", link_id=link.id))
