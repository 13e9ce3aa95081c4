"""`flask backup create` / `flask backup restore`: the demo database makes the round trip exactly
(every row of every table, the sequences, the migration revision), on the backend the run uses
(SQLite, or PostgreSQL when TEST_POSTGRES_URL is set); and failures change nothing."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from participation.core.territories import Contract
from participation.extensions import db


def _quote(conn, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def fingerprint() -> dict:
    """Per table: row count and a hash of every column of every row, in primary-key order
    (all columns when there is none), read by reflection so that a table the models do not
    know (alembic_version, a stray one) counts too. Plus the state of every sequence."""
    found: dict = {}
    with db.engine.connect() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        for name, table in sorted(meta.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(table.select().order_by(*order)).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            found[name] = (len(rows), digest)
        if conn.dialect.name == "postgresql":
            for (seq,) in conn.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"):
                state = conn.exec_driver_sql(f"SELECT last_value, is_called FROM public.{_quote(conn, seq)}").one()
                found[f"sequence {seq}"] = tuple(state)
    return found


def _release():
    """The CLI replaces the database under the test's feet: hold no connection or lock."""
    db.session.remove()
    db.engine.dispose()


def _run(runner, *args):
    _release()
    result = runner.invoke(args=list(args))
    _release()
    return result


def _damage():
    """Lose rows, change values, add rows (which moves the sequences on), change the
    migration revision, drop a whole table and add a table of our own."""
    with db.engine.begin() as conn:
        from tests.dbsnapshot import skip_foreign_key_checks

        skip_foreign_key_checks(conn)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        conn.execute(sa.update(Contract).values(name="damaged"))
        conn.exec_driver_sql("DELETE FROM neighbourhoods WHERE id IN (SELECT id FROM neighbourhoods ORDER BY id LIMIT 3)")
        for i in range(5):
            conn.execute(sa.insert(Contract).values(slug=f"extra-{i}", name=f"Extra {i}", period_start=2024, period_end=2030))
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'damaged'")
        conn.exec_driver_sql("DROP TABLE short_links")
        conn.exec_driver_sql("CREATE TABLE stray (x integer)")
        conn.exec_driver_sql("INSERT INTO stray VALUES (1)")


@pytest.fixture
def backup_dir(tmp_path):
    return tmp_path


