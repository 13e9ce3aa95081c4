#!/usr/bin/env bash
# The whole test suite: on SQLite, then on PostgreSQL when a server answers
# (TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
# REQUIRE_POSTGRES=1 (set by .ci/run) turns a missing PostgreSQL into a failure.
# Extra arguments go to pytest.
source "$(dirname "$0")/_env.sh" test
if command -v npm >/dev/null 2>&1 && [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "==> Installing axe-core (npm)"
  npm ci --no-audit --no-fund --silent || echo "   npm could not install axe-core: the copy bundled with axe-playwright-python is used"
fi

run_pytest() {
  # pytest exits 5 when no test ran: that is a failure here.
  set +e
  .venv/bin/python -m pytest "$@"
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
  TEST_POSTGRES_URL="$PG" run_pytest "$@"
else
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "!! PostgreSQL is required but does not answer at $PG"; exit 1
  fi
  echo "==> SKIPPED: PostgreSQL tests (no server answers at $PG; see ../shared/services.md)"
fi
