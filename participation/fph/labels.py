"""Translated labels of FPH states and kinds, and money formatting, for templates and forms."""
from flask_babel import lazy_gettext as _l

from ..budgets.labels import money  # noqa: F401 (one way to write euros)

from ..core.channels import Assistance, Channel
from .models import AppStatus, DecisionMode, MemberRole, SourceKind

STATUSES = {
    AppStatus.submitted: _l("Received"),
    AppStatus.eligible: _l("Eligible"),
    AppStatus.ineligible: _l("Not eligible"),
    AppStatus.scheduled: _l("On the committee's agenda"),
    AppStatus.granted: _l("Granted"),
    AppStatus.refused: _l("Refused"),
    AppStatus.paid: _l("Paid"),
    AppStatus.bilan_received: _l("Bilan received"),
    AppStatus.closed: _l("Closed"),
    AppStatus.withdrawn: _l("Withdrawn"),
}
#: What the status means for the applicants, in plain words (follow page).
STATUS_HELP = {
    AppStatus.submitted: _l("We have your application. The team checks that it follows the fund's rules."),
    AppStatus.eligible: _l("Your application follows the rules. It will go to the committee."),
    AppStatus.ineligible: _l("Your application does not follow the fund's rules. The reason is below."),
    AppStatus.scheduled: _l("The committee will look at your project at its next meeting."),
    AppStatus.granted: _l("The committee said yes. The money will be paid soon."),
    AppStatus.refused: _l("The committee said no. The reason is below."),
    AppStatus.paid: _l("The money has been paid. After the project, tell us how it went (the bilan)."),
    AppStatus.bilan_received: _l("Thank you for the bilan."),
    AppStatus.closed: _l("The project is finished and closed."),
    AppStatus.withdrawn: _l("This application was withdrawn."),
}
SOURCE_KINDS = {
    SourceKind.state: _l("State"),
    SourceKind.commune: _l("Commune"),
    SourceKind.tfpb: _l("TFPB abatement"),
    SourceKind.other: _l("Other"),
}
MEMBER_ROLES = {
    MemberRole.chair: _l("Chair"),
    MemberRole.resident: _l("Resident"),
    MemberRole.partner: _l("Partner"),
    MemberRole.secretary: _l("Secretary"),
    MemberRole.observer: _l("Observer (does not vote)"),
}
DECISION_MODES = {
    DecisionMode.vote: _l("Vote (majority of the votes cast)"),
    DecisionMode.consensus: _l("Consensus"),
}
CHANNELS = {Channel.web: _l("online"), Channel.assisted: _l("with a mediator"), Channel.paper: _l("on paper")}
ASSISTANCE = {
    Assistance.read_aloud: _l("Read aloud"),
    Assistance.translated: _l("Translated"),
    Assistance.written_for: _l("Written for the residents"),
}




def register(state) -> None:
    state.app.jinja_env.globals.update(
        fph_money=money,
        fph_status_label=lambda s: str(STATUSES[s]),
        fph_status_help=lambda s: str(STATUS_HELP[s]),
        fph_source_label=lambda k: str(SOURCE_KINDS[k]),
        fph_role_label=lambda r: str(MEMBER_ROLES[r]),
        fph_mode_label=lambda m: str(DECISION_MODES[m]),
        fph_channel_label=lambda c: str(CHANNELS[c]),
        fph_assistance_label=lambda a: str(ASSISTANCE[Assistance(a)]),
    )
