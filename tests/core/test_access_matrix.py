"""Route × role × scope matrix: generated from `app.url_map`, so a new route without an
entry here fails the build; every entry states, independently of the permission code,
who may reach it for a target in the caller's scope, elsewhere in the contract, and in
another contract."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from config import TestConfig
from participation import create_app
from participation.core.territories import Category, Contract
from participation.core.users import User
from participation.extensions import db
from participation.links.models import ShortLink

from ..conftest import Auth, _wipe
from ..dbsnapshot import restore, snapshot as saved_rows

from .matrix_users import AMP_STAFF, EMAILS, EVERYONE, PASSWORD, STAFF, USERS  # noqa: F401
from ..followup import access_cases as followup_cases
from ..tables import access_cases as table_cases
from ..fph import access_cases as fph_cases
from ..walks import access_cases as walk_cases
from ..field import access_cases as field_cases
from ..questionnaires import access_cases as questionnaire_cases
from ..governance import access_cases as governance_cases
from ..governance import access_cases_dashboard as governance_dashboard_cases
from ..governance import access_cases_exports as governance_export_cases
from ..privacy import access_cases as privacy_cases
from . import access_cases_audit as audit_cases
from . import access_cases_jobs as job_cases

#: Feature modules bring their own fixtures and expectations (see tests/<feature>/access_cases.py).
FEATURE_CASES = (followup_cases, table_cases, fph_cases, walk_cases, field_cases, questionnaire_cases,
                 governance_cases, governance_dashboard_cases, governance_export_cases, privacy_cases, audit_cases,
                 job_cases)


def _fixtures() -> dict:
    """Objects the URLs point at: own (Frais Vallon, Marseille), other (Aix), foreign (Narbonne)."""
    from participation.core import demo
    from participation.links.services import create_link, targets_for

    demo.load()
    root = User(email=EMAILS["root"], name="Root", is_superadmin=True)
    nogrant = User(email=EMAILS["nogrant"], name="Nobody")
    for u in (root, nogrant):
        u.set_password(PASSWORD)
        db.session.add(u)
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    by_path = {t.path: t for c in (amp, nar) for t in targets_for(c)}
    aix_link = create_link(by_path["/q/QN01302M"], "Encagnane", None, "fr")
    nar_link = create_link(by_path["/q/QN01101M"], "Razimbaud", None, "fr")
    own_link = db.session.scalar(sa.select(ShortLink).filter_by(code="FRVAX26"))
    user = lambda key: db.session.scalar(sa.select(User).filter_by(email=EMAILS[key]))  # noqa: E731
    med, sophie = user("med"), user("nar_admin")
    from participation.budgets.demo import IDEAS_TITLE, VOTE_TITLE, demo_codes
    from participation.budgets.models import Process
    from participation.core.photos import PhotoStore, process_photo
    import io
    from PIL import Image
    from flask import current_app

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    photo_sha = PhotoStore(current_app.config["UPLOAD_DIR"]).save(process_photo(buf.getvalue(), max_bytes=10**6))
    vote_process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    ideas_process = db.session.scalar(sa.select(Process).filter_by(title=IDEAS_TITLE))
    from participation.budgets import paper as budget_paper
    from participation.budgets import services as budgets
    from participation.budgets.models import Proposal, VotingMethod
    from participation.core.territories import Commune

    narbonne = db.session.scalar(sa.select(Commune).filter_by(contract_id=nar.id, insee_code="11262"))
    nar_process = budgets.create_process(narbonne, "Budget participatif de Narbonne", 20000, "fr",
                                         method=VotingMethod.approval)
    nar_proposal = budgets.submit_proposal(nar_process, title="Un abri vélo", description="Un abri pour les vélos.",
                                           original_locale="fr")
    comments = {}
    for key, process, proposal in (
        ("own_comment", vote_process, db.session.scalar(sa.select(Proposal).filter_by(process_id=vote_process.id, number=1))),
        ("nar_comment", nar_process, nar_proposal),
    ):
        next(ph for ph in process.phases if ph.phase == process.phase).allows_comment = True
        comments[key] = budgets.add_comment(proposal, "Bonne idée.", "Sami", "fr").id
    nar_point = budget_paper.add_polling_point(nar_process, "Mairie", None, 2)
    own_point = budget_paper.add_polling_point(ideas_process, "Maison de quartier", None, 2)
    from participation.questionnaires.services import photo_store

    q_photo = photo_store().save(process_photo(buf.getvalue(), max_bytes=10**6))
    questionnaires = {**_questionnaire_fixtures(nar, narbonne, q_photo), "q_photo_sha": q_photo}
    features = {}
    for module in FEATURE_CASES:
        features.update(module.fixtures(amp, nar))
    db.session.commit()
    return {
        **features,
        **questionnaires,
        "photo": photo_sha,
        "vote_process": vote_process.id,
        "vote_code": demo_codes(vote_process)[0],
        "ideas_process": ideas_process.id,
        "nar_process": nar_process.id,
        "own_point": own_point.id,
        **comments,
        "nar_point": nar_point.id,
        "amp": amp.id,
        "nar": nar.id,
        "amp_cat": db.session.scalar(sa.select(Category.id).filter_by(contract_id=amp.id, code="D1")),
        "nar_cat": db.session.scalar(sa.select(Category.id).filter_by(contract_id=nar.id, code="A1")),
        "own_link": own_link.id,
        "aix_link": aix_link.id,
        "nar_link": nar_link.id,
        "med": med.id,
        "med_grant": med.grants[0].id,
        "sophie": sophie.id,
        "sophie_grant": sophie.grants[0].id,
    }


def _questionnaire_fixtures(nar, narbonne, photo_sha) -> dict:
    """The demo barometer (Marseille) and a Narbonne questionnaire, each with a section, a
    question, an option and a free-text answer; a published photo answer on the barometer."""
    from datetime import date

    from participation.core.channels import Channel
    from participation.core.territories import Indicator
    from participation.questionnaires import builder
    from participation.questionnaires.demo import BAROMETER_TITLE
    from participation.questionnaires.models import Answer, Moderation, Questionnaire, Response, Status

    own = db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))
    foreign = builder.create_questionnaire(narbonne, "Enquête de Narbonne", "fr")
    builder.add_question(foreign.current_version.sections[0], {"kind": "single", "text": "Votre avis ?"}, ["Oui", "Non"])
    builder.add_question(foreign.current_version.sections[0], {"kind": "short_text", "text": "Un mot ?"})
    builder.set_status(foreign, Status.open)
    out = {"own_q": own.id, "nar_q": foreign.id}
    for key, q in (("own", own), ("nar", foreign)):
        version = q.current_version
        choice = next(x for x in version.questions if x.options)
        text_q = next(x for x in version.questions if x.kind.value == "short_text")
        response = Response(questionnaire_id=q.id, version_id=version.id, channel=Channel.web, locale="fr")
        db.session.add(response)
        common = dict(channel=Channel.web, locale="fr", submitted_on=date.today())
        text = Answer(question_id=text_q.id, text="Un quartier vivant", moderation=Moderation.pending, **common)
        photo = Answer(question_id=text_q.id, text="", moderation=Moderation.published, photo_sha256=photo_sha, **common)
        response.answers.extend([text, photo])
        db.session.flush()
        out.update({f"{key}_section": version.sections[0].id, f"{key}_question": choice.id,
                    f"{key}_option": choice.options[0].id, f"{key}_text": text.id, f"{key}_photo": photo.id})
    nar_indicator = Indicator(contract_id=nar.id, code="N1", name="Part des habitants satisfaits")
    db.session.add(nar_indicator)
    db.session.flush()
    out["nar_indicator"] = nar_indicator.id
    out["amp_indicator"] = db.session.scalar(sa.select(Indicator.id).filter_by(contract_id=own.contract_id, code="I-CADRE"))
    return out


# endpoint -> list of (label, method, url builder, users allowed)
def _public(path):
    return [("-", "GET", lambda f: path, EVERYONE)]


LINK_OWN = {"root", "amp_admin", "fac"}
LINK_OTHER = {"root", "amp_admin"}
LINK_FOREIGN = {"root", "nar_admin"}
AMP_ADMINS = {"root", "amp_admin"}
NAR_ADMINS = {"root", "nar_admin"}


def _on_links(path_tpl, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(f["own_link"]), LINK_OWN),
        ("other", method, lambda f: path_tpl.format(f["aix_link"]), LINK_OTHER),
        ("foreign", method, lambda f: path_tpl.format(f["nar_link"]), LINK_FOREIGN),
    ]


def _on_staff(path_tpl, method="POST", own=AMP_ADMINS, foreign=NAR_ADMINS):
    return [
        ("own", method, lambda f: path_tpl.format(user=f["med"], grant=f["med_grant"]), own),
        ("foreign", method, lambda f: path_tpl.format(user=f["sophie"], grant=f["sophie_grant"]), foreign),
    ]


def _on_contract(path_tpl, own, foreign, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(f["amp"]), own),
        ("foreign", method, lambda f: path_tpl.format(f["nar"]), foreign),
    ]


def _on_category(path_tpl, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(f["amp_cat"]), AMP_ADMINS),
        ("foreign", method, lambda f: path_tpl.format(f["nar_cat"]), NAR_ADMINS),
    ]


BUDGET_MANAGERS = {"root", "amp_admin", "fac"}
BUDGET_FIELD = BUDGET_MANAGERS | {"med"}


def _on_budget(path_tpl, own, method="GET", own_process="ideas_process"):
    """A budget of the caller's area (Frais Vallon, or all of Marseille) and one of Narbonne."""
    return [
        ("own", method, lambda f: path_tpl.format(process=f[own_process], point=f["own_point"]), own),
        ("foreign", method, lambda f: path_tpl.format(process=f["nar_process"], point=f["nar_point"]), NAR_ADMINS),
    ]


