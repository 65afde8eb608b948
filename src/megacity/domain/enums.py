"""Closed vocabularies of the domain, as string enums so they serialise as themselves."""

from enum import StrEnum


class Kind(StrEnum):
    """The five statutory request types (条例 Art. 2)."""

    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议


class Channel(StrEnum):
    """Where a request came in."""

    PHONE = "phone"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    OPEN311 = "open311"
    EMAIL = "email"
    OTHER = "other"


class Urgency(StrEnum):
    """Urgency classes that select the time limits of a request."""

    EMERGENCY = "emergency"  # sudden incident, risk to life or property
    TIMELY = "timely"  # 水电气热 utilities and other time-sensitive requests
    GENERAL = "general"
    COMPLEX = "complex"  # 复杂疑难


class Status(StrEnum):
    """Where a request stands in its lifecycle; see `lifecycle.TRANSITIONS`."""

    RECEIVED = "received"
    ANSWERED = "answered"  # consult answered on the spot
    SPECIAL = "special"  # special disposition, 条例 Art. 11 (1)-(6)
    DISPATCHED = "dispatched"  # 派单
    ACCEPTED = "accepted"  # 签收
    DISPUTED = "disputed"  # 派单异议
    CONTACTED = "contacted"
    REPLIED = "replied"
    CALLED_BACK = "called_back"  # 回访
    CLOSED = "closed"
    MERGED = "merged"  # a duplicate folded into its master request


#: Statuses in which the handling unit's deadline runs: the overdue sweep marks only these, and
#: the pages count working time down (and remind the unit) only for these.
DEADLINE_RUNNING: frozenset[Status] = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.CONTACTED})


class Satisfaction(StrEnum):
    """Callback rating of the complainant."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class CallbackOutcome(StrEnum):
    """What a callback attempt produced: a rating, or nobody reached."""

    RATED = "rated"
    NOT_REACHED = "not_reached"


class ExclusionState(StrEnum):
    """The exclusion request (申请剔除) sub-process: two review levels."""

    NONE = "none"
    REQUESTED = "requested"
    DISTRICT_APPROVED = "district_approved"
    EXCLUDED = "excluded"
    REJECTED = "rejected"


class ExtensionState(StrEnum):
    """The extension request sub-process."""

    NONE = "none"
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class EscalationLevel(StrEnum):
    """Escalation (提级): the queue above the handling unit that now follows the request."""

    NONE = "none"
    DISTRICT = "district"
    CITY = "city"


class SpecialCase(StrEnum):
    """The six dispositions without dispatch of 条例 Art. 11 (1)-(6)."""

    EMERGENCY_TRANSFER = "emergency_transfer"  # (1) 110/119/120/122
    LEGAL_CHANNEL = "legal_channel"  # (2) litigation, arbitration, 信访 ...
    REPEAT_NO_NEW_FACTS = "repeat_no_new_facts"  # (3)
    SECRET_OR_PRIVACY = "secret_or_privacy"  # (4)
    OUTSIDE_DUTIES = "outside_duties"  # (5)
    ILLEGAL_OR_IMMORAL = "illegal_or_immoral"  # (6)


class Role(StrEnum):
    """Roles of users; names are the ones the CLI takes."""

    OPERATOR = "operator"  # 接线员
    DISPATCHER = "dispatcher"
    UNIT_HANDLER = "unit_handler"
    DISTRICT_REVIEWER = "district_reviewer"
    ADMIN = "admin"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    SYSTEM = "system"  # jobs such as the overdue sweep


#: Roles an account of a person may have (SYSTEM is for jobs such as the overdue sweep).
ACCOUNT_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)
