"""Full page or htmx fragment: the one helper every view uses to render."""
from flask import make_response, render_template

from ..extensions import htmx


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render `fragment` for an htmx request that targets it, else the full `template`
    (which includes the fragment). Caches are told the answer depends on HX-Request.
    A history restore (back button after hx-push-url) needs the whole page."""
    partial = fragment and htmx and not htmx.boosted and not htmx.history_restore_request
    name = fragment if partial else template
    response = make_response(render_template(name, **context), status)
    response.vary.add("HX-Request")
    return response