Q_MANAGERS = {"root", "amp_admin", "fac"}
#: The Frais Vallon mediator collects answers for the Marseille-wide barometer (it covers her area).
Q_ENTRY = Q_MANAGERS | {"med"}
Q_READERS = Q_MANAGERS | {"eva"}


def _on_questionnaire(path_tpl, own, method="GET"):
    """The demo barometer (Marseille) and a questionnaire of Narbonne."""
    def build(key):
        return lambda f: path_tpl.format(**{name.split("_", 1)[1]: value for name, value in f.items()
                                            if name.startswith(key + "_")})
    return [("own", method, build("own"), own), ("foreign", method, build("nar"), NAR_ADMINS)]


def _on_indicator(path_tpl, method="GET"):
    return [
        ("own", method, lambda f: path_tpl.format(f["amp_indicator"]), AMP_ADMINS),
        ("foreign", method, lambda f: path_tpl.format(f["nar_indicator"]), NAR_ADMINS),
    ]


QUESTIONNAIRE_EXPECTED = {
    "questionnaires.start": _on_questionnaire("/q/{q}", EVERYONE)[:1] + [
        ("foreign", "GET", lambda f: f"/q/{f['nar_q']}", EVERYONE)],
    "questionnaires.step": [("-", "POST", lambda f: f"/q/{f['own_q']}", EVERYONE)],
    # A resident's own photo, shown back while answering: its hash is the capability.
    "questionnaires.photo": [("-", "GET", lambda f: f"/q/{f['own_q']}/photo/{f['q_photo_sha']}.jpg", EVERYONE)],
    "questionnaires.thanks": [("-", "GET", lambda f: f"/q/{f['own_q']}/thanks", EVERYONE)],
    "questionnaires.preview": _on_questionnaire("/q/{q}/preview", Q_MANAGERS),
    "questionnaires_admin.index": [("-", "GET", lambda f: "/admin/questionnaires/", Q_ENTRY | {"eva", "nar_admin"})],
    "questionnaires_admin.new": [("-", "GET", lambda f: "/admin/questionnaires/new", Q_MANAGERS | {"nar_admin"})],
    "questionnaires_admin.detail": _on_questionnaire("/admin/questionnaires/{q}", Q_MANAGERS),
    "questionnaires_admin.settings": _on_questionnaire("/admin/questionnaires/{q}/settings", Q_MANAGERS),
    "questionnaires_admin.status": _on_questionnaire("/admin/questionnaires/{q}/status", Q_MANAGERS, "POST"),
    "questionnaires_admin.section_add": _on_questionnaire("/admin/questionnaires/{q}/sections", Q_MANAGERS, "POST"),
    "questionnaires_admin.section_edit": _on_questionnaire("/admin/questionnaires/{q}/sections/{section}", Q_MANAGERS),
    "questionnaires_admin.section_move": _on_questionnaire("/admin/questionnaires/{q}/sections/{section}/move", Q_MANAGERS, "POST"),
    "questionnaires_admin.section_delete": _on_questionnaire("/admin/questionnaires/{q}/sections/{section}/delete", Q_MANAGERS, "POST"),
    "questionnaires_admin.question_new": _on_questionnaire("/admin/questionnaires/{q}/questions/new", Q_MANAGERS),
    "questionnaires_admin.question_edit": _on_questionnaire("/admin/questionnaires/{q}/questions/{question}", Q_MANAGERS),
    "questionnaires_admin.question_move": _on_questionnaire("/admin/questionnaires/{q}/questions/{question}/move", Q_MANAGERS, "POST"),
    "questionnaires_admin.question_delete": _on_questionnaire("/admin/questionnaires/{q}/questions/{question}/delete", Q_MANAGERS, "POST"),
    "questionnaires_admin.option_add": _on_questionnaire("/admin/questionnaires/{q}/questions/{question}/options", Q_MANAGERS, "POST"),
    "questionnaires_admin.option_edit": _on_questionnaire("/admin/questionnaires/{q}/options/{option}", Q_MANAGERS),
    "questionnaires_admin.option_move": _on_questionnaire("/admin/questionnaires/{q}/options/{option}/move", Q_MANAGERS, "POST"),
    "questionnaires_admin.option_delete": _on_questionnaire("/admin/questionnaires/{q}/options/{option}/delete", Q_MANAGERS, "POST"),
    "questionnaires_admin.codes": _on_questionnaire("/admin/questionnaires/{q}/codes", Q_MANAGERS),
    "questionnaires_admin.assisted": _on_questionnaire("/admin/questionnaires/{q}/assisted", Q_ENTRY),
    "questionnaires_admin.paper": _on_questionnaire("/admin/questionnaires/{q}/paper", Q_ENTRY),
    "questionnaires_admin.results": _on_questionnaire("/admin/questionnaires/{q}/results", Q_READERS),
    "questionnaires_admin.compare": _on_questionnaire("/admin/questionnaires/{q}/compare", Q_READERS),
    "questionnaires_admin.exports": _on_questionnaire("/admin/questionnaires/{q}/exports", Q_READERS),
    "questionnaires_admin.export": [
        *_on_questionnaire("/admin/questionnaires/{q}/export/results.csv", Q_READERS),
        *[(f"{label}-codebook", m, b, who) for label, m, b, who in
          _on_questionnaire("/admin/questionnaires/{q}/export/codebook.xlsx", Q_READERS)],
        # Response-level data: managers only, never evaluators.
        *[(f"{label}-responses", m, b, who) for label, m, b, who in
          _on_questionnaire("/admin/questionnaires/{q}/export/responses.csv", Q_MANAGERS)],
    ],
    "questionnaires_admin.moderation": _on_questionnaire("/admin/questionnaires/{q}/moderation", Q_MANAGERS),
    "questionnaires_admin.moderate": _on_questionnaire("/admin/questionnaires/{q}/moderation/{text}", Q_MANAGERS, "POST"),
    # A published photo: result readers and moderators, staff only.
    "questionnaires_admin.photo": _on_questionnaire("/admin/questionnaires/{q}/photos/{photo}.jpg", Q_READERS),
    "admin.indicator_new": _on_contract("/admin/contracts/{}/indicators/new", AMP_ADMINS, NAR_ADMINS),
    "admin.indicator_edit": _on_indicator("/admin/indicators/{}/edit"),
    "admin.indicator_delete": _on_indicator("/admin/indicators/{}/delete", "POST"),
}


