"""Exploratory walks on a demo database: weight and render time of the pages a walker and a
reader open (recording form, walk page, report), and the cost of the PDF report and the exports.

Prints, per page: HTML bytes (gzip), static assets it loads (gzip), first visit total, and the
median / p95 time over N requests through the WSGI app (no network); then the PDF report in
French and Arabic (bytes, p50 / p95 ms) and the GeoJSON / CSV exports. Usage:
    .venv/bin/python bench/walk_report.py [N]
"""
from __future__ import annotations

import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from config import TestConfig  # noqa: E402
from participation import create_app  # noqa: E402
from participation.extensions import db  # noqa: E402


def _times(fetch, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        resp = fetch()
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, resp.status_code
    times.sort()
    return statistics.median(times), times[int(0.95 * (n - 1))]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/bench.sqlite"
            UPLOAD_DIR = f"{tmp}/uploads"
            TESTING = False
            RATELIMIT_ENABLED = False

        app = create_app(Config)
        with app.app_context():
            upgrade()
            from participation.core import demo
            from participation.walks.demo import PLANNED_TITLE, WALK_TITLE
            from participation.walks.models import Walk

            demo.load()
            db.session.commit()
            walk = db.session.scalar(sa.select(Walk).filter_by(title=WALK_TITLE))
            planned = db.session.scalar(sa.select(Walk).filter_by(title=PLANNED_TITLE))
            walk_id, record = walk.id, f"/w/{planned.id}/record/{planned.record_key}"
            slug = walk.contract.slug
        client = app.test_client()
        pages = [record, f"{record}?lang=ar", f"/w/{walk_id}", f"/w/{walk_id}/report",
                 f"/c/{slug}/walks/observations"]
        print(f"{'page':48} {'html.gz':>8} {'assets.gz':>10} {'first visit':>12} {'p50 ms':>7} {'p95 ms':>7}")
        for path in pages:
            html = client.get(path).data
            assets = set(re.findall(rb'(?:src|href)="(/static/[^"]+)"', html))
            asset_gz = sum(len(gzip.compress(client.get(a.decode().replace("&amp;", "&")).data)) for a in assets)
            p50, p95 = _times(lambda: client.get(path), n)
            html_gz = len(gzip.compress(html))
            shown = path if len(path) <= 48 else path[:40] + "…" + path[-7:]
            print(f"{shown:48} {html_gz:8d} {asset_gz:10d} {html_gz + asset_gz:12d} {p50:7.1f} {p95:7.1f}")
        print()
        print(f"{'download':48} {'bytes':>10} {'p50 ms':>7} {'p95 ms':>7}")
        for path in (f"/w/{walk_id}/report.pdf?lang=fr", f"/w/{walk_id}/report.pdf?lang=ar",
                     f"/c/{slug}/walks/observations.geojson", f"/c/{slug}/walks/observations.csv",
                     f"/c/{slug}/walks/actions.csv"):
            size = len(client.get(path).data)
            p50, p95 = _times(lambda: client.get(path), max(5, n // 4) if path.endswith("?lang=fr")
                              or "pdf" in path else n)
            print(f"{path:48} {size:10d} {p50:7.1f} {p95:7.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
