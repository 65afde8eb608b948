"""Who may do what, and on which requests: least privilege as data.

Roles act only through the lifecycle actions listed for them; a handling unit sees only
its own (and co-handled) requests, a district reviewer only its district. Personal data is
shown unmasked only to roles that must call the complainant back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from megacity.domain.enums import Role
from megacity.domain.lifecycle import Action
from megacity.domain.tickets import Ticket

A = Action


class Permission(StrEnum):
    """Non-lifecycle capabilities."""

    CREATE_REQUEST = "create_request"
    READ_REQUESTS = "read_requests"
    ATTACH_FILES = "attach_files"
    VIEW_PERSONAL_DATA = "view_personal_data"
    READ_AUDIT_LOG = "read_audit_log"
    READ_ASSESSMENT = "read_assessment"
    PUBLISH_ASSESSMENT = "publish_assessment"
    READ_ANALYTICS = "read_analytics"
    MANAGE_USERS = "manage_users"
    READ_KEY_COMPLAINANTS = "read_key_complainants"  # 重点诉求人 directory and profiles
    MANAGE_KEY_COMPLAINANTS = "manage_key_complainants"
    ADOPT_TOPICS = "adopt_topics"  # 每月一题: adopt a proposed monthly topic, close it when solved
    CHECK_REPLIES = "check_replies"  # score a draft reply before it goes out


P = Permission
_CENTRE_ACTIONS = frozenset({A.ANSWER, A.DISPOSE, A.DISPATCH, A.CALLBACK, A.REOPEN, A.CLOSE, A.MERGE})
_DISPATCH_ACTIONS = frozenset(
    {
        A.DISPOSE,
        A.DISPATCH,
        A.REDISPATCH,
        A.REJECT_DISPUTE,
        A.MERGE,
        A.ESCALATE,
        A.ADD_COHANDLER,
        A.APPROVE_EXTENSION,
        A.REJECT_EXTENSION,
    }
)
_UNIT_ACTIONS = frozenset(
    {A.ACCEPT, A.DISPUTE, A.CONTACT, A.REPLY, A.REQUEST_EXTENSION, A.REQUEST_EXCLUSION, A.ADD_COHANDLER}
)
_REVIEW_ACTIONS = frozenset({A.DISTRICT_APPROVE_EXCLUSION, A.REJECT_EXCLUSION, A.ESCALATE})

#: Lifecycle actions each role may perform.
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: _CENTRE_ACTIONS,
    Role.DISPATCHER: _DISPATCH_ACTIONS,
    Role.UNIT_HANDLER: _UNIT_ACTIONS,
    Role.DISTRICT_REVIEWER: _REVIEW_ACTIONS,
    Role.ADMIN: frozenset(Action) - {A.RECEIVE, A.MARK_OVERDUE},
    Role.ANALYST: frozenset(),
    Role.AUDITOR: frozenset(),
    Role.SYSTEM: frozenset({A.MARK_OVERDUE}),
}

_ALL_READERS = {
    Role.OPERATOR,
    Role.DISPATCHER,
    Role.UNIT_HANDLER,
    Role.DISTRICT_REVIEWER,
    Role.ADMIN,
    Role.ANALYST,
    Role.AUDITOR,
}
#: Other capabilities of each role.
ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    P.CREATE_REQUEST: frozenset({Role.OPERATOR, Role.ADMIN}),
    P.READ_REQUESTS: frozenset(_ALL_READERS),
    P.ATTACH_FILES: frozenset({Role.OPERATOR, Role.UNIT_HANDLER, Role.ADMIN}),
    # those who must call the complainant: the centre and the handling unit
    P.VIEW_PERSONAL_DATA: frozenset({Role.OPERATOR, Role.DISPATCHER, Role.UNIT_HANDLER, Role.ADMIN}),
    P.READ_AUDIT_LOG: frozenset({Role.AUDITOR, Role.ADMIN}),
    P.READ_ASSESSMENT: frozenset(_ALL_READERS - {Role.AUDITOR}),
    P.PUBLISH_ASSESSMENT: frozenset({Role.ADMIN}),
    P.READ_ANALYTICS: frozenset({Role.ANALYST, Role.DISPATCHER, Role.DISTRICT_REVIEWER, Role.ADMIN}),
    P.MANAGE_USERS: frozenset({Role.ADMIN}),
    P.READ_KEY_COMPLAINANTS: frozenset(
        {Role.OPERATOR, Role.DISPATCHER, Role.DISTRICT_REVIEWER, Role.ANALYST, Role.ADMIN}
    ),
    P.MANAGE_KEY_COMPLAINANTS: frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN}),
    P.ADOPT_TOPICS: frozenset({Role.ANALYST, Role.ADMIN}),
    P.CHECK_REPLIES: frozenset(_ALL_READERS - {Role.AUDITOR}),
}


@dataclass(frozen=True)
class Actor:
    """An authenticated user: role plus the unit or district their view is limited to."""

    name: str
    role: Role
    unit_code: str | None = None
    district_code: str | None = None

    def may(self, permission: Permission) -> bool:
        return self.role in ROLE_PERMISSIONS[permission]

    def may_act(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.role, frozenset())

    def sees(self, ticket: Ticket) -> bool:
        """Whether the request is inside this actor's scope."""
        if self.role is Role.UNIT_HANDLER:
            return self.unit_code is not None and (
                ticket.unit_code == self.unit_code or self.unit_code in ticket.cohandlers
            )
        if self.role is Role.DISTRICT_REVIEWER:
            return self.district_code is not None and ticket.district_code == self.district_code
        return self.may(Permission.READ_REQUESTS)

    @property
    def sees_personal_data(self) -> bool:
        return self.may(Permission.VIEW_PERSONAL_DATA)
