"""Exports of walks: GeoJSON (RFC 7946, longitude first) and CSV (translated headers) of
observations and actions. Public ones hold published observations only, coarsened, without form
ids, staff or typed addresses, and follow the public list's filters; the staff export of one
walk gives exact positions and every observation with its moderation state."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest

from participation.extensions import db
from participation.followup import services as followups
from participation.followup.models import Status
from participation.walks import exports
from participation.walks.geo import coarsen

from .test_public import EXACT, EXACT_STRINGS, FAC, MED, SLUG, add_recommendations, an_institution, make_walk, obs

pytestmark = pytest.mark.usefixtures("without_demo_walks")

EVALUATOR = "evaluation@amp.demo"


def get(client, path: str, lang: str = "en"):
    return client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")


def geojson(client, what: str, query: str = "") -> dict:
    resp = get(client, f"/c/{SLUG}/walks/{what}.geojson{query}")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    return json.loads(resp.get_data(as_text=True))


def csv_rows(client, path: str, lang: str = "en") -> list[list[str]]:
    resp = get(client, path, lang)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def by_number(collection: dict) -> dict:
    return {f["properties"]["number"]: f for f in collection["features"]}


# --- GeoJSON -----------------------------------------------------------------------------


def test_the_observations_geojson_is_a_feature_collection_of_points(client, demo):
    make_walk()
    data = geojson(client, "observations")
    assert data["type"] == "FeatureCollection"
    for feature in data["features"]:
        assert feature["type"] == "Feature" and set(feature) >= {"geometry", "properties"}


def test_geojson_positions_are_longitude_then_latitude_and_coarsened(client, demo):
    make_walk()
    point = by_number(geojson(client, "observations"))[1]["geometry"]
    lat, lon = coarsen(*EXACT)
    assert point == {"type": "Point", "coordinates": [lon, lat]}
    assert 5 < point["coordinates"][0] < 6 and 43 < point["coordinates"][1] < 44


def test_an_observation_without_a_position_is_listed_with_a_null_geometry(client, demo):
    make_walk()
    third = by_number(geojson(client, "observations"))[3]
    assert third["geometry"] is None
    assert third["properties"]["seen"] == "Poubelles débordantes"
    assert third["properties"]["location_source"] == "address"


def test_the_public_geojson_holds_published_observations_only(client, demo):
    make_walk()
    assert set(by_number(geojson(client, "observations"))) == {1, 3}


def test_public_exports_never_hold_exact_positions_form_ids_staff_or_addresses(client, demo):
    walk = make_walk()
    add_recommendations(walk)
    for what in ("observations", "actions"):
        for fmt in ("csv", "geojson"):
            text = get(client, f"/c/{SLUG}/walks/{what}.{fmt}").get_data(as_text=True)
            for secret in (*EXACT_STRINGS, "public-test-", "12 rue des Lilas", "Texte en attente secret",
                           "recorded_by", "client_id", FAC):
                assert secret not in text, (what, fmt, secret)


def test_the_observation_properties_name_the_walk_theme_and_rating(client, demo):
    walk = make_walk()
    props = by_number(geojson(client, "observations"))[1]["properties"]
    assert props["walk_id"] == walk.id and props["walk"] == "Marche test des voisines"
    assert props["date"] == walk.walked_on.isoformat() and props["neighbourhood"] == "Frais Vallon (Marseille)"
    assert (props["theme_code"], props["theme"]) == ("lighting", "Lighting")
    assert (props["rating"], props["rating_words"]) == (1, "Very bad")
    assert props["quote"] == "On a peur le soir" and props["photos"] == 1


def test_the_actions_geojson_places_a_recommendation_at_its_coarsened_public_observations(client, demo):
    walk = make_walk()
    sent, _draft = add_recommendations(walk)
    data = geojson(client, "actions")
    assert [f["properties"]["id"] for f in data["features"]] == [sent.followup_id]  # never the draft
    feature = data["features"][0]
    lat, lon = coarsen(*EXACT)  # observation 2 is not public: only 1 counts
    assert feature["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    props = feature["properties"]
    assert props["title"] == "Réparer l'éclairage" and props["status"] == "sent"
    assert props["observations"] == [1] and props["overdue"] is True


def test_an_action_without_located_observations_has_a_null_geometry(client, demo):
    walk = make_walk()
    institution = an_institution(walk)
    from participation.walks import services

    rec = services.add_recommendation(walk, "Un panneau", institution=institution, observation_ids=[obs(walk, 3).id])
    followups.move(rec.followup, Status.sent)
    db.session.commit()
    feature = geojson(client, "actions")["features"][0]
    assert feature["geometry"] is None and feature["properties"]["observations"] == [3]


# --- CSV ---------------------------------------------------------------------------------


def test_the_observations_csv_has_translated_headers(client, demo):
    make_walk()
    header = csv_rows(client, f"/c/{SLUG}/walks/observations.csv", lang="fr")[0]
    assert header[0] == "Numéro" and "Quartier" in header and "Thème" in header


def test_the_observations_csv_lists_public_observations_with_coarsened_positions(client, demo):
    make_walk()
    rows = csv_rows(client, f"/c/{SLUG}/walks/observations.csv")
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Number", "Walk", "Date of the walk", "Neighbourhood"]
    assert [r[0] for r in body] == ["1", "3"]
    first = dict(zip(header, body[0]))
    lat, lon = coarsen(*EXACT)
    assert (first["Latitude"], first["Longitude"]) == (str(lat), str(lon))
    assert first["Rating"] == "Very bad" and first["Theme code"] == "lighting"
    third = dict(zip(header, body[1]))
    assert third["Latitude"] == "" and third["Longitude"] == ""


def test_the_actions_csv_says_status_dates_overdue_and_observation_numbers(client, demo):
    walk = make_walk()
    sent, _draft = add_recommendations(walk)
    rows = csv_rows(client, f"/c/{SLUG}/walks/actions.csv")
    header = rows[0]
    assert header == ["Number", "Walk", "Date of the walk", "Neighbourhood", "Recommendation", "Addressed to",
                      "Status", "Sent on", "Due by", "Answered on", "Closed on", "Overdue", "Observations"]
    assert len(rows) == 2
    row = dict(zip(header, rows[1]))
    item = sent.followup
    assert row["Recommendation"] == "Réparer l'éclairage" and row["Addressed to"] == item.institution.name
    assert row["Sent on"] == item.sent_on.isoformat() and row["Due by"] == item.action_due_on.isoformat()
    assert row["Overdue"] == "yes" and row["Observations"] == "1"


def test_csv_cells_that_look_like_formulas_are_neutralised(client, demo):
    walk = make_walk()
    obs(walk, 1).seen = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    body = csv_rows(client, f"/c/{SLUG}/walks/observations.csv")[1]
    assert "'=HYPERLINK(\"http://evil\")" in body


# --- filters -----------------------------------------------------------------------------


def test_the_list_filters_apply_to_the_exports(client, demo):
    make_walk(title="Première marche")
    second = make_walk(title="Deuxième marche")
    data = geojson(client, "observations", f"?walk={second.id}&theme=cleanliness")
    assert [(f["properties"]["walk_id"], f["properties"]["number"]) for f in data["features"]] == [(second.id, 3)]


def test_the_theme_filter_keeps_the_actions_answering_that_theme(client, demo):
    walk = make_walk()
    add_recommendations(walk)
    assert len(geojson(client, "actions", "?theme=lighting")["features"]) == 1
    assert geojson(client, "actions", "?theme=greenery")["features"] == []


def test_an_export_with_a_nonsense_filter_is_refused(client, demo):
    make_walk()
    assert get(client, f"/c/{SLUG}/walks/observations.csv?walk=abc").status_code == 400


def test_an_unknown_export_is_not_found(client, demo):
    assert client.get(f"/c/{SLUG}/walks/observations.xlsx").status_code == 404
    assert client.get(f"/c/{SLUG}/walks/people.csv").status_code == 404
    assert client.get("/c/nowhere/walks/observations.csv").status_code == 404


def test_public_exports_are_downloads(client, demo):
    make_walk()
    resp = get(client, f"/c/{SLUG}/walks/observations.geojson?theme=lighting")
    assert resp.headers["Content-Disposition"] == \
        f'attachment; filename="walks-observations-{SLUG}-theme-lighting.geojson"'


# --- the staff export of one walk --------------------------------------------------------


@pytest.mark.parametrize("email", [FAC, EVALUATOR])
def test_the_staff_export_gives_exact_positions_and_every_observation_with_its_state(client, auth, demo, email):
    walk = make_walk()
    auth.login(email)
    resp = get(client, f"/admin/walks/{walk.id}/observations.geojson")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    features = by_number(json.loads(resp.get_data(as_text=True)))
    assert set(features) == {1, 2, 3}
    assert features[1]["geometry"]["coordinates"] == [EXACT[1], EXACT[0]]
    assert features[2]["properties"]["moderation"] == "pending"
    assert features[3]["properties"]["address"] == "12 rue des Lilas"
    assert "client_id" not in features[1]["properties"]


def test_the_staff_csv_has_the_moderation_column(client, auth, demo):
    walk = make_walk()
    auth.login(FAC)
    rows = csv_rows(client, f"/admin/walks/{walk.id}/observations.csv")
    header = rows[0]
    assert "Moderation" in header and "Address given" in header
    states = [dict(zip(header, r))["Moderation"] for r in rows[1:]]
    assert states == ["Public", "To check", "Public"]


def test_the_staff_export_of_actions_leaves_out_drafts(client, auth, demo):
    walk = make_walk()
    add_recommendations(walk)
    auth.login(FAC)
    rows = csv_rows(client, f"/admin/walks/{walk.id}/actions.csv")
    assert len(rows) == 2 and "Brouillon de recommandation" not in str(rows)


def test_a_mediator_gets_no_staff_export(client, auth, demo):
    walk = make_walk()
    auth.login(MED)
    assert client.get(f"/admin/walks/{walk.id}/observations.csv").status_code == 403


# --- the pure functions ------------------------------------------------------------------


def test_the_export_functions_coarsen_only_for_the_public(app, demo):
    walk = make_walk()
    first = obs(walk, 1)
    assert exports.observation_record(first, public=False)["lat"] == EXACT[0]
    assert exports.observation_record(first, public=True)["lat"] == coarsen(*EXACT)[0]


def test_the_overdue_column_is_no_once_done(app, demo):
    walk = make_walk()
    sent, _draft = add_recommendations(walk)
    item = sent.followup
    followups.move(item, Status.answered, on=date.today() - timedelta(days=10))
    followups.move(item, Status.done)
    db.session.commit()
    record = exports.action_record(sent, public=True, today=date.today())
    assert record["overdue"] is False and record["status"] == "done"
