"""Moderation of residents' free text and photos before anything is shown with the results.

Texts were screened when stored (e-mails and phone numbers masked); a moderator reads them,
may mask what screening cannot catch (a name, an address: the edited text is screened again),
then publishes or rejects them, and may pick published ones as verbatims ("featured") to show
with the results. Photos are published or rejected the same way.

The schema ties `moderation` to `text` (both set or both empty): a photo answer with no text
gets an empty text when first moderated, so that its state can be kept. A photo stored without
a state is pending.

Services flush, never commit, and never read the request.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from .models import Answer, Moderation, Question, Questionnaire, QuestionnaireVersion
from .screening import mask_personal_data

ACTIONS = ("publish", "reject", "feature", "unfeature")
MAX_TEXT = 5000
STATES = ("pending", "published", "rejected", "featured")


class ModerationError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _in_questionnaire(stmt, questionnaire: Questionnaire):
    """Answers with a text or a photo, of any version of the questionnaire."""
    return (
        stmt.join(Question, Question.id == Answer.question_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id,
               sa.or_(Answer.text.is_not(None), Answer.photo_sha256.is_not(None)))
    )


def moderated_answers(questionnaire: Questionnaire):
    return _in_questionnaire(sa.select(Answer), questionnaire)


def state_clause(state: str):
    return {
        "pending": sa.or_(Answer.moderation == Moderation.pending, Answer.moderation.is_(None)),
        "published": Answer.moderation == Moderation.published,
        "rejected": Answer.moderation == Moderation.rejected,
        "featured": sa.and_(Answer.moderation == Moderation.published, Answer.featured.is_(True)),
    }[state]


def counts(questionnaire: Questionnaire) -> dict[str, int]:
    """How many texts and photos are in each state."""
    state = sa.case(
        (Answer.moderation == Moderation.published, "published"),
        (Answer.moderation == Moderation.rejected, "rejected"),
        else_="pending",
    )
    out = {s: 0 for s in STATES}
    stmt = _in_questionnaire(sa.select(state, sa.func.count()).select_from(Answer), questionnaire).group_by(state)
    for name, n in db.session.execute(stmt):
        out[name] = n
    out["featured"] = db.session.scalar(
        _in_questionnaire(sa.select(sa.func.count()).select_from(Answer), questionnaire).where(state_clause("featured"))
    )
    return out


def find_answer(questionnaire: Questionnaire, answer_id: int) -> Answer | None:
    return db.session.scalar(moderated_answers(questionnaire).where(Answer.id == answer_id))


def _set_state(answer: Answer, state: Moderation) -> None:
    if answer.text is None:  # a photo on its own: see the module docstring
        answer.text = ""
    answer.moderation = state


def edit_text(answer: Answer, text: str) -> None:
    """Replace a text by the moderator's edit (to mask a name…), screened again."""
    text = (text or "").strip()
    if answer.photo_sha256 is None and not text:
        raise ModerationError(_l("The text cannot be empty: reject it instead."))
    if len(text) > MAX_TEXT:
        raise ModerationError(_l("The text is too long (%(max)s characters at most).", max=MAX_TEXT))
    answer.text = mask_personal_data(text)
    if answer.moderation is None:
        answer.moderation = Moderation.pending


def moderate(answer: Answer, action: str, text: str | None = None) -> None:
    """publish (after an optional edit), reject, feature or unfeature one answer."""
    if action not in ACTIONS:
        raise ModerationError(_l("Unknown action."))
    if action == "publish":
        if text is not None and answer.text is not None and text.strip() != answer.text:
            edit_text(answer, text)
        _set_state(answer, Moderation.published)
    elif action == "reject":
        _set_state(answer, Moderation.rejected)
        answer.featured = False
    elif action == "feature":
        if answer.moderation != Moderation.published:
            raise ModerationError(_l("Only a published answer can be shown with the results."))
        answer.featured = True
    else:
        answer.featured = False
    db.session.flush()
