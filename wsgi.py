"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (and `FLASK_APP=wsgi.py flask ...`).
APP_ENV picks the configuration (default: development; production refuses unsafe settings)."""
import logging
import os
import sys

from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS
from participation import create_app

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def make_app(config_class=None):
    if config_class is None:
        env = os.environ.get("APP_ENV", "development")
        if env not in CONFIGS:
            raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)} (got {env!r})")
        config_class = CONFIGS[env]
    if getattr(config_class, "LOG_TO_STDOUT", False):
        # Before create_app, so that Flask finds a handler and adds none of its own (stderr).
        root = logging.getLogger()
        if not any(getattr(h, "stream", None) is sys.stdout for h in root.handlers):
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(handler)
        root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
        # fontTools reports every table it subsets while a PDF is drawn: dozens of lines a report.
        logging.getLogger("fontTools").setLevel(logging.WARNING)
    app = create_app(config_class)
    proxies = app.config.get("TRUSTED_PROXY_COUNT") or 0
    if proxies:
        # Behind nginx every request comes from 127.0.0.1: without this, the rate limits would
        # put every resident in one bucket. Only the last `proxies` hops are believed, so a
        # client cannot pick its own address by sending X-Forwarded-For itself. The host is not
        # taken from X-Forwarded-Host: nginx passes the real Host, and a forged one must never
        # reach the absolute URLs printed in QR codes.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0)
    return app


app = make_app()
