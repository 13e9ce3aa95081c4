"""Figures of exploratory walks: walks held by time of day and group, walkers and their profile
(small counts suppressed on the page), observations by theme with the average rating, photos
published, recommendations (through the shared follow-up figures), scope and period, and the
staff page."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.territories import Contract, Neighbourhood, Scope
from participation.extensions import db
from participation.followup import services as followup
from participation.followup.models import Status
from participation.walks import figures, services
from participation.walks.models import GroupType, Moderation, TimeOfDay, WalkStatus

pytestmark = pytest.mark.usefixtures("without_demo_walks")

DAY = date(2026, 5, 12)


@pytest.fixture
def amp(demo):
    return db.session.scalar(sa.select(Contract).filter_by(slug="aix-marseille-provence"))


def hood(code="QN01322M") -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def make_walk(code="QN01322M", day=DAY, status=WalkStatus.walked, participants=None, **fields):
    walk = services.create_walk(hood(code), f"Marche {code} {day} {fields}", day, **fields)
    if participants is not None:
        services.set_profile(walk, participants, {})
    walk.status = status
    db.session.flush()
    return walk


_n = iter(range(1, 10_000))


def observe(walk, theme="lighting", rating=None, published=True, photos=0):
    theme_id = next(t.id for t in walk.themes if t.code == theme) if theme else None
    pictures = []
    for i in range(photos):
        buf = io.BytesIO()
        Image.new("RGB", (12, 10), (next(_n) % 255, i * 40, 10)).save(buf, "PNG")
        pictures.append((services.process_photos([buf.getvalue()])[0], f"photo {i}"))
    obs, _ = services.record_observation(walk, services.ObservationInput(
        client_id=f"figures-{next(_n):06d}", theme_id=theme_id, rating=rating, seen="Vu"), pictures)
    if published:
        services.moderate_observation(obs, Moderation.published)
    return obs


def test_walks_held_are_walked_or_published_not_planned(amp):
    make_walk(status=WalkStatus.walked)
    make_walk(status=WalkStatus.published, time_of_day=TimeOfDay.night)
    make_walk(status=WalkStatus.planned, day=DAY - timedelta(days=30))
    f = figures.figures(amp.scope)
    assert f.walks_held == 2


def test_walks_held_are_counted_by_time_of_day_and_group(amp):
    make_walk(time_of_day=TimeOfDay.night, group_type=GroupType.women)
    make_walk(time_of_day=TimeOfDay.night, group_type=GroupType.women)
    make_walk(time_of_day=TimeOfDay.day, group_type=GroupType.youth)
    f = figures.figures(amp.scope)
    assert f.by_time_of_day == {TimeOfDay.day: 1, TimeOfDay.night: 2}
    assert f.by_group_type[GroupType.women] == 2 and f.by_group_type[GroupType.youth] == 1
    assert f.by_group_type[GroupType.seniors] == 0


def test_follow_up_walks_are_counted_apart(amp):
    walk = make_walk()
    follow = services.create_follow_up(walk, DAY + timedelta(days=60))
    follow.status = WalkStatus.walked
    db.session.flush()
    f = figures.figures(amp.scope)
    assert (f.walks_held, f.follow_up_walks) == (2, 1)


def test_the_period_counts_walks_walked_between_its_days(amp):
    make_walk(day=date(2026, 3, 1))
    make_walk(day=date(2026, 5, 1))
    make_walk(day=date(2026, 7, 1))
    assert figures.figures(amp.scope, date(2026, 4, 1), date(2026, 6, 30)).walks_held == 1
    assert figures.figures(amp.scope, date(2026, 5, 1), date(2026, 5, 1)).walks_held == 1
    assert figures.figures(amp.scope, None, date(2026, 5, 1)).walks_held == 2


def test_the_scope_keeps_walks_inside_it(amp):
    make_walk("QN01322M")
    make_walk("QN01323M")
    make_walk("QN01302M")  # Encagnane, Aix-en-Provence
    fv = hood("QN01322M")
    assert figures.figures(amp.scope).walks_held == 3
    assert figures.figures(Scope(amp.id, fv.commune_id)).walks_held == 2
    assert figures.figures(fv.scope).walks_held == 1


def test_walks_of_another_contract_are_not_counted(amp):
    make_walk("QN01101M")  # Grand Narbonne
    assert figures.figures(amp.scope).walks_held == 0


def test_walkers_add_up_and_walks_without_a_count_are_counted_apart(amp):
    make_walk(participants=14)
    make_walk(participants=9)
    make_walk()
    f = figures.figures(amp.scope)
    assert (f.participants, f.walks_without_count) == (23, 1)


def test_the_profile_sums_the_sign_in_counts_with_the_rest_not_stated(amp):
    a, b = make_walk(), make_walk()
    services.set_profile(a, 14, {("age_band", "25_39"): 5, ("gender", "woman"): 14})
    services.set_profile(b, 10, {("age_band", "25_39"): 3, ("age_band", "60_74"): 4, ("gender", "woman"): 6,
                                 ("gender", "man"): 4})
    profile = figures.figures(amp.scope).profile
    assert profile["age_band"]["25_39"] == 8 and profile["age_band"]["60_74"] == 4
    assert profile["age_band"][figures.NOT_STATED] == 24 - 12
    assert profile["gender"] == {"woman": 20, "man": 4, "other": 0, figures.NOT_STATED: 0}


def test_small_counts_of_walkers_are_suppressed(amp):
    walk = make_walk()
    services.set_profile(walk, 14, {("gender", "woman"): 12, ("gender", "man"): 2})
    shown = figures.protected(figures.figures(amp.scope))
    categories, line = shown.profile["gender"]
    cells = dict(zip(categories, line.cells))
    assert cells["man"].suppressed and not cells["other"].suppressed  # a zero reveals nobody
    assert cells["woman"].suppressed  # else 14 − 12 gives the men away
    assert str(shown.participants) == "14"


def test_fewer_than_eleven_walkers_in_all_are_suppressed(amp):
    make_walk(participants=7)
    shown = figures.protected(figures.figures(amp.scope))
    assert shown.participants.suppressed and str(shown.participants) == "s"
    assert all(c.suppressed for _cats, line in shown.profile.values() for c in line.cells)


def test_observations_are_counted_by_theme_code_with_the_average_rating(amp):
    a, b = make_walk(), make_walk("QN01323M")
    observe(a, "lighting", 1)
    observe(a, "lighting", 2)
    observe(b, "lighting", None)
    observe(b, "greenery", 5)
    custom = services.add_theme(b, "Commerces")
    services.record_observation(b, services.ObservationInput(client_id="figures-custom-1", theme_id=custom.id,
                                                             seen="Une boulangerie"))
    observe(b, None, 3)
    themes = {t.code: t for t in figures.figures(amp.scope).themes}
    assert (themes["lighting"].observations, themes["lighting"].rated, themes["lighting"].average_rating) == (3, 2, 1.5)
    assert themes["greenery"].average_rating == 5
    assert themes[figures.OWN_THEME].observations == 1 and themes[figures.OWN_THEME].average_rating is None
    assert themes[figures.NO_THEME].observations == 1
    assert [t.code for t in figures.figures(amp.scope).themes] == ["lighting", "greenery", figures.OWN_THEME,
                                                                    figures.NO_THEME]


def test_observations_of_walks_not_held_are_not_counted(amp):
    planned = make_walk(status=WalkStatus.planned)
    observe(planned)
    assert figures.figures(amp.scope).observations == 0


def test_photos_published_need_the_photo_and_its_observation_published(amp):
    walk = make_walk()
    shown = observe(walk, photos=2)
    services.moderate_photo(shown.photos[0], Moderation.published)
    services.moderate_photo(shown.photos[1], Moderation.hidden)
    waiting = observe(walk, photos=1, published=False)
    services.moderate_photo(waiting.photos[0], Moderation.published)
    f = figures.figures(amp.scope)
    assert (f.observations, f.observations_published) == (2, 1)
    assert (f.photos, f.photos_published) == (3, 1)


def test_recommendations_figures_come_from_the_shared_follow_up_figures(amp):
    walk = make_walk()
    followup.ensure_default_institutions(amp)
    institution = followup.institutions_of(amp.id)[0]
    today = date(2026, 8, 1)
    items = []
    for title in ("Éclairage", "Passage piéton", "Poubelles", "Brouillon"):
        items.append(services.add_recommendation(walk, title, institution=institution).followup)
    done, answered, late, _draft = items
    for item in items[:3]:
        followup.move(item, Status.sent, on=date(2026, 5, 20), answer_due_on=date(2026, 7, 1))
    followup.move(done, Status.answered, on=date(2026, 5, 30))
    followup.move(done, Status.done, on=date(2026, 6, 30))
    followup.move(answered, Status.answered, on=date(2026, 6, 9), action_due_on=date(2026, 12, 1))
    rec = figures.figures(amp.scope, today=today).recommendations
    assert (rec.raised, rec.answered, rec.done, rec.refused, rec.overdue) == (3, 2, 1, 0, 1)
    assert rec.median_answer_days == 15
    assert late.status is Status.sent


def test_interpellations_are_not_counted_as_recommendations(amp):
    from participation.followup.models import Kind

    followup.ensure_default_institutions(amp)
    institution = followup.institutions_of(amp.id)[0]
    item = followup.create(Kind.interpellation, hood().scope, "Ascenseur", institution=institution)
    followup.move(item, Status.sent)
    assert figures.figures(amp.scope).recommendations.raised == 0


# --- the page ---------------------------------------------------------------------------


def test_the_figures_page_shows_the_demo_figures(client, auth, amp):
    from participation.walks import demo as walk_demo

    walk_demo.load({"amp": amp})
    db.session.commit()
    auth.login("evaluation@amp.demo")
    resp = client.get(f"/admin/walks/figures?scope=c{amp.id}&lang=en")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="walks-held">2<' in html and 'id="follow-up-walks">1<' in html
    assert 'id="participants">23<' in html
    assert 'id="observations">14<' in html
    assert "Lighting" in html and 'role="img"' in html
    assert 'id="recommendations-done"' in html


def test_the_figures_page_defaults_to_the_first_place_the_reader_may_read(client, auth, amp):
    auth.login("animatrice@amp.demo")
    resp = client.get("/admin/walks/figures?lang=en")
    assert resp.status_code == 200
    assert "Marseille" in resp.get_data(as_text=True)


def test_the_figures_page_refuses_a_place_the_reader_may_not_read(client, auth, amp):
    auth.login("animatrice@amp.demo")  # facilitator in Marseille only
    assert client.get(f"/admin/walks/figures?scope=c{amp.id}").status_code == 403


def test_the_figures_page_is_refused_to_a_mediator(client, auth, amp):
    auth.login("mediateur@amp.demo")
    assert client.get("/admin/walks/figures").status_code == 403


def test_the_figures_page_answers_404_for_an_unknown_place(client, auth, amp):
    auth.login("admin@amp.demo")
    assert client.get("/admin/walks/figures?scope=n999999").status_code == 404
    assert client.get("/admin/walks/figures?scope=zz").status_code == 404


def test_a_bad_date_is_a_422_with_a_message(client, auth, amp):
    auth.login("admin@amp.demo")
    resp = client.get(f"/admin/walks/figures?scope=c{amp.id}&from=12/05/2026&lang=en")
    assert resp.status_code == 422
    assert "YYYY-MM-DD" in resp.get_data(as_text=True)


def test_the_page_suppresses_small_counts_of_walkers(client, auth, amp):
    walk = make_walk(participants=6)
    db.session.commit()
    auth.login("admin@amp.demo")
    html = client.get(f"/admin/walks/figures?scope=n{walk.neighbourhood_id}&lang=en").get_data(as_text=True)
    assert 'id="participants">s<' in html
