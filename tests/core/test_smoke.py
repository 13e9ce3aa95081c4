def test_home_lists_demo_contracts(client, demo):
    html = client.get("/").get_data(as_text=True)
    assert "Aix-Marseille-Provence" in html and "Grand Narbonne" in html


def test_healthz_checks_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}
