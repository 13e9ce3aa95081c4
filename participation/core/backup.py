"""`flask backup create PATH` and `flask backup restore PATH`: a whole database to one file and back.

PostgreSQL: `pg_dump` custom format (compressed, restorable table by table with `pg_restore`),
taken inside an exported snapshot so that the row counts printed are exactly those in the
file. A restore replaces everything in the `public` schema in ONE transaction: the old objects
are dropped and the archive is replayed through `psql`, and COMMIT is only sent once
`pg_restore` has produced the whole script; any error (or a truncated archive) rolls the lot
back, so the database is never left half-restored.

SQLite: the online backup API (consistent even while the app writes), to and from a plain
SQLite file; the destination of a restore is replaced in one write transaction.

`--with-uploads` also saves the photo directories (UPLOAD_DIR, PRIVATE_UPLOAD_DIR and its -walks and
-field stores) to
`PATH.uploads.tar`, and puts them back on restore.

Operator commands: messages are in English like the other `flask` commands (core/cli.py).
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
UPLOADS_SUFFIX = ".uploads.tar"


class BackupError(click.ClickException):
    """A failure explained to the operator; exit status 1, nothing changed."""


@dataclass
class Summary:
    tables: dict[str, int] = field(default_factory=dict)
    revision: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --- helpers shared by both backends -------------------------------------------------------

def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _summarise(conn) -> Summary:
    """Rows per table and the migration revision, as seen by this connection's snapshot."""
    names = sorted(sa.inspect(conn).get_table_names())
    prep = conn.dialect.identifier_preparer
    summary = Summary()
    for name in names:
        summary.tables[name] = conn.execute(sa.text(f"SELECT count(*) FROM {prep.quote(name)}")).scalar_one()
    if "alembic_version" in names:
        summary.revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return summary


def _print_summary(verb: str, summary: Summary, verbose: bool) -> None:
    filled = sum(1 for n in summary.tables.values() if n)
    click.echo(f"{verb} {len(summary.tables)} tables ({filled} with rows), {summary.rows:,} rows; "
               f"migration revision {summary.revision or 'none'}.")
    if verbose:
        for name, n in summary.tables.items():
            click.echo(f"  {name:40} {n:>10,}")


def _database_url() -> sa.engine.URL:
    return sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _release_connections() -> None:
    """This process must hold no lock on what is about to be replaced."""
    db.session.remove()
    db.engine.dispose()


def _check_target(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a directory: give a file name, e.g. {path / 'participation.dump'}")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist.")
    if not os.access(path.parent, os.W_OK):
        raise BackupError(f"Cannot write in {path.parent} (permission denied).")
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists: choose another name or add --overwrite.")


def _check_source(path: Path) -> bytes:
    """The file's first bytes (to tell the format), or a clear error."""
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        with path.open("rb") as f:
            return f.read(16)
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _format_of(head: bytes) -> str | None:
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    return None


def _existing_rows(conn) -> tuple[int, int]:
    """(rows, tables with rows) in the target, migration bookkeeping excluded."""
    summary = _summarise(conn)
    data = {k: v for k, v in summary.tables.items() if k != "alembic_version"}
    return sum(data.values()), sum(1 for v in data.values() if v)


def _head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    return set(ScriptDirectory(directory).get_heads())


# --- uploads --------------------------------------------------------------------------------

def _upload_dirs() -> dict[str, Path]:
    config = current_app.config
    public = config["UPLOAD_DIR"]
    private = config.get("PRIVATE_UPLOAD_DIR") or f"{public.rstrip('/')}-private"
    # Walk and field photos have stores of their own beside the private one (walks/services.py,
    # field/services.py): a backup without them would restore observations with missing photos.
    return {"public": Path(public), "private": Path(private), "private-walks": Path(f"{private.rstrip('/')}-walks"),
            "private-field": Path(f"{private.rstrip('/')}-field")}


def _save_uploads(tar_path: Path) -> tuple[int, int]:
    """Every photo directory into one tar (photos are JPEG already: no compression)."""
    files = size = 0
    tmp = tar_path.with_name(tar_path.name + ".partial")
    try:
        with tarfile.open(tmp, "w") as tar:
            for label, directory in _upload_dirs().items():
                if not directory.is_dir():
                    continue
                tar.add(directory, arcname=label)
                for p in directory.rglob("*"):
                    if p.is_file():
                        files += 1
                        size += p.stat().st_size
        os.replace(tmp, tar_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"Cannot write the uploads archive {tar_path}: {exc.strerror or exc}.") from exc
    return files, size


