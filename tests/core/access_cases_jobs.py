"""Access-matrix cases for the background jobs' page and file (merged into
tests/core/test_access_matrix.py). The matrix's app has no job queue, so a job id names nothing
there: whoever asks, the answer is a refusal (anonymous: the login page; an account without a
role: 403; staff: the 404 of an unknown job). Who sees a real job (only the staff member who
asked, while they may still read its selection) is tested against Redis in test_jobs.py."""
from __future__ import annotations

#: Well-formed (32 URL-safe characters) but never issued.
UNKNOWN = "Zq3Xv9Lm2Rt7Yp4Wn8Ks1Hd6Gf5Jc0Bb"


def fixtures(amp, nar) -> dict:
    return {}


EXPECTED: dict = {
    "jobs.status": [("unknown", "GET", lambda f: f"/jobs/{UNKNOWN}", set())],
    "jobs.download": [("unknown", "GET", lambda f: f"/jobs/{UNKNOWN}/file", set())],
}
