#!/usr/bin/env bash
# Set everything up and serve the demo on SQLite: virtualenv, dependencies, catalogs,
# migrations, demo data, then the development server.
source "$(dirname "$0")/_env.sh" run
echo "==> Migrating the database (SQLite: var/participation.sqlite)"
.venv/bin/flask db upgrade
echo "==> Loading demo data"
.venv/bin/flask demo-data
PORT=${PORT:-5000}
echo
echo "==> Participation runs at http://127.0.0.1:${PORT}/   (staff login: http://127.0.0.1:${PORT}/login)"
echo "    Demo QR entry: http://127.0.0.1:${PORT}/p/FRVAX26   Stop with Ctrl+C."
exec .venv/bin/flask run --host 127.0.0.1 --port "$PORT"
