"""Moderation of free text and photos: publish, reject, feature, edit (screened again); who may
moderate; photos served to staff only; nothing shows in results before it is published and
selected."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from PIL import Image

from participation.core.channels import Channel
from participation.core.photos import process_photo
from participation.questionnaires.services import photo_store
from participation.extensions import db
from participation.questionnaires import moderation
from participation.questionnaires.models import Answer, Kind, Moderation, Question
from participation.questionnaires.screening import PHONE_MASK

from ..conftest import csrf_from
from .test_results import (
    EVALUATOR, FACILITATOR, FEATURED_TEXT, MEDIATOR, PENDING_TEXT, PUBLISHED_TEXT, REJECTED_TEXT, add_response,
    logged_in, marseille_places, question, small_questionnaire,
)


@pytest.fixture
def places(demo):
    return marseille_places()


@pytest.fixture
def small(demo):
    return small_questionnaire()


@pytest.fixture
def login(app):
    return lambda email: logged_in(app, email)


def text_answer(q, text) -> Answer:
    return db.session.scalar(sa.select(Answer).where(Answer.question_id == question(q, "T").id, Answer.text == text))


def moderation_page(client, q, state="pending") -> str:
    response = client.get(f"/admin/questionnaires/{q.id}/moderation?lang=en&state={state}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, q, answer, page_state="pending", **data):
    token = csrf_from(moderation_page(client, q, page_state))
    return client.post(f"/admin/questionnaires/{q.id}/moderation/{answer.id}?lang=en",
                       data={"csrf_token": token, "state": page_state, **data})


# --- services ---------------------------------------------------------------------------------


def test_publish_then_feature_then_unfeature(small):
    answer = text_answer(small, PENDING_TEXT)
    moderation.moderate(answer, "publish")
    assert answer.moderation == Moderation.published and not answer.featured
    moderation.moderate(answer, "feature")
    assert answer.featured
    moderation.moderate(answer, "unfeature")
    assert not answer.featured and answer.moderation == Moderation.published


def test_only_a_published_answer_can_be_featured(small):
    answer = text_answer(small, PENDING_TEXT)
    with pytest.raises(moderation.ModerationError):
        moderation.moderate(answer, "feature")
    assert not answer.featured


def test_rejecting_unfeatures(small):
    answer = text_answer(small, FEATURED_TEXT)
    moderation.moderate(answer, "reject")
    assert answer.moderation == Moderation.rejected and not answer.featured


def test_an_edit_is_screened_again_before_publishing(small):
    answer = text_answer(small, PENDING_TEXT)
    moderation.moderate(answer, "publish", "Voir [nom masqué], tél. 06 12 34 56 78 ou x.y@example.org")
    assert answer.moderation == Moderation.published
    assert answer.text == f"Voir [nom masqué], tél. {PHONE_MASK} ou [e-mail]"


def test_an_empty_edit_is_refused(small):
    answer = text_answer(small, PENDING_TEXT)
    with pytest.raises(moderation.ModerationError):
        moderation.moderate(answer, "publish", "   ")
    assert answer.text == PENDING_TEXT


def test_an_unknown_action_is_refused(small):
    with pytest.raises(moderation.ModerationError):
        moderation.moderate(text_answer(small, PENDING_TEXT), "delete")


def test_counts_per_state(small):
    counts = moderation.counts(small)
    # T: 1 featured + 1 published, 1 rejected, 10 pending; S: 3 pending "other" texts.
    assert counts == {"pending": 13, "published": 2, "rejected": 1, "featured": 1}


# --- pages ------------------------------------------------------------------------------------------


def test_the_page_lists_pending_texts_first(small, login):
    html = moderation_page(login(FACILITATOR), small)
    assert PENDING_TEXT in html and "OTHER-PENDING-TEXT" in html
    assert PUBLISHED_TEXT not in html and REJECTED_TEXT not in html
    assert 'aria-current="page"' in html


def test_other_states_are_listed_on_their_tab(small, login):
    client = login(FACILITATOR)
    assert PUBLISHED_TEXT in moderation_page(client, small, "published")
    assert REJECTED_TEXT in moderation_page(client, small, "rejected")
    featured = moderation_page(client, small, "featured")
    assert FEATURED_TEXT in featured and PUBLISHED_TEXT not in featured
    assert moderation_page(client, small, "nonsense")  # falls back to the pending list


def test_publishing_and_featuring_shows_a_text_in_the_results(small, login):
    client = login(FACILITATOR)
    answer = text_answer(small, PENDING_TEXT)
    results = f"/admin/questionnaires/{small.id}/results"
    assert post(client, small, answer, action="publish", text=PENDING_TEXT).status_code == 302
    assert PENDING_TEXT not in client.get(results).get_data(as_text=True)  # published, not selected
    assert post(client, small, answer, page_state="published", action="feature").status_code == 302
    assert PENDING_TEXT in client.get(results).get_data(as_text=True)
    db.session.expire_all()
    assert answer.moderation == Moderation.published and answer.featured


def test_a_moderator_edit_is_stored_screened(small, login):
    client = login(FACILITATOR)
    answer = text_answer(small, PENDING_TEXT)
    response = post(client, small, answer, action="publish", text="Le gardien M. [nom] au 0612345678")
    assert response.status_code == 302
    db.session.expire_all()
    assert answer.text == f"Le gardien M. [nom] au {PHONE_MASK}"


def test_a_refused_action_answers_422_and_changes_nothing(small, login):
    client = login(FACILITATOR)
    answer = text_answer(small, PENDING_TEXT)
    response = post(client, small, answer, action="publish", text="  ")
    assert response.status_code == 422
    assert "The text cannot be empty" in response.get_data(as_text=True)
    db.session.expire_all()
    assert answer.moderation == Moderation.pending and answer.text == PENDING_TEXT


def test_a_post_without_csrf_token_is_refused(small, login):
    answer = text_answer(small, PENDING_TEXT)
    response = login(FACILITATOR).post(f"/admin/questionnaires/{small.id}/moderation/{answer.id}",
                                       data={"action": "publish"})
    assert response.status_code == 400
    db.session.expire_all()
    assert answer.moderation == Moderation.pending


@pytest.mark.parametrize("email", [EVALUATOR, MEDIATOR, "admin@narbonne.demo"])
def test_only_managers_moderate(small, login, email):
    client = login(email)
    answer = text_answer(small, PENDING_TEXT)
    assert client.get(f"/admin/questionnaires/{small.id}/moderation").status_code == 403
    token = csrf_from(client.get("/admin/").get_data(as_text=True))  # the logout form's
    response = client.post(f"/admin/questionnaires/{small.id}/moderation/{answer.id}",
                           data={"action": "publish", "csrf_token": token})
    assert response.status_code == 403
    db.session.expire_all()
    assert answer.moderation == Moderation.pending


def test_an_answer_of_another_questionnaire_is_404(small, login, barometer_answer):
    client = login(FACILITATOR)
    token = csrf_from(moderation_page(client, small))
    response = client.post(f"/admin/questionnaires/{small.id}/moderation/{barometer_answer.id}",
                           data={"csrf_token": token, "action": "publish"})
    assert response.status_code == 404


@pytest.fixture
def barometer_answer(small):
    from participation.questionnaires.demo import BAROMETER_TITLE
    from participation.questionnaires.models import Questionnaire

    barometer = db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))
    return db.session.scalar(
        sa.select(Answer).join(Question, Question.id == Answer.question_id)
        .where(Question.version_id == barometer.current_version.id, Answer.text.is_not(None)).limit(1))


# --- photos -----------------------------------------------------------------------------------------


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def photos(app, small, places):
    """A photo question answered by 12 people (one pending, one with no state yet, the rest
    published), the photo stored in the upload folder."""
    _marseille, fv, _lc = places
    version = small.current_version
    section = version.sections[0]
    photo_q = Question(version_id=version.id, section_id=section.id, position=99, code="P", kind=Kind.photo,
                       text="Une photo ?")
    db.session.add(photo_q)
    db.session.flush()
    with app.app_context():
        sha = photo_store().save(process_photo(io.BytesIO(jpeg_bytes()), max_bytes=1_000_000))
    answers = []
    for i in range(12):
        state = {0: Moderation.pending, 1: None}.get(i, Moderation.published)
        fields = {"photo_sha256": sha}
        if state is not None:
            fields |= {"text": "", "moderation": state}
        answers.append(add_response(version, fv.id, Channel.web, "fr", date(2026, 3, 1), [(photo_q, fields)]).answers[0])
    db.session.commit()
    return answers


def photo_url(q, answer) -> str:
    return f"/admin/questionnaires/{q.id}/photos/{answer.id}.jpg"


def test_pending_photos_are_shown_to_moderators_only(small, photos, login):
    pending, unstated = photos[0], photos[1]
    response = login(FACILITATOR).get(photo_url(small, pending))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"]
    assert login(EVALUATOR).get(photo_url(small, pending)).status_code == 403
    assert login(EVALUATOR).get(photo_url(small, unstated)).status_code == 403
    assert login(MEDIATOR).get(photo_url(small, pending)).status_code == 403


def test_published_photos_are_shown_to_result_readers(small, photos, login):
    client = login(EVALUATOR)
    assert client.get(photo_url(small, photos[5])).status_code == 200
    html = client.get(f"/admin/questionnaires/{small.id}/results").get_data(as_text=True)
    assert photo_url(small, photos[5]) in html and photo_url(small, photos[0]) not in html


def test_a_photo_with_no_state_is_listed_as_pending_and_can_be_published(small, photos, login):
    client = login(FACILITATOR)
    unstated = photos[1]
    assert photo_url(small, unstated) in moderation_page(client, small)
    assert post(client, small, unstated, action="publish").status_code == 302
    db.session.expire_all()
    assert unstated.moderation == Moderation.published and unstated.text == ""


def test_an_unknown_photo_is_404(small, photos, login):
    client = login(FACILITATOR)
    assert client.get(f"/admin/questionnaires/{small.id}/photos/999999.jpg").status_code == 404
    text = text_answer(small, PUBLISHED_TEXT)
    assert client.get(photo_url(small, text)).status_code == 404
