"""How a demo request is handled after intake: the steps, their times and their outcomes.

The demo history feeds the same lifecycle, reports and assessment as real data, so every
step must be a legal action (`megacity.domain.lifecycle.apply`) at a plausible time. The
shares below are what a Beijing-style hotline roughly looks like — most units contact the
complainant within the response limit, reply within days, and most callbacks are resolved
and satisfied — but each is a named constant so that the demo says what it assumes.

Deadlines are *not* set here: the caller computes ``deadline_at`` from the profile's
calendar for the actions in `NEEDS_DEADLINE`. The time limits are only used to decide
whether a step is on time or late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from megacity.domain.calendar import LimitUnit, TimeLimit, WorkingCalendar
from megacity.domain.enums import (
    CallbackOutcome,
    EscalationLevel,
    Kind,
    Role,
    Satisfaction,
    SpecialCase,
    Urgency,
)
from megacity.domain.lifecycle import Action
from megacity.domain.profile import TimeLimits

#: Actions whose ``deadline_at`` the caller adds from the calendar.
NEEDS_DEADLINE = frozenset({"dispatch", "redispatch", "reopen", "request_extension", "approve_extension"})

ANSWERED_CONSULT_SHARE = 0.5  # consults answered on the spot, the rest is dispatched
SPECIAL_SHARE = 0.02  # special dispositions (条例 Art. 11)
REPEAT_DISPOSED_SHARE = 0.25  # repeats closed as "no new facts"
DISPATCH_ON_TIME = 0.98
DISPUTE_SHARE = 0.03
REDISPATCH_AFTER_DISPUTE = 0.6
RESPONSE_ON_TIME = 0.95
REPLY_ON_TIME = 0.92
EXTENSION_SHARE: dict[Urgency, float] = {Urgency.GENERAL: 0.03, Urgency.COMPLEX: 0.12, Urgency.TIMELY: 0.01}
EXTENSION_APPROVED = 0.85
ESCALATION_SHARE = 0.01
COHANDLER_SHARE = 0.02
NOT_REACHED_SHARE = 0.03
RESOLVED_SHARE = 0.9
REOPEN_UNRESOLVED_SHARE = 0.3
EXCLUSION_DISSATISFIED_SHARE = 0.13
#: Satisfaction given resolved / unresolved: realistic correlation, ~80/12/8 % overall.
RATINGS: dict[bool, tuple[float, float]] = {True: (0.87, 0.98), False: (0.10, 0.35)}

_SPECIAL_REASONS: dict[SpecialCase, str] = {
    SpecialCase.EMERGENCY_TRANSFER: "涉及人身安全，已转110/119/120处置",
    SpecialCase.LEGAL_CHANNEL: "已进入诉讼程序，告知来电人通过法定途径解决",
    SpecialCase.REPEAT_NO_NEW_FACTS: "重复诉求，无新情况、新理由",
    SpecialCase.SECRET_OR_PRIVACY: "涉及个人隐私，不予派单",
    SpecialCase.OUTSIDE_DUTIES: "不属于本市行政机关职责范围，已告知来电人",
    SpecialCase.ILLEGAL_OR_IMMORAL: "诉求违反法律法规，不予受理",
}
_DISPUTE_REASONS = (
    "诉求地点不在本辖区，申请退回",
    "该诉求不属于本单位职责范围",
    "该事项应由行业主管部门负责",
    "经现场核实，涉及多个单位，申请重新派单",
)


@dataclass(frozen=True)
class DemoStep:
    """One action on a demo request, ready for `megacity.domain.lifecycle.apply`."""

    action: str  # a megacity.domain.lifecycle.Action value
    at: datetime  # tz-aware
    actor: str  # e.g. a unit code or "operator:07"
    role: str  # a megacity.domain.enums.Role value
    params: dict[str, Any]  # what apply() needs, except deadline_at (see NEEDS_DEADLINE)
    reason: str = ""


@dataclass(frozen=True)
class Handling:
    """What every case shares: timezone, time limits, calendar and the end of the period."""

    tz: ZoneInfo
    limits: TimeLimits
    calendar: WorkingCalendar
    until: datetime  # nothing happens after this instant (end of the period)
    workdays: dict[tuple[date, int], int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CaseFacts:
    """What the handling of one case depends on."""

    case_id: str
    received_at: datetime
    kind: Kind
    urgency: Urgency
    unit_code: str
    category_code: str
    district_code: str
    street_code: str | None
    alternatives: tuple[str, ...]  # other units a disputed dispatch may go to
    repeat: bool = False


@dataclass
class _Plan:
    """The steps of one case so far; times never go backwards."""

    rng: Random
    world: Handling
    facts: CaseFacts
    cursor: datetime
    unit: str
    dispatched: datetime
    steps: list[DemoStep] = field(default_factory=list)
    reopened: bool = False

    def add(
        self, action: Action, at: datetime, actor: str, role: Role, reason: str = "", **params: Any
    ) -> None:
        self.cursor = max(at, self.cursor)
        self.steps.append(DemoStep(action.value, self.cursor, actor, role.value, params, reason))

    def done(self) -> tuple[DemoStep, ...]:
        """The steps up to the end of the period: a case still open then stops mid-way."""
        return tuple(s for s in self.steps if s.at <= self.world.until)

    def later(self, hours: float) -> datetime:
        return self.cursor + timedelta(hours=hours)

    def hours(self, kind: str, start: datetime) -> float:
        """The time limit of `kind` (dispatch/response/feedback) for this case, in hours."""
        limit: TimeLimit | None = getattr(self.world.limits, kind).get(self.facts.urgency)
        if limit is None:
            return 24.0
        if limit.unit is LimitUnit.HOURS:
            return float(limit.amount)
        if limit.unit is LimitUnit.CALENDAR_DAYS:
            return limit.amount * 24.0
        local = start.astimezone(self.world.tz)
        key = (local.date(), limit.amount)
        if key not in self.world.workdays:  # the calendar walks day by day: remember the answer
            end = self.world.calendar.add_working_days(local, limit.amount).at
            self.world.workdays[key] = (end.date() - local.date()).days
        return max(self.world.workdays[key] * 24.0, 1.0)  # a weekend start gets the day's end: we err early

    def office(self, at: datetime, first: int = 8, last: int = 21) -> datetime:
        """Move an instant outside office hours to the next morning (units do not work at night)."""
        local = at.astimezone(self.world.tz)
        if first <= local.hour < last:
            return at
        day = local if local.hour < first else local + timedelta(days=1)
        morning = day.replace(hour=first, minute=0, second=0, microsecond=0)
        return morning + timedelta(minutes=self.rng.uniform(0, 90))

    def daytime(self, at: datetime) -> datetime:
        """Office hours for what units and reviewers do on ordinary requests; urgent ones any time."""
        return at if self.facts.urgency in (Urgency.EMERGENCY, Urgency.TIMELY) else self.office(at)

    def in_time(self, at: datetime, deadline: datetime) -> datetime:
        """Office hours for ordinary requests, unless that would break an intended deadline."""
        if self.facts.urgency in (Urgency.EMERGENCY, Urgency.TIMELY):
            return at
        moved = self.office(at)
        return moved if moved <= deadline or at > deadline else at

    def center(self, action: Action, at: datetime, reason: str = "", **params: Any) -> None:
        """A step of the hotline centre's dispatchers (派单, 改派, 审核, 提级)."""
        self.add(
            action, at, f"dispatcher:{int(self.rng.random() * 12) + 1:02d}", Role.DISPATCHER, reason, **params
        )

    def operator(self, action: Action, at: datetime, reason: str = "", **params: Any) -> None:
        """A step of a call-taker (接线员): answers, dispositions, callbacks, closing."""
        self.add(
            action, at, f"operator:{int(self.rng.random() * 60) + 1:02d}", Role.OPERATOR, reason, **params
        )

    def handler(self, action: Action, at: datetime, reason: str = "", **params: Any) -> None:
        """A step of the unit now holding the request."""
        self.add(action, at, self.unit, Role.UNIT_HANDLER, reason, **params)


