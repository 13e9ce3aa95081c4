"""Every way a photo reaches the server, end to end through its real route: budget ideas, FPH
bilans (the applicants' and the staff's), budget follow-up steps, walk observations (the walkers'
form and the staff's two), questionnaire photo answers (online and in field mode), the field-mode
photo upload and the outbox-file import.

Each path is sent the same bad files: a web page named .jpg and sent as image/jpeg (the content
decides, not the name nor the Content-Type), a truncated JPEG, a decompression bomb (a PNG of
20,000 × 20,000 pixels that weighs a few kilobytes), a file over MAX_PHOTO_BYTES, an SVG carrying
a script, and a request over MAX_CONTENT_LENGTH. Each is refused with the translated message (in
French, the default language), with no row written and no file stored, never a 5xx. A camera JPEG
with GPS EXIF and a script hidden after its end is accepted: what is stored is a re-encoded JPEG
without EXIF and without the script.

Which modules take files is read from the code (request.files, FileField): a module that starts
taking files without its routes listed here fails test_every_upload_route_is_tested."""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from participation.core.photos import PhotoError
from participation.extensions import db

from .harness import WriteRecorder, login, parse_forms

ROOT = Path(__file__).resolve().parents[2]

# --- The files ------------------------------------------------------------------------------------


def camera_jpeg(size=(64, 48)) -> bytes:
    """A JPEG whose EXIF gives the place it was taken, with a script appended after its end."""
    exif = Image.Exif()
    exif[0x010F] = "TrackMeCamera"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (43.0, 19.0, 48.0), 3: "E", 4: (5.0, 24.0, 37.0)})
    buf = io.BytesIO()
    # Random pixels: stores are content-addressed, and a photo stored by an earlier test would
    # not show up as a new file.
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, "JPEG", exif=exif)
    raw = buf.getvalue() + b"<script>alert('polyglot')</script>"
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825), "the test photo must carry GPS data"
    return raw


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int = 20_000) -> bytes:
    """A valid PNG header for side × side grey pixels, with the first rows of zeros: tiny in bytes,
    400 million pixels once decoded."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(buf, "JPEG", quality=95)
    raw = buf.getvalue()
    return raw[: len(raw) // 2]


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def too_large(max_bytes: int) -> bytes:
    """A real JPEG padded past the photo limit (but under the request limit)."""
    return camera_jpeg() + b"\x00" * (max_bytes + 1024)


@dataclass(frozen=True)
class Bad:
    name: str
    code: str | None  # PhotoError code of the message expected; None: the request itself is refused
    filename: str
    content_type: str


BAD = [
    Bad("html-named-jpg", "not_an_image", "IMG_0001.jpg", "image/jpeg"),
    Bad("truncated-jpeg", "corrupt", "IMG_0002.jpg", "image/jpeg"),
    Bad("decompression-bomb", "too_many_pixels", "big.png", "image/png"),
    Bad("over-photo-limit", "too_large", "huge.jpg", "image/jpeg"),
    Bad("svg-with-script", "unsupported_type", "photo.jpg", "image/jpeg"),
    Bad("over-request-limit", None, "huge.jpg", "image/jpeg"),
]


def content_of(bad: Bad, app) -> bytes:
    return {
        "html-named-jpg": lambda: HTML,
        "truncated-jpeg": truncated_jpeg,
        "decompression-bomb": bomb_png,
        "over-photo-limit": lambda: too_large(app.config["MAX_PHOTO_BYTES"]),
        "svg-with-script": lambda: SVG,
        "over-request-limit": lambda: b"\xff\xd8\xff" + b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 1024),
    }[bad.name]()


def message(app, code: str) -> str:
    """The resident's message for a refusal, in French (the default language)."""
    with app.test_request_context("/"), force_locale("fr"):
        return PhotoError(code, max_bytes=app.config["MAX_PHOTO_BYTES"],
                          max_mb=app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)).message


