"""Fresh databases for a test run: a temporary SQLite file, or a new PostgreSQL database
(`participation_test_<random>`) when TEST_POSTGRES_URL names a server."""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import sqlalchemy as sa

PG_ENV = "TEST_POSTGRES_URL"


def backend() -> str:
    return "postgresql" if os.environ.get(PG_ENV) else "sqlite"


@contextlib.contextmanager
def fresh_database(label: str):
    server = os.environ.get(PG_ENV)
    if not server:
        with tempfile.TemporaryDirectory(prefix="participation-") as tmp:
            yield f"sqlite:///{Path(tmp) / (label + '.sqlite')}"
        return
    name = f"participation_test_{label}_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A test database is thrown away: a commit need not wait for the disk (most of a
        # PostgreSQL test's time was that wait). What other sessions see is unchanged.
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
