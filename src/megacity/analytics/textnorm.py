"""Text normalisation and shingling: what two requests about the same matter have in common.

A repeat request is the same matter told again, often with a greeting, a complaint about the
delay ("已经反映多次了"), typos, other punctuation or a phone number. `normalise` keeps the words
that describe the matter and drops the rest: width and case are folded (NFKC), phone and ID
numbers become `#`, greetings, courtesy and urgency boilerplate are removed, and so is every
character that is not a letter or a digit (punctuation, whitespace, emoji). `shingle` turns the
normalised texts of a batch into sorted sets of hashed character bigrams (numpy, no Python loop).

>>> normalise("您好！", "小区门口（东门）路灯坏了，已经反映多次了，请尽快处理。电话：13800138000 谢谢")
'小区门口东门路灯坏了已经请电话#'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BOILERPLATE",
    "STOP_BIGRAMS",
    "Shingles",
    "concat",
    "distinct",
    "normalise",
    "normalise_many",
    "ranges",
    "shingle",
]

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_LOW32 = np.uint64(0xFFFFFFFF)

_NUMBERS = re.compile(r"\d(?:[- ]?\d){6,}x?")  # phone, landline and ID numbers: 7+ digits

#: Phrases that say nothing about the matter: greetings, courtesy, urgency and "again" complaints.
#: Matched after NFKC folding (full-width punctuation is ASCII here). Each starts with a literal
#: alternative so the scan stays fast; words around them ("请", "已经") are left to the shingles.
BOILERPLATE: tuple[str, ...] = (
    r"尊敬的[^,:;.!?]{0,12}?(?:领导|书记|市长|区长|县长|主任|同志|工作人员|负责人|部门)们?(?:您好|你们好|好)?",
    r"(?:领导|书记|市长|工作人员|同志)们?(?:您好|你们好|好)",
    r"(?:您|你|大家)们?好",
    r"(?:谢谢|感谢|多谢)(?:您|你们?|领导|各位|了|啦)*",
    r"此致(?:敬礼)?|敬礼",
    r"(?:盼|望|期待|恳请|希望|请)(?:尽快|早日|及时)?(?:给予)?(?:回复|答复|回音|解答)",
    r"(?:尽快|赶紧|赶快|抓紧|及时|早日|马上|务必)(?:处理|解决|落实|整改|查处|回复|答复|帮忙|协调|处置)(?:一下)?",
    r"(?:多次|反复|再次|又一次|再一次|重复)(?:向[^,.!?]{0,10}?)?(?:反映|反应|投诉|举报|打电话|来电)过?了?",
    r"(?:反映|反应|投诉|举报)过?(?:很多|好多|多|几|无数)(?:次|回|遍)了?",
    r"(?:没有|没|未|无人|没人)(?:得到)?(?:任何)?(?:处理|解决|回复|答复|回应|人管|管|人处理)过?",
    r"石沉大海|不了了之|没有下文|无人问津",
    r"麻烦(?:你们|您|了)|拜托了?|急急急|十万火急",
)
_BOILERPLATE = tuple(re.compile(p) for p in BOILERPLATE)  # one by one: a joined pattern scans slower
#: Everything but letters (Latin, Greek, Cyrillic, kana, CJK, Hangul), digits and the number mask.
_NOT_WORD = re.compile(
    r"[^0-9a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af#]+"
)

#: The most frequent character bigrams of the 7,142 Teddy Cup messages (附件3 and 附件4) after
#: `normalise`, minus anonymisation artefacts (西地省, A7县, A3区): they say nothing about which matter
#: a request is about, so they are left out of the shingles.
STOP_BIGRAMS: frozenset[str] = frozenset(
    """
    问题 没有 部门 20 我们 政府 一个 01 希望 领导 现在 小区 相关 严重 什么 可以 关部 居民 10 业主
    解决 情况 工作 00 影响 已经 时间 公司 12 投诉 不能 要求 我是 进行 生活 19 咨询 18 作为 安全
    但是 百姓 一直 人员 不是 都是 请问 这个 建设 有关 这样 开发 就是 反映 9年 请求 还是 是一 是否 们的
    无法 8年 环境 处理 管理 人民 本人 如果 他们 因为 11 需要 有一 的问 区的 关于 为什 存在 街道 通过
    国家 目前 规划 的一 部分 了一 规定 多次 老百 建议 造成 导致 不知 自己 发商 年1 很多 30 任何 时候
    大的 月1 社区 政策 怎么 开始 行为 知道 17 交通 物业 15 这些 还有 的人 个月 其他 样的 一下 而且
    不到 学校 回复 也不 是不 月2 电话 恳请 的是 于2 每天 民的 的情 办理 重视 城市 合理 重影 这种 由于
    只有 中心 非常 周边 单位 附近
    """.split()
)


def normalise(title: str | None, text: str | None) -> str:
    """Title and text folded into one string of letters and digits for shingling.

    >>> normalise("  投诉：噪音扰民 ", "ＡＢＣ小区 夜间施工，噪音扰民。")
    '投诉噪音扰民abc小区夜间施工噪音扰民'
    """
    joined = " ".join(part for part in (title, text) if part)
    folded = unicodedata.normalize("NFKC", joined).casefold()
    masked = _NUMBERS.sub("#", folded)
    for pattern in _BOILERPLATE:
        masked = pattern.sub(" ", masked)
    return _NOT_WORD.sub("", masked)


def normalise_many(titles: list[str | None], texts: list[str | None]) -> list[str]:
    """`normalise` over two parallel columns."""
    return [normalise(title, text) for title, text in zip(titles, texts, strict=True)]


@dataclass(frozen=True)
class Shingles:
    """Sorted unique shingle hashes of each request, as compressed rows (`codes[offsets[i]:offsets[i+1]]`)."""

    codes: U32
    offsets: I64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> I64:
        return np.diff(self.offsets)

    def take(self, rows: I64) -> Shingles:
        """The shingles of `rows`, in that order."""
        starts, lengths = self.offsets[rows], self.offsets[rows + 1] - self.offsets[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Shingles(self.codes[ranges(starts, lengths)], offsets)


def ranges(starts: I64, lengths: I64) -> I64:
    """`concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`, vectorised.

    >>> ranges(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift: I64 = np.repeat(starts - (ends - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sorted distinct values (sort-based: numpy's hash-based `unique` is far slower on 64-bit keys)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _bigram_hash(first: U64, second: U64) -> U64:
    return ((first << np.uint64(21)) | second) * _GOLDEN >> np.uint64(32)


def _stop_hashes() -> U64:
    pairs = np.array([[ord(g[0]), ord(g[1])] for g in sorted(STOP_BIGRAMS)], dtype=np.uint64)
    return np.sort(_bigram_hash(pairs[:, 0], pairs[:, 1]))


_STOP = _stop_hashes()


def shingle(texts: Sequence[str]) -> Shingles:
    """Hashed character bigrams of each (normalised) text; common bigrams (`STOP_BIGRAMS`) dropped.

    >>> s = shingle(["路灯不亮路灯", "", "问题路灯"])
    >>> s.lengths().tolist()
    [4, 0, 2]
    """
    joined = "\x00".join(texts) + "\x00"
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    gap = points == 0
    doc = np.cumsum(gap) - gap
    inside = ~gap[:-1] & ~gap[1:]
    codes = _bigram_hash(points[:-1][inside], points[1:][inside])
    docs = doc[:-1][inside].astype(np.uint64)
    at = np.minimum(np.searchsorted(_STOP, codes), len(_STOP) - 1)
    keep = _STOP[at] != codes
    keys = distinct((docs[keep] << np.uint64(32)) | codes[keep])
    offsets = np.searchsorted(keys >> np.uint64(32), np.arange(len(texts) + 1, dtype=np.uint64))
    return Shingles((keys & _LOW32).astype(np.uint32), offsets.astype(np.int64))


def concat(parts: list[Shingles]) -> Shingles:
    codes = np.concatenate([p.codes for p in parts])
    lengths = np.concatenate([p.lengths() for p in parts])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Shingles(codes, offsets)