EXPECTED = {
    **QUESTIONNAIRE_EXPECTED,
    "core.home": _public("/"),
    "core.healthz": _public("/healthz"),
    "core.too_large": _public("/errors/too-large"),
    "core.accessibility": _public("/accessibilite"),
    "accounts.login": _public("/login"),
    "territories.contract": _public("/c/grand-narbonne"),
    "territories.neighbourhood": _public("/q/QN01322M"),
    "links.follow": _public("/p/frvax26"),
    "links.qr_svg_image": _public("/p/FRVAX26/qr.svg"),
    "links.qr_png_image": _public("/p/FRVAX26/qr.png"),
    "links.poster": _public("/p/FRVAX26/poster"),
    "core.photo": [("-", "GET", lambda f: f"/media/{f['photo']}.jpg", EVERYONE)],
    "budgets.process": [("-", "GET", lambda f: f"/b/{f['vote_process']}", EVERYONE)],
    "budgets.proposal": [("-", "GET", lambda f: f"/b/{f['vote_process']}/p/1", EVERYONE)],
    "budgets.propose": [("-", "GET", lambda f: f"/b/{f['ideas_process']}/propose", EVERYONE)],
    "budgets.vote": [("-", "GET", lambda f: f"/b/{f['vote_process']}/vote", EVERYONE)],
    "budgets.vote_check": [("-", "POST", lambda f: f"/b/{f['vote_process']}/vote/check", EVERYONE)],
    "budgets.enter_code": [("-", "POST", lambda f: f"/b/{f['vote_process']}/code", EVERYONE)],
    "budgets.slip": [("-", "GET", lambda f: f"/v/{f['vote_code']}", EVERYONE)],
    "budgets.voted": [("-", "GET", lambda f: f"/b/{f['vote_process']}/voted", EVERYONE)],
    "budgets.results": [("-", "GET", lambda f: f"/b/{f['vote_process']}/results", EVERYONE)],
    "budgets.comment": [("-", "POST", lambda f: f"/b/{f['vote_process']}/p/1/comments", EVERYONE)],
    "budgets.results_export": [("-", "GET", lambda f: f"/b/{f['vote_process']}/results.csv", EVERYONE)],
    "budgets.ballots": [("-", "GET", lambda f: f"/b/{f['vote_process']}/ballots", EVERYONE)],
    "accounts.logout": [("-", "POST", lambda f: "/logout", STAFF | {"nogrant"})],
    "accounts.change_password": [("-", "GET", lambda f: "/account/password", STAFF | {"nogrant"})],
    "admin.dashboard": [("-", "GET", lambda f: "/admin/", STAFF)],
    "admin.staff_list": [("-", "GET", lambda f: "/admin/staff", {"root", "amp_admin", "nar_admin"})],
    "admin.staff_new": [("-", "GET", lambda f: "/admin/staff/new", {"root", "amp_admin", "nar_admin"})],
    "admin.staff_detail": _on_staff("/admin/staff/{user}", "GET"),
    "admin.grant_add": _on_staff("/admin/staff/{user}/grants"),
    "admin.grant_revoke": _on_staff("/admin/staff/{user}/grants/{grant}/revoke"),
    # Nobody disables their own account, so Sophie cannot disable herself.
    "admin.staff_toggle": _on_staff("/admin/staff/{user}/enabled", foreign={"root"}),
    "admin.staff_sessions_revoke": _on_staff("/admin/staff/{user}/sessions/revoke"),
    "admin.referentiel": _on_contract("/admin/contracts/{}/referentiel", AMP_STAFF, NAR_ADMINS),
    "admin.category_new": _on_contract("/admin/contracts/{}/referentiel/new", AMP_ADMINS, NAR_ADMINS),
    "admin.category_edit": _on_category("/admin/categories/{}/edit"),
    "admin.category_delete": _on_category("/admin/categories/{}/delete", "POST"),
    "admin.translations": [
        ("own-cat", "GET", lambda f: f"/admin/translations/categories/{f['amp_cat']}", AMP_ADMINS),
        ("foreign-cat", "GET", lambda f: f"/admin/translations/categories/{f['nar_cat']}", NAR_ADMINS),
        *[(f"{label}-link", m, (lambda b: lambda f: b(f).replace("/admin/links/", "/admin/translations/short_links/"))(b), who)
          for label, m, b, who in _on_links("/admin/links/{}")],
    ],
    "budgets_admin.index": [("-", "GET", lambda f: "/admin/budgets/", BUDGET_FIELD | {"nar_admin"})],
    "budgets_admin.create": [("-", "POST", lambda f: "/admin/budgets/new", BUDGET_MANAGERS | {"nar_admin"})],
    "budgets_admin.process": _on_budget("/admin/budgets/{process}", BUDGET_MANAGERS),
    "budgets_admin.settings": _on_budget("/admin/budgets/{process}/settings", BUDGET_MANAGERS, "POST"),
    "budgets_admin.phase_dates": _on_budget("/admin/budgets/{process}/phases/dates", BUDGET_MANAGERS, "POST"),
    "budgets_admin.phase_actions": _on_budget("/admin/budgets/{process}/phases/actions", BUDGET_MANAGERS, "POST"),
    "budgets_admin.move_phase": _on_budget("/admin/budgets/{process}/phases/move", BUDGET_MANAGERS, "POST"),
    "budgets_admin.proposals": _on_budget("/admin/budgets/{process}/proposals", BUDGET_FIELD),
    # The demo's Marseille-wide budget has proposals; the Frais Vallon mediator does not cover it.
    "budgets_admin.review": _on_budget("/admin/budgets/{process}/proposals/1/review", BUDGET_MANAGERS, "POST", "vote_process"),
    "budgets_admin.moderate": _on_budget("/admin/budgets/{process}/proposals/1/moderate", BUDGET_MANAGERS, "POST", "vote_process"),
    "budgets_admin.comment_moderate": [
        ("own", "POST", lambda f: f"/admin/budgets/{f['vote_process']}/comments/{f['own_comment']}/moderate",
         BUDGET_MANAGERS),
        ("foreign", "POST", lambda f: f"/admin/budgets/{f['nar_process']}/comments/{f['nar_comment']}/moderate",
         NAR_ADMINS),
    ],
    "budgets_admin.merge": _on_budget("/admin/budgets/{process}/proposals/1/merge", BUDGET_MANAGERS, "POST", "vote_process"),
    "budgets_admin.milestone_add": _on_budget("/admin/budgets/{process}/proposals/1/milestones", BUDGET_MANAGERS, "POST",
                                              "vote_process"),
    "budgets_admin.codes": _on_budget("/admin/budgets/{process}/codes", BUDGET_MANAGERS),
    "budgets_admin.codes_generate": _on_budget("/admin/budgets/{process}/codes", BUDGET_MANAGERS, "POST"),
    "budgets_admin.paper": _on_budget("/admin/budgets/{process}/paper", BUDGET_FIELD),
    "budgets_admin.point_add": _on_budget("/admin/budgets/{process}/paper/points", BUDGET_MANAGERS, "POST"),
    "budgets_admin.paper_ballots": _on_budget("/admin/budgets/{process}/paper/points/{point}/ballots", BUDGET_MANAGERS),
    "budgets_admin.hand_out": _on_budget("/admin/budgets/{process}/paper/hand-out", BUDGET_FIELD, "POST"),
    "budgets_admin.key": [*_on_budget("/admin/budgets/{process}/paper/key", BUDGET_FIELD),
                          *_on_budget("/admin/budgets/{process}/paper/key", BUDGET_FIELD, "POST")],
    "budgets_admin.mismatches": _on_budget("/admin/budgets/{process}/paper/mismatches", BUDGET_FIELD),
    "budgets_admin.follow_up": _on_budget("/admin/budgets/{process}/follow-up", BUDGET_MANAGERS),
    "links.manage": [("-", "GET", lambda f: "/admin/links", {"root", "amp_admin", "fac", "nar_admin"})],
    "links.create": [("-", "GET", lambda f: "/admin/links/new", {"root", "amp_admin", "fac", "nar_admin"})],
    "links.detail": _on_links("/admin/links/{}"),
    "links.deactivate": _on_links("/admin/links/{}/deactivate", "POST"),
}
for _module in FEATURE_CASES:
    assert not set(_module.EXPECTED) & set(EXPECTED), "an endpoint has two expectations"
    EXPECTED.update(_module.EXPECTED)