def plan_steps(rng: Random, world: Handling, facts: CaseFacts) -> tuple[DemoStep, ...]:
    """All steps of one case after intake, cut at the end of the period."""
    p = _Plan(rng, world, facts, facts.received_at, facts.unit_code, facts.received_at)
    if facts.kind is Kind.CONSULT and rng.random() < ANSWERED_CONSULT_SHARE:
        p.operator(Action.ANSWER, p.later(rng.uniform(0.02, 0.2)), "已当场解答")
        return p.done()
    special = _special_case(rng, facts)
    if special is not None:
        p.operator(
            Action.DISPOSE, p.later(rng.uniform(0.05, 0.5)), _SPECIAL_REASONS[special], case=special.value
        )
        return p.done()
    _dispatch(p)
    _handle(p, first=True)
    _follow_up(p)
    return p.done()


def _special_case(rng: Random, facts: CaseFacts) -> SpecialCase | None:
    if facts.repeat and rng.random() < REPEAT_DISPOSED_SHARE:
        return SpecialCase.REPEAT_NO_NEW_FACTS
    if rng.random() >= SPECIAL_SHARE:
        return None
    emergency = 8.0 if facts.urgency is Urgency.EMERGENCY else 2.0
    weights = [emergency, 3.0, 0.5, 0.5, 2.5, 0.5]  # in the order of _SPECIAL_REASONS
    return rng.choices(list(_SPECIAL_REASONS), weights=weights)[0]


