"""`flask backup` and `flask restore`: a whole database to one file and back."""


def register_cli(app) -> None:
    """Placeholder until the commands land."""
