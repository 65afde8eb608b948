"""Files of the abnormal-order analysis: the per-order labels (CSV) and the report (Markdown).

The CSV is data (codes, plus the fixed Chinese `labels_zh` column); the report is read by
people and follows the chosen language (Chinese by default).
"""

from __future__ import annotations

import csv
from pathlib import Path

from megacity.analytics.abnormal import BOOL, KIND_NAMES, KINDS, Feature
from megacity.analytics.abnormal_report import N_, Analysis, Gettext, Names, gettext_for
from megacity.analytics.orders import Orders

#: Report names of the kinds, features and weekdays (values in the data stay codes).
KIND_TITLES = {
    "disputed": N_("Disputed (派单异议)"),
    "excluded": N_("Exclusion requested (剔除)"),
    "reopened": N_("Reopened (重办)"),
    "overdue": N_("Overdue (超期)"),
    "escalated": N_("Escalated (提级)"),
    "abnormal": N_("Abnormal, any kind"),
}
FEATURE_TITLES = {
    "category": N_("category"),
    "unit": N_("handling unit"),
    "daypart": N_("time of day"),
    "weekday": N_("day of the week"),
}
WEEKDAY_TITLES = {
    "Mon": N_("Monday"),
    "Tue": N_("Tuesday"),
    "Wed": N_("Wednesday"),
    "Thu": N_("Thursday"),
    "Fri": N_("Friday"),
    "Sat": N_("Saturday"),
    "Sun": N_("Sunday"),
}


def write_labels(path: Path, orders: Orders, labels: dict[str, BOOL]) -> None:
    """One line per order: id, one 0/1 column per kind, abnormal, and the label names."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id", *KINDS, "abnormal", "labels", "labels_zh"))
        for row, ticket in enumerate(orders.ids):
            kinds = [k for k in KINDS if labels[k][row]]
            flags = [int(labels[k][row]) for k in (*KINDS, "abnormal")]
            writer.writerow((ticket, *flags, "|".join(kinds), "|".join(KIND_NAMES[k] for k in kinds)))


def _value(feature: Feature, names: Names, _: Gettext) -> str:
    if feature.feature == "category":
        return names.category(feature.value)
    if feature.feature == "unit":
        return names.unit(feature.value)
    if feature.feature == "weekday":
        return _(WEEKDAY_TITLES.get(feature.value, feature.value))
    return feature.value


def _row(cells: tuple[object, ...]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: tuple[str, ...]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header)]


def write_report(path: Path, result: Analysis, names: Names, language: str = "zh_CN") -> None:
    """A Markdown report: counts, suggestions, dispute statistics, features, terms."""
    _ = gettext_for(language)
    lines = ["# " + _("Abnormal orders (异常工单)"), "", _("%(n)d orders.") % {"n": result.orders}, ""]
    lines += _table((_("Kind"), _("Orders"), _("Share")))
    for kind in (*KINDS, "abnormal"):
        share = result.counts[kind] / result.orders if result.orders else 0.0
        lines.append(_row((_(KIND_TITLES[kind]), result.counts[kind], f"{share:.1%}")))
    lines += ["", "## " + _("Suggestions for the dispatch catalogue"), ""]
    lines += [f"{i}. {s.text}" for i, s in enumerate(result.suggestions, 1)]
    if not result.suggestions:
        lines.append(_("Not enough evidence: no suggestion."))
    header = (
        _("Code"),
        _("Orders"),
        _("Disputed"),
        _("Rate"),
        _("Re-dispatched"),
        _("Reasons"),
        _("Sent to"),
    )
    for group, title in (("category", _("Disputes by category")), ("unit", _("Disputes by unit"))):
        lines += ["", "## " + title, "", *_table(header)]
        for s in [s for s in result.disputes if s.group == group][:20]:
            name = names.category(s.code) if group == "category" else names.unit(s.code)
            reasons = "; ".join(f"{r} ×{n}" for r, n in s.reasons)
            targets = "; ".join(f"{names.unit(u)} ×{n}" for u, n in s.targets)
            lines.append(
                _row((name, s.orders, s.disputed, f"{s.rate:.0%}", s.redispatched, reasons, targets))
            )
    header2: tuple[str, ...] = (
        _("Kind"),
        _("Feature"),
        _("Value"),
        _("Abnormal/orders"),
        _("Rate"),
        _("Base rate"),
        _("Lift"),
        "q",
    )
    lines += ["", "## " + _("Common features"), "", *_table(header2)]
    for f in result.features:
        kind, feature = _(KIND_TITLES[f.kind]), _(FEATURE_TITLES[f.feature])
        numbers = (
            f"{f.abnormal}/{f.orders}",
            f"{f.rate:.0%}",
            f"{f.base_rate:.1%}",
            f"{f.lift:.1f}",
            f"{f.q_value:.3g}",
        )
        lines.append(_row((kind, feature, _value(f, names, _), *numbers)))
    lines += ["", "## " + _("Typical terms (log-odds z-score)"), ""]
    lines += _table((_("Kind"), _("Term"), _("Abnormal orders"), _("Other orders"), "z"))
    for t in result.terms:
        lines.append(_row((_(KIND_TITLES[t.kind]), t.term, t.abnormal_orders, t.other_orders, f"{t.z:.2f}")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
