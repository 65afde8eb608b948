"""Guessing the request type (咨询/求助/投诉/举报/建议) when a source does not say.

Message-board exports carry no type; operators would assign one. A transparent keyword rule
is good enough to route imported history and is flagged as a guess on every row it decides.
"""

from __future__ import annotations

from megacity.domain.enums import Kind

#: Checked in order; the first keyword found decides.
KEYWORDS: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind.REPORT, ("举报", "检举", "违法", "偷排", "非法")),
    (Kind.COMPLAINT, ("投诉", "不作为", "态度恶劣", "扰民", "严重影响")),
    (Kind.SUGGESTION, ("建议", "希望增设", "提议", "能否考虑")),
    (Kind.CONSULT, ("咨询", "请问", "想问", "是否可以", "如何办理", "怎么办理", "？", "?")),
)


def guess_kind(title: str | None, text: str | None) -> Kind:
    """The first matching kind in title then text, else help (求助).

    >>> guess_kind("咨询落户政策", "")
    <Kind.CONSULT: 'consult'>
    >>> guess_kind("小区门口路灯坏了", "希望尽快维修")
    <Kind.HELP: 'help'>
    """
    for part in (title or "", text or ""):
        for kind, words in KEYWORDS:
            if any(w in part for w in words):
                return kind
    return Kind.HELP
