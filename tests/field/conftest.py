"""Field-mode test helpers: a logged-in test client that talks to the sync API as the outbox does."""
from __future__ import annotations

import hashlib
import io
import uuid

import pytest
from PIL import Image

MEDIATOR = "mediateur@amp.demo"


class Outbox:
    """What outbox.js does, with the Flask test client: config → photos → submission."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        if self._token is None:
            resp = self.client.get("/field/api/config")
            assert resp.status_code == 200, resp.get_data(as_text=True)
            self._token = resp.get_json()["csrf_token"]
        return self._token

    def put_photo(self, client_id: str, slot: int, data: bytes, sha: str | None = None):
        return self.client.put(f"/field/api/photos/{client_id}/{slot}", data=data,
                               headers={"X-Photo-SHA256": sha or hashlib.sha256(data).hexdigest(),
                                        "X-CSRFToken": self.token(), "Content-Type": "image/jpeg"})

    def submit(self, item: dict, lang: str = "en"):
        return self.client.post(f"/field/api/submissions?lang={lang}", json=item,
                                headers={"X-CSRFToken": self.token()})

    def send(self, item: dict, photos: dict[int, bytes] | None = None, lang: str = "en"):
        """Photos first, then the submission (as the outbox sends one queued item)."""
        for slot, data in (photos or {}).items():
            resp = self.put_photo(item["client_id"], slot, data)
            assert resp.status_code in (200, 201), resp.get_data(as_text=True)
        return self.submit(item, lang)


def new_id() -> str:
    return str(uuid.uuid4())


def jpeg(color="green", size=(40, 30), exif_make: str | None = None) -> bytes:
    buf = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif_make:
        exif = Image.Exif()
        exif[0x010F] = exif_make
        image.save(buf, "JPEG", exif=exif)
    else:
        image.save(buf, "JPEG")
    return buf.getvalue()


def photo_refs(photos: dict[int, bytes], name: str = "photo") -> list[dict]:
    return [{"slot": slot, "name": name, "sha": hashlib.sha256(data).hexdigest()} for slot, data in photos.items()]


@pytest.fixture
def outbox(client, auth, demo):
    auth.login(MEDIATOR)
    return Outbox(client)