def _endpoints() -> list[str]:
    app = create_app(TestConfig)
    return sorted({r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"})


ENDPOINTS = _endpoints()


def test_every_route_has_an_entry_in_the_matrix():
    missing = [e for e in ENDPOINTS if e not in EXPECTED]
    stale = [e for e in EXPECTED if e not in ENDPOINTS]
    assert not missing, f"routes without an access expectation: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


def test_every_view_declares_who_may_call_it():
    app = create_app(TestConfig)
    undeclared = [
        name for name, view in app.view_functions.items() if name != "static" and getattr(view, "access", None) is None
    ]
    assert not undeclared, f"views without @public, @authenticated or @staff_required: {undeclared}"


def logged_in(app, who: str) -> tuple:
    """A client logged in as one of the matrix's users (none for "anon"), and its Auth."""
    client = app.test_client()
    auth = Auth(client)
    if who != "anon":
        demo_account = who not in {"root", "nogrant"}
        resp = auth.login(EMAILS[who], None if demo_account else PASSWORD)
        assert resp.status_code == 302, f"login of {who} failed: {resp.status_code} {resp.get_data(as_text=True)[:3000]}"
    return client, auth


def assert_access(app, endpoint, method, url, who, allowed):
    client, auth = logged_in(app, who)
    form_page = "/login" if who == "anon" else "/"  # every page has the logout form
    if method == "GET":
        resp = client.get(url)
    elif method == "POST":
        resp = auth.post(url, {}, form_page=form_page)
    else:
        resp = client.open(url, method=method, data={"csrf_token": auth.csrf(form_page)})
    denied = resp.status_code in (401, 403, 404) or (
        resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
    )
    if who in allowed:
        assert not denied, f"{who} should reach {method} {url}, got {resp.status_code}"
        assert resp.status_code < 500
    else:
        assert denied, f"{who} must not reach {method} {url}, got {resp.status_code}"


# Reading changes nothing, so one data set serves every user; a POST gets fresh data per user.
READ_CASES = [
    pytest.param(endpoint, i, id=f"{endpoint}-{case[0]}")
    for endpoint in ENDPOINTS
    for i, case in enumerate(EXPECTED.get(endpoint, []))
    if case[1] == "GET"
]
WRITE_CASES = [
    pytest.param(endpoint, i, user, id=f"{endpoint}-{case[0]}-{user}")
    for endpoint in ENDPOINTS
    for i, case in enumerate(EXPECTED.get(endpoint, []))
    if case[1] != "GET"
    for user in USERS
]


@pytest.fixture(scope="module")
def matrix_data(app):
    """The demo and the matrix's own objects, built once per module and snapshotted: each case
    starts from an exact copy (loading the demo again per case took most of the suite's time)."""
    with app.app_context():
        _wipe()
        fixtures = _fixtures()
        snapshot = saved_rows()
        db.session.remove()
    return fixtures, snapshot


@pytest.fixture
def fixtures(app, matrix_data):
    built, snapshot = matrix_data
    restore(snapshot)
    return built


def test_snapshot_restores_what_a_write_changed(app, matrix_data, fixtures):
    """The restore really undoes a case's writes (else later cases would see earlier ones)."""
    _built, snapshot = matrix_data
    emails = lambda: set(db.session.scalars(sa.select(User.email)))  # noqa: E731
    before = emails()
    assert EMAILS["med"] in before
    extra = User(email="extra@amp.test", name="Extra")
    extra.set_password(PASSWORD)
    db.session.add(extra)
    db.session.execute(sa.update(User).where(User.email == EMAILS["med"]).values(name="Changed"))
    db.session.commit()
    assert "extra@amp.test" in emails()
    db.session.remove()
    restore(snapshot)
    assert emails() == before
    assert db.session.scalar(sa.select(User.name).filter_by(email=EMAILS["med"])) != "Changed"


@pytest.mark.parametrize("endpoint,case_index", READ_CASES)
def test_read_access(app, fixtures, endpoint, case_index):
    _label, method, build, allowed = EXPECTED[endpoint][case_index]
    for who in USERS:
        assert_access(app, endpoint, method, build(fixtures), who, allowed)


@pytest.mark.parametrize("endpoint,case_index,who", WRITE_CASES)
def test_write_access(app, fixtures, endpoint, case_index, who):
    _label, method, build, allowed = EXPECTED[endpoint][case_index]
    assert_access(app, endpoint, method, build(fixtures), who, allowed)