def _dispatch(p: _Plan) -> None:
    """派单 within minutes to hours (sometimes late), then maybe a dispute (派单异议)."""
    rng, limit = p.rng, p.hours("dispatch", p.cursor)
    on_time = rng.random() < DISPATCH_ON_TIME
    delay = min(rng.lognormvariate(0, 1.0) * min(1.0, 0.2 * limit), 0.95 * limit)
    if not on_time:
        delay = limit * rng.uniform(1.05, 1.6)
    at = p.in_time(p.later(delay), p.later(limit)) if on_time else p.later(delay)
    p.center(Action.DISPATCH, at, unit_code=p.unit, category_code=p.facts.category_code)
    p.dispatched = p.cursor
    if rng.random() < DISPUTE_SHARE:
        _dispute(p)


def _dispute(p: _Plan) -> None:
    """The unit disputes; the centre sends the request elsewhere or keeps the dispatch."""
    rng = p.rng
    p.handler(Action.DISPUTE, p.daytime(p.later(rng.lognormvariate(0.5, 0.8))), rng.choice(_DISPUTE_REASONS))
    options = [u for u in p.facts.alternatives if u != p.unit]
    decided = p.later(rng.uniform(1, 12))
    if options and rng.random() < REDISPATCH_AFTER_DISPUTE:
        p.unit = rng.choice(options)
        codes = {"unit_code": p.unit, "category_code": p.facts.category_code}
        p.center(Action.REDISPATCH, decided, "经审核异议成立，改派", **codes)
        p.dispatched = p.cursor
    else:
        p.center(Action.REJECT_DISPUTE, decided, "经审核，属于该单位职责，维持派单")


def _handle(p: _Plan, *, first: bool) -> None:
    """签收, first contact within the response limit (mostly), then the reply (办结反馈)."""
    rng, start = p.rng, p.dispatched
    response = p.hours("response", start)
    on_time = rng.random() < RESPONSE_ON_TIME
    fraction = rng.triangular(0.02, 0.9, 0.1) if on_time else rng.uniform(1.05, 2.5)
    contact = p.in_time(start + timedelta(hours=response * fraction), start + timedelta(hours=response))
    contact = max(contact, p.later(0.05))
    p.handler(
        Action.ACCEPT, min(p.daytime(p.cursor + (contact - p.cursor) * rng.uniform(0.05, 0.5)), contact)
    )
    if first and p.facts.street_code not in (None, p.unit) and rng.random() < COHANDLER_SHARE:
        p.center(
            Action.ADD_COHANDLER,
            p.later(rng.uniform(0.1, 2)),
            "需属地协同办理",
            unit_code=p.facts.street_code,
        )
    p.handler(Action.CONTACT, contact)
    feedback = p.hours("feedback", start)
    if rng.random() < EXTENSION_SHARE.get(p.facts.urgency, 0.0):
        feedback = _extension(p, feedback)
    if first and rng.random() < ESCALATION_SHARE:
        _escalate(p)
    on_time = rng.random() < REPLY_ON_TIME
    fraction = rng.triangular(0.15, 0.95, 0.4) if on_time else rng.uniform(1.05, 1.8)
    deadline = start + timedelta(hours=feedback)
    reply = max(start + timedelta(hours=feedback * fraction), p.later(rng.uniform(0.2, 2)))
    p.handler(Action.REPLY, p.in_time(reply, deadline))


