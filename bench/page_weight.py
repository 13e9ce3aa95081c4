"""Page weight and server time of the main pages, measured on a demo database.

Prints, per page: HTML bytes (raw and gzip), the static assets it loads (CSS, JS, images)
with their gzip size, the total transferred on a first visit, and the median / p95 render
time over N requests through the WSGI app (no network). Usage:
    .venv/bin/python bench/page_weight.py [N]
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

from flask_migrate import upgrade  # noqa: E402

from config import TestConfig  # noqa: E402
from participation import create_app  # noqa: E402
from participation.extensions import db  # noqa: E402

PAGES = ["/", "/c/aix-marseille-provence", "/q/QN01322M", "/p/FRVAX26/poster?lang1=ar&lang2=fr", "/login",
         "/b/1", "VOTE", "QUESTIONNAIRE", "QUESTIONNAIRE?lang=ar", "QUESTIONNAIRE-SECTION-1"]


def _first_section(client, path: str):
    """The first screen of questions (a POST from the start page's form), as a resident sees it."""
    start = client.get(path).get_data(as_text=True)
    form = re.search(r'<form[^>]*class="[^"]*q-start[^"]*"[^>]*>(.*?)</form>', start, re.S)
    fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(1)))
    fields["go"] = "start"
    return lambda: client.post(path, data=fields)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/bench.sqlite"
            TESTING = False

        app = create_app(Config)
        with app.app_context():
            upgrade()
            from participation.core import demo

            demo.load()
            db.session.commit()
            from participation.budgets.demo import VOTE_TITLE, demo_codes
            from participation.budgets.models import Process
            import sqlalchemy as sa

            process = db.session.scalar(sa.select(Process).filter_by(title=VOTE_TITLE))
            vote_path, code = f"/b/{process.id}/vote", demo_codes(process)[0]
            from participation.questionnaires.demo import BAROMETER_TITLE
            from participation.questionnaires.models import Questionnaire

            q_path = f"/q/{db.session.scalar(sa.select(Questionnaire.id).filter_by(title=BAROMETER_TITLE))}"
        client = app.test_client()
        client.get(f"/v/{code}")  # the QR slip puts the code in this client's session
        print(f"{'page':42} {'html':>7} {'html.gz':>8} {'assets.gz':>10} {'first visit':>12} {'p50 ms':>7} {'p95 ms':>7}")
        for path in PAGES:
            path = vote_path if path == "VOTE" else path.replace("QUESTIONNAIRE", q_path)
            fetch = (lambda p: lambda: client.get(p))(path)
            if path.endswith("-SECTION-1"):
                path = path.removesuffix("-SECTION-1")
                fetch, path = _first_section(client, path), f"{path} (POST: section 1)"
            resp = fetch()
            assert resp.status_code == 200, (path, resp.status_code)
            html = resp.data
            assets = set(re.findall(rb'(?:src|href)="(/static/[^"]+)"', html))
            assets |= {m for m in re.findall(rb'src="(/p/[^"]+)"', html)}
            asset_gz = sum(len(gzip.compress(client.get(a.decode().replace("&amp;", "&")).data)) for a in assets)
            times = []
            for _ in range(n):
                t = time.perf_counter()
                fetch()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            html_gz = len(gzip.compress(html))
            print(
                f"{path:42} {len(html):7d} {html_gz:8d} {asset_gz:10d} {html_gz + asset_gz:12d} "
                f"{statistics.median(times):7.1f} {times[int(0.95 * (n - 1))]:7.1f}"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
