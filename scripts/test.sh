#!/usr/bin/env bash
# The whole test suite: on SQLite, then on PostgreSQL when a server answers
# (TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
# REQUIRE_POSTGRES=1 (set by .ci/run) turns a missing PostgreSQL into a failure.
# Tests run in parallel on every core (TEST_WORKERS, default auto; 0 = one process).
# On PostgreSQL the browser journeys and the route × role access matrix are left out: they
# check pages and permissions, which do not depend on the database, and they are most of the
# suite's time (the matrix alone restores the demo 1,500 times); every database rule, race and
# constraint test runs on both. FULL_POSTGRES=1 (or naming tests) runs them on PostgreSQL too.
# Extra arguments go to pytest.
source "$(dirname "$0")/_env.sh" test
if command -v npm >/dev/null 2>&1 && [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "==> Installing axe-core (npm)"
  npm ci --no-audit --no-fund --silent || echo "   npm could not install axe-core: the copy bundled with axe-playwright-python is used"
fi

WORKERS=${TEST_WORKERS:-auto}
PARALLEL=()
[ "$WORKERS" != 0 ] && PARALLEL=(-n "$WORKERS")
PG_ONLY=(--ignore=tests/browser --ignore=tests/core/test_access_matrix.py)
# (only for the whole suite: tests named on the command line run on both databases)
if [ "${FULL_POSTGRES:-0}" = 1 ] || [ $# -gt 0 ]; then PG_ONLY=(); fi

run_pytest() {
  # pytest exits 5 when no test ran: that is a failure here.
  set +e
  .venv/bin/python -m pytest "${PARALLEL[@]}" "$@"
  local rc=$?
  set -e
  if [ $rc -eq 5 ]; then echo "!! no tests ran"; return 1; fi
  return $rc
}

echo "==> Checking models against migrations (SQLite)"
tmpdb=$(mktemp -d)
DATABASE_URL="sqlite:///$tmpdb/check.sqlite" .venv/bin/flask db upgrade
DATABASE_URL="sqlite:///$tmpdb/check.sqlite" .venv/bin/flask db check
rm -rf "$tmpdb"

echo "==> Tests on SQLite"
unset TEST_POSTGRES_URL_ACTIVE
TEST_POSTGRES_URL= run_pytest "$@"

PG=${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if .venv/bin/python - "$PG" <<'PYEOF' 2>/dev/null
import sys, sqlalchemy as sa
sa.create_engine(sys.argv[1], connect_args={"connect_timeout": 3}).connect().close()
PYEOF
then
  echo "==> Checking models against migrations (PostgreSQL)"
  checkdb="participation_check_$$"
  .venv/bin/python - "$PG" "$checkdb" create <<'PYEOF'
import sys, sqlalchemy as sa
e = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with e.connect() as c:
    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
    c.execute(sa.text(f'CREATE DATABASE "{sys.argv[2]}"'))
PYEOF
  checkurl=$(.venv/bin/python -c "import sys, sqlalchemy as sa; print(sa.engine.make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))" "$PG" "$checkdb")
  status=0
  DATABASE_URL="$checkurl" .venv/bin/flask db upgrade && DATABASE_URL="$checkurl" .venv/bin/flask db check || status=$?
  .venv/bin/python - "$PG" "$checkdb" <<'PYEOF'
import sys, sqlalchemy as sa
e = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with e.connect() as c:
    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
PYEOF
  [ $status -eq 0 ] || exit $status
  echo "==> Tests on PostgreSQL (a fresh database per run)"
  TEST_POSTGRES_URL="$PG" run_pytest "${PG_ONLY[@]}" "$@"
else
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "!! PostgreSQL is required but does not answer at $PG"; exit 1
  fi
  echo "==> SKIPPED: PostgreSQL tests (no server answers at $PG; see ../shared/services.md)"
fi
