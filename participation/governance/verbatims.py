"""Verbatims: residents' own words shown next to the figures, attached to an indicator and/or a
défi or orientation, shown and exported only once published by a moderator.

A verbatim is written by hand (its text screened: e-mail addresses and phone numbers masked)
or taken from a *suggestion*: a published and featured free-text answer to a questionnaire
question tagged with the contract's référentiel, or a published quote of an exploratory walk.
Taking one copies its words, language, year and neighbourhood, and nothing else: the verbatim
keeps no id of the answer or observation (models.Verbatim), so it cannot lead back to a
response. A suggestion already taken (same words, year and neighbourhood) is not proposed again.

Services flush; the view commits.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.numbers import parse_int
from ..core.territories import Category, Contract, Indicator, Neighbourhood
from ..extensions import db
from ..questionnaires.models import Answer, Moderation as AnswerModeration, Question, Questionnaire, Response
from ..questionnaires.screening import mask_personal_data
from ..walks.models import Moderation as WalkModeration, Observation, Walk
from .forms import valid_year
from .metrics import year_of
from .models import Verbatim, VerbatimOrigin, VerbatimStatus

#: At most this many suggestions are listed at once (taken ones leave the list).
SUGGESTION_LIMIT = 60


class VerbatimError(ValueError):
    """A rule refused the verbatim; str(error) names it: "indicator", "category",
    "neighbourhood", "attach" (neither indicator nor défi), "year", "text", "source"."""


# --- writing --------------------------------------------------------------------------------------


def _check_links(contract: Contract, indicator: Indicator | None, category: Category | None,
                 neighbourhood: Neighbourhood | None) -> None:
    if indicator is not None and indicator.contract_id != contract.id:
        raise VerbatimError("indicator")
    if category is not None and (category.contract_id != contract.id or category.parent_id is not None):
        raise VerbatimError("category")
    if neighbourhood is not None and neighbourhood.commune.contract_id != contract.id:
        raise VerbatimError("neighbourhood")
    if indicator is None and category is None:
        raise VerbatimError("attach")


def add(contract: Contract, *, text: str, locale: str, year: int, origin: VerbatimOrigin,
        neighbourhood: Neighbourhood | None = None, indicator: Indicator | None = None,
        category: Category | None = None) -> Verbatim:
    """A verbatim written by hand: screened, and pending until a moderator publishes it."""
    _check_links(contract, indicator, category, neighbourhood)
    if not valid_year(year):
        raise VerbatimError("year")
    words = mask_personal_data((text or "").strip())
    if not words:
        raise VerbatimError("text")
    verbatim = Verbatim(
        contract_id=contract.id, indicator_id=indicator.id if indicator else None,
        category_id=category.id if category else None,
        commune_id=neighbourhood.commune_id if neighbourhood else None,
        neighbourhood_id=neighbourhood.id if neighbourhood else None,
        text=words, locale=locale, year=year, origin=origin, status=VerbatimStatus.pending,
    )
    db.session.add(verbatim)
    db.session.flush()
    return verbatim


def set_status(verbatim: Verbatim, status: VerbatimStatus) -> None:
    verbatim.status = status
    db.session.flush()


# --- reading --------------------------------------------------------------------------------------


def _about(category_ids):
    """Verbatims attached to one of these categories, directly or through their indicator."""
    return sa.or_(Verbatim.category_id.in_(category_ids),
                  Verbatim.indicator_id.in_(sa.select(Indicator.id).where(Indicator.category_id.in_(category_ids))))


def moderation_list(contract: Contract, status: VerbatimStatus | None = None, category: Category | None = None,
                    indicator: Indicator | None = None) -> list[Verbatim]:
    """Every verbatim of the contract (moderators' list), pending first, then newest first."""
    query = sa.select(Verbatim).where(Verbatim.contract_id == contract.id)
    if status is not None:
        query = query.where(Verbatim.status == status)
    if category is not None:
        query = query.where(_about([category.id, *(c.id for c in category.children)]))
    if indicator is not None:
        query = query.where(Verbatim.indicator_id == indicator.id)
    query = query.order_by(sa.case((Verbatim.status == VerbatimStatus.pending, 0), else_=1),
                           Verbatim.year.desc(), Verbatim.id.desc())
    return list(db.session.scalars(query.options(
        selectinload(Verbatim.indicator), selectinload(Verbatim.category), selectinload(Verbatim.neighbourhood))))


def published_verbatims(contract_id: int, commune_id: int | None = None, neighbourhood_id: int | None = None,
                        year_from: int | None = None, year_to: int | None = None, category_ids=None,
                        indicator_ids=None) -> list[Verbatim]:
    """The published verbatims of a contract, newest first (what the dashboard, the exports, the
    PDF report and the API show).

    - `neighbourhood_id`: said in that neighbourhood; `commune_id`: said in that commune or one
      of its neighbourhoods. Words with no place belong to the whole contract only.
    - `year_from` / `year_to`: inclusive.
    - `category_ids`: attached to one of these défis / orientations, directly or through their
      indicator; `indicator_ids`: attached to one of these indicators. None: no filter; an empty
      list: nothing.
    """
    query = sa.select(Verbatim).where(Verbatim.contract_id == contract_id, Verbatim.status == VerbatimStatus.published)
    if neighbourhood_id is not None:
        query = query.where(Verbatim.neighbourhood_id == neighbourhood_id)
    elif commune_id is not None:
        query = query.where(Verbatim.commune_id == commune_id)
    if year_from is not None:
        query = query.where(Verbatim.year >= year_from)
    if year_to is not None:
        query = query.where(Verbatim.year <= year_to)
    if category_ids is not None:
        query = query.where(_about(list(category_ids)))
    if indicator_ids is not None:
        query = query.where(Verbatim.indicator_id.in_(list(indicator_ids)))
    query = query.order_by(Verbatim.year.desc(), Verbatim.id.desc()).options(
        selectinload(Verbatim.indicator), selectinload(Verbatim.category), selectinload(Verbatim.neighbourhood))
    return list(db.session.scalars(query))


# --- suggestions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    #: "answer:<id>" or "observation:<id>": names it in the moderator's form, never stored.
    source: str
    origin: VerbatimOrigin
    text: str
    locale: str
    year: int
    commune_id: int | None
    neighbourhood_id: int | None
    #: The tagged question's indicator and défi / orientation (none for a walk: the moderator chooses).
    indicator_id: int | None
    category_id: int | None
    #: Where it comes from, for the moderator: the questionnaire's or the walk's title.
    context: str


def _not_taken(contract_id: int, text, year, neighbourhood_id):
    return ~sa.exists(sa.select(Verbatim.id).where(
        Verbatim.contract_id == contract_id, Verbatim.text == text, Verbatim.year == year,
        Verbatim.neighbourhood_id.is_not_distinct_from(neighbourhood_id)))


def _answers(contract: Contract):
    year = year_of(Answer.submitted_on)
    nid = sa.func.coalesce(Answer.neighbourhood_id, Questionnaire.neighbourhood_id)
    parent = sa.orm.aliased(Category)
    # A question tagged with a sub-theme gives its défi / orientation (verbatims hang on those).
    top_category = sa.func.coalesce(parent.id, Category.id)
    return (
        sa.select(Answer.id, Answer.text, Answer.locale, year, nid, Questionnaire.commune_id, Question.indicator_id,
                  top_category, Questionnaire.title)
        .join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .outerjoin(Category, Category.id == Question.category_id)
        .outerjoin(parent, parent.id == Category.parent_id)
        .where(Questionnaire.contract_id == contract.id, Answer.moderation == AnswerModeration.published,
               Answer.featured.is_(True), Answer.text.is_not(None), Answer.text != "",
               sa.or_(Question.indicator_id.in_(sa.select(Indicator.id).where(Indicator.contract_id == contract.id)),
                      Category.contract_id == contract.id),
               _not_taken(contract.id, Answer.text, year, nid))
        .order_by(Answer.submitted_on.desc(), Answer.id.desc())
    )


def _observations(contract: Contract):
    year = year_of(Walk.walked_on)
    return (
        sa.select(Observation.id, Observation.quote, Observation.original_locale, year, Walk.neighbourhood_id,
                  Walk.commune_id, Walk.title)
        .join(Walk, Walk.id == Observation.walk_id)
        .where(Walk.contract_id == contract.id, Observation.moderation == WalkModeration.published,
               Observation.quote != "", _not_taken(contract.id, Observation.quote, year, Walk.neighbourhood_id))
        .order_by(Walk.walked_on.desc(), Observation.id.desc())
    )


def _answer_suggestion(row) -> Suggestion:
    answer_id, text, locale, year, nid, cid, indicator_id, category_id, title = row
    if nid is not None:
        cid = db.session.get(Neighbourhood, nid).commune_id
    return Suggestion(f"answer:{answer_id}", VerbatimOrigin.questionnaire, text, locale, year, cid, nid,
                      indicator_id, category_id, title)


def _observation_suggestion(row) -> Suggestion:
    observation_id, quote, locale, year, nid, cid, title = row
    return Suggestion(f"observation:{observation_id}", VerbatimOrigin.walk, quote, locale, year, cid, nid,
                      None, None, title)


def suggestions(contract: Contract, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Quotes a moderator may take as verbatims, newest first, not yet taken."""
    answers = [_answer_suggestion(r) for r in db.session.execute(_answers(contract).limit(limit))]
    quotes = [_observation_suggestion(r) for r in db.session.execute(_observations(contract).limit(limit))]
    return sorted(answers + quotes, key=lambda s: -s.year)[:limit]


def find_suggestion(contract: Contract, source: str) -> Suggestion | None:
    """The suggestion `source` names, if it is one of this contract's and not taken yet."""
    kind, _sep, raw_id = (source or "").partition(":")
    object_id = parse_int(raw_id)
    if object_id is None:
        return None
    if kind == "answer":
        row = db.session.execute(_answers(contract).where(Answer.id == object_id)).first()
        return _answer_suggestion(row) if row else None
    if kind == "observation":
        row = db.session.execute(_observations(contract).where(Observation.id == object_id)).first()
        return _observation_suggestion(row) if row else None
    return None


def take(contract: Contract, source: str, *, indicator: Indicator | None = None,
         category: Category | None = None) -> Verbatim:
    """Copy a suggestion into a published verbatim (its words were already moderated where they
    were said). A questionnaire answer keeps its question's indicator and défi; a walk's quote
    is attached to what the moderator chose. No id of the source is kept."""
    suggestion = find_suggestion(contract, source)
    if suggestion is None:
        raise VerbatimError("source")
    if suggestion.origin is VerbatimOrigin.questionnaire:
        indicator = db.session.get(Indicator, suggestion.indicator_id) if suggestion.indicator_id else None
        category = db.session.get(Category, suggestion.category_id) if suggestion.category_id else None
    neighbourhood = db.session.get(Neighbourhood, suggestion.neighbourhood_id) if suggestion.neighbourhood_id else None
    _check_links(contract, indicator, category, neighbourhood)
    verbatim = Verbatim(
        contract_id=contract.id, indicator_id=indicator.id if indicator else None,
        category_id=category.id if category else None, commune_id=suggestion.commune_id,
        neighbourhood_id=suggestion.neighbourhood_id, text=suggestion.text, locale=suggestion.locale or "fr",
        year=suggestion.year, origin=suggestion.origin, status=VerbatimStatus.published,
    )
    db.session.add(verbatim)
    db.session.flush()
    return verbatim
