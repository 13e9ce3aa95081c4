"""Copy every row of the test database into memory and put it back, exactly: building the demo
takes seconds, putting its rows back takes a few milliseconds, so fixtures that need the demo
(or the access matrix's data set) build it once per test session and restore it per test."""
from __future__ import annotations

import sqlalchemy as sa

from participation.extensions import db


def snapshot() -> list:
    """Every row of every table, in dependency order (rows by primary key)."""
    rows = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows.append((table, [dict(r._mapping) for r in conn.execute(table.select().order_by(*order))]))
    return rows


def restore(saved: list) -> None:
    """Put the database back exactly as `snapshot()` found it, in one transaction."""
    with db.engine.begin() as conn:
        for table, _rows in reversed(saved):
            conn.execute(table.delete())
        for table, rows in saved:
            if rows:
                conn.execute(table.insert(), rows)


def is_empty() -> bool:
    """No row in any table (what every test starts from)."""
    with db.engine.connect() as conn:
        return not any(conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
                       for t in db.metadata.sorted_tables)