def test_round_trip_of_the_demo_is_exact(app, demo, runner, backup_dir):
    before = fingerprint()
    assert before["contracts"][0] == 2 and before["alembic_version"][0] == 1
    assert sum(n for key, (n, *_rest) in before.items() if not key.startswith("sequence")) > 1000
    path = backup_dir / "demo.backup"

    made = _run(runner, "backup", "create", str(path))
    assert made.exit_code == 0, made.output
    assert path.stat().st_size > 10_000
    rows = sum(n for key, (n, *_rest) in before.items() if not key.startswith("sequence"))
    assert f"{rows:,} rows" in made.output and f"{len(before) - sum(k.startswith('sequence') for k in before)} tables" in made.output

    _damage()
    assert fingerprint() != before

    refused = _run(runner, "backup", "restore", str(path))
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert fingerprint()["contracts"][0] == 7  # nothing restored without confirmation

    restored = _run(runner, "backup", "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    after = fingerprint()
    assert after == before, {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                             if before.get(k) != after.get(k)}
    assert "stray" not in after

    # The sequences carry on from where the backup left them, not from the damaged state.
    top = db.session.scalar(sa.select(sa.func.max(Contract.id)))
    db.session.add(Contract(slug="after-restore", name="After", period_start=2024, period_end=2030))
    db.session.commit()
    new_id = db.session.scalar(sa.select(Contract.id).filter_by(slug="after-restore"))
    assert new_id > top
    if db.engine.dialect.name == "postgresql":
        last_value, is_called = before["sequence contracts_id_seq"]
        assert new_id == (last_value + 1 if is_called else last_value)
    else:
        assert new_id == top + 1


def test_restore_into_an_empty_database_needs_no_confirmation(app, demo, runner, backup_dir):
    path = backup_dir / "demo.backup"
    assert _run(runner, "backup", "create", str(path)).exit_code == 0
    before = fingerprint()
    with db.engine.begin() as conn:
        from tests.dbsnapshot import skip_foreign_key_checks

        skip_foreign_key_checks(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    result = _run(runner, "backup", "restore", str(path))
    assert result.exit_code == 0, result.output
    assert fingerprint() == before


def test_uploads_go_along_with_with_uploads(app, demo, runner, backup_dir):
    public = Path(app.config["UPLOAD_DIR"])
    private = Path(app.config.get("PRIVATE_UPLOAD_DIR") or f"{str(public).rstrip('/')}-private")
    (public / "ab").mkdir(parents=True, exist_ok=True)
    (public / "ab" / "photo.jpg").write_bytes(b"\xff\xd8public")
    private.mkdir(parents=True, exist_ok=True)
    (private / "secret.jpg").write_bytes(b"\xff\xd8private")
    walks = Path(f"{str(private).rstrip('/')}-walks")
    walks.mkdir(parents=True, exist_ok=True)
    (walks / "walk.jpg").write_bytes(b"\xff\xd8walk")
    # the demo's walks bring photos of their own to the walks' store
    stores = (public, private, walks, Path(f"{str(private).rstrip('/')}-field"))
    expected = sum(1 for d in stores if d.is_dir() for p in d.rglob("*") if p.is_file())
    assert expected >= 3
    path = backup_dir / "demo.backup"
    try:
        made = _run(runner, "backup", "create", str(path), "--with-uploads")
        assert made.exit_code == 0, made.output
        assert f"Uploads: {expected} files" in made.output
        (public / "ab" / "photo.jpg").write_bytes(b"changed")
        (public / "later.jpg").write_bytes(b"added after the backup")
        shutil.rmtree(private)
        shutil.rmtree(walks)

        restored = _run(runner, "backup", "restore", str(path), "--yes", "--with-uploads")
        assert restored.exit_code == 0, restored.output
        assert (public / "ab" / "photo.jpg").read_bytes() == b"\xff\xd8public"
        assert not (public / "later.jpg").exists()
        assert (private / "secret.jpg").read_bytes() == b"\xff\xd8private"
        assert (walks / "walk.jpg").read_bytes() == b"\xff\xd8walk"
        assert not _leftovers(app)
    finally:
        shutil.rmtree(public, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(walks, ignore_errors=True)


def test_a_truncated_backup_changes_nothing(app, demo, runner, backup_dir):
    path = backup_dir / "demo.backup"
    assert _run(runner, "backup", "create", str(path)).exit_code == 0
    cut = backup_dir / "cut.backup"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with db.engine.begin() as conn:
        conn.execute(sa.update(Contract).values(name="changed since"))
    before = fingerprint()
    result = _run(runner, "backup", "restore", str(cut), "--yes")
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "Traceback" not in result.output
    assert fingerprint() == before


@pytest.mark.parametrize("content, message", [
    (b"", "neither a PostgreSQL archive"),
    (b"not a backup at all, just text\n" * 10, "neither a PostgreSQL archive"),
])
def test_a_file_that_is_not_a_backup_is_refused(app, demo, runner, backup_dir, content, message):
    path = backup_dir / "junk.backup"
    path.write_bytes(content)
    before = fingerprint()
    result = _run(runner, "backup", "restore", str(path), "--yes")
    assert result.exit_code == 1 and message in result.output, result.output
    assert fingerprint() == before


def test_a_backup_of_the_other_backend_is_refused(app, demo, runner, backup_dir):
    path = backup_dir / "other.backup"
    if db.engine.dialect.name == "postgresql":
        import sqlite3

        sqlite3.connect(path).execute("CREATE TABLE alembic_version (version_num text)").connection.commit()
        expected = "is a SQLite backup but the configured database is PostgreSQL"
    else:
        path.write_bytes(b"PGDMP" + b"\0" * 100)
        expected = "is a PostgreSQL backup but the configured database is SQLite"
    result = _run(runner, "backup", "restore", str(path), "--yes")
    assert result.exit_code == 1 and expected in result.output, result.output


def test_missing_or_unreadable_paths_give_clear_errors(app, demo, runner, backup_dir):
    missing = _run(runner, "backup", "restore", str(backup_dir / "nope.backup"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    nowhere = _run(runner, "backup", "create", str(backup_dir / "no-such-dir" / "x.backup"))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output
    existing = backup_dir / "there.backup"
    existing.write_bytes(b"keep me")
    refused = _run(runner, "backup", "create", str(existing))
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert existing.read_bytes() == b"keep me"
    if os.geteuid() != 0:  # root reads anything
        locked = backup_dir / "locked.backup"
        locked.write_bytes(b"x")
        locked.chmod(0)
        unreadable = _run(runner, "backup", "restore", str(locked), "--yes")
        assert unreadable.exit_code == 1 and "Cannot read" in unreadable.output
    assert not list(backup_dir.glob("*.partial"))


def test_a_sqlite_file_of_another_application_is_refused(app, demo, runner, backup_dir):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite-file check")
    import sqlite3

    path = backup_dir / "other-app.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE notes (x text)").connection.commit()
    result = _run(runner, "backup", "restore", str(path), "--yes")
    assert result.exit_code == 1 and "not a backup of this application" in result.output


def test_pg_dump_missing_or_too_old_is_explained(app, demo, runner, backup_dir, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump is only used for PostgreSQL")
    monkeypatch.setenv("PG_BIN_DIR", str(backup_dir))
    missing = _run(runner, "backup", "create", str(backup_dir / "a.backup"))
    assert missing.exit_code == 1 and "pg_dump was not found" in missing.output
    old = backup_dir / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    too_old = _run(runner, "backup", "create", str(backup_dir / "a.backup"))
    assert too_old.exit_code == 1 and "pg_dump 9 cannot dump a PostgreSQL" in too_old.output
    assert not (backup_dir / "a.backup").exists()


def _stores(app) -> list[Path]:
    public = Path(app.config["UPLOAD_DIR"])
    private = Path(app.config.get("PRIVATE_UPLOAD_DIR") or f"{str(public).rstrip('/')}-private")
    return [public, private, Path(f"{str(private).rstrip('/')}-walks"), Path(f"{str(private).rstrip('/')}-field")]


def _leftovers(app) -> list[str]:
    """Staging or old copies of this app's own stores (the folder above is shared: /tmp)."""
    mine = tuple(f".{store.name}." for store in _stores(app)) + tuple(f"{store.name}.old-" for store in _stores(app))
    parent = Path(app.config["UPLOAD_DIR"]).parent
    return [p.name for p in parent.iterdir() if p.name.startswith(mine)]


def test_uploads_are_restored_on_a_python_without_tar_filters(app, demo, runner, backup_dir, monkeypatch):
    """Debian 12's Python 3.11.2 has no tarfile filters (3.11.4 added them): extractall(filter=…)
    was a TypeError there, found by following docs/deploy.md. The members are checked by hand."""
    import tarfile

    public = _stores(app)[0]
    (public / "cd").mkdir(parents=True, exist_ok=True)
    (public / "cd" / "photo.jpg").write_bytes(b"\xff\xd8kept")
    path = backup_dir / "old-python.backup"
    try:
        assert _run(runner, "backup", "create", str(path), "--with-uploads").exit_code == 0
        (public / "cd" / "photo.jpg").write_bytes(b"changed")
        monkeypatch.delattr(tarfile, "data_filter")
        real = tarfile.TarFile.extractall

        def old_extractall(self, path=".", members=None, *, numeric_owner=False, **kwargs):
            if kwargs:
                raise TypeError(f"TarFile.extractall() got an unexpected keyword argument {next(iter(kwargs))!r}")
            return real(self, path, members, numeric_owner=numeric_owner)

        monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)
        restored = _run(runner, "backup", "restore", str(path), "--yes", "--with-uploads")
        assert restored.exit_code == 0, restored.output
        assert (public / "cd" / "photo.jpg").read_bytes() == b"\xff\xd8kept"
        assert not _leftovers(app)
    finally:
        shutil.rmtree(public / "cd", ignore_errors=True)


@pytest.mark.parametrize("entry", ["link", "dotdot", "absolute"])
def test_an_uploads_archive_with_unsafe_entries_is_refused_and_leaves_nothing(app, demo, runner, backup_dir, entry):
    import io
    import tarfile

    path = backup_dir / "unsafe.backup"
    assert _run(runner, "backup", "create", str(path)).exit_code == 0
    public = _stores(app)[0]
    public.mkdir(parents=True, exist_ok=True)
    (public / "mine.jpg").write_bytes(b"\xff\xd8before")
    with tarfile.open(path.with_name(path.name + ".uploads.tar"), "w") as tar:
        info = tarfile.TarInfo({"link": "public/evil", "dotdot": "public/../../evil.jpg",
                                "absolute": "/public/abs.jpg"}[entry])
        if entry == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    before = fingerprint()
    result = _run(runner, "backup", "restore", str(path), "--yes", "--with-uploads")
    assert result.exit_code != 0
    expected = "not an uploads archive" if entry == "absolute" else "unsafe entry"
    assert expected in result.output, result.output
    assert (public / "mine.jpg").read_bytes() == b"\xff\xd8before"  # the photos in place are untouched
    assert not _leftovers(app)
    assert not (public.parent.parent / "evil.jpg").exists()
    assert fingerprint() == before  # and the database too: the uploads are checked first