# --- Filling a form as a person would ----------------------------------------------------------------


def fill(html_page: str, page_path: str, action: str, overrides: dict) -> tuple[dict, list[str]]:
    """The fields of the form posting to `action`, as the page serves them, with a value a person
    would give each empty one; `overrides` win. Returns (data, names of the file inputs)."""
    forms = [f for f in parse_forms(html_page, page_path) if f.action == action and f.method == "POST"]
    assert forms, f"no form posting to {action} on {page_path}"
    # The form with a file input (a page may have others posting to the same place).
    form = max(forms, key=lambda f: (any(x.kind == "file" for x in f.fields.values()), len(f.fields)))
    data, files = {}, []
    for name, f in form.fields.items():
        if f.kind == "file":
            files.append(name)
        elif f.kind in ("checkbox", "radio", "select", "button", "submit"):
            values = [v for v in f.values if v]
            if values and f.kind != "checkbox":
                data[name] = values[0]
        elif f.kind == "number" and (f.values or f.required):
            data[name] = f.values[0] if f.values else "1"
        elif f.kind == "date" and (f.values or f.required):
            data[name] = f.values[0] if f.values else date.today().isoformat()
        elif f.values and f.values[0]:
            data[name] = f.values[0]
        elif f.required:
            data[name] = "Un banc cassé près de l'école"
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html_page)
    if csrf:
        data["csrf_token"] = csrf.group(1)
    data.update(overrides)
    return data, files


# --- The routes ---------------------------------------------------------------------------------------


@dataclass
class Upload:
    """How to send one file through one route: `send(client, content, filename, content_type)`."""
    endpoint: str
    who: str
    setup: object  # app -> dict of what `send` needs


def _form_sender(page, action, file_field=None, **overrides):
    def send(client, ctx, content, filename, content_type, served=None):
        page_url, action_url = page(ctx), action(ctx)
        served = served or client.get(page_url)
        assert served.status_code == 200, f"{page_url}: {served.status_code}"
        data, files = fill(served.get_data(as_text=True), page_url.split("?")[0], action_url.split("?")[0],
                           {k: (v(ctx) if callable(v) else v) for k, v in overrides.items()})
        assert files or file_field, f"no file input; forms: {parse_forms(served.get_data(as_text=True), page_url)}"
        name = file_field or files[0]
        assert name in files, f"{name} is not a file input of the form ({files})"
        data[name] = (io.BytesIO(content), filename, content_type)
        return client.post(action_url, data=data, content_type="multipart/form-data")

    return send


def _ideas(app):
    from participation.budgets.demo import IDEAS_TITLE
    from participation.budgets.models import Process

    return {"process": db.session.scalar(sa.select(Process.id).filter_by(title=IDEAS_TITLE))}


def _granted_application(app):
    from ..fph.test_bilans import _granted

    application, secret = _granted()
    db.session.commit()
    return {"application": application.id, "secret": secret}


def _selected_proposal(app):
    """The demo's vote, moved on to its implementation, with proposal 1 selected."""
    from participation.budgets.demo import VOTE_TITLE
    from participation.budgets.models import Phase, Process, Proposal

    process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
    process.phase = Phase.implementation
    proposal = db.session.scalar(sa.select(Proposal).filter_by(process_id=process.id, number=1))
    proposal.is_selected = True
    db.session.commit()
    return {"process": process.id, "number": 1}


def _walk(app):
    from participation.core.territories import Neighbourhood
    from participation.walks import services

    hood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code="QN01322M"))
    walk = services.create_walk(hood, "Marche des photos", date.today())
    services.add_waypoint(walk, "Place du marché", 43.3301, 5.4102)
    db.session.commit()
    return {"walk": walk.id, "key": walk.record_key}


def _observation(app):
    from participation.walks import services
    from participation.walks.models import Walk

    ctx = _walk(app)
    walk = db.session.get(Walk, ctx["walk"])
    obs, _created = services.record_observation(walk, services.ObservationInput(client_id="upload-test-1",
                                                                                seen="Un trottoir abîmé"))
    db.session.commit()
    return {**ctx, "obs": obs.id}


