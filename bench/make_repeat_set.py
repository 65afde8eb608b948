"""Build the labelled repeat-request sets in tests/data/repeats/ from real Teddy Cup messages.

    python bench/make_repeat_set.py [--shared ../shared/data] [--out tests/data/repeats] [--seed 2020]

Base requests are real messages of 附件3 and 附件4 (2020 Teddy Cup, problem C). Each base gets a
synthetic street, complainant, category and time; about 60% get a chain of 1-3 repeats made by a
realistic rewrite of the previous request. Streets are filled with *hard negatives*: real messages
on a similar topic (nearest neighbours by jieba-word TF-IDF cosine, a representation the detector
does not use) that are about a different matter, placed in the same street within the window.

Two files, with disjoint base messages and disjoint rewrite kinds:

* `seen.csv` — patterns used to tune the detector: greeting, added complaint, typos, truncation,
  punctuation/whitespace, another resident mixing sentences of the original, and combinations.
* `heldout.csv` — patterns never looked at while tuning: sentence reordering with a new title,
  operator summary, full-width/phone/date noise, heavy typos, follow-up quoting the earlier
  request, paraphrase by another resident, title-only repeat.

`truth` is the expected group (repeat chain) of each row and `pattern` the rewrite that made it.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("附件3_full4326_likes.csv", "附件4_full2816_replies.csv")
CST = timezone(timedelta(hours=8))
CATEGORIES = tuple("城乡建设 环境保护 交通运输 教育文体 劳动和社会保障 商贸旅游 卫生计生 公共安全".split())

GREETINGS = ("您好！", "尊敬的领导：您好！", "领导好，", "你好，", "尊敬的市长：", "各位领导你们好！")
CLOSINGS = ("谢谢！", "盼复，谢谢。", "请尽快处理，谢谢！", "万分感谢！", "麻烦你们了。")
COMPLAINTS = (
    "已经反映多次了，一直没人处理！",
    "这个问题之前反映过，到现在还没有解决。",
    "上个月就打过电话，至今没有回复。",
    "希望这次能真正解决。",
    "已经是第三次反映了，请重视。",
    "再次反映，请尽快处理！",
)
RESIDENT = ("我也是这里的居民。", "我们楼的住户都深受其害。", "邻居们也都有意见。", "我家就住在附近。")
PROGRESS = ("之后有人来看过一次，但是没有彻底解决。", "现在情况比上次更严重了。", "到现在还是老样子。")
CONFUSABLE = dict(
    zip("的得地在再做作已以象像带代那哪几机反映", "得的的再在作做以已像象代带哪那机几返应", strict=True)
)
SYNONYMS = dict(
    pair.split(":")
    for pair in (
        "希望:恳请 严重:非常 影响:干扰 居民:住户 问题:情况 相关部门:有关单位 解决:处理 投诉:反映 "
        "现在:目前 一直:长期 没有:未 已经:已 要求:请求 存在:有 附近:周边 每天:天天"
    ).split()
)

NATURAL = ROOT / "tests" / "data" / "repeats" / "natural_labels.txt"  # hand labels of real pairs


@dataclass
class Row:
    id: str
    at: datetime
    title: str
    text: str
    complainant: str
    street: str
    category: str
    truth: str
    pattern: str
    source: str


def clean(value: str | None) -> str:
    return re.sub(r"\s+", " ", value or "").strip()


def load_messages(shared: Path) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """(messages fit to be bases, every message by source id)."""
    folder = shared / "messages" / "teddycup2020_c"
    fit: list[dict[str, str]] = []
    every: dict[str, dict[str, str]] = {}
    for name in SOURCES:
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            for raw in csv.DictReader(handle):
                row = {key.strip(): clean(value) for key, value in raw.items() if key}
                text, source = row["留言详情"], f"{name[:3]}:{row['留言编号']}"
                message = {"source": source, "title": row["留言主题"], "text": text, "user": row["留言用户"]}
                every.setdefault(source, message)
                if 40 <= len(text) <= 420 and not text.startswith("市民") and "来信已收悉" not in text:
                    fit.append(message)
    return fit, every


def char_sets(messages: list[dict[str, str]]) -> list[set[str]]:
    from megacity.analytics.textnorm import normalise

    out = []
    for message in messages:
        norm = normalise(message["title"], message["text"])
        out.append({norm[i : i + 2] for i in range(len(norm) - 1)})
    return out


def word_neighbours(messages: list[dict[str, str]], top: int = 12) -> np.ndarray:
    """Topic neighbours by jieba-word TF-IDF cosine (not the detector's character shingles)."""
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer

    jieba.setLogLevel(60)
    docs = [" ".join(jieba.lcut(m["title"] + " " + m["text"])) for m in messages]
    matrix = TfidfVectorizer(token_pattern=r"(?u)\b\w\w+\b", sublinear_tf=True).fit_transform(docs)
    cosine = (matrix @ matrix.T).toarray()
    np.fill_diagonal(cosine, -1.0)
    return np.argsort(-cosine, axis=1)[:, :top]


def same_matter_risk(a: set[str], b: set[str], title_a: str, title_b: str) -> bool:
    """Natural pairs too close to call 'different matter' with confidence are never negatives."""
    inter = len(a & b)
    jac = inter / max(1, len(a | b))
    cont = inter / max(1, min(len(a), len(b)))
    ta, tb = set(zip(title_a, title_a[1:], strict=False)), set(zip(title_b, title_b[1:], strict=False))
    title_jac = len(ta & tb) / max(1, len(ta | tb))
    return jac >= 0.15 or cont >= 0.35 or title_jac >= 0.35


#: A self-introduction that names the person or the place ("我是A5区红墅湾小区的业主，").
INTRO = re.compile(
    r"^(?:[^，。！？]{0,12}?[！!，,：:]\s*)?((?:我|我们|本人)[^，。！？]{0,6}(?:是|系|住在|家住)[^，。！？]{4,40}[，。])"
)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？!?；;])", text) if s.strip()]


