"""Full page or htmx fragment: the one helper every view uses to render."""
from flask import make_response, render_template

from ..extensions import htmx


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render `fragment` for an htmx request that targets it, else the full `template`
    (which includes the fragment). Caches are told the answer depends on HX-Request."""
    name = fragment if (fragment and htmx and not htmx.boosted) else template
    response = make_response(render_template(name, **context), status)
    response.vary.add("HX-Request")
    return response
