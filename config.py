"""Configuration classes. Everything that differs between machines comes from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET = "dev-only-secret-change-me"


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
    STAFF_SESSION_HOURS = int(os.environ.get("STAFF_SESSION_HOURS", "12"))

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


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Same algorithm, lighter cost: hundreds of accounts are hashed during a test run.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def check(cls) -> None:
        if cls.SECRET_KEY == DEV_SECRET or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be set to a long random value in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
