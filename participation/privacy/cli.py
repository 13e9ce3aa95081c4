"""`flask privacy ...`: the retention purge and rights requests from the command line."""


def register_cli(app) -> None:
    """Placeholder until the commands land."""
