"""Demo questionnaires: the Marseille "baromètre du cadre de vie" (an evaluation
questionnaire of 10 questions with a condition, in French and Arabic, open to anyone with
the link) with synthetic answers spread over the neighbourhoods and channels, and a short
consultation that needs single-use answer codes (printed by `flask demo-data`).

The synthetic answers are drawn from a seeded generator so that the results are the same
on every machine; some neighbourhoods get fewer than 11 respondents, to show suppression.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from ..core.channels import Channel
from ..core.content_i18n import set_translation
from ..core.territories import Category, Commune, Indicator, Neighbourhood
from ..extensions import db
from .models import (
    Access, AgeBand, Answer, AnswerCode, AnswerCodeBatch, Gender, Kind, Moderation, Option, Purpose,
    Question, Questionnaire, QuestionnaireVersion, Response, ScaleStyle, Section, Status,
)

BAROMETER_TITLE = "Baromètre du cadre de vie 2026"
CODES_TITLE = "Horaires de la maison de quartier"

LIKERT = [("1", "Pas du tout satisfait·e", "غير راضٍ إطلاقًا"), ("2", "Plutôt pas satisfait·e", "غير راضٍ نوعًا ما"),
          ("3", "Ni l'un ni l'autre", "محايد"), ("4", "Plutôt satisfait·e", "راضٍ نوعًا ما"),
          ("5", "Très satisfait·e", "راضٍ جدًا")]
SMILEYS = [("1", "Très mal", "سيئ جدًا", "smiley-1"), ("2", "Mal", "سيئ", "smiley-2"), ("3", "Moyen", "متوسط", "smiley-3"),
           ("4", "Bien", "جيد", "smiley-4"), ("5", "Très bien", "جيد جدًا", "smiley-5")]
DONT_KNOW = ("dk", "Je ne sais pas", "لا أعرف")
YES_NO = [("yes", "Oui", "نعم"), ("no", "Non", "لا")]

#: (section title fr, ar), [questions]; a question: code, kind, text fr, text ar, options, extra
SECTIONS = [
    (("Votre quartier", "حيّكم"), [
        ("Q1", Kind.scale, "Êtes-vous satisfait·e de la vie dans votre quartier ?", "هل أنتم راضون عن الحياة في حيّكم؟",
         LIKERT, {"scale_style": ScaleStyle.likert, "allow_dont_know": True, "required": True, "category": "O2",
                  "indicator": "I-CADRE", "text_easy": "Vous aimez vivre dans votre quartier ?"}),
        ("Q2", Kind.scale, "Comment vous sentez-vous dans les rues du quartier le soir ?", "كيف تشعرون في شوارع الحي مساءً؟",
         SMILEYS, {"scale_style": ScaleStyle.smileys, "allow_dont_know": True, "category": "D3", "indicator": "I-SECU"}),
        ("Q3", Kind.multiple, "Qu'est-ce qui manque le plus dans le quartier ?", "ما الذي ينقص الحيّ أكثر؟",
         [("shops", "Des commerces", "محلات تجارية", "shop"), ("green", "Des espaces verts", "مساحات خضراء", "tree"),
          ("youth", "Des activités pour les jeunes", "أنشطة للشباب", "ball"),
          ("health", "Des médecins", "أطباء", "health"), ("transport", "Des transports", "مواصلات", "bus")],
         {"allow_other": True, "max_choices": 3, "category": "O2.4"}),
    ]),
    (("Les services publics", "الخدمات العامة"), [
        ("Q4", Kind.yes_no, "Avez-vous fait une démarche administrative cette année ?", "هل قمتم بإجراء إداري هذا العام؟",
         YES_NO, {"required": True, "category": "O4.1"}),
        ("Q5", Kind.single, "Où avez-vous trouvé de l'aide pour cette démarche ?", "أين وجدتم المساعدة لهذا الإجراء؟",
         [("fs", "France services", "فرانس سيرفيس", "building"), ("assoc", "Une association", "جمعية", "people"),
          ("family", "Ma famille ou des amis", "العائلة أو الأصدقاء", "family"), ("none", "Personne", "لا أحد", "")],
         {"allow_other": True, "condition": ("Q4", ["yes"]), "category": "O4.1"}),
        ("Q6", Kind.ranking, "Classez ces priorités pour le quartier", "رتّبوا هذه الأولويات للحي",
         [("clean", "La propreté", "النظافة", "broom"), ("safety", "La tranquillité", "الأمان", "shield"),
          ("jobs", "L'emploi", "العمل", "work")], {"category": "D5"}),
    ]),
    (("Votre avis", "رأيكم"), [
        ("Q7", Kind.number, "Combien de fois êtes-vous allé·e à la maison de quartier ce mois-ci ?",
         "كم مرة ذهبتم إلى دار الحي هذا الشهر؟", [], {"min_value": 0, "max_value": 60}),
        ("Q8", Kind.date, "Quand avez-vous participé à une réunion du quartier pour la dernière fois ?",
         "متى شاركتم آخر مرة في اجتماع للحي؟", [], {}),
        ("Q9", Kind.long_text, "Que faudrait-il changer en priorité ?", "ما الذي يجب تغييره أولًا؟", [], {"category": "D9"}),
        ("Q10", Kind.short_text, "Un mot pour décrire votre quartier", "كلمة تصف حيّكم", [], {}),
    ]),
]

WORDS = ["solidaire", "vivant", "oublié", "familial", "bruyant", "calme", "jeune", "sale", "accueillant", "enclavé"]
CHANGES = [
    "Plus d'éclairage sur le chemin de l'école.",
    "Réparer l'ascenseur du bâtiment B, ça fait des mois.",
    "Des activités pour les ados le samedi.",
    "Nettoyer les encombrants plus souvent.",
    "Un médecin généraliste dans le quartier, écrivez-moi à nadia.b@example.org",
    "Des bancs à l'ombre près de l'arrêt de bus.",
]


def _indicators(amp) -> dict[str, Indicator]:
    wanted = [
        ("I-CADRE", "Part des habitants satisfaits de leur cadre de vie", "O2", "%"),
        ("I-SECU", "Part des habitants qui se sentent en sécurité le soir", "D3", "%"),
    ]
    out = {}
    for code, name, category_code, unit in wanted:
        ind = db.session.scalar(sa.select(Indicator).filter_by(contract_id=amp.id, code=code))
        if ind is None:
            category = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code=category_code))
            ind = Indicator(contract_id=amp.id, code=code, name=name, unit=unit, category_id=category.id if category else None)
            db.session.add(ind)
            db.session.flush()
        out[code] = ind
    return out


def build_barometer(marseille: Commune, amp) -> Questionnaire:
    indicators = _indicators(amp)
    q = Questionnaire(
        contract_id=amp.id, commune_id=marseille.id, title=BAROMETER_TITLE, original_locale="fr",
        intro="Dix questions, cinq minutes. Vos réponses sont anonymes et servent à évaluer le contrat de ville.",
        intro_easy="Dix questions. Cinq minutes. Personne ne saura que c'est vous.",
        thanks="Merci ! Les résultats seront présentés à la table de quartier.",
        status=Status.open, purpose=Purpose.evaluation, access=Access.open,
        ask_age_band=True, ask_gender=True, ask_residence=True,
    )
    db.session.add(q)
    version = QuestionnaireVersion(questionnaire=q, number=1)
    db.session.add(version)
    db.session.flush()
    set_translation(q, "title", "ar", "مقياس إطار العيش 2026")
    set_translation(q, "intro", "ar", "عشرة أسئلة، خمس دقائق. إجاباتكم مجهولة الهوية وتُستخدم لتقييم عقد المدينة.")
    set_translation(q, "thanks", "ar", "شكرًا! ستُعرض النتائج في طاولة الحي.")
    for s_pos, ((s_fr, s_ar), questions) in enumerate(SECTIONS):
        section = Section(version_id=version.id, position=s_pos, title=s_fr, original_locale="fr")
        db.session.add(section)
        db.session.flush()
        set_translation(section, "title", "ar", s_ar)
        for q_pos, (code, kind, text, text_ar, options, extra) in enumerate(questions):
            extra = dict(extra)
            category_code = extra.pop("category", None)
            indicator_code = extra.pop("indicator", None)
            condition = extra.pop("condition", None)
            question = Question(
                version_id=version.id, section_id=section.id, position=q_pos, code=code, kind=kind, text=text,
                original_locale="fr", **extra,
            )
            if category_code:
                question.category_id = db.session.scalar(
                    sa.select(Category.id).filter_by(contract_id=amp.id, code=category_code))
            if indicator_code:
                question.indicator_id = indicators[indicator_code].id
            if condition:
                question.condition_code, question.condition_values = condition
            db.session.add(question)
            db.session.flush()
            set_translation(question, "text", "ar", text_ar)
            all_options = list(options)
            if extra.get("allow_dont_know"):
                all_options.append(DONT_KNOW)
            for o_pos, opt in enumerate(all_options):
                o_code, label, label_ar, *picto = opt
                option = Option(question_id=question.id, position=o_pos, code=o_code, label=label,
                                pictogram=picto[0] if picto else "", is_dont_know=o_code == "dk", original_locale="fr")
                db.session.add(option)
                db.session.flush()
                set_translation(option, "label", "ar", label_ar)
            if extra.get("allow_other"):
                option = Option(question_id=question.id, position=len(all_options), code="other",
                                label="Autre (précisez)", is_other=True, original_locale="fr")
                db.session.add(option)
                db.session.flush()
                set_translation(option, "label", "ar", "غير ذلك (حدّدوا)")
    db.session.flush()
    return q


def add_synthetic_responses(q: Questionnaire, neighbourhoods: list[Neighbourhood], n: int, seed: str) -> None:
    """Plausible answers, for the results pages of a demo (never used in real data)."""
    rng = random.Random(seed)
    version = q.current_version
    questions = {question.code: question for question in version.questions}
    # Unequal spread: the last neighbourhood gets only a handful (suppressed in results).
    weights = [10, 8, 6, 4, 0.6][: len(neighbourhoods)]
    today = date(2026, 11, 1)
    for _ in range(n):
        nb = rng.choices(neighbourhoods, weights=weights[: len(neighbourhoods)])[0]
        channel = rng.choices([Channel.web, Channel.assisted, Channel.paper], weights=[6, 3, 2])[0]
        locale = rng.choices(["fr", "ar", "tr"], weights=[8, 3, 1])[0]
        day = today - timedelta(days=rng.randrange(0, 120))
        response = Response(
            questionnaire_id=q.id, version_id=version.id, channel=channel, locale=locale, submitted_on=day,
            neighbourhood_id=nb.id, age_band=rng.choice(list(AgeBand) + [None]),
            gender=rng.choice([Gender.woman, Gender.woman, Gender.man, None]),
            helped_read_aloud=channel == Channel.assisted and rng.random() < 0.5,
            helped_translated=channel == Channel.assisted and locale != "fr",
        )
        db.session.add(response)
        common = dict(neighbourhood_id=nb.id, channel=channel, locale=locale, submitted_on=day)

        def add(question, **values):
            response.answers.append(Answer(question_id=question.id, **common, **values))

        def pick(question, weights=None):
            opts = [o for o in question.options if not o.is_other]
            return rng.choices(opts, weights=weights or [1] * len(opts))[0]

        add(questions["Q1"], option_id=pick(questions["Q1"], [2, 3, 4, 4, 2, 1]).id)
        if rng.random() < 0.9:
            add(questions["Q2"], option_id=pick(questions["Q2"], [3, 4, 3, 2, 1, 1]).id)
        for option in rng.sample([o for o in questions["Q3"].options if not o.is_other], rng.randint(1, 3)):
            add(questions["Q3"], option_id=option.id)
        yes = rng.random() < 0.6
        add(questions["Q4"], option_id=questions["Q4"].options[0 if yes else 1].id)
        if yes:
            add(questions["Q5"], option_id=pick(questions["Q5"], [4, 2, 3, 1]).id)
        for rank, option in enumerate(rng.sample(questions["Q6"].options, 3), 1):
            add(questions["Q6"], option_id=option.id, rank=rank)
        add(questions["Q7"], number=float(rng.choice([0, 0, 1, 2, 2, 3, 4, 8])))
        if rng.random() < 0.4:
            add(questions["Q8"], day=day - timedelta(days=rng.randrange(0, 200)))
        if rng.random() < 0.3:
            from .screening import mask_personal_data

            add(questions["Q9"], text=mask_personal_data(rng.choice(CHANGES)), moderation=rng.choice(
                [Moderation.pending, Moderation.published]))
        if rng.random() < 0.5:
            add(questions["Q10"], text=rng.choice(WORDS), moderation=Moderation.pending)
    db.session.flush()


def build_codes_consultation(neighbourhood: Neighbourhood, amp) -> Questionnaire:
    q = Questionnaire(
        contract_id=amp.id, commune_id=neighbourhood.commune_id, neighbourhood_id=neighbourhood.id,
        title=CODES_TITLE, original_locale="fr", status=Status.open, access=Access.codes,
        intro="Une réponse par foyer : le code est sur le papier qu'on vous a remis.",
    )
    db.session.add(q)
    version = QuestionnaireVersion(questionnaire=q, number=1)
    db.session.add(version)
    db.session.flush()
    section = Section(version_id=version.id, position=0, title="Horaires", original_locale="fr")
    db.session.add(section)
    db.session.flush()
    question = Question(version_id=version.id, section_id=section.id, position=0, code="H1", kind=Kind.single,
                        text="Quels horaires vous conviennent le mieux ?", required=True, original_locale="fr")
    db.session.add(question)
    db.session.flush()
    for pos, (code, label) in enumerate([("morning", "Le matin"), ("evening", "Le soir après 18 h"),
                                         ("saturday", "Le samedi")]):
        db.session.add(Option(question_id=question.id, position=pos, code=code, label=label, original_locale="fr"))
    db.session.flush()
    return q


def _codes(questionnaire_id: int, n: int) -> list[str]:
    from ..links.models import ALPHABET
    from .codes import CODE_LENGTH

    rng = random.Random(f"demo-answer-codes-{questionnaire_id}")
    return ["".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(n)]


def load(contracts) -> None:
    amp = contracts["amp"]
    if db.session.scalar(sa.select(Questionnaire.id).filter_by(contract_id=amp.id, title=BAROMETER_TITLE)) is None:
        marseille = db.session.scalar(sa.select(Commune).filter_by(contract_id=amp.id, insee_code="13055"))
        q = build_barometer(marseille, amp)
        neighbourhoods = sorted(marseille.neighbourhoods, key=lambda n: n.qpv_code != "QN01322M")
        add_synthetic_responses(q, neighbourhoods, 240, "demo-barometer")
    if db.session.scalar(sa.select(Questionnaire.id).filter_by(contract_id=amp.id, title=CODES_TITLE)) is None:
        from .codes import keyed_hash

        frais_vallon = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
        q = build_codes_consultation(frais_vallon, amp)
        batch = AnswerCodeBatch(questionnaire_id=q.id, label="Démo", size=10)
        db.session.add(batch)
        db.session.flush()
        for code in _codes(q.id, 10):
            db.session.add(AnswerCode(questionnaire_id=q.id, batch_id=batch.id, code_hash=keyed_hash(code)))
        db.session.flush()


def notes() -> list[str]:
    from .codes import format_code

    q = db.session.scalar(sa.select(Questionnaire).filter_by(title=CODES_TITLE))
    if q is None:
        return []
    return [f"Answer codes for \"{CODES_TITLE}\" (/q/{q.id}): " + ", ".join(format_code(c) for c in _codes(q.id, 5))]
