"""The demo walks: what the issue's "done when" asks for (a group's ten observations with
photos, a report published, recommendations followed to done, a follow-up walk that shows the
changes), a planned walk to come, translations, and loading twice adds nothing."""
from __future__ import annotations

import time
from datetime import date, timedelta

import sqlalchemy as sa

from participation.core.content_i18n import translate
from participation.core.territories import Contract
from participation.extensions import db
from participation.followup import services as followup
from participation.followup.models import FollowUp, InstitutionKind, Kind, Status
from participation.walks import demo as walk_demo, services
from participation.walks.models import (
    GroupType, LocationSource, Moderation, Observation, ObservationPhoto, PointCheck, PointOutcome, Recommendation,
    TimeOfDay, Walk, WalkStatus,
)

from ..conftest import count

MODELS = (Walk, Observation, ObservationPhoto, Recommendation, PointCheck, FollowUp)


def load():
    contracts = {c.slug: c for c in db.session.scalars(sa.select(Contract))}
    walk_demo.load({"amp": contracts["aix-marseille-provence"], "narbonne": contracts["grand-narbonne"]})
    db.session.commit()


def walk(title: str) -> Walk:
    return db.session.scalar(sa.select(Walk).filter_by(title=title))


def test_demo_walk_is_a_womens_walk_after_dark_in_frais_vallon_with_its_report_published(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert w.neighbourhood.qpv_code == "QN01322M" and w.contract.slug == "aix-marseille-provence"
    assert (w.group_type, w.time_of_day, w.status) == (GroupType.women, TimeOfDay.night, WalkStatus.published)
    assert 18 <= (date.today() - w.walked_on).days <= 24
    assert [u.email for u in w.facilitators] == ["animatrice@amp.demo"]
    assert w.guides == "Centre social Frais Vallon" and w.summary and w.published_on


def test_demo_walk_has_fourteen_walkers_with_an_anonymous_profile(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert w.participants == 14
    by = {(p.dimension, p.value): p.count for p in w.profile_counts}
    assert sum(n for (d, _v), n in by.items() if d == "age_band") == 14
    assert by[("gender", "woman")] == 14


def test_demo_route_has_six_stops_around_frais_vallon_within_a_kilometre(demo):
    from participation.walks.geo import distance_m

    load()
    w = walk(walk_demo.WALK_TITLE)
    points = [(p.lat, p.lon) for p in w.waypoints]
    assert len(points) == 6 and all(lat is not None for lat, _lon in points)
    assert all(distance_m(p, (43.3265, 5.4070)) < 600 for p in points)
    assert 400 < distance_m(points[0], points[-1]) < 1000


def test_demo_walk_has_at_least_ten_observations_with_photos(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert len(w.observations) == 12
    assert [o.number for o in w.observations] == list(range(1, 13))
    with_photos = [o for o in w.observations if o.photos]
    assert len(with_photos) >= 10
    assert all(p.caption and p.width > 0 for o in with_photos for p in o.photos)
    store = services.photo_store()
    assert all(store.exists(p.sha) for o in with_photos for p in o.photos)


def test_demo_observations_cover_the_themes_and_ways_of_placing_them(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert len({o.theme.code for o in w.observations}) == 9
    sources = [o.location_source for o in w.observations]
    assert LocationSource.waypoint in sources and LocationSource.gps in sources and LocationSource.map in sources
    address_only = [o for o in w.observations if o.location_source is LocationSource.address]
    assert len(address_only) == 1 and address_only[0].lat is None and address_only[0].address
    by_stop = next(o for o in w.observations if o.location_source is LocationSource.waypoint)
    assert (by_stop.lat, by_stop.lon) == (by_stop.waypoint.lat, by_stop.waypoint.lon)


def test_demo_has_two_observations_still_to_check_and_the_others_public(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    moderation = [o.moderation for o in w.observations]
    assert moderation.count(Moderation.pending) == 2 and moderation.count(Moderation.published) == 10
    public_photos = [p for o in w.observations if services.is_public(o) for p in services.public_photos(o)]
    assert len(public_photos) >= 10
    pending = [o for o in w.observations if o.moderation is Moderation.pending]
    assert all(p.moderation is Moderation.pending for o in pending for p in o.photos)


def test_demo_has_arabic_translations_of_the_title_and_some_observations(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert str(translate(w, "title", "ar")) == walk_demo.WALK_TITLE_AR
    translated = [o for o in w.observations if not translate(o, "seen", "ar").is_fallback]
    assert len(translated) >= 3


def test_demo_recommendations_go_to_city_landlord_and_metropolis_one_done(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    items = [r.followup for r in w.recommendations]
    assert all(i.kind is Kind.recommendation for i in items)
    assert [i.institution.kind for i in items] == [InstitutionKind.city, InstitutionKind.landlord,
                                                   InstitutionKind.metropolis]
    assert [i.institution.name for i in items][:2] == ["Ville de Marseille", "13 Habitat"]
    assert [i.status for i in items] == [Status.done, Status.answered, Status.sent]
    assert [followup.is_overdue(i) for i in items] == [False, False, True]
    done, answered, _overdue = items
    assert done.answer and [e.to_status for e in done.events] == [
        Status.draft, Status.sent, Status.answered, Status.in_progress, Status.done]
    assert answered.answer and answered.action_due_on > date.today()
    assert all(len(r.observations) == 2 for r in w.recommendations)


def test_demo_follow_up_walk_checks_half_the_points_improved_where_done(demo):
    load()
    w, follow = walk(walk_demo.WALK_TITLE), walk(walk_demo.FOLLOW_TITLE)
    assert follow.follows_id == w.id and follow.status is WalkStatus.walked
    assert w.walked_on < follow.walked_on < date.today()
    assert len(follow.point_checks) == 6 and len(follow.observations) == 2
    done_points = {o.id for r in w.recommendations if r.followup.status is Status.done for o in r.observations}
    outcomes = {c.observation_id: c.outcome for c in follow.point_checks}
    assert all(outcomes[i] is PointOutcome.improved for i in done_points)
    assert {o for i, o in outcomes.items() if i not in done_points} == {PointOutcome.unchanged}
    reviews = services.point_reviews(follow)
    assert len(reviews) == 12 and sum(1 for r in reviews if r.check) == 6


def test_demo_follow_up_walk_keeps_the_grid_and_route(demo):
    load()
    w, follow = walk(walk_demo.WALK_TITLE), walk(walk_demo.FOLLOW_TITLE)
    assert [t.code for t in follow.themes] == [t.code for t in w.themes]
    assert [(p.label, p.lat) for p in follow.waypoints] == [(p.label, p.lat) for p in w.waypoints]


def test_demo_planned_walk_is_for_young_people_in_malpasse_corot_recording_open(demo):
    load()
    planned = walk(walk_demo.PLANNED_TITLE)
    assert planned.neighbourhood.qpv_code == "QN01323M"
    assert (planned.status, planned.group_type, planned.time_of_day) == (WalkStatus.planned, GroupType.youth,
                                                                         TimeOfDay.day)
    assert (planned.walked_on - date.today()).days == 10
    assert planned.recording_open and len(planned.waypoints) == 4 and not planned.observations


def test_loading_the_demo_twice_adds_nothing(demo):
    load()
    before = {m.__name__: count(m) for m in MODELS}
    load()
    assert {m.__name__: count(m) for m in MODELS} == before


def test_demo_photos_are_the_same_every_time():
    from participation.walks.demo import _draw

    assert _draw("bench", "Le banc", 7) == _draw("bench", "Le banc", 7)
    assert _draw("bench", "Le banc", 7) != _draw("square", "Le banc", 7)


def test_demo_loads_quickly_in_under_a_thousand_statements(app, monkeypatch):
    # About 1 s on a quiet machine (SQLite or PostgreSQL); wall time depends on the machine's
    # load, the number of statements does not. A third of them are the default grid's
    # translations, written by the services one by one.
    from participation.core import demo as demo_data

    monkeypatch.setattr(demo_data, "_loaders", [f for f in demo_data._loaders if f is not walk_demo.load])
    demo_data.load()  # everything but the walks
    db.session.commit()
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        start = time.perf_counter()
        load()
        elapsed = time.perf_counter() - start
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert 0 < len(statements) < 1000, len(statements)
    assert elapsed < 30


def test_demo_notes_name_the_public_pages(demo):
    load()
    w = walk(walk_demo.WALK_TITLE)
    assert any(f"/w/{w.id}" in line for line in walk_demo.notes())


# --- entry points (participation/walks/links.py) -----------------------------------------


def test_every_demo_walk_and_its_published_report_are_poster_targets(app, demo):
    from participation.walks.links import public_targets

    load()
    amp = db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))
    w, follow, planned = (walk(t) for t in (walk_demo.WALK_TITLE, walk_demo.FOLLOW_TITLE, walk_demo.PLANNED_TITLE))
    with app.test_request_context("/"):
        targets = {t.path: t for t in public_targets(amp)}
    assert "/c/aix-marseille-provence/walks" in targets
    assert {f"/w/{w.id}", f"/w/{follow.id}", f"/w/{planned.id}", f"/w/{w.id}/report"} <= set(targets)
    assert f"/w/{follow.id}/report" not in targets  # walked, its report not published
    assert targets[f"/w/{planned.id}"].scope == planned.scope
    assert targets[f"/w/{w.id}"].group == "Frais Vallon"


def test_poster_targets_stay_in_their_contract(app, demo):
    from participation.walks.links import public_targets

    load()
    nar = db.session.scalar(sa.select(Contract).filter_by(slug="grand-narbonne"))
    with app.test_request_context("/"):
        paths = [t.path for t in public_targets(nar)]
    assert paths == ["/c/grand-narbonne/walks"]


def test_the_neighbourhood_page_lists_the_walks_to_come_there(app, demo):
    from participation.core.territories import Neighbourhood
    from participation.walks.links import openings

    load()
    corot = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01323M"))
    fv = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    planned = walk(walk_demo.PLANNED_TITLE)
    with app.test_request_context("/?lang=ar"):
        from flask_babel import refresh

        refresh()
        found = openings(corot)
        assert [o.url for o in found] == [f"/w/{planned.id}"]
        assert found[0].title == walk_demo.PLANNED_TITLE_AR
        assert openings(fv) == []  # its walks were walked: nothing to come
        assert openings(corot, today=planned.walked_on + timedelta(days=1)) == []