def _checked_members(members: list[tarfile.TarInfo]) -> list[tarfile.TarInfo]:
    """What tarfile's "data" filter allows, checked by hand for a Python that has no filters
    (before 3.11.4, e.g. Debian 12's 3.11.2): plain files and directories only, no absolute path,
    no "..", nothing but read/write permission bits kept."""
    for m in members:
        parts = Path(m.name).parts
        if m.name.startswith(("/", "\\")) or ".." in parts or not (m.isfile() or m.isdir()):
            raise BackupError(f"unsafe entry {m.name!r} (only plain files and folders are restored)")
        m.mode &= 0o755 if m.isdir() else 0o644
        m.uid = m.gid = 0
        m.uname = m.gname = ""
    return members


def _extract(tar: tarfile.TarFile, stage: Path, members: list[tarfile.TarInfo]) -> None:
    members = _checked_members(members)
    if hasattr(tarfile, "data_filter"):
        # filter="data": no absolute paths, no links out of the directory, no devices.
        tar.extractall(stage, members=members, filter="data")
    else:
        tar.extractall(stage, members=members, numeric_owner=True)


def _unpack_uploads(tar_path: Path) -> dict[str, Path]:
    """Extract to temporary directories beside the real ones (same file system, so the final
    swap is a rename); nothing in place is touched yet."""
    if not tar_path.is_file():
        raise BackupError(f"--with-uploads: {tar_path} does not exist (it is written by `flask backup create --with-uploads`).")
    staged: dict[str, Path] = {}
    try:
        with tarfile.open(tar_path, "r") as tar:
            members = tar.getmembers()
            labels = set(_upload_dirs())
            bad = [m.name for m in members if m.name.split("/", 1)[0] not in labels]
            if bad:
                raise BackupError(f"{tar_path} is not an uploads archive (unexpected entry {bad[0]!r}).")
            for label, target in _upload_dirs().items():
                target.parent.mkdir(parents=True, exist_ok=True)
                stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
                staged[label] = stage
                chosen = [m for m in members if m.name == label or m.name.startswith(label + "/")]
                _extract(tar, stage, chosen)
    except (tarfile.TarError, OSError) as exc:
        _discard(staged)
        raise BackupError(f"Cannot read the uploads archive {tar_path}: {exc}.") from exc
    except BaseException:  # BackupError, or anything unexpected: no staging folder is left behind
        _discard(staged)
        raise
    return staged


def _swap_uploads(staged: dict[str, Path]) -> int:
    files = 0
    for label, target in _upload_dirs().items():
        fresh = staged[label] / label
        if not fresh.is_dir():
            fresh.mkdir()
        files += sum(1 for p in fresh.rglob("*") if p.is_file())
        old = None
        if target.exists():
            old = target.with_name(f"{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(fresh, target)
        shutil.rmtree(staged[label], ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return files


def _discard(staged: dict[str, Path] | None) -> None:
    for stage in (staged or {}).values():
        shutil.rmtree(stage, ignore_errors=True)


# --- SQLite ---------------------------------------------------------------------------------

def _sqlite_file(url: sa.engine.URL) -> str | None:
    return url.database if url.database and url.database != ":memory:" else None


def _sqlite_create(path: Path) -> Summary:
    tmp = path.with_name(path.name + ".partial")
    tmp.unlink(missing_ok=True)
    raw = db.engine.raw_connection()
    try:
        dest = sqlite3.connect(tmp)
        try:
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
        engine = sa.create_engine(f"sqlite:///{tmp}")
        with engine.connect() as conn:
            summary = _summarise(conn)
        engine.dispose()
        os.replace(tmp, path)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"The backup failed: {exc}.") from exc
    finally:
        raw.close()
    return summary


def _sqlite_validate(path: Path) -> Summary:
    """Open the archive read-only and check it is whole and is this app's database."""
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = src.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a readable SQLite backup: {exc}.") from exc
    if verdict != "ok":
        raise BackupError(f"{path} is damaged (SQLite integrity check: {verdict}).")
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            summary = _summarise(conn)
    finally:
        engine.dispose()
    if summary.revision is None:
        raise BackupError(f"{path} is a SQLite database but not a backup of this application (no alembic_version).")
    return summary


def _sqlite_restore(path: Path) -> None:
    _release_connections()
    raw = db.engine.raw_connection()
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            # One step (pages=-1): the destination is replaced in a single write transaction,
            # rolled back whole if anything fails.
            src.backup(raw.driver_connection)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"The restore failed, the database is unchanged: {exc}.") from exc
    finally:
        raw.close()
    db.engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    """The client program, from PG_BIN_DIR if set (to pick a version), else from PATH."""
    directory = current_app.config.get("PG_BIN_DIR") or os.environ.get("PG_BIN_DIR")
    found = shutil.which(name, path=directory) if directory else shutil.which(name)
    if not found:
        where = f" in {directory}" if directory else " on the PATH"
        raise BackupError(f"{name} was not found{where}: install the PostgreSQL client tools "
                          f"(Debian: apt-get install postgresql-client) or set PG_BIN_DIR.")
    return found


