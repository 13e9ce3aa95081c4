"""Verbatims: residents' words added by hand (screened, pending), moderated, filtered; suggested
from featured questionnaire answers and published walk quotes, taken without any link to their
source; `published_verbatims` as the dashboard, exports and API read them."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from participation.core.channels import Channel
from participation.core.territories import Category, Commune, Indicator, Neighbourhood
from participation.extensions import db
from participation.governance import verbatims as services
from participation.governance.models import Verbatim, VerbatimOrigin, VerbatimStatus
from participation.questionnaires.demo import BAROMETER_TITLE
from participation.questionnaires.models import Answer, Moderation, Questionnaire, Response

from .backoffice import AMP_ADMIN, EVA, FAC, MED, NAR_ADMIN, contract, post, staff, text  # noqa: F401  (staff: a fixture; names for the cases)


def category(code: str, slug="aix-marseille-provence") -> Category:
    return db.session.scalar(sa.select(Category).filter_by(contract_id=contract(slug).id, code=code))


def indicator(code: str) -> Indicator:
    return db.session.scalar(sa.select(Indicator).filter_by(contract_id=contract().id, code=code))


def hood(code: str) -> Neighbourhood:
    return db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=code))


def url(suffix="verbatims", slug="aix-marseille-provence") -> str:
    return f"/admin/governance/{contract(slug).id}/{suffix}"


def verbatim(words: str) -> Verbatim | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Verbatim).filter_by(text=words))


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Verbatim))


# --- by hand ------------------------------------------------------------------------------------------


def by_hand(client, **fields):
    data = {"action": "add", "text": "On attend le bus vingt minutes le soir.", "locale": "fr", "year": "2026",
            "neighbourhood": str(hood("QN01322M").id), "indicator": str(indicator("I-SECU").id), "category": "",
            "origin": "table", **fields}
    return post(client, url(), data)


def test_words_added_by_hand_wait_for_moderation_with_their_place_and_year(staff):
    client = staff(EVA)
    resp = by_hand(client)
    assert resp.status_code == 302
    added = verbatim("On attend le bus vingt minutes le soir.")
    assert (added.status, added.origin, added.locale, added.year) == (VerbatimStatus.pending, VerbatimOrigin.table, "fr", 2026)
    assert (added.neighbourhood_id, added.commune_id, added.indicator_id, added.category_id) == (
        hood("QN01322M").id, hood("QN01322M").commune_id, indicator("I-SECU").id, None)
    assert "Verbatim added: it waits for moderation." in text(client.get(url()))


def test_emails_and_phones_are_masked_in_words_added_by_hand(staff):
    assert by_hand(staff(EVA), text="Appelez-moi au 06 12 34 56 78 ou nadia@example.org").status_code == 302
    assert verbatim("Appelez-moi au [téléphone] ou [e-mail]") is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Verbatim).where(Verbatim.text.contains("06 12"))) == 0


def test_arabic_words_keep_their_language(staff):
    assert by_hand(staff(EVA), text="الإنارة ضعيفة في الليل", locale="ar", indicator="",
                   category=str(category("D3").id)).status_code == 302
    added = verbatim("الإنارة ضعيفة في الليل")
    assert (added.locale, added.category_id, added.indicator_id) == ("ar", category("D3").id, None)
    page = text(staff(EVA).get(url()))
    assert '<blockquote lang="ar" dir="rtl"><p>الإنارة ضعيفة في الليل</p></blockquote>' in page


@pytest.mark.parametrize("fields,field,message", [
    ({"text": "  "}, "text", "Write the words."),
    ({"text": "x" * 2001}, "text", "Field cannot be longer than 2000 characters."),
    ({"year": "1989"}, "year", "Enter a year between 1990 and 2100."),
    ({"year": ""}, "year", "Enter the year the words were said."),
    ({"indicator": "", "category": ""}, "category", "Attach the words to an indicator, a défi or orientation, or both."),
    ({"indicator": "999999"}, "indicator", "Choose one of the list."),
    ({"category": "abc"}, "category", "Choose one of the list."),
    ({"neighbourhood": "999999"}, "neighbourhood", "Choose one of the list."),
    ({"locale": "xx"}, "locale", "Choose one of the list."),
    ({"origin": "rumour"}, "origin", "Not a valid choice."),
])
def test_wrong_words_are_refused_with_a_clear_message(staff, fields, field, message):
    before = count()
    resp = by_hand(staff(EVA), **fields)
    assert resp.status_code == 422
    page = text(resp)
    assert message in page and f'id="{field}-error"' in page
    assert count() == before


@pytest.mark.parametrize("what", ["indicator", "category", "subtheme", "neighbourhood"])
def test_words_cannot_hang_on_another_contracts_referentiel_or_place(staff, what):
    if what == "indicator":
        other = Indicator(contract_id=contract("grand-narbonne").id, code="N-X", name="Autre")
        db.session.add(other)
        db.session.commit()
        fields = {"indicator": str(other.id)}
    elif what == "category":
        fields = {"category": str(category("A1", "grand-narbonne").id)}
    elif what == "subtheme":
        fields = {"category": str(category("O2.1").id), "indicator": ""}
    else:
        fields = {"neighbourhood": str(hood("QN01101M").id)}
    before = count()
    assert by_hand(staff(EVA), **fields).status_code == 422
    assert count() == before


def test_the_service_refuses_links_outside_the_contract(demo):
    with pytest.raises(services.VerbatimError, match="category"):
        services.add(contract(), text="x", locale="fr", year=2026, origin=VerbatimOrigin.other,
                     category=category("A1", "grand-narbonne"))
    with pytest.raises(services.VerbatimError, match="neighbourhood"):
        services.add(contract(), text="x", locale="fr", year=2026, origin=VerbatimOrigin.other,
                     category=category("D3"), neighbourhood=hood("QN01101M"))
    with pytest.raises(services.VerbatimError, match="attach"):
        services.add(contract(), text="x", locale="fr", year=2026, origin=VerbatimOrigin.other)
    with pytest.raises(services.VerbatimError, match="year"):
        services.add(contract(), text="x", locale="fr", year=1900, origin=VerbatimOrigin.other, category=category("D3"))


# --- moderation and the list ------------------------------------------------------------------------

PENDING = "Les fins de mois, on choisit entre la cantine et l'électricité."
REJECTED = "Le gardien du bâtiment C ne fait rien, il faut le renvoyer."
ARABIC = "نحب حيّنا، لكن المصعد معطّل منذ أشهر."


@pytest.mark.parametrize("words,status", [(PENDING, "published"), (PENDING, "rejected"), (ARABIC, "pending"),
                                          (REJECTED, "published")])
def test_a_moderator_publishes_rejects_or_sends_back_a_verbatim(staff, words, status):
    target = verbatim(words)
    resp = post(staff(EVA), f"/admin/governance/verbatims/{target.id}/status", {"status": status})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#verbatim-{target.id}")
    assert verbatim(words).status is VerbatimStatus(status)


@pytest.mark.parametrize("status", ["", "deleted", "PUBLISHED"])
def test_an_unknown_status_is_refused(staff, status):
    target = verbatim(PENDING)
    resp = post(staff(EVA), f"/admin/governance/verbatims/{target.id}/status", {"status": status})
    assert resp.status_code == 400 and "Choose publish, reject or back to moderation." in text(resp)
    assert verbatim(PENDING).status is VerbatimStatus.pending


def test_the_list_shows_every_status_pending_first(staff):
    page = text(staff(EVA).get(url()))
    assert page.index(PENDING) < page.index(ARABIC)
    assert REJECTED in page and "Waiting for moderation" in page and "Rejected" in page


def test_the_list_is_filtered_by_status(staff):
    page = text(staff(EVA).get(url() + "?status=rejected"))
    assert REJECTED in page and PENDING not in page and ARABIC not in page


def test_the_list_is_filtered_by_defi_including_through_the_indicator(staff):
    """I-SECU hangs on D3: a verbatim attached to it only is listed under D3."""
    only_indicator = "Depuis qu'il y a la médiatrice, je sors plus tranquille."
    assert verbatim(only_indicator).category_id is None
    page = text(staff(EVA).get(url() + f"?category={category('D3').id}"))
    assert only_indicator in page and "il n'y a plus de lumière après le parking" in page
    assert PENDING not in page and ARABIC not in page


def test_the_list_is_filtered_by_indicator(staff):
    page = text(staff(EVA).get(url() + f"?indicator={indicator('I-CADRE').id}"))
    assert ARABIC in page and PENDING not in page


@pytest.mark.parametrize("query,field", [("status=gone", "status"), ("category=999999", "category"),
                                         ("indicator=abc", "indicator")])
def test_an_unknown_filter_is_said_not_guessed(staff, query, field):
    resp = staff(EVA).get(url() + "?" + query)
    assert resp.status_code == 400
    assert f'id="filter-{field}-error"' in text(resp)


def test_an_unknown_action_is_a_bad_request(staff):
    before = count()
    assert post(staff(EVA), url(), {"action": "delete"}).status_code == 400
    assert count() == before


@pytest.mark.parametrize("email", [FAC, MED, NAR_ADMIN])
def test_only_the_contracts_moderators_reach_verbatims(staff, email):
    client = staff(email)
    before = count()
    assert client.get(url()).status_code == 403
    assert by_hand(client).status_code == 403
    target = verbatim(PENDING)
    assert post(client, f"/admin/governance/verbatims/{target.id}/status", {"status": "published"}).status_code == 403
    assert count() == before and verbatim(PENDING).status is VerbatimStatus.pending


def test_the_contracts_admin_moderates_too(staff):
    target = verbatim(PENDING)
    assert post(staff(AMP_ADMIN), f"/admin/governance/verbatims/{target.id}/status", {"status": "published"}).status_code == 302


def test_unknown_verbatims_and_contracts_are_404(staff):
    client = staff(EVA)
    assert client.get("/admin/governance/999999/verbatims").status_code == 404
    assert post(client, "/admin/governance/verbatims/999999/status", {"status": "published"}).status_code == 404


# --- suggestions --------------------------------------------------------------------------------------


def barometer() -> Questionnaire:
    return db.session.scalar(sa.select(Questionnaire).filter_by(title=BAROMETER_TITLE))


def free_answer(words: str, *, code="Q9", moderation=Moderation.published, featured=True, qpv="QN01319M",
                day=date(2026, 3, 2), locale="fr") -> Answer:
    q = barometer()
    version = q.current_version
    question = next(x for x in version.questions if x.code == code)
    n = hood(qpv) if qpv else None
    response = Response(questionnaire_id=q.id, version_id=version.id, channel=Channel.web, locale=locale,
                        submitted_on=day, neighbourhood_id=n.id if n else None)
    db.session.add(response)
    answer = Answer(question_id=question.id, text=words, moderation=moderation, featured=featured,
                    neighbourhood_id=n.id if n else None, channel=Channel.web, locale=locale, submitted_on=day)
    response.answers.append(answer)
    db.session.commit()
    return answer


def walk_quote(words: str, *, qpv="QN01322M", published=True, day=date(2025, 10, 4)):
    from participation.walks import services as walks
    from participation.walks.models import Moderation as WalkModeration, WalkStatus

    walk = walks.create_walk(hood(qpv), f"Marche {words[:10]}", day)
    obs, _ = walks.record_observation(walk, walks.ObservationInput(client_id=f"gov-{abs(hash(words)) % 10**8:08d}",
                                                                   theme_id=walk.themes[0].id, seen="Vu", quote=words))
    walks.set_status(walk, WalkStatus.walked)
    if published:
        walks.moderate_observation(obs, WalkModeration.published)
    db.session.commit()
    return obs


def suggested(words: str):
    return next((s for s in services.suggestions(contract()) if s.text == words), None)


def test_featured_published_answers_to_tagged_questions_are_suggested(demo):
    free_answer("Il faut un médecin dans le quartier.")
    s = suggested("Il faut un médecin dans le quartier.")
    assert (s.origin, s.year, s.neighbourhood_id, s.commune_id, s.locale, s.category_id, s.indicator_id) == (
        VerbatimOrigin.questionnaire, 2026, hood("QN01319M").id, hood("QN01319M").commune_id, "fr",
        category("D9").id, None)
    assert s.context == BAROMETER_TITLE


@pytest.mark.parametrize("kwargs", [{"featured": False}, {"moderation": Moderation.pending},
                                    {"moderation": Moderation.rejected}, {"code": "Q10"}])
def test_answers_not_featured_not_published_or_of_untagged_questions_are_not_suggested(demo, kwargs):
    """Q10 ("a word for your neighbourhood") is tagged with nothing."""
    free_answer("Un quartier oublié par la mairie.", **kwargs)
    assert suggested("Un quartier oublié par la mairie.") is None


def test_an_answer_to_a_question_tagged_with_a_subtheme_gives_its_orientation(demo):
    """Q3 is tagged O2.4: a verbatim hangs on O2."""
    free_answer("Une salle pour les jeunes, vraiment.", code="Q3")
    assert suggested("Une salle pour les jeunes, vraiment.").category_id == category("O2").id


def test_published_walk_quotes_are_suggested_and_pending_ones_are_not(demo):
    walk_quote("On passe en courant sous le pont.")
    walk_quote("Le square est fermé le soir.", published=False)
    s = suggested("On passe en courant sous le pont.")
    assert (s.origin, s.year, s.neighbourhood_id, s.indicator_id, s.category_id) == (
        VerbatimOrigin.walk, 2025, hood("QN01322M").id, None, None)
    assert suggested("Le square est fermé le soir.") is None


def test_another_contracts_answers_are_not_suggested(demo):
    walk_quote("Ici à Narbonne le trottoir est cassé.", qpv="QN01101M")
    assert suggested("Ici à Narbonne le trottoir est cassé.") is None
    assert "Ici à Narbonne le trottoir est cassé." in [s.text for s in services.suggestions(contract("grand-narbonne"))]


def test_a_suggested_answer_is_taken_as_a_published_verbatim_without_its_source(staff):
    answer = free_answer("Des bancs à l'ombre, s'il vous plaît.", qpv="QN01306M")
    page = text(staff(EVA).get(url()))
    assert "Des bancs à l'ombre, s'il vous plaît." in page and f'value="answer:{answer.id}"' in page
    resp = post(staff(EVA), url(), {"action": "take", "take-source": f"answer:{answer.id}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#suggestions")
    taken = verbatim("Des bancs à l'ombre, s'il vous plaît.")
    assert (taken.status, taken.origin, taken.year, taken.neighbourhood_id, taken.commune_id, taken.category_id,
            taken.locale) == (VerbatimStatus.published, VerbatimOrigin.questionnaire, 2026, hood("QN01306M").id,
                              hood("QN01306M").commune_id, category("D9").id, "fr")
    # Privacy by design: nothing in the row names the answer, its response or its question.
    row = db.session.execute(sa.select(Verbatim.__table__).where(Verbatim.id == taken.id)).mappings().one()
    assert set(row) == {"id", "contract_id", "indicator_id", "category_id", "commune_id", "neighbourhood_id", "text",
                        "locale", "year", "origin", "status"}
    # Taken: not proposed again.
    assert suggested("Des bancs à l'ombre, s'il vous plaît.") is None
    assert f'value="answer:{answer.id}"' not in text(staff(EVA).get(url()))


def test_a_walk_quote_is_taken_with_the_defi_the_moderator_chose(staff):
    obs = walk_quote("Il manque de la lumière dans l'impasse.")
    resp = post(staff(EVA), url(), {"action": "take", "take-source": f"observation:{obs.id}",
                                    "take-category": str(category("D3").id), "take-indicator": str(indicator("I-SECU").id)})
    assert resp.status_code == 302
    taken = verbatim("Il manque de la lumière dans l'impasse.")
    assert (taken.origin, taken.category_id, taken.indicator_id, taken.year, taken.neighbourhood_id, taken.status) == (
        VerbatimOrigin.walk, category("D3").id, indicator("I-SECU").id, 2025, hood("QN01322M").id,
        VerbatimStatus.published)


def test_a_walk_quote_needs_a_defi_or_an_indicator(staff):
    obs = walk_quote("Le passage est trop étroit.")
    before = count()
    resp = post(staff(EVA), url(), {"action": "take", "take-source": f"observation:{obs.id}"})
    assert resp.status_code == 422 and "Choose the défi or orientation these words are about." in text(resp)
    assert count() == before


def test_a_suggestion_taken_twice_gives_one_verbatim(staff):
    answer = free_answer("Plus de poubelles dans la cour.")
    client = staff(EVA)
    assert post(client, url(), {"action": "take", "take-source": f"answer:{answer.id}"}).status_code == 302
    before = count()
    resp = post(client, url(), {"action": "take", "take-source": f"answer:{answer.id}"})
    assert resp.status_code == 422 and "This suggestion was already taken, or is no longer published." in text(resp)
    assert count() == before


def test_the_same_words_said_in_another_year_are_still_suggested(demo):
    """Taken is judged on words, year and neighbourhood: the same words a year later are new."""
    first = free_answer("Toujours pas de médecin.", day=date(2025, 5, 1))
    free_answer("Toujours pas de médecin.", day=date(2026, 5, 1))
    services.take(contract(), f"answer:{first.id}")
    db.session.commit()
    left = [s for s in services.suggestions(contract()) if s.text == "Toujours pas de médecin."]
    assert [s.year for s in left] == [2026]


@pytest.mark.parametrize("source", ["answer:999999", "answer:abc", "observation:", "response:1", ""])
def test_an_unknown_suggestion_is_refused(staff, source):
    before = count()
    assert post(staff(EVA), url(), {"action": "take", "take-source": source}).status_code == 422
    assert count() == before


def test_an_answer_that_is_no_longer_featured_cannot_be_taken(staff):
    answer = free_answer("Le marché du samedi, c'est la vie du quartier.")
    answer.featured = False
    db.session.commit()
    before = count()
    assert post(staff(EVA), url(), {"action": "take", "take-source": f"answer:{answer.id}"}).status_code == 422
    assert count() == before


def test_another_contracts_moderator_cannot_take_our_suggestions(staff):
    answer = free_answer("Une fontaine sur la place.")
    before = count()
    resp = post(staff(NAR_ADMIN), url(slug="grand-narbonne"), {"action": "take", "take-source": f"answer:{answer.id}"})
    assert resp.status_code == 422
    assert count() == before


# --- published_verbatims -----------------------------------------------------------------------------


def texts(rows) -> list[str]:
    return [v.text for v in rows]


def test_published_verbatims_are_only_the_published_newest_first(demo):
    rows = services.published_verbatims(contract().id)
    assert PENDING not in texts(rows) and REJECTED not in texts(rows) and ARABIC in texts(rows)
    assert all(v.status is VerbatimStatus.published for v in rows)
    assert [v.year for v in rows] == sorted((v.year for v in rows), reverse=True)
    assert services.published_verbatims(contract("grand-narbonne").id) == []


def test_published_verbatims_by_neighbourhood_and_commune(demo):
    fv = hood("QN01322M")
    marseille = db.session.get(Commune, fv.commune_id)
    in_fv = services.published_verbatims(contract().id, neighbourhood_id=fv.id)
    assert in_fv and all(v.neighbourhood_id == fv.id for v in in_fv)
    in_marseille = services.published_verbatims(contract().id, commune_id=marseille.id)
    assert set(texts(in_fv)) < set(texts(in_marseille))
    assert all(v.commune_id == marseille.id for v in in_marseille)
    # Words with no place belong to the whole contract only.
    nowhere = "À la table, on a enfin eu une réponse de la métropole sur les encombrants."
    assert nowhere in texts(services.published_verbatims(contract().id))
    assert nowhere not in texts(in_marseille)


def test_published_verbatims_by_years(demo):
    rows = services.published_verbatims(contract().id, year_from=2026, year_to=2026)
    assert rows and {v.year for v in rows} == {2026}
    assert {v.year for v in services.published_verbatims(contract().id, year_to=2025)} == {2025}
    assert services.published_verbatims(contract().id, year_from=2027) == []


def test_published_verbatims_by_defi_directly_or_through_the_indicator(demo):
    d3 = services.published_verbatims(contract().id, category_ids=[category("D3").id])
    assert "Depuis qu'il y a la médiatrice, je sors plus tranquille." in texts(d3)  # through I-SECU
    assert all(v.category_id == category("D3").id or v.indicator.category_id == category("D3").id for v in d3)
    assert services.published_verbatims(contract().id, category_ids=[]) == []


def test_published_verbatims_by_indicator(demo):
    rows = services.published_verbatims(contract().id, indicator_ids=[indicator("I-CADRE").id])
    assert set(texts(rows)) == {ARABIC, "Le quartier est vivant, mais les espaces verts sont laissés à l'abandon."}
    both = services.published_verbatims(contract().id, neighbourhood_id=hood("QN01322M").id,
                                        indicator_ids=[indicator("I-CADRE").id], year_from=2026, year_to=2026)
    assert texts(both) == [ARABIC]
