"""Access-matrix cases of the field-mode pages (home, offline page, service worker, manifest),
merged through access_cases.py.

The field-mode page is for staff (it lists the forms their roles allow); the offline page, the
service worker and the manifest hold nothing personal and must load for anyone (the worker and
the manifest are fetched by the browser itself, the offline page is cached by the worker)."""
from __future__ import annotations

from ..core.matrix_users import EVERYONE, STAFF

EXPECTED: dict = {
    "field.home": [("-", "GET", lambda f: "/field/", STAFF)],
    "field.offline": [("-", "GET", lambda f: "/field/offline", EVERYONE),
                      ("shift", "GET", lambda f: "/field/offline?reason=shift", EVERYONE)],
    "field.service_worker": [("-", "GET", lambda f: "/sw.js", EVERYONE)],
    "field.manifest": [("-", "GET", lambda f: "/manifest.webmanifest", EVERYONE)],
}
