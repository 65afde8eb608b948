"""Strings that templates translate from data values (statuses, kinds ...), marked for Babel."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


STATUS_LABELS = [
    N_("received"),
    N_("answered"),
    N_("special"),
    N_("dispatched"),
    N_("accepted"),
    N_("disputed"),
    N_("contacted"),
    N_("replied"),
    N_("called_back"),
    N_("closed"),
    N_("merged"),
]
KIND_LABELS = [N_("consult"), N_("help"), N_("complaint"), N_("report"), N_("suggestion")]
CHANNEL_LABELS = [
    N_("phone"),
    N_("web"),
    N_("app"),
    N_("wechat"),
    N_("open311"),
    N_("email"),
    N_("other"),
]
URGENCY_LABELS = [N_("emergency"), N_("timely"), N_("general"), N_("complex")]
ROLE_LABELS = [
    N_("operator"),
    N_("dispatcher"),
    N_("unit_handler"),
    N_("district_reviewer"),
    N_("admin"),
    N_("analyst"),
    N_("auditor"),
    N_("system"),
]
#: Lifecycle actions as buttons and timeline entries (`attach` and `view_personal_data` are audit notes).
ACTION_LABELS = [
    N_("receive"),
    N_("answer"),
    N_("dispose"),
    N_("dispatch"),
    N_("accept"),
    N_("dispute"),
    N_("reject_dispute"),
    N_("redispatch"),
    N_("contact"),
    N_("reply"),
    N_("callback"),
    N_("reopen"),
    N_("close"),
    N_("request_extension"),
    N_("approve_extension"),
    N_("reject_extension"),
    N_("escalate"),
    N_("add_cohandler"),
    N_("request_exclusion"),
    N_("district_approve_exclusion"),
    N_("city_approve_exclusion"),
    N_("reject_exclusion"),
    N_("merge"),
    N_("mark_overdue"),
    N_("attach"),
    N_("view_personal_data"),
]
#: Sub-process states: exclusion (申请剔除), extension, escalation (提级).
STATE_LABELS = [
    N_("none"),
    N_("requested"),
    N_("district_approved"),
    N_("excluded"),
    N_("rejected"),
    N_("approved"),
    N_("district"),
    N_("city"),
]
SPECIAL_CASE_LABELS = [
    N_("emergency_transfer"),
    N_("legal_channel"),
    N_("repeat_no_new_facts"),
    N_("secret_or_privacy"),
    N_("outside_duties"),
    N_("illegal_or_immoral"),
]
CALLBACK_LABELS = [
    N_("rated"),
    N_("not_reached"),
    N_("satisfied"),
    N_("basically_satisfied"),
    N_("dissatisfied"),
]
#: Titles of domain errors, shown to page users as flash messages.
ERROR_TITLES = [
    N_("Invalid request"),
    N_("Invalid input"),
    N_("Not found"),
    N_("Action not allowed in this state"),
    N_("Conflict"),
    N_("Not allowed for your role"),
    N_("Authentication required"),
    N_("Form expired or forged"),
]
ATTACHMENT_PURPOSES = [N_("voice"), N_("picture"), N_("video"), N_("document"), N_("evidence")]
