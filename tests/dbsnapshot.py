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


def skip_foreign_key_checks(conn) -> None:
    """PostgreSQL checks every foreign key of every row put back with a trigger, which was most
    of a restore's time. Rows restored from a snapshot (or every table emptied) are consistent by
    construction, so the checks are skipped for this transaction only, when the test database's
    role may do so (a superuser, as on the test server). Constraints other than foreign keys
    (unique, check, not null) are still enforced."""
    if conn.dialect.name != "postgresql":
        return
    if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")


def restore(saved: list) -> None:
    """Put the database back exactly as `snapshot()` found it, in one transaction."""
    with db.engine.begin() as conn:
        skip_foreign_key_checks(conn)
        for table, _rows in reversed(saved):
            conn.execute(table.delete())
        for table, rows in saved:
            if not rows:
                continue
            if conn.dialect.name == "postgresql":
                _copy(conn, table, rows)
            else:
                conn.execute(table.insert(), rows)


def _copy(conn, table, rows: list[dict]) -> None:
    """PostgreSQL: rows in with COPY (an executemany sends one statement per row), each value
    first turned into what SQLAlchemy would have bound (enum names, JSON text…)."""
    columns = list(table.columns)
    processors = [c.type._cached_bind_processor(conn.dialect) for c in columns]
    names = ", ".join(conn.dialect.identifier_preparer.quote(c.name) for c in columns)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {conn.dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([p(row[c.name]) if p else row[c.name] for c, p in zip(columns, processors)])


def is_empty() -> bool:
    """No row in any table (what every test starts from), asked in one query."""
    tables = db.metadata.sorted_tables
    probe = sa.union_all(*(sa.select(sa.literal(1).label("x")).select_from(t).limit(1).subquery().select()
                           for t in tables)).subquery()
    with db.engine.connect() as conn:
        return conn.execute(sa.select(probe.c.x).limit(1)).first() is None
