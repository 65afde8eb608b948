"""Reply quality (Teddy Cup 2020 C task 3): relevance, completeness and timeliness of a reply.

Every score is in [0, 1] and needs no corpus, so a single draft checked through the API gets the
same score it would get in a batch over 附件4 (docs/replies.md):

* relevance — how much of the request the reply talks about: the share of the request title's
  content words found in the reply (60 %) plus the cosine of the content-word counts of request
  and reply (40 %). Content words are jieba dictionary words minus courtesy and office words.
* completeness — which of five structure elements the reply has (greeting, investigation facts,
  measures or result, legal or policy basis, contact or closing), each found by keywords, times a
  length factor (a reply under `short_chars` characters cannot be complete).
* timeliness — working days from request to reply: 1 up to `full_days`, falling linearly to 0 at
  `zero_days`; unknown when either time is missing.
* combined — 0.4 relevance + 0.4 completeness + 0.2 timeliness (0.5/0.5 without timeliness).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from megacity.domain.calendar import WorkingCalendar
from megacity.nlp.text import normalise, words

__all__ = ["ELEMENTS", "ReplyParams", "ReplyScore", "score_reply", "working_days"]

#: Structure elements of a complete reply and the keywords that show each one.
ELEMENTS: dict[str, re.Pattern[str]] = {
    "greeting": re.compile(
        r"您好|你好|网友|尊敬的|来信收悉|已收悉|留言收悉|感谢您的?(?:留言|来信|关注|反映)"
    ),
    "facts": re.compile(
        r"经(?:过)?(?:查|调查|核实|核查|了解|排查|走访|现场)|调查核实|核查|现场(?:查看|勘察|核实|调查)|了解到|据了解|情况如下"
    ),
    "measures": re.compile(
        r"已(?:经)?(?:完成|处理|整改|解决|安排|督促|责令|协调|修复|清理|拆除|办理|落实|约谈|联系|恢复|要求)"
        r"|将(?:于|在|尽快|进一步|继续|加强|及时)|下一步|措施|整改|目前|正在"
    ),
    "basis": re.compile(r"根据|依据|按照|依照|《[^》]{2,40}》|规定|条例|办法|政策|法律|法规|文件"),
    "closing": re.compile(
        r"联系电话|咨询电话|电话[:：]?\s*\d|如有疑问|如有问题|如需|欢迎|感谢您对|理解与支持|理解和支持|支持与理解"
        r"|特此(?:答复|回复)|\d{4}年\d{1,2}月\d{1,2}日\s*$"
    ),
}

_STOP = frozenset(
    "您好 你好 网友 感谢 谢谢 问题 反映 关于 有关 情况 部门 相关 我们 你们 他们 现将 答复 回复 如下 "
    "留言 来信 收悉 工作 进行 已经 目前 可以 没有 能够 对于 这个 什么 为什么 怎么 请问 希望 要求 "
    "政府 领导 书记 市长 请求 咨询 投诉 建议 一下 是否 如何 何时 以及 还是 但是 因为 所以".split()
)
_NUMBERS = re.compile(r"[a-z]?\d+")


@dataclass(frozen=True)
class ReplyParams:
    """Thresholds of docs/replies.md."""

    full_days: int = 5  # working days: a reply this fast is fully timely
    zero_days: int = 30  # working days: a reply this late has timeliness 0
    short_chars: int = 100  # replies shorter than this lose completeness in proportion
    weak_combined: float = 0.5  # flag below this combined score
    weak_relevance: float = 0.2
    weak_completeness: float = 0.4


@dataclass
class ReplyScore:
    """Scores in [0, 1] (timeliness None when unknown), the elements found and why it is weak."""

    relevance: float
    completeness: float
    timeliness: float | None
    combined: float
    working_days: int | None
    elements: list[str]
    weak: bool
    reasons: list[str] = field(default_factory=list)


def content_words(text: str) -> list[str]:
    """Dictionary words of a normalised text minus courtesy/office words and numbers.

    >>> content_words("您好，小区路灯不亮的问题")
    ['小区', '路灯', '灯不亮']
    """
    return [w for w in words(normalise(text)) if w not in _STOP and not _NUMBERS.fullmatch(w)]


def _cosine(left: Counter[str], right: Counter[str]) -> float:
    dot = sum(n * right[w] for w, n in left.items())
    norm = math.sqrt(sum(n * n for n in left.values())) * math.sqrt(sum(n * n for n in right.values()))
    return dot / norm if norm else 0.0


def relevance(title: str, request: str, reply: str) -> float:
    """0.6 × share of the title's content words in the reply + 0.4 × content-word cosine."""
    reply_words = Counter(content_words(reply))
    if not reply_words:
        return 0.0
    title_words = set(content_words(title)) or set(content_words(request)[:20])
    recall = sum(w in reply_words for w in title_words) / len(title_words) if title_words else 0.0
    cosine = _cosine(Counter(content_words(f"{title}。{request}")), reply_words)
    return min(1.0, 0.6 * recall + 0.4 * min(1.0, 2.0 * cosine))


