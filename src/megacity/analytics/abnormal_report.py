"""Abnormal-order analysis end to end: labels, features, dispute statistics, catalogue suggestions.

Suggestions are rules over the mined evidence, written for the people who maintain the dispatch
catalogue (派单目录); each one cites its numbers so that it can be checked before it is acted on.
Their text is English in the source and Chinese by default, through the Babel catalogues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import Translations

from megacity.analytics.abnormal import (
    BOOL,
    KINDS,
    DisputeStat,
    Feature,
    Settings,
    Term,
    dispute_stats,
    feature_values,
    label_orders,
    mine_features,
    mine_terms,
    order_terms,
)
from megacity.analytics.orders import DisputeEvent, Orders
from megacity.domain.catalog import TERRITORIAL, Catalogue
from megacity.domain.org import Organisation

Gettext = Callable[[str], str]
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh_CN", "en")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


LOCAL = N_("the street or town of the request (属地)")
#: What to review when a category stands out for a kind other than disputes.
ACTIONS = {
    "reopened": N_("refine the handling standard of this category and check results before closing"),
    "overdue": N_("review the time limit and the handling unit of this category"),
    "excluded": N_("state clearly whether this category is accepted at all"),
    "escalated": N_("dispatch it to a higher level or set up joint handling"),
}
RATE_NAMES = {
    "reopened": N_("reopen rate"),
    "overdue": N_("overdue rate"),
    "excluded": N_("exclusion rate"),
    "escalated": N_("escalation rate"),
}


@lru_cache(maxsize=4)
def gettext_for(language: str) -> Gettext:
    """The catalogue's gettext for `language` (zh_CN or en; English is the source text)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return Translations.load(str(LOCALE_DIR), [language], domain="messages").gettext


@dataclass(frozen=True)
class Names:
    """Names from the profile, so that suggestions read 东华门街道 (110101001), not a bare code."""

    catalogue: Catalogue | None = None
    org: Organisation | None = None

    def category(self, code: str) -> str:
        found = self.catalogue.get(code) if self.catalogue else None
        return f"{found.name} ({code})" if found else code

    def unit(self, code: str) -> str:
        found = self.org.unit(code) if self.org else None
        return f"{found.name} ({code})" if found else code

    def responsible(self, code: str) -> str:
        """The catalogue's rule for the category: TERRITORIAL, a unit's name, or "" if unknown."""
        found = self.catalogue.get(code) if self.catalogue else None
        if found is None:
            return ""
        return TERRITORIAL if found.is_territorial else self.unit(found.responsible)


@dataclass(frozen=True)
class Suggestion:
    code: str  # review_category_rule, review_unit_duties, review_category_<kind>, keyword_rule
    subject: str
    evidence: str
    action: str
    text: str  # subject, evidence and action in one sentence


@dataclass
class Analysis:
    orders: int
    counts: dict[str, int]
    features: list[Feature]
    terms: list[Term]
    disputes: list[DisputeStat]
    suggestions: list[Suggestion] = field(default_factory=list)
    labels: dict[str, BOOL] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("labels")
        return body


def analyse(
    orders: Orders,
    events: list[DisputeEvent],
    zone: ZoneInfo,
    names: Names | None = None,
    settings: Settings | None = None,
    language: str = "zh_CN",
) -> Analysis:
    """Labels, features, terms, dispute statistics and suggestions (in `language`)."""
    settings = settings or Settings()
    labels = label_orders(orders, events)
    features = mine_features(labels, feature_values(orders, zone), settings)
    terms_of = order_terms(orders)
    terms = [t for kind in (*KINDS, "abnormal") for t in mine_terms(terms_of, labels[kind], kind, settings)]
    result = Analysis(
        orders=len(orders),
        counts={kind: int(flags.sum()) for kind, flags in labels.items()},
        features=features,
        terms=terms,
        disputes=dispute_stats(orders, labels, events),
        labels=labels,
    )
    result.suggestions = suggest(result, names or Names(), settings, gettext_for(language))
    return result


