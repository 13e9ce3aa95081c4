"""One "worker" for test_rate_limits.py: a separate process with its own app, posting to the given
paths and printing the status codes as JSON. Processes share nothing but the rate-limit storage
named on the command line, as gunicorn workers do.

    python -m tests.security.ratelimit_worker DATABASE_URL STORAGE_URI KEY_PREFIX PATH=COUNT...
"""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    database, storage, prefix, *posts = argv
    from config import TestConfig
    from participation import create_app

    class Worker(TestConfig):
        SQLALCHEMY_DATABASE_URI = database
        # Route limits are counted when the view is called, after the CSRF check: without a
        # token nothing would be counted. The paths point at nothing (404), so nothing is written.
        WTF_CSRF_ENABLED = False
        RATELIMIT_STORAGE_URI = storage
        RATELIMIT_KEY_PREFIX = prefix
        # Small limits, so that a handful of requests crosses them.
        QUESTIONNAIRE_POST_LIMIT = "5 per minute"
        VOTE_POST_LIMIT = "5 per minute"
        CHECKIN_POST_LIMIT = "5 per minute"
        WALK_RECORD_POST_LIMIT = "5 per minute"

    client = create_app(Worker).test_client()
    counts = dict(post.rsplit("=", 1) for post in posts)
    print(json.dumps({path: [client.post(path, data={}).status_code for _ in range(int(n))] for path, n in counts.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
