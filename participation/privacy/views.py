"""Privacy notice pages and the rights back office."""


def routes() -> list:
    from . import models  # noqa: F401  (the tables exist for migrations)

    return []