def _photo_questionnaire(app):
    from participation.core.territories import Commune
    from participation.questionnaires import builder
    from participation.questionnaires.models import Status

    marseille = db.session.scalar(sa.select(Commune).filter_by(insee_code="13055"))
    q = builder.create_questionnaire(marseille, "Enquête photo", "fr")
    builder.add_question(q.current_version.sections[0], {"kind": "photo", "text": "Une photo du quartier ?"})
    builder.set_status(q, Status.open)
    db.session.commit()
    return {"q": q.id}


UPLOADS = {
    "budgets.propose": (Upload("budgets.propose", "anon", _ideas), _form_sender(
        lambda c: f"/b/{c['process']}/propose", lambda c: f"/b/{c['process']}/propose", "photos",
        title="Un banc à l'ombre", description="Un banc sous le platane, pour les anciens.")),
    "fph.bilan": (Upload("fph.bilan", "anon", _granted_application), _form_sender(
        lambda c: f"/fph/a/{c['secret']}", lambda c: f"/fph/a/{c['secret']}/bilan", "photos-0-photo",
        participants="30", spent="750")),
    "fph_admin.bilan_staff": (Upload("fph_admin.bilan_staff", "fac", _granted_application), _form_sender(
        lambda c: f"/admin/fph/applications/{c['application']}", lambda c: f"/admin/fph/applications/{c['application']}/bilan",
        "photos-0-photo", participants="12", spent="300", channel="paper")),
    "budgets_admin.milestone_add": (Upload("budgets_admin.milestone_add", "fac", _selected_proposal), _form_sender(
        lambda c: f"/admin/budgets/{c['process']}/follow-up",
        lambda c: f"/admin/budgets/{c['process']}/proposals/{c['number']}/milestones", "ms1-photo",
        **{"ms1-status": "in_progress", "ms1-happened_on": date.today().isoformat()})),
    "walks.record": (Upload("walks.record", "anon", _walk), _form_sender(
        lambda c: f"/w/{c['walk']}/record/{c['key']}", lambda c: f"/w/{c['walk']}/record/{c['key']}", "photo",
        seen="Un lampadaire cassé", lat="43.3301", lon="5.4102", location_source="map")),
    # The facilitator's tablet: the same form and code as the walkers' (record_views.py).
    "walks_admin.record": (Upload("walks_admin.record", "fac", _walk), _form_sender(
        lambda c: f"/admin/walks/{c['walk']}/record", lambda c: f"/admin/walks/{c['walk']}/record", "photo",
        seen="Un lampadaire cassé", lat="43.3301", lon="5.4102", location_source="map")),
    "walks_admin.observation": (Upload("walks_admin.observation", "fac", _observation), _form_sender(
        lambda c: f"/admin/walks/observations/{c['obs']}", lambda c: f"/admin/walks/observations/{c['obs']}", "photos",
        seen="Un trottoir abîmé")),
    "questionnaires.step": (Upload("questionnaires.step", "anon", _photo_questionnaire), None),
    "questionnaires_admin.field_form": (Upload("questionnaires_admin.field_form", "fac", _photo_questionnaire),
                                        _form_sender(lambda c: f"/admin/questionnaires/{c['q']}/field",
                                                     lambda c: f"/admin/questionnaires/{c['q']}/field")),
}


# --- Field mode: the photo upload of the sync API and the outbox file ---------------------------------


def _field_walk(app):
    ctx = _walk(app)
    from participation.walks.models import Walk

    walk = db.session.get(Walk, ctx["walk"])
    return {**ctx, "theme": walk.themes[0].id if walk.themes else ""}


