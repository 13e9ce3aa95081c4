"""The follow-up status workflow (pure: no database), shared by interpellations and walk
recommendations.

draft → sent → answered → in progress → done, with refused possible once sent. A closed
demand (done / refused) can be reopened to "in progress" when the answer turns out wrong.
"""
from __future__ import annotations

from datetime import date

from .models import Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.sent}),
    Status.sent: frozenset({Status.answered, Status.refused}),
    Status.answered: frozenset({Status.in_progress, Status.done, Status.refused}),
    Status.in_progress: frozenset({Status.done, Status.refused}),
    Status.done: frozenset({Status.in_progress}),
    Status.refused: frozenset({Status.in_progress}),
}

#: Still waiting for something from the institution.
OPEN = frozenset({Status.sent, Status.answered, Status.in_progress})
CLOSED = frozenset({Status.done, Status.refused})
#: Statuses that mean the institution has answered.
ANSWERED = frozenset({Status.answered, Status.in_progress, Status.done, Status.refused})


def can_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def is_overdue(status: Status, answer_due_on: date | None, action_due_on: date | None, today: date) -> bool:
    """Sent and no answer by the expected day, or answered and not done by the day promised."""
    if status is Status.sent:
        return answer_due_on is not None and answer_due_on < today
    if status in (Status.answered, Status.in_progress):
        return action_due_on is not None and action_due_on < today
    return False
