"""Training the dispatch model from local data: the request history, labelled files, corrections.

The labels are catalogue leaf codes, so that the model dispatcher can apply the catalogue rule
to what it predicts. The base data is either labelled files (``--base-data``) or the requests
already in the database with a leaf category (at most ``per_class`` of the most recent of each
category, and only categories with at least ``min_count`` of them: a class seen once or twice
cannot be learnt, and the cap keeps training time bounded on a long history).

Corrections from ``training_labels`` override the base: a text that a person corrected is
removed from the base and enters with its corrected label (the latest correction of a request
wins). After the model is saved, the corrections it used are marked ``used_by_model`` with its
version, in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from megacity.bootstrap import Megacity
from megacity.store.followup_tables import training_labels
from megacity.store.tables import tickets

if TYPE_CHECKING:
    from megacity.nlp.classifier import TextClassifier

__all__ = ["Examples", "corrections", "from_tickets", "retrain"]


@dataclass
class Examples:
    """Labelled examples: title, text and label per row."""

    titles: list[str | None] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, title: str | None, text: str | None, label: str) -> None:
        self.titles.append(title)
        self.texts.append(text)
        self.labels.append(label)

    def extend(self, other: Examples) -> None:
        self.titles += other.titles
        self.texts += other.texts
        self.labels += other.labels


def from_tickets(
    app: Megacity, *, per_class: int = 100, min_count: int = 5, exclude: Sequence[str] = ()
) -> Examples:
    """The most recent requests of each leaf category, as examples."""
    catalogue = app.profile.catalogue
    skip = set(exclude)
    query = (
        select(tickets.c.id, tickets.c.title, tickets.c.text, tickets.c.category_code)
        .where(tickets.c.category_code.is_not(None))
        .order_by(tickets.c.received_at.desc(), tickets.c.id)
    )
    with app.uow(write=False) as uow:
        rows = uow.connection.execute(query).all()
    leaves = {c.code for c in catalogue.leaves()}
    usable = [r for r in rows if r.category_code in leaves and r.id not in skip]
    counts = Counter(r.category_code for r in usable)
    taken: Counter[str] = Counter()
    out = Examples()
    for row in usable:
        code = row.category_code
        if counts[code] >= min_count and taken[code] < per_class:
            taken[code] += 1
            out.add(row.title, row.text, code)
    return out


def corrections(app: Megacity) -> list[dict[str, Any]]:
    """The latest correction of each request that names a category, oldest first."""
    query = (
        select(training_labels)
        .where(training_labels.c.category_code.is_not(None))
        .order_by(training_labels.c.id)
    )
    with app.uow(write=False) as uow:
        rows = [dict(r._mapping) for r in uow.connection.execute(query)]
    latest = {row["ticket_id"]: row for row in rows}
    return sorted(latest.values(), key=lambda row: row["id"])


def _key(title: str | None, text: str | None) -> tuple[str, str]:
    from megacity.nlp.text import normalise

    return normalise(title, limit=200), normalise(text)


def retrain(
    app: Megacity, model: Path, base: Examples | None = None, *, per_class: int = 100
) -> tuple[TextClassifier, list[int]]:
    """Train on the base (files, or the database's requests) plus corrections; save to `model`.

    Returns the saved classifier and the ids of the training labels it used. Raises
    ``ValueError`` when fewer than two classes remain.
    """
    from megacity.nlp.classifier import train

    fixes = corrections(app)
    if base is None:
        base = from_tickets(app, per_class=per_class, exclude=[f["ticket_id"] for f in fixes])
    corrected = {_key(f["title"], f["text"]) for f in fixes}
    examples = Examples()
    for title, text, label in zip(base.titles, base.texts, base.labels, strict=True):
        if _key(title, text) not in corrected:
            examples.add(title, text, label)
    for fix in fixes:
        examples.add(fix["title"], fix["text"], str(fix["category_code"]))
    if len(set(examples.labels)) < 2:
        raise ValueError(
            f"need examples of at least two categories, found {len(base.labels)} base row(s) "
            f"and {len(fixes)} correction(s); load requests or give --base-data"
        )
    classifier = train(examples.texts, examples.labels, examples.titles)
    classifier.meta["source"] = {
        "base_rows": len(base.labels),
        "corrections": len(fixes),
        "profile": app.profile.code,
    }
    classifier.save(model)
    used = [int(f["id"]) for f in fixes]
    version = str(classifier.meta["version"])
    with app.uow() as uow:
        if used:
            uow.connection.execute(
                update(training_labels).where(training_labels.c.id.in_(used)).values(used_by_model=version)
            )
        uow.audit.note(
            action="dispatch_model_trained",
            actor="classify-retrain",
            role="system",
            at=app.clock(),
            payload={"version": version, "rows": classifier.meta["training_size"], "labels": len(used)},
        )
        uow.commit()
    return classifier, used