def suggest(result: Analysis, names: Names, settings: Settings, _: Gettext) -> list[Suggestion]:
    """Turn the evidence into catalogue changes to review, strongest evidence first."""
    out: list[tuple[str, str, str, str]] = []
    base = result.counts["disputed"] / result.orders if result.orders else 0.0
    for stat in result.disputes:
        if (
            stat.disputed < settings.min_abnormal
            or stat.rate < max(2 * base, 0.1)
            or stat.orders < settings.min_orders
            or stat.q_value > settings.alpha
        ):
            continue
        numbers = _numbers(stat.disputed, stat.orders, base, stat.q_value, _)
        evidence = _("dispute rate %(rate)s (%(numbers)s)") % {"rate": f"{stat.rate:.0%}", "numbers": numbers}
        if stat.reasons:
            reason, n = stat.reasons[0]
            evidence += _(", most often disputed as «%(reason)s» (%(n)d times)") % {"reason": reason, "n": n}
        if stat.targets:
            unit, n = stat.targets[0]
            evidence += _(", mostly re-dispatched to %(unit)s (%(n)d times)") % {
                "unit": names.unit(unit),
                "n": n,
            }
        if stat.group == "category":
            now = names.responsible(stat.code)
            action = _("review the responsibility rule of this category")
            if now:
                action += _(" (catalogue now: %(unit)s)") % {"unit": now if now != TERRITORIAL else _(LOCAL)}
            subject = _("Category %(name)s") % {"name": names.category(stat.code)}
            out.append(("review_category_rule", subject, evidence, action))
        else:
            subject = _("Unit %(name)s") % {"name": names.unit(stat.code)}
            action = _("check the unit's list of duties and its boundary")
            out.append(("review_unit_duties", subject, evidence, action))
    for feature in result.features:
        if feature.feature != "category" or feature.kind not in ACTIONS or feature.lift < 2:
            continue
        numbers = _numbers(feature.abnormal, feature.orders, feature.base_rate, feature.q_value, _)
        evidence = _(RATE_NAMES[feature.kind]) + f" {feature.rate:.0%} ({numbers})"
        subject = _("Category %(name)s") % {"name": names.category(feature.value)}
        out.append((f"review_category_{feature.kind}", subject, evidence, _(ACTIONS[feature.kind])))
    for words, term in _term_groups([t for t in result.terms if t.kind == "disputed"])[:3]:
        evidence = _("%(hits)d orders with this word were disputed, %(other)d were not (z=%(z).1f)") % {
            "hits": term.abnormal_orders,
            "other": term.other_orders,
            "z": term.z,
        }
        action = _("add a dispatch rule for this word, or say in the catalogue where it belongs")
        subject = _("Term «%(term)s»") % {"term": "/".join(words)}
        out.append(("keyword_rule", subject, evidence, action))
    sentence = _("%(subject)s: %(evidence)s → %(action)s")
    return [
        Suggestion(
            code,
            subject,
            evidence,
            action,
            sentence % {"subject": subject, "evidence": evidence, "action": action},
        )
        for code, subject, evidence, action in out
    ]


def _term_groups(terms: list[Term]) -> list[tuple[list[str], Term]]:
    """Words with the same counts come from one phrase (jieba cuts 铁塔基站 into 铁塔, 塔基, 基站):
    one suggestion per phrase, its words joined."""
    groups: dict[tuple[int, int], tuple[list[str], Term]] = {}
    for term in terms:
        key = (term.abnormal_orders, term.other_orders)
        groups.setdefault(key, ([], term))[0].append(term.term)
    return list(groups.values())


def _numbers(hits: int, orders: int, base: float, q: float, _: Gettext) -> str:
    shown = f"{q:.2g}" if q >= 1e-10 else "<1e-10"
    values = {"hits": hits, "orders": orders, "base": f"{base:.1%}", "q": shown}
    return _("%(hits)d/%(orders)d; all orders %(base)s; q=%(q)s") % values