def _tool_major(program: str) -> int:
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise BackupError(f"Cannot tell the version of {program} ({out.strip()!r}).")
    return int(match.group(1))


def _libpq(url: sa.engine.URL) -> tuple[str, dict]:
    """A libpq connection URI without the password (it would show in `ps`), and the
    environment carrying the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _pg_server_major(conn) -> int:
    return int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000


def _pg_create(path: Path) -> Summary:
    pg_dump = _pg_tool("pg_dump")
    uri, env = _libpq(_database_url())
    tmp = path.with_name(path.name + ".partial")
    with db.engine.connect() as conn:
        server = _pg_server_major(conn)
    client = _tool_major(pg_dump)
    if client < server:
        raise BackupError(f"pg_dump {client} cannot dump a PostgreSQL {server} server: install the "
                          f"version {server} client tools (postgresql-client-{server}) or set PG_BIN_DIR.")
    # pg_dump reads the exported snapshot: the counts printed are those in the file.
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            summary = _summarise(conn)
            done = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={tmp}", f"--dbname={uri}"],
                env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()}")
    os.replace(tmp, path)
    return summary


#: Everything the app owns lives in `public`: drop it all (tables take their sequences,
#: indexes and constraints with them; then views, types and routines), keeping the schema
#: itself with its owner and grants. Objects belonging to an extension are left alone.
DROP_PUBLIC = r"""
DO $drop$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT format('DROP %s IF EXISTS public.%I CASCADE',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                 WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                 ELSE 'TABLE' END, c.relname) AS stmt
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relkind DESC
  LOOP EXECUTE r.stmt; END LOOP;
  FOR r IN
    SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname) AS stmt
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'c')
      AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
  LOOP EXECUTE r.stmt; END LOOP;
  FOR r IN
    SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) AS stmt
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP EXECUTE r.stmt; END LOOP;
END
$drop$;
"""


def _pg_validate(path: Path) -> tuple[str, list[str]]:
    """(pg_restore, the archive's table of contents) or a clear error if unreadable."""
    pg_restore = _pg_tool("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"{path} cannot be read by pg_restore: {listing.stderr.strip()}")
    toc = listing.stdout.splitlines()
    if not any(" TABLE public alembic_version " in line for line in toc):
        raise BackupError(f"{path} is a PostgreSQL archive but not a backup of this application (no alembic_version).")
    return pg_restore, toc


def _pg_restore(path: Path, pg_restore: str) -> None:
    psql = _pg_tool("psql")
    uri, env = _libpq(_database_url())
    _release_connections()
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        # The archive becomes a SQL script streamed into psql. psql gets BEGIN first and COMMIT
        # only after pg_restore has exited cleanly: if the archive is cut short, psql reaches the
        # end of its input inside the transaction and the server rolls it all back.
        writer = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(path)],
            stdout=subprocess.PIPE, stderr=restore_err)
        reader = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={uri}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env)
        try:
            # A busy app would make the DROPs wait for ever; better to fail and say why.
            reader.stdin.write(b"BEGIN;\nSET LOCAL lock_timeout = '30s';\n" + DROP_PUBLIC.encode() + b"\n")
            while chunk := writer.stdout.read(1 << 16):
                reader.stdin.write(chunk)
            if writer.wait() == 0:
                reader.stdin.write(b"\nCOMMIT;\n")
            reader.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped on an error: its message says which
        finally:
            writer.stdout.close()
            writer.wait()
            reader.wait()
        restore_err.seek(0)
        psql_err.seek(0)
        if writer.returncode != 0:
            raise BackupError("The restore failed, the database is unchanged: pg_restore: "
                              + restore_err.read().decode(errors="replace").strip())
        if reader.returncode != 0:
            raise BackupError("The restore failed, the database is unchanged: psql: "
                              + psql_err.read().decode(errors="replace").strip())
    db.engine.dispose()