def typos(text: str, rng: random.Random, rate: float, deletions: float = 0.0) -> str:
    chars = list(text)
    for i in range(len(chars)):
        roll = rng.random()
        if roll < rate / 2:
            chars[i] = CONFUSABLE.get(chars[i], rng.choice(text))
        elif roll < rate and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif roll < rate + deletions:
            chars[i] = ""
    return "".join(chars)


def synonyms(text: str, rng: random.Random, share: float) -> str:
    for word, other in SYNONYMS.items():
        if rng.random() < share:
            text = text.replace(word, other)
    return text


def mix_resident(title: str, text: str, rng: random.Random) -> tuple[str, str]:
    """Another resident: 50-75% of the sentences verbatim, the rest and the title reworded."""
    parts = sentences(text)
    keep = max(1, round(len(parts) * rng.uniform(0.5, 0.75)))
    kept = sorted(rng.sample(range(len(parts)), keep))
    body = "".join(part if i in kept else synonyms(part, rng, 0.8) for i, part in enumerate(parts))
    return synonyms(title, rng, 0.6), rng.choice(RESIDENT) + body


def rewrite_seen(title: str, text: str, rng: random.Random) -> tuple[str, str, str, bool]:
    """(pattern, title, text, by_another_resident) for the tuning patterns."""
    kind = rng.choice(("greeting", "complaint", "typos", "truncation", "punctuation", "resident", "combo"))
    if kind == "greeting":
        return kind, title, rng.choice(GREETINGS) + text + rng.choice(CLOSINGS), False
    if kind == "complaint":
        extra = rng.choice(COMPLAINTS)
        return kind, title, (extra + text if rng.random() < 0.5 else text + extra), False
    if kind == "typos":
        return kind, title, typos(text, rng, rng.uniform(0.02, 0.04)), False
    if kind == "truncation":
        return kind, title, text[: max(20, int(len(text) * rng.uniform(0.5, 0.8)))], False
    if kind == "punctuation":
        swapped = re.sub(
            r"[，。！？、；：]", lambda m: rng.choice((",", ".", " ", "", "\n", m.group(0))), text
        )
        return kind, title.replace("，", " "), swapped, False
    if kind == "resident":
        return (kind, *mix_resident(title, text, rng), True)
    noisy = typos(rng.choice(GREETINGS) + text + rng.choice(COMPLAINTS), rng, 0.02)
    return kind, title, noisy, False