def _field_item(ctx, client_id: str, sha: str) -> dict:
    fields = [["theme", str(ctx["theme"])], ["rating", "2"], ["seen", "Un lampadaire cassé"], ["quote", ""],
              ["address", ""], ["waypoint", ""], ["lat", "43.3301"], ["lon", "5.4102"], ["accuracy", "12"],
              ["location_source", "gps"], ["caption", "Photo"]]
    return {"client_id": client_id, "kind": "walk_observation", "form_version": 1, "target": {"walk_id": ctx["walk"]},
            "fields": fields, "photos": [{"slot": 0, "name": "photo", "sha": sha}], "locale": "fr",
            "created_at": "2026-11-23T09:15:00Z"}


def _send_api_photo(client, ctx, content, filename, content_type):
    """The outbox's two steps: the photo (PUT, raw bytes), then the submission that uses it."""
    token = client.get("/field/api/config").get_json()["csrf_token"]
    client_id = f"upload-{hashlib.sha256(content).hexdigest()[:12]}-0001"
    sha = hashlib.sha256(content).hexdigest()
    resp = client.put(f"/field/api/photos/{client_id}/0", data=content,
                      headers={"X-Photo-SHA256": sha, "X-CSRFToken": token, "Content-Type": content_type})
    if resp.status_code >= 400:
        return resp
    return client.post("/field/api/submissions", json=_field_item(ctx, client_id, sha), headers={"X-CSRFToken": token})


def _send_outbox_file(client, ctx, content, filename, content_type):
    client_id = f"upload-{hashlib.sha256(content).hexdigest()[:12]}-0002"
    item = _field_item(ctx, client_id, hashlib.sha256(content).hexdigest())
    item["title"] = "Marche du terrain"
    item["photos"][0]["data"] = base64.b64encode(content).decode()
    raw = json.dumps({"format": "participation-outbox", "version": 1, "exported_at": "2026-11-23T10:00:00Z",
                      "items": [item]}).encode()
    page = client.get("/field/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/field/import", data={"csrf_token": token, "outbox": (io.BytesIO(raw), "outbox.json")},
                       content_type="multipart/form-data")


def _send_questionnaire(client, ctx, content, filename, content_type):
    """Past the welcome screen (go=start), then the photo question's screen."""
    url = f"/q/{ctx['q']}"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    screen = client.post(url, data={"csrf_token": token, "easy": "0", "go": "start"}, follow_redirects=True)
    return _form_sender(lambda c: url, lambda c: url)(client, ctx, content, filename, content_type, screen)


UPLOADS["questionnaires.step"] = (UPLOADS["questionnaires.step"][0], _send_questionnaire)
UPLOADS["field.api_photo"] = (Upload("field.api_photo", "med", _field_walk), _send_api_photo)
UPLOADS["field.import_file"] = (Upload("field.import_file", "med", _field_walk), _send_outbox_file)

# --- The tests ------------------------------------------------------------------------------------------


def _stored_files(app) -> set[Path]:
    """Every file in the photo stores: UPLOAD_DIR and its siblings (-private, -private-walks,
    the field mode's staging area), as the test app configures them."""
    upload = Path(app.config["UPLOAD_DIR"])
    dirs = [d for d in upload.parent.glob(upload.name + "*") if d.is_dir()]
    if app.config.get("PRIVATE_UPLOAD_DIR"):
        dirs.append(Path(app.config["PRIVATE_UPLOAD_DIR"]))
    return {p for d in dirs for p in d.rglob("*") if p.is_file() and not p.name.startswith(".")}


def _text(resp) -> str:
    if resp.is_json:
        return json.dumps(resp.get_json(), ensure_ascii=False)
    return html.unescape(resp.get_data(as_text=True))


@pytest.fixture
def upload(request, app, demo):
    endpoint = request.param
    spec, send = UPLOADS[endpoint]
    ctx = spec.setup(app)
    db.session.remove()
    client, _token = login(app, spec.who)
    return spec, send, ctx, client


CASES = [pytest.param(endpoint, bad, id=f"{endpoint}-{bad.name}") for endpoint in UPLOADS for bad in BAD]