# --- commands -------------------------------------------------------------------------------

def register_cli(app) -> None:
    @app.cli.group("backup")
    def backup():
        """Save the whole database (and optionally the photos) to a file, or put it back."""

    @backup.command("create")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--with-uploads", is_flag=True, help="Also save the photo directories (UPLOAD_DIR, PRIVATE_UPLOAD_DIR and its -walks and -field stores) to PATH.uploads.tar.")
    @click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
    @click.option("-v", "--verbose", is_flag=True, help="List the rows of every table.")
    @with_appcontext
    def create(path: Path, with_uploads: bool, overwrite: bool, verbose: bool):
        """Write the configured database to PATH (PostgreSQL: pg_dump custom format; SQLite: a copy)."""
        url = _database_url()
        _check_target(path, overwrite)
        if with_uploads:
            _check_target(path.with_name(path.name + UPLOADS_SUFFIX), overwrite)
        if url.get_backend_name() == "postgresql":
            summary = _pg_create(path)
            kind = "PostgreSQL custom-format archive"
        elif url.get_backend_name() == "sqlite":
            if not _sqlite_file(url):
                raise BackupError("The configured database is in memory: there is nothing durable to back up.")
            summary = _sqlite_create(path)
            kind = "SQLite database"
        else:
            raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
        click.echo(f"Backup written to {path} ({kind}, {_human(path.stat().st_size)}).")
        _print_summary("Saved", summary, verbose)
        if with_uploads:
            tar_path = path.with_name(path.name + UPLOADS_SUFFIX)
            files, size = _save_uploads(tar_path)
            click.echo(f"Uploads: {files} files ({_human(size)}) written to {tar_path}.")

    @backup.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
    @click.option("--with-uploads", is_flag=True, help="Also put back the photos from PATH.uploads.tar.")
    @click.option("-v", "--verbose", is_flag=True, help="List the rows of every table.")
    @with_appcontext
    def restore(path: Path, yes: bool, with_uploads: bool, verbose: bool):
        """Replace the configured database with the backup in PATH (stop the app first)."""
        url = _database_url()
        backend = url.get_backend_name()
        found = _format_of(_check_source(path))
        if found is None:
            raise BackupError(f"{path} is neither a PostgreSQL archive (pg_dump -Fc) nor a SQLite database.")
        if found != backend:
            names = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
            raise BackupError(f"{path} is a {names[found]} backup but the configured database is "
                              f"{names.get(backend, backend)}: restore it into a {names[found]} database.")
        if backend == "sqlite" and not _sqlite_file(url):
            raise BackupError("The configured database is in memory: restore into a database file.")
        # Everything that can be checked is checked before anything is touched.
        pg_restore = None
        if backend == "sqlite":
            _sqlite_validate(path)
        else:
            pg_restore, _toc = _pg_validate(path)
        with db.engine.connect() as conn:
            rows, tables = _existing_rows(conn)
        if rows and not yes:
            raise BackupError(f"The configured database holds data ({rows:,} rows in {tables} tables); "
                              f"restoring replaces all of it. Add --yes to confirm.")
        staged = _unpack_uploads(path.with_name(path.name + UPLOADS_SUFFIX)) if with_uploads else None
        try:
            if backend == "sqlite":
                _sqlite_restore(path)
            else:
                _pg_restore(path, pg_restore)
        except BaseException:
            _discard(staged)
            raise
        # The photos go in at once, before anything else can fail and leave them staged.
        files = _swap_uploads(staged) if staged is not None else None
        with db.engine.connect() as conn:
            summary = _summarise(conn)
        click.echo(f"Database restored from {path}.")
        _print_summary("Restored", summary, verbose)
        if files is not None:
            click.echo(f"Uploads restored: {files} files.")
        heads = _head_revisions()
        if summary.revision not in heads:
            click.echo(f"Note: the backup's migration revision ({summary.revision}) is not this code's "
                       f"({', '.join(sorted(heads))}): run `flask db upgrade`.")
