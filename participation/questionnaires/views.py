"""Answering questionnaires (public: QR / short link, no account)."""
from flask import Blueprint

from . import models  # noqa: F401  (the models are part of the app's metadata)

bp = Blueprint("questionnaires", __name__)