def working_days(start: datetime, end: datetime, calendar: WorkingCalendar | None = None) -> int:
    """Working days after the day of `start` up to and including the day of `end` (0 the same day)."""
    calendar = calendar or WorkingCalendar()
    first, last = start.date(), end.date()
    if last <= first:
        return 0
    span = min((last - first).days, 3660)
    return sum(calendar.is_workday(first + timedelta(days=d))[0] for d in range(1, span + 1))


def _timeliness(days: int, params: ReplyParams) -> float:
    if days <= params.full_days:
        return 1.0
    return max(0.0, 1.0 - (days - params.full_days) / (params.zero_days - params.full_days))


def score_reply(
    title: str,
    request: str,
    reply: str,
    received_at: datetime | None = None,
    replied_at: datetime | date | None = None,
    calendar: WorkingCalendar | None = None,
    params: ReplyParams | None = None,
) -> ReplyScore:
    """Score one reply to one request; `reasons` say in words what makes it weak."""
    params = params or ReplyParams()
    body = normalise(reply or "")
    found = [name for name, pattern in ELEMENTS.items() if pattern.search(body)]
    length = min(1.0, len(body) / params.short_chars)
    complete = len(found) / len(ELEMENTS) * length
    relevant = relevance(title or "", request or "", reply or "")
    days: int | None = None
    timely: float | None = None
    if received_at is not None and isinstance(replied_at, datetime):
        days = working_days(received_at, replied_at, calendar)
        timely = _timeliness(days, params)
    combined = (
        0.5 * relevant + 0.5 * complete if timely is None else 0.4 * relevant + 0.4 * complete + 0.2 * timely
    )
    if not body:
        combined = 0.0  # nothing was answered, however fast
    reasons = _reasons(body, relevant, complete, timely, days, found, combined, params)
    return ReplyScore(
        relevance=round(relevant, 4),
        completeness=round(complete, 4),
        timeliness=None if timely is None else round(timely, 4),
        combined=round(combined, 4),
        working_days=days,
        elements=found,
        weak=bool(reasons),
        reasons=reasons,
    )


def _reasons(
    body: str,
    relevant: float,
    complete: float,
    timely: float | None,
    days: int | None,
    found: list[str],
    combined: float,
    params: ReplyParams,
) -> list[str]:
    reasons: list[str] = []
    if not body:
        return ["empty reply"]
    if len(body) < params.short_chars:
        reasons.append(f"short reply ({len(body)} characters, fewer than {params.short_chars})")
    if relevant < params.weak_relevance:
        reasons.append(f"off-topic: relevance {relevant:.2f} < {params.weak_relevance}")
    if complete < params.weak_completeness:
        missing = [name for name in ELEMENTS if name not in found]
        reasons.append(f"incomplete: missing {', '.join(missing)}")
    if timely is not None and timely < 0.5:
        reasons.append(f"late: {days} working days")
    if combined < params.weak_combined and len(reasons) == 0:
        reasons.append(f"weak overall: combined {combined:.2f} < {params.weak_combined}")
    return reasons
