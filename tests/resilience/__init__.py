"""The database unable to serve for a while (read-only, locked, full, disconnected): a clear 503,
nothing half-written, and service back by itself. The heavier scenarios (gunicorn workers
killed, PostgreSQL restarted, its disk filled) are bench/resilience_*.py; docs/resilience.md."""
