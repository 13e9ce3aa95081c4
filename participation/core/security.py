"""Security headers on every response (strict CSP: no inline script or style anywhere)."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def csp_for(tile_url: str | None) -> str:
    """The policy, with the origin of a configured map tile server allowed for images."""
    if not tile_url:
        return CSP
    from urllib.parse import urlsplit

    parts = urlsplit(tile_url)
    if parts.scheme not in ("https", "http") or not parts.netloc or "{" in parts.netloc:
        raise ValueError("MAP_TILE_URL must be an http(s) URL with a fixed host, e.g. https://tiles.example/{z}/{x}/{y}.png")
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {parts.scheme}://{parts.netloc}")


def _headers(response):
    from flask import current_app

    h = response.headers
    h.setdefault("Content-Security-Policy", current_app.config["_CSP"])
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        # Pages carry CSRF tokens and, for staff, personal data: never store them in shared caches.
        h.setdefault("Cache-Control", "no-store")
    return response


def _refuse_nul_bytes():
    """No text a person types contains NUL; PostgreSQL refuses it in text columns. Refusing it
    here, once, gives a clear 400 on every route instead of a database error."""
    from flask import abort, request

    if "\x00" in request.path or any(
        "\x00" in value for values in (request.args, request.form) for _key, vs in values.lists() for value in vs
    ):
        abort(400)


def init_app(app) -> None:
    app.config["_CSP"] = csp_for(app.config.get("MAP_TILE_URL"))
    app.before_request(_refuse_nul_bytes)
    app.after_request(_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):

        @app.after_request
        def _hsts(response):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return response
