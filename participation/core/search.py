"""Plain-text search helpers: what a person types is matched literally."""


def contains(column, text: str):
    """Case-insensitive "contains", with LIKE's wildcards (% and _) taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
