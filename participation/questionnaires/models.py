"""Questionnaires: versions of sections, questions and options; anonymous responses.

Structure: `Questionnaire` (scope, status, access) → `QuestionnaireVersion` → `Section` →
`Question` → `Option`. Answers point at the version they were given to; once a version has
responses, a change that would corrupt them (type, options, conditions, adding or removing a
question) is made on a new version instead (see `builder.py`). Texts may be edited in place.

Anonymity by design: a `Response` carries no account, no IP, no user agent and the day only.
The "already answered" marker of a single-use code (`AnswerCodeUse`) holds the code's id and
nothing else: no response id, no time, so no join path links a code to its answers.
Free text is screened (emails, phone numbers masked) and waits for moderation before it is
shown anywhere.

`Answer` repeats a few response-level fields (neighbourhood, channel, language, day): results
group one question's answers by them with a single-table `GROUP BY`, which keeps a question's
results over a million answers well under a second.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.channels import Channel
from ..core.profiles import AgeBand, Gender  # noqa: F401 (re-exported)
from ..core.content_i18n import Translatable
from ..core.territories import Category, Commune, Contract, Indicator, Neighbourhood, Scope
from ..core.users import utcnow
from ..extensions import db


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


class Status(enum.Enum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Purpose(enum.Enum):
    consultation = "consultation"
    #: part of the contract's evaluation: its tagged questions feed governance figures
    evaluation = "evaluation"


class Access(enum.Enum):
    #: anyone with the link or QR code
    open = "open"
    #: a single-use answer code (printed on a QR slip) is needed: one response per code
    codes = "codes"


class Kind(enum.Enum):
    single = "single"
    multiple = "multiple"
    scale = "scale"
    yes_no = "yes_no"
    ranking = "ranking"
    number = "number"
    short_text = "short_text"
    long_text = "long_text"
    date = "date"
    photo = "photo"
    location = "location"


#: Kinds whose answers are options (counted per option).
CHOICE_KINDS = frozenset({Kind.single, Kind.multiple, Kind.scale, Kind.yes_no, Kind.ranking})
#: Kinds whose answers are free text (screened, moderated before being shown).
TEXT_KINDS = frozenset({Kind.short_text, Kind.long_text})


class ScaleStyle(enum.Enum):
    likert = "likert"
    smileys = "smileys"


class Moderation(enum.Enum):
    pending = "pending"
    published = "published"
    rejected = "rejected"


class Questionnaire(Translatable, db.Model):
    __tablename__ = "questionnaires"
    __translatable__ = ("title", "intro", "intro_easy", "thanks")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    #: Easy-read (FALC) variant of the introduction, shown when the resident asks for it.
    intro_easy: Mapped[str] = mapped_column(sa.Text, default="")
    #: Shown after sending.
    thanks: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[Status] = mapped_column(_enum(Status, "questionnaire_status"), default=Status.draft)
    purpose: Mapped[Purpose] = mapped_column(_enum(Purpose, "questionnaire_purpose"), default=Purpose.consultation)
    access: Mapped[Access] = mapped_column(_enum(Access, "questionnaire_access"), default=Access.open)
    opens_on: Mapped[date | None]
    closes_on: Mapped[date | None]
    #: Standard profile questions, all optional, asked at the end for breakdowns.
    ask_age_band: Mapped[bool] = mapped_column(default=False)
    ask_gender: Mapped[bool] = mapped_column(default=False)
    ask_residence: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
        sa.CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on", name="date_order"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return (self.neighbourhood or self.commune or self.contract).label

    @property
    def current_version(self) -> QuestionnaireVersion:
        """The version new answers are given to (the newest)."""
        return self.versions[-1]

    @property
    def asks_profile(self) -> bool:
        return self.ask_age_band or self.ask_gender or self.ask_residence


class QuestionnaireVersion(db.Model):
    __tablename__ = "questionnaire_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    #: Why this version was made (the change that could not be made on the answered one).
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    sections: Mapped[list[Section]] = relationship(
        back_populates="version", order_by="Section.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("questionnaire_id", "number"),)

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]


class Section(Translatable, db.Model):
    """One screen of the questionnaire on a phone."""

    __tablename__ = "questionnaire_sections"
    __translatable__ = ("title", "intro", "intro_easy")

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    intro_easy: Mapped[str] = mapped_column(sa.Text, default="")
    #: Shown only if the answer to the earlier question coded `condition_code` (same version)
    #: is one of `condition_values` (option codes). Codes, not ids: copies keep their conditions.
    condition_code: Mapped[str | None] = mapped_column(sa.String(32))
    condition_values: Mapped[list | None] = mapped_column(sa.JSON)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Translatable, db.Model):
    __tablename__ = "questionnaire_questions"
    __translatable__ = ("text", "help", "text_easy")

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_sections.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: Stable reference in exports and the codebook ("Q3"), unique within a version and kept
    #: by the copies of later versions, so that a question can be followed across versions.
    code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, "question_kind"))
    text: Mapped[str] = mapped_column(sa.String(500))
    help: Mapped[str] = mapped_column(sa.Text, default="")
    #: Easy-read (FALC) wording of the question.
    text_easy: Mapped[str] = mapped_column(sa.String(500), default="")
    required: Mapped[bool] = mapped_column(default=False)
    scale_style: Mapped[ScaleStyle | None] = mapped_column(_enum(ScaleStyle, "scale_style"))
    #: Single / multiple choice: the last option is "Other, please specify" with a text box.
    allow_other: Mapped[bool] = mapped_column(default=False)
    #: Scale and choices: a "Don't know" option, left out of averages.
    allow_dont_know: Mapped[bool] = mapped_column(default=False)
    #: Multiple choice: at most this many options (empty: no limit).
    max_choices: Mapped[int | None]
    #: Number: bounds (inclusive).
    min_value: Mapped[float | None]
    max_value: Mapped[float | None]
    #: Référentiel binding: governance aggregates tagged questions across questionnaires and years.
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("indicators.id", ondelete="SET NULL"))
    #: Shown only if the answer to the earlier question coded `condition_code` is one of
    #: `condition_values` (option codes).
    condition_code: Mapped[str | None] = mapped_column(sa.String(32))
    condition_values: Mapped[list | None] = mapped_column(sa.JSON)

    section: Mapped[Section] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )
    category: Mapped[Category | None] = relationship()
    indicator: Mapped[Indicator | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("version_id", "code"),
        sa.CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices_positive"),
        sa.CheckConstraint("min_value IS NULL OR max_value IS NULL OR max_value >= min_value", name="bounds_order"),
    )

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS


class Option(Translatable, db.Model):
    __tablename__ = "questionnaire_options"
    __translatable__ = ("label", "label_easy")

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: The value in exports ("1".."5" on a scale, "yes"/"no", "dk" for don't know…).
    code: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[str] = mapped_column(sa.String(300))
    label_easy: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Name of a pictogram shipped in static/pictograms (see `pictograms.py`).
    pictogram: Mapped[str] = mapped_column(sa.String(32), default="")
    #: "Other, please specify": choosing it asks for a text (screened and moderated).
    is_other: Mapped[bool] = mapped_column(default=False)
    #: "Don't know": counted, but left out of a scale's average.
    is_dont_know: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="options")

    __table_args__ = (sa.UniqueConstraint("question_id", "code"),)


def new_response_id() -> str:
    return secrets.token_hex(16)


class Response(db.Model):
    """One person's answers. No account, no IP, no user agent, no time of day."""

    __tablename__ = "questionnaire_responses"

    #: Random, so that the order of responses tells nothing.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_response_id)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.web)
    #: Assisted channel: the kinds of help the mediator gave.
    helped_read_aloud: Mapped[bool] = mapped_column(default=False)
    helped_translated: Mapped[bool] = mapped_column(default=False)
    helped_written_for: Mapped[bool] = mapped_column(default=False)
    #: Language the questionnaire was answered in.
    locale: Mapped[str] = mapped_column(sa.String(8))
    #: Day only. Paper: the day written on the form.
    submitted_on: Mapped[date] = mapped_column(default=date.today)
    #: Declared neighbourhood of residence (profile question), or the one a mediator noted.
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"), index=True)
    age_band: Mapped[AgeBand | None] = mapped_column(_enum(AgeBand, "age_band"))
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender, "gender"))
    #: HMAC of the form's one-time nonce: a retried submission is recognised, not doubled.
    nonce_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")
    neighbourhood: Mapped[Neighbourhood | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "channel = 'assisted' OR NOT (helped_read_aloud OR helped_translated OR helped_written_for)",
            name="help_only_when_assisted",
        ),
    )


