"""Site-wide pages: home, health check, accessibility statement."""
import sqlalchemy as sa
from flask import Blueprint

from ..extensions import db, limiter
from .htmx import render
from .permissions import public
from .territories import Contract

bp = Blueprint("core", __name__)


@bp.get("/")
@public
def home():
    contracts = list(db.session.scalars(sa.select(Contract).order_by(Contract.name)))
    return render("core/home.html", contracts=contracts)


@bp.get("/healthz")
@limiter.exempt  # the load balancer asks every few seconds from one address
@public
def healthz():
    from .jobs import health

    return health()


@bp.get("/errors/too-large")
@limiter.exempt
@public
def too_large():
    """The page nginx shows instead of its own English one when a body is over its
    `client_max_body_size` (`error_page 413 /errors/too-large;` fetches it with GET; see
    docs/deploy.md): the app's translated 413, in the resident's language and layout."""
    from flask import abort

    abort(413)


@bp.get("/media/<sha>.jpg")
@public
def photo(sha):
    """A stored photo (re-encoded, EXIF-free). Names are content hashes: cache forever."""
    from flask import abort, current_app, send_file

    from .photos import PhotoStore

    store = PhotoStore(current_app.config["UPLOAD_DIR"])
    try:
        if not store.exists(sha):
            abort(404)
        path = store.path(sha)
    except ValueError:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=31536000)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/accessibilite")
@public
def accessibility():
    return render("core/accessibility.html")