@pytest.mark.parametrize("upload,bad", CASES, indirect=["upload"])
def test_a_bad_file_is_refused_with_its_message_and_nothing_stored(app, upload, bad, monkeypatch):
    spec, send, ctx, client = upload
    if bad.code is None and spec.endpoint == "field.import_file":
        # The outbox file has a limit of its own (200 MB by default): lowered, not reached.
        monkeypatch.setitem(app.config, "FIELD_IMPORT_MAX_BYTES", 2 * 1024 * 1024)
    files_before = _stored_files(app)
    with WriteRecorder(db.engine) as writes:
        resp = send(client, ctx, content_of(bad, app), bad.filename, bad.content_type)
        written = writes.take()
    assert resp.status_code < 500, _text(resp)[:2000]
    if bad.code is None:
        assert resp.status_code == 413
    else:
        page = _text(resp)
        expected = message(app, bad.code)
        assert expected in page, f"{spec.endpoint} {resp.status_code}: no «{expected}» in {page[:3000]}"
        # The outbox import answers 200 with a line per item; every other route refuses with 4xx.
        assert resp.status_code >= 400 or spec.endpoint == "field.import_file", resp.status_code
    assert not written, f"refused, yet wrote to {written}"
    assert _stored_files(app) == files_before, "a refused file was stored"


@pytest.mark.parametrize("upload", list(UPLOADS), indirect=True)
def test_a_camera_photo_is_stored_re_encoded_without_exif_nor_what_followed_it(app, upload):
    spec, send, ctx, client = upload
    files_before = _stored_files(app)
    raw = camera_jpeg()
    resp = send(client, ctx, raw, "IMG_0001.jpg", "image/jpeg")
    assert resp.status_code in (200, 201, 302, 303), f"{resp.status_code}: {_text(resp)[:3000]}"
    new = _stored_files(app) - files_before
    assert new, f"{spec.endpoint}: the photo was not stored ({resp.status_code})"
    for path in new:
        stored = path.read_bytes()
        assert stored != raw
        image = Image.open(io.BytesIO(stored))
        assert image.format == "JPEG"
        assert not image.getexif(), f"{path} kept EXIF"
        assert b"TrackMeCamera" not in stored and b"<script" not in stored


def _upload_routes_in_code() -> set[str]:
    """Endpoints whose view module reads request.files or declares a FileField (by module)."""
    found = set()
    for path in (ROOT / "participation").rglob("*.py"):
        text = path.read_text()
        if "request.files" in text or "FileField" in text:
            found.add(str(path.relative_to(ROOT)))
    return found


#: Which module takes files, for which tested routes.
UPLOAD_MODULES = {
    "participation/budgets/forms.py": ("budgets.propose",),
    "participation/budgets/admin_forms.py": ("budgets_admin.milestone_add",),
    "participation/fph/forms.py": ("fph.bilan", "fph_admin.bilan_staff"),
    "participation/walks/record_views.py": ("walks.record", "walks_admin.record"),
    "participation/walks/review_forms.py": ("walks_admin.observation",),
    "participation/questionnaires/answering.py": ("questionnaires.step",),
    "participation/questionnaires/field_views.py": ("questionnaires_admin.field_form",),
    "participation/field/import_views.py": ("field.import_file",),
}


def test_every_upload_route_is_tested():
    """A module that starts reading files (request.files, a FileField) fails this until its
    routes are added above; the field API's photo upload (raw bytes) is tested as well."""
    in_code = _upload_routes_in_code()
    assert in_code == set(UPLOAD_MODULES), f"modules that take files: {sorted(in_code)}"
    tested = {e for routes in UPLOAD_MODULES.values() for e in routes} | {"field.api_photo"}
    assert tested == set(UPLOADS)
    from ..core import test_access_matrix as matrix

    assert set(UPLOADS) <= set(matrix.ENDPOINTS)
