"""How a contribution reached the app, shared by every mechanism (and counted apart in results)."""
import enum


class Channel(enum.Enum):
    #: the resident, on their own device (web or QR)
    web = "web"
    #: a mediator entered it with the resident, helping (see `Assistance`)
    assisted = "assisted"
    #: typed in by staff from a paper form
    paper = "paper"


class Assistance(enum.Enum):
    """The kind of help a mediator gave (a contribution can have several)."""

    read_aloud = "read_aloud"
    translated = "translated"
    written_for = "written_for"
