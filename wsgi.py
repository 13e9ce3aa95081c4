"""WSGI entry point: `gunicorn wsgi:app`. APP_ENV picks the configuration (default: development)."""
import os

from config import CONFIGS
from participation import create_app

app = create_app(CONFIGS[os.environ.get("APP_ENV", "development")])
