"""gunicorn settings, each from the environment (docs/deploy.md):

    APP_ENV=production .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app

GUNICORN_BIND            127.0.0.1:8000 (nginx in front; a unix socket: unix:/run/participation/gunicorn.sock)
GUNICORN_WORKERS         CPU + 1 sync workers (measured best: on 2 CPUs, 3 workers served 121 req/s
                         of the resident mix, 2 gave 118, 4 gave 107, 5 gave 110; ~165 MiB each)
GUNICORN_THREADS         1 (sync workers). Threads (gthread) were measured worse here: no more
                         throughput, p95 twice as long under load (the app is CPU-bound: requests
                         wait little on PostgreSQL), and one database connection per thread
GUNICORN_TIMEOUT         60 s (a synchronous CSV of a full contract takes ~2 s; the heavy files are jobs)
GUNICORN_GRACEFUL_TIMEOUT 30 s (on restart, requests under way finish first)
GUNICORN_MAX_REQUESTS    20000, with GUNICORN_MAX_REQUESTS_JITTER 2000: a worker is replaced after
                         that many requests (a slow leak cannot grow for ever; the jitter keeps them
                         from all restarting at once). Not lower: a new worker costs ~1.2 s of CPU
                         to start plus its warm-up; with 1000, one of 4 workers was replaced every
                         ~10 s at 100 req/s, and 4 x 4 gthread at 32 clients served 75 req/s
                         instead of 100 (bench/scale.py, docs/performance.md)
GUNICORN_KEEPALIVE       5 s
GUNICORN_CONTROL_SOCKET  none (gunicorn's `gunicornc` socket, off: systemd signals manage the server)
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number (got {raw!r})") from None


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)

# Each worker builds its own app (its own database and Redis connections): nothing opened
# before the fork is shared, and a code reload (`systemctl reload`) needs no preloaded copy.
preload_app = False

# Logs to stdout/stderr: systemd's journal keeps them. The access log holds addresses and URLs
# (a voter's slip code is in its URL): keep the journal short (docs/deploy.md).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The client address as the app sees it (behind nginx: X-Forwarded-For's last hop).
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The workers' heartbeat files: in memory, so that a slow disk cannot make a busy worker look dead.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

proc_name = "participation"

# gunicorn ≥ 25 opens a control socket in $HOME/.gunicorn by default; the app's home is
# read-only under systemd (ProtectSystem=strict), and reloads go through `systemctl reload`.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
