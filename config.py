"""Configuration classes. Everything that differs between machines comes from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET = "dev-only-secret-change-me"
#: Shortest SECRET_KEY (and BALLOT_KEY) accepted in production.
MIN_SECRET_LENGTH = 32


def _int_env(name: str, default: int):
    """An integer from the environment; a malformed value is kept as text, so that production's
    check lists it with the other problems instead of failing at import with a bare ValueError."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return raw


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'participation.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    #: Languages shipped with complete catalogs. Order is the switcher's order.
    LANGUAGES = {
        "fr": "Français",
        "ar": "العربية",
        "en": "English",
        "es": "Español",
        "pt": "Português",
        "tr": "Türkçe",
    }
    RTL_LANGUAGES = {"ar"}
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "i18n")
    LANGUAGE_COOKIE = "lang"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    #: A staff login ends on the server after one working shift, even on a tablet left open.
    STAFF_SESSION_HOURS = _int_env("STAFF_SESSION_HOURS", 12)

    #: Werkzeug's scrypt (n=32768): salted and memory-hard.
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    #: Photos (re-encoded, EXIF-free JPEG) are stored by content hash here.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(BASE_DIR / "var" / "uploads"))
    #: Photos shown to staff only (questionnaire answers); default: UPLOAD_DIR + "-private".
    PRIVATE_UPLOAD_DIR = os.environ.get("PRIVATE_UPLOAD_DIR")
    MAX_PHOTO_BYTES = 8 * 1024 * 1024
    #: Map tiles behind the walks' own maps, e.g. "https://tiles.example.org/{z}/{x}/{y}.png"
    #: (a server you are allowed to use; its host is added to the CSP). None: no tiles, the
    #: app draws the route and the points on a blank map, which always works offline.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL") or None
    #: Attribution shown under a tiled map (e.g. "© OpenStreetMap contributors").
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    #: Key for voter codes and ballot locators (defaults to SECRET_KEY; keep it for the
    #: life of a vote, or the printed codes stop working).
    BALLOT_KEY = os.environ.get("BALLOT_KEY")
    #: Static URLs carry a content hash (core/templating.py), so they can be cached for a year.
    SEND_FILE_MAX_AGE_DEFAULT = 31536000

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    #: Screens of a public questionnaire posted per IP (a resident posts about 6; a class of 30
    #: on one school Wi-Fi must get through, a script flooding the form must not).
    QUESTIONNAIRE_POST_LIMIT = os.environ.get("QUESTIONNAIRE_POST_LIMIT", "120 per minute")
    #: A whole meeting room shares the venue's Wi-Fi (one address): generous, but not unlimited.
    CHECKIN_POST_LIMIT = os.environ.get("CHECKIN_POST_LIMIT", "120 per minute")
    #: Observations posted during a walk per client address (walkers may share a phone's hotspot).
    WALK_RECORD_POST_LIMIT = os.environ.get("WALK_RECORD_POST_LIMIT", "120 per minute")
    #: PDF reports generated per client address (each one is drawn on demand).
    REPORT_PDF_LIMIT = os.environ.get("REPORT_PDF_LIMIT", "30 per minute")
    #: Largest outbox file a staff member may import (it carries the photos of days of work).
    FIELD_IMPORT_MAX_BYTES = int(os.environ.get("FIELD_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))

    #: Absolute base used in QR codes and posters; defaults to the request's host.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")

    #: Redis for the rate limits and the background jobs. None (the development and demo run):
    #: no queue, the long downloads are made during the request, as before.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    #: A separate Redis (or database number) for the job queue; default: REDIS_URL.
    JOBS_REDIS_URL = os.environ.get("JOBS_REDIS_URL") or None
    #: Queue name: two sites sharing one Redis need two names.
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "participation")
    #: Files made by background jobs, read by every app server: a directory they all share
    #: (default: UPLOAD_DIR + "-exports").
    EXPORT_DIR = os.environ.get("EXPORT_DIR") or None
    #: How long a finished file (and its job) is kept before it is deleted.
    EXPORT_TTL_HOURS = _int_env("EXPORT_TTL_HOURS", 24)
    #: Longest a job may run before the worker stops it.
    JOB_TIMEOUT_SECONDS = _int_env("JOB_TIMEOUT_SECONDS", 600)
    #: Reverse proxies in front of the app that append to X-Forwarded-For (nginx: 1). The client
    #: address (rate limits) is read that many hops from the right; 0 trusts no header.
    TRUSTED_PROXY_COUNT = _int_env("TRUSTED_PROXY_COUNT", 0)
    #: Logs to stdout with a timestamp and level (the development server logs its own way).
    LOG_TO_STDOUT = False

    #: Settings read as whole numbers: a typo must stop the start, with its name.
    INTEGER_SETTINGS = ("STAFF_SESSION_HOURS", "TRUSTED_PROXY_COUNT", "EXPORT_TTL_HOURS", "JOB_TIMEOUT_SECONDS")

    @classmethod
    def problems(cls) -> list[str]:
        found = []
        for name in cls.INTEGER_SETTINGS:
            value = getattr(cls, name)
            if not isinstance(value, int) or value < 0:
                found.append(f"{name} must be a whole number (got {value!r})")
        return found

    @classmethod
    def check(cls) -> None:
        """Called by create_app: raise one error that lists every problem."""
        found = cls.problems()
        if found:
            raise RuntimeError(f"Refusing to start ({cls.__name__}):\n  - " + "\n  - ".join(found))


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # No queue unless a test asks for one (tests/core/test_jobs.py): downloads stay synchronous.
    REDIS_URL = None
    JOBS_REDIS_URL = None
    # Same algorithm, lighter cost: hundreds of accounts are hashed during a test run.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


class ProductionConfig(Config):
    """APP_ENV=production: everything from the environment, and `check()` refuses to start on a
    setting that would be unsafe or would break with several workers or app servers."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    #: memory:// counts per worker process: with 2 × CPU workers a limit is multiplied as much,
    #: so production shares one count in Redis.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or Config.REDIS_URL
    #: Behind nginx by default (docs/deploy.md); 0 when gunicorn faces the clients directly.
    TRUSTED_PROXY_COUNT = _int_env("TRUSTED_PROXY_COUNT", 1)
    #: Logs go to stdout (journald keeps them; nothing writes files next to the code).
    LOG_TO_STDOUT = True

    @classmethod
    def problems(cls) -> list[str]:
        found = []
        if not cls.SECRET_KEY or cls.SECRET_KEY == DEV_SECRET or len(cls.SECRET_KEY) < MIN_SECRET_LENGTH:
            found.append(f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters"
                         " (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if cls.BALLOT_KEY is not None and len(cls.BALLOT_KEY) < MIN_SECRET_LENGTH:
            found.append(f"BALLOT_KEY, when set, must be at least {MIN_SECRET_LENGTH} characters")
        if not cls.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            found.append("DATABASE_URL must be set to a PostgreSQL database (postgresql+psycopg://user:password@host/db):"
                         " the default SQLite file cannot serve several workers or app servers")
        if not cls.REDIS_URL:
            found.append("REDIS_URL must be set (redis://host:6379/0): shared rate limits and background jobs")
        if not cls.RATELIMIT_STORAGE_URI or cls.RATELIMIT_STORAGE_URI.startswith("memory://"):
            found.append("RATELIMIT_STORAGE_URI must not be memory:// (each worker would keep its own count);"
                         " leave it unset to use REDIS_URL")
        return super().problems() + found


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
