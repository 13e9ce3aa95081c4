"""Translated labels of the follow-up workflow, for templates and exports."""
from flask_babel import lazy_gettext as _l

from .models import InstitutionKind, Kind, Status

STATUSES = {
    Status.draft: _l("Draft"),
    Status.sent: _l("Sent, awaiting an answer"),
    Status.answered: _l("Answer received"),
    Status.in_progress: _l("In progress"),
    Status.done: _l("Done"),
    Status.refused: _l("Refused"),
}
KINDS = {Kind.interpellation: _l("Interpellation"), Kind.recommendation: _l("Recommendation")}
INSTITUTION_KINDS = {
    InstitutionKind.city: _l("City"),
    InstitutionKind.metropolis: _l("Metropolis / intercommunality"),
    InstitutionKind.landlord: _l("Social landlord (bailleur)"),
    InstitutionKind.state: _l("State (préfecture, services)"),
    InstitutionKind.caf: _l("CAF (family allowances)"),
    InstitutionKind.department: _l("Department"),
    InstitutionKind.region: _l("Region"),
    InstitutionKind.transport: _l("Transport operator"),
    InstitutionKind.other: _l("Other"),
}


def error_message(code: str) -> str:
    """A translated, plain-language message for a `services.FollowUpError` code."""
    from flask_babel import gettext as _

    texts = {
        "transition": lambda: _("This step is not possible from the demand's current status."),
        "no_institution": lambda: _("Choose the institution the demand is addressed to."),
        "before_sent": lambda: _("This date is before the day the demand was sent."),
        "future": lambda: _("This date is in the future: record a step once it has happened."),
        "empty_note": lambda: _("Write the note."),
        "institution_elsewhere": lambda: _("Choose an institution from the list."),
        "institution_retired": lambda: _("This institution is retired: choose another one from the list."),
        "institution_name": lambda: _("Give the institution a name."),
        "institution_exists": lambda: _("An institution already has this name."),
        "answer_days": lambda: _("Give a number of days greater than zero."),
        "title": lambda: _("Give the demand a title."),
        "category_elsewhere": lambda: _("Choose a défi or an orientation from the list."),
        "due_before_sent": lambda: _("A due date cannot be before the day the demand was sent."),
        "answer_due_required": lambda: _("A demand that was sent needs the date an answer is expected by."),
        "answer_required": lambda: _("Write the institution's answer."),
    }
    return texts.get(code, lambda: _("This action is not possible now."))()


#: Which field of the back-office forms an error code belongs to (for the message next to it).
ERROR_FIELDS = {
    "transition": "target",
    "no_institution": "institution",
    "before_sent": "on",
    "future": "on",
    "empty_note": "note",
    "institution_elsewhere": "institution",
    "institution_retired": "institution",
    "institution_name": "name",
    "institution_exists": "name",
    "answer_days": "answer_days",
    "title": "title",
    "category_elsewhere": "category",
    "due_before_sent": "answer_due_on",
    "answer_due_required": "answer_due_on",
    "answer_required": "answer",
}
