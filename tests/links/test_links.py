"""Short links, QR codes (decoded with a real decoder) and posters."""
import io
import re

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from participation.extensions import db
from participation.links.models import ALPHABET, CODE_LENGTH, ShortLink, new_code

from ..conftest import count


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR code found in the image"
    return results[0].text


def test_codes_avoid_ambiguous_characters_and_are_long_enough():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set(ALPHABET)
    assert len(ALPHABET) ** CODE_LENGTH > 10**10


def test_short_link_redirects_whatever_the_case(client, demo):
    for code in ("FRVAX26", "frvax26", " FrVax26"):
        resp = client.get(f"/p/{code.strip()}")
        assert resp.status_code == 302
        assert resp.headers["Location"] == "/q/QN01322M"


def test_short_link_carries_a_language(client, demo):
    resp = client.get("/p/FRVAX26?lang=ar")
    assert resp.headers["Location"] == "/q/QN01322M?lang=ar"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page
    assert client.get("/p/FRVAX26?lang=xx").headers["Location"] == "/q/QN01322M"


def test_png_qr_decodes_to_the_short_url_and_leads_to_the_page(client, demo):
    resp = client.get("/p/FRVAX26/qr.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    url = decode(resp.data)
    assert url == "http://localhost/p/FRVAX26"
    followed = client.get(url.replace("http://localhost", ""), follow_redirects=True)
    assert "Frais Vallon" in followed.get_data(as_text=True)


def test_arabic_poster_qr_opens_the_arabic_page(client, demo):
    url = decode(client.get("/p/FRVAX26/qr.png?lang=ar").data)
    assert url == "http://localhost/p/FRVAX26?lang=ar"
    page = client.get(url.replace("http://localhost", ""), follow_redirects=True).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_qr_uses_the_configured_public_base_url(app, client, demo):
    app.config["PUBLIC_BASE_URL"] = "https://participation.example.fr"
    try:
        assert decode(client.get("/p/FRVAX26/qr.png").data) == "https://participation.example.fr/p/FRVAX26"
    finally:
        app.config["PUBLIC_BASE_URL"] = None


def test_svg_qr_is_an_svg_image(client, demo):
    resp = client.get("/p/FRVAX26/qr.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.data.lstrip().startswith(b"<?xml") and b"<svg" in resp.data and b"<path" in resp.data


def test_svg_qr_rasterised_decodes_to_the_same_url(client, demo):
    """Draw the SVG's squares ourselves (no SVG renderer needed) and decode the picture."""
    svg = client.get("/p/FRVAX26/qr.svg?lang=fr").data.decode()
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z", path)
    assert squares, "unexpected SVG path format"
    size = int(float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)) * 10) + 1
    img = Image.new("L", (size, size), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    for x, y, x2, y2, _ in squares:
        draw.rectangle([float(x) * 10, float(y) * 10, float(x2) * 10 - 1, float(y2) * 10 - 1], fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    assert decode(buf.getvalue()) == "http://localhost/p/FRVAX26?lang=fr"


def test_poster_shows_title_instruction_and_url_in_each_chosen_language(client, demo):
    html = client.get("/p/FRVAX26/poster?lang1=ar&lang2=fr&lang3=en").get_data(as_text=True)
    assert "فري فالون: شاركوا!" in html  # the Arabic content translation
    assert "Frais Vallon : participez !" in html  # the original
    assert "Frais Vallon: have your say!" in html
    assert html.count('class="poster-instruction" lang="') == 3
    assert 'class="poster-instruction" lang="ar" dir="rtl"' in html
    assert "localhost/p/FRVAX26" in html
    # the QR opens the page in the first language
    assert "/p/FRVAX26/qr.svg?lang=ar" in html


def test_poster_refuses_the_same_language_twice_and_falls_back(client, demo):
    resp = client.get("/p/FRVAX26/poster?lang1=fr&lang2=fr&lang=en")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Choose each language only once." in html
    assert html.count('class="poster-instruction"') == 1  # the page's language only


def test_unknown_and_deactivated_codes_are_not_found(client, demo):
    assert client.get("/p/ZZZZZZZ").status_code == 404
    db.session.execute(sa.update(ShortLink).where(ShortLink.code == "FRVAX26").values(is_active=False))
    db.session.commit()
    for suffix in ("", "/qr.png", "/qr.svg", "/poster"):
        assert client.get(f"/p/FRVAX26{suffix}").status_code == 404


def test_guessing_codes_is_rate_limited_but_real_scans_are_not(client, demo):
    for _ in range(40):
        assert client.get("/p/FRVAX26").status_code == 302
    statuses = [client.get(f"/p/{new_code()}").status_code for _ in range(35)]
    assert statuses[:30] == [404] * 30
    assert 429 in statuses[30:]


def test_facilitator_creates_a_link_for_a_page_in_her_commune(client, auth, demo):
    auth.login("animatrice@amp.demo")
    page = client.get("/admin/links/new").get_data(as_text=True)
    assert "/q/QN01306M" in page  # La Cayolle, Marseille
    assert "/q/QN01302M" not in page  # Encagnane, Aix: not hers
    assert "/c/aix-marseille-provence" not in page  # the whole contract: not hers
    before = count(ShortLink)
    resp = auth.post("/admin/links/new", {"target": "/q/QN01306M", "title": ""}, form_page="/admin/links/new")
    assert resp.status_code == 302
    link = db.session.scalar(sa.select(ShortLink).order_by(ShortLink.id.desc()))
    assert count(ShortLink) == before + 1
    assert link.title == "La Cayolle" and link.target_path == "/q/QN01306M"
    assert set(link.code) <= set(ALPHABET)


def test_facilitator_cannot_create_a_link_outside_her_scope(client, auth, demo):
    auth.login("animatrice@amp.demo")
    before = count(ShortLink)
    resp = auth.post("/admin/links/new", {"target": "/q/QN01302M"}, form_page="/admin/links/new")
    assert resp.status_code == 422
    assert count(ShortLink) == before


def test_deactivating_a_link_stops_its_qr_codes(client, auth, demo):
    auth.login("admin@amp.demo")
    link_id = db.session.scalar(sa.select(ShortLink.id).filter_by(code="FRVAX26"))
    auth.post(f"/admin/links/{link_id}/deactivate", form_page=f"/admin/links/{link_id}")
    assert client.get("/p/FRVAX26").status_code == 404
    auth.post(f"/admin/links/{link_id}/deactivate", form_page=f"/admin/links/{link_id}")
    assert client.get("/p/FRVAX26").status_code == 302


def test_link_list_is_scoped_to_the_caller(client, auth, demo):
    auth.login("animatrice@amp.demo")
    html = client.get("/admin/links").get_data(as_text=True)
    assert "FRVAX26" in html and "AMPCV26" not in html


@pytest.mark.parametrize("code", ["a" * 500, "%27%20OR%201=1--", "ÉÉÉ", "..%2F..%2Fetc"])
def test_hostile_codes_never_crash(client, demo, code):
    assert client.get(f"/p/{code}").status_code == 404
