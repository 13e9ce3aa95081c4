# Shared by run.sh and test.sh: a virtualenv with the pinned dependencies, compiled catalogs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtualenv (.venv)"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)-${1:-run}
if [ ! -f "$stamp" ]; then
  echo "==> Installing dependencies"
  # setuptools too: the copy python -m venv seeds (65.5 on Python 3.11) has known vulnerabilities,
  # and pip-audit reads everything in .venv.
  .venv/bin/python -m pip install -q --upgrade pip setuptools
  if [ "${1:-run}" = test ]; then .venv/bin/python -m pip install -q -e '.[test]'; else .venv/bin/python -m pip install -q -e .; fi
  touch "$stamp"
fi
echo "==> Compiling translation catalogs"
.venv/bin/pybabel compile -d i18n --statistics
export FLASK_APP=wsgi.py