def rewrite_heldout(title: str, text: str, at: datetime, rng: random.Random) -> tuple[str, str, str, bool]:
    """(pattern, title, text, by_another_resident) for the held-out patterns."""
    kind = rng.choice(("reorder", "summary", "width", "heavy_typos", "followup", "paraphrase", "title_only"))
    parts = sentences(text)
    if kind == "reorder":
        rng.shuffle(parts)
        return kind, title[: max(4, int(len(title) * 0.6))] + "的问题", "".join(parts), False
    if kind == "summary":
        body = parts[0] + (parts[-1] if len(parts) > 2 else "")
        return kind, "", "市民来电反映：" + body[: max(30, int(len(text) * 0.4))], False
    if kind == "width":
        wide = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)
        phone = f"联系电话：1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}"
        return kind, title, f"{at:%Y年%m月%d日}，{wide}{phone}", False
    if kind == "heavy_typos":
        return kind, typos(title, rng, 0.06), typos(text, rng, rng.uniform(0.06, 0.09), 0.03), False
    if kind == "followup":
        start = rng.randrange(0, max(1, len(text) // 3))
        span = text[start : start + max(25, int(len(text) * 0.6))]
        lead = f"关于我在{at.month}月{at.day}日反映的“{title}”的问题，"
        return kind, "跟进：" + title, lead + span + rng.choice(PROGRESS), False
    if kind == "paraphrase":
        body = "".join(p if rng.random() < 0.35 else synonyms(p, rng, 1.0) for p in parts)
        return kind, synonyms(title, rng, 1.0), rng.choice(RESIDENT) + body, True
    return kind, title, f"{title}（重复来电）", False


class Builder:
    """Places base messages in streets and time, then grows repeat chains from them."""

    def __init__(self, split: str, messages: list[dict[str, str]], sets: list[set[str]], seed: int) -> None:
        self.split, self.messages, self.sets = split, messages, sets
        self.rng = random.Random(f"{seed}:{split}")
        self.rows: list[Row] = []
        self.streets: dict[str, list[tuple[int, datetime]]] = {}
        self.people = 0
        self.used: set[int] = set()

    def person(self) -> str:
        self.people += 1
        return f"{self.split[0]}p{self.people:04d}"

    def category(self) -> str:
        return self.rng.choice(CATEGORIES)

    def new_id(self) -> str:
        return f"{self.split[0]}{self.rng.getrandbits(36):09x}"

    def risky(self, a: int, b: int) -> bool:
        ma, mb = self.messages[a], self.messages[b]
        return same_matter_risk(self.sets[a], self.sets[b], ma["title"], mb["title"])

    def clusters(self, pool: list[int], neighbours: np.ndarray, bases: int) -> list[list[int]]:
        allowed, used, out = set(pool), set(), []
        for seed in pool:
            if seed in used:
                continue
            cluster = [seed]
            for other in neighbours[seed]:
                other = int(other)
                if len(cluster) == 4:
                    break
                if other in allowed and other not in used and not any(self.risky(other, m) for m in cluster):
                    cluster.append(other)
            used.update(cluster)
            self.used.update(cluster)
            out.append(cluster)
            if sum(len(c) for c in out) >= bases:
                break
        return out

    def place(self, cluster: list[int], streets: int) -> tuple[str, datetime]:
        centre = datetime(2019, 1, 1, tzinfo=CST) + timedelta(days=self.rng.uniform(0, 365))
        for _ in range(50):
            street = f"{self.split[0]}s{self.rng.randrange(streets):02d}"
            near = [m for m, at in self.streets.get(street, []) if abs((at - centre).days) < 150]
            if not any(self.risky(m, c) for m in near for c in cluster):
                break
        self.streets.setdefault(street, []).extend((c, centre) for c in cluster)
        return street, centre

    def add_bases(self, cluster: list[int], street: str, centre: datetime) -> list[Row]:
        bases: list[Row] = []
        for position, index in enumerate(cluster):
            message = self.messages[index]
            at = centre + timedelta(days=self.rng.uniform(-30, 30), seconds=self.rng.randrange(86400))
            if position == 1 and self.rng.random() < 0.25:
                who = bases[0].complainant  # the same person about a different matter
            else:
                who = "" if self.rng.random() < 0.04 else self.person()
            row_id, title, text, category = self.new_id(), message["title"], message["text"], self.category()
            bases.append(
                Row(row_id, at, title, text, who, street, category, row_id, "base", message["source"])
            )
        self.rows.extend(bases)
        return bases

    def sibling(self, base: Row, cluster: list[int], neighbours: np.ndarray, pool: set[int]) -> None:
        """Hard negative: the same self-introduction (person, place) before a different complaint."""
        intro = INTRO.match(base.text)
        others = [
            int(o)
            for o in neighbours[cluster[0]]
            if int(o) in pool and int(o) not in self.used and not any(self.risky(int(o), c) for c in cluster)
        ]
        if not intro or not others or self.rng.random() < 0.3:
            return
        other = self.messages[others[0]]
        self.used.add(others[0])
        row_id, who = self.new_id(), base.complainant if self.rng.random() < 0.5 else self.person()
        at, text = base.at + timedelta(days=self.rng.uniform(1, 50)), intro.group(1) + other["text"]
        source, category = other["source"], self.category()
        self.rows.append(
            Row(row_id, at, other["title"], text, who, base.street, category, row_id, "sibling", source)
        )

    def repeat(self, prev: Row, base: Row, heldout: bool) -> Row:
        """A rewrite of the previous request; another resident files it at the matter's street."""
        rng = self.rng
        late = rng.random() < 0.07
        at = prev.at + timedelta(days=rng.uniform(65, 110) if late else rng.uniform(0.05, 58))
        title = prev.title or base.title
        if heldout:
            pattern, title, text, resident = rewrite_heldout(title, prev.text, prev.at, rng)
        else:
            pattern, title, text, resident = rewrite_seen(title, prev.text, rng)
        who = self.person() if resident else prev.complainant
        street = base.street if resident or not prev.street else prev.street
        if who and not resident:
            elsewhere = f"{self.split[0]}s{rng.randrange(99):02d}x"
            street = rng.choices((prev.street, "", elsewhere), (85, 10, 5))[0]
        row_id = self.new_id()
        category = prev.category if rng.random() < 0.7 else rng.choice(CATEGORIES)
        truth = row_id if late else prev.truth
        pattern = pattern + ("+late" if late else "")
        return Row(row_id, at, title, text, who, street or "", category, truth, pattern, prev.source)

    def chains(self, bases: list[Row], heldout: bool) -> None:
        for base in bases:
            if self.rng.random() >= 0.6:
                continue
            prev, members = base, [base]
            for _ in range(self.rng.choice((1, 1, 2, 3))):
                if not prev.street and not prev.complainant:
                    break
                prev = self.repeat(prev, base, heldout)
                if prev.truth != prev.id and not any(
                    linkable(prev, m) for m in members if m.truth == prev.truth
                ):
                    prev.truth, prev.pattern = prev.id, prev.pattern + "+unlinkable"
                members.append(prev)
                self.rows.append(prev)


def linkable(a: Row, b: Row, window_days: float = 60) -> bool:
    """The detector's blocking rule: a shared complainant or street, at most the window apart."""
    shared = (a.complainant and a.complainant == b.complainant) or (a.street and a.street == b.street)
    return bool(shared) and abs((a.at - b.at).total_seconds()) <= window_days * 86400


def write(rows: list[Row], path: Path, naive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ("id", "received_at", "title", "text", "complainant_id", "street_code", "category_code")
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow((*columns, "truth", "pattern", "source"))
        for r in rows:
            at = r.at.replace(microsecond=0)
            stamp = at.replace(tzinfo=None).isoformat(sep=" ") if naive else at.isoformat()
            out.writerow((r.id, stamp, *astuple(r)[2:]))


def build(
    split: str,
    pool: list[int],
    neighbours: np.ndarray,
    data: tuple[list[dict[str, str]], list[set[str]]],
    bases: int,
    seed: int,
) -> list[Row]:
    builder, allowed = Builder(split, data[0], data[1], seed), set(pool)
    for cluster in builder.clusters(pool, neighbours, bases):
        street, centre = builder.place(cluster, streets=max(8, bases // 14))
        placed = builder.add_bases(cluster, street, centre)
        builder.sibling(placed[0], cluster, neighbours, allowed)
        builder.chains(placed, heldout=split == "heldout")
    builder.rng.shuffle(builder.rows)
    return builder.rows


def natural(every: dict[str, dict[str, str]], seed: int) -> list[Row]:
    """Each hand-labelled real pair on a street of its own, the second 1-40 days after the first."""
    rng, rows = random.Random(f"{seed}:natural"), []
    lines = [line.split() for line in NATURAL.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    for number, (left, right, label) in enumerate(lines):
        first, second = every[left], every[right]
        at = datetime(2019, 1, 1, tzinfo=CST) + timedelta(days=rng.uniform(0, 300))
        same_user = first["user"] == second["user"]
        truth = f"n{number:03d}a"
        for index, message in enumerate((first, second)):
            who = f"np{number:03d}{'' if same_user else index}"
            group = truth if index == 0 or label == "1" else f"n{number:03d}b"
            when, row_id, street = (
                at + timedelta(days=index * rng.uniform(1, 40)),
                f"n{number:03d}{'ab'[index]}",
                f"ns{number:03d}",
            )
            title, text, category = message["title"], message["text"], rng.choice(CATEGORIES)
            rows.append(
                Row(
                    row_id,
                    when,
                    title,
                    text,
                    who,
                    street,
                    category,
                    group,
                    f"natural{label}",
                    message["source"],
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "repeats")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    messages, every = load_messages(args.shared)
    data = (messages, char_sets(messages))
    neighbours = word_neighbours(messages)
    order = list(range(len(messages)))
    random.Random(args.seed).shuffle(order)
    half = len(order) // 2
    for split, pool, bases, naive in (
        ("seen", order[:half], 330, False),
        ("heldout", order[half:], 240, True),
    ):
        rows = build(split, pool, neighbours, data, bases, args.seed)
        write(rows, args.out / f"{split}.csv", naive)
        groups = len({r.truth for r in rows})
        print(f"{split}: {len(rows)} rows, {groups} groups, {sum(r.pattern == 'base' for r in rows)} bases")
    pairs = natural(every, args.seed)
    write(pairs, args.out / "natural.csv", naive=False)
    print(f"natural: {len(pairs)} rows, {len({r.truth for r in pairs})} groups")


if __name__ == "__main__":
    main()