class Answer(db.Model):
    """One value: an option (one row per chosen option; `rank` for rankings), a number, a
    text, a date, a photo or a point."""

    __tablename__ = "questionnaire_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[str] = mapped_column(sa.ForeignKey("questionnaire_responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_questions.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questionnaire_options.id", ondelete="CASCADE"))
    rank: Mapped[int | None]
    number: Mapped[float | None]
    #: Free text (or the "other" text of a choice), with emails and phone numbers masked.
    text: Mapped[str | None] = mapped_column(sa.Text)
    #: Free text is shown (results, verbatims) only once published by a moderator.
    moderation: Mapped[Moderation | None] = mapped_column(_enum(Moderation, "moderation"))
    #: A moderator picked this text as a verbatim to show with the results.
    featured: Mapped[bool] = mapped_column(default=False)
    day: Mapped[date | None]
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: Rounded to 3 decimals (about 100 m): a point is never a home address.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    # Copies of the response's fields, for single-table GROUP BY (see the module docstring).
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    locale: Mapped[str] = mapped_column(sa.String(8))
    submitted_on: Mapped[date]

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
    option: Mapped[Option | None] = relationship()

    __table_args__ = (
        sa.Index("ix_questionnaire_answers_question_option", "question_id", "option_id"),
        sa.Index("ix_questionnaire_answers_question_neighbourhood", "question_id", "neighbourhood_id", "option_id"),
        # Governance's tagged-question figures: one question's answers over a span of days, read
        # from the index alone on PostgreSQL (the INCLUDE columns are ignored elsewhere).
        sa.Index("ix_questionnaire_answers_question_submitted", "question_id", "submitted_on",
                 postgresql_include=["response_id", "option_id", "number", "neighbourhood_id"]),
        sa.CheckConstraint("rank IS NULL OR rank >= 1", name="rank_positive"),
        sa.CheckConstraint("(text IS NULL) = (moderation IS NULL)", name="text_moderated"),
    )


class AnswerCodeBatch(db.Model):
    __tablename__ = "questionnaire_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    #: Where the slips are handed out (for the organisers; never recorded on answers).
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    size: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)


class AnswerCode(db.Model):
    """A single-use code printed on a QR slip. Only its keyed hash is stored."""

    __tablename__ = "questionnaire_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_code_batches.id", ondelete="CASCADE"), index=True)
    #: HMAC-SHA256 of the code under the app's secret (hex).
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    batch: Mapped[AnswerCodeBatch] = relationship()


class AnswerCodeUse(db.Model):
    """"This code has answered": the code's id and nothing else (no response, no time)."""

    __tablename__ = "questionnaire_code_uses"

    code_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_codes.id", ondelete="CASCADE"), primary_key=True)