def _escalate(p: _Plan) -> None:
    """提级: the centre puts the request under district (sometimes later city) supervision."""
    rng, district = p.rng, EscalationLevel.DISTRICT.value
    p.center(Action.ESCALATE, p.daytime(p.later(rng.uniform(2, 48))), "诉求集中，提级督办", level=district)
    if rng.random() < 0.25:
        p.center(
            Action.ESCALATE,
            p.daytime(p.later(rng.uniform(24, 96))),
            "提级至市级",
            level=EscalationLevel.CITY.value,
        )


def _extension(p: _Plan, feedback: float) -> float:
    """Ask for more time; if approved the reply may take about twice as long."""
    rng = p.rng
    asked = p.daytime(p.later(rng.uniform(2, max(3.0, 0.5 * feedback))))
    p.handler(Action.REQUEST_EXTENSION, asked, "情况复杂，申请延期")
    decided = p.later(rng.uniform(1, 24))
    if rng.random() < EXTENSION_APPROVED:
        p.center(Action.APPROVE_EXTENSION, decided, "同意延期")
        return feedback * 2
    p.center(Action.REJECT_EXTENSION, decided, "延期理由不充分")
    return feedback


def _callback(p: _Plan, *, second: bool) -> tuple[bool, Satisfaction] | None:
    """回访 a day or so after the reply, in calling hours; None if nobody was reached."""
    rng = p.rng
    at = p.office(p.later(rng.lognormvariate(3.0, 0.5)), 9, 20)
    if rng.random() < NOT_REACHED_SHARE:
        p.operator(Action.CALLBACK, at, "多次拨打无人接听", outcome=CallbackOutcome.NOT_REACHED.value)
        if rng.random() < 0.6:
            return None
        at = p.office(p.later(rng.uniform(20, 30)), 9, 20)
    resolved = rng.random() < (0.6 if second else RESOLVED_SHARE)
    satisfied, basically = RATINGS[resolved]
    draw = rng.random()
    rating = Satisfaction.SATISFIED if draw < satisfied else Satisfaction.BASICALLY_SATISFIED
    if draw >= basically:
        rating = Satisfaction.DISSATISFIED
    outcome = CallbackOutcome.RATED.value
    p.operator(Action.CALLBACK, at, outcome=outcome, resolved=resolved, satisfaction=rating.value)
    return resolved, rating


def _follow_up(p: _Plan) -> None:
    """Callback, maybe one reopen (重新办理) when unresolved, close, maybe an exclusion request."""
    rng = p.rng
    result = _callback(p, second=False)
    if result is not None and not result[0] and rng.random() < REOPEN_UNRESOLVED_SHARE:
        p.center(Action.REOPEN, p.later(rng.uniform(0.5, 24)), "回访未解决，重新办理")
        p.dispatched, p.reopened = p.cursor, True
        _handle(p, first=False)
        result = _callback(p, second=True)
    p.operator(Action.CLOSE, p.later(rng.uniform(0.02, 0.5)))
    if result is not None and result[1] is Satisfaction.DISSATISFIED and not p.reopened:
        if rng.random() < EXCLUSION_DISSATISFIED_SHARE:
            _exclusion(p)


def _exclusion(p: _Plan) -> None:
    """申请剔除: the unit asks, the district reviews, then the city (or a rejection ends it)."""
    rng, facts = p.rng, p.facts
    evidence = [f"demo-evidence-{facts.case_id}.jpg"]
    p.handler(
        Action.REQUEST_EXCLUSION, p.office(p.later(rng.uniform(4, 72))), "要求超出政策规定", evidence=evidence
    )
    reviewer, city = (f"reviewer:{facts.district_code}", Role.DISTRICT_REVIEWER), ("city:review", Role.ADMIN)
    if rng.random() >= 0.7:
        p.add(
            Action.REJECT_EXCLUSION, p.office(p.later(rng.uniform(24, 96))), *reviewer, "证据不足，不予剔除"
        )
        return
    p.add(
        Action.DISTRICT_APPROVE_EXCLUSION, p.office(p.later(rng.uniform(24, 96))), *reviewer, "区级审核同意"
    )
    approved = rng.random() < 0.75
    action = Action.CITY_APPROVE_EXCLUSION if approved else Action.REJECT_EXCLUSION
    p.add(
        action,
        p.office(p.later(rng.uniform(24, 120))),
        *city,
        "市级审核同意" if approved else "市级审核不同意",
    )
