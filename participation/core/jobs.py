"""Background jobs (RQ on Redis) for long work: PDF reports and big exports."""


def init_app(app) -> None:
    """Placeholder until the job queue lands."""


def routes() -> list:
    return []
