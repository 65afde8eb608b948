"""Tables for dispatch decisions, training labels and follow-up work (migration 0003).

* `dispatch_decisions` — every automatic or human dispatch decision with the model version that
  made or suggested it, so a wrong dispatch can be traced to the model that made it.
* `training_labels` — corrected (category, unit) pairs from disputes (派单异议), re-dispatches and
  human dispatch; `megacity classify retrain` learns from them.
* `key_complainants` and `complainant_notes` — the 重点诉求人 directory: labels, a plan per person
  (一人一策) and dated case notes. Keyed by pseudonym only; personal data stays in `contacts`.
* `monthly_topics` — adopted monthly topics (每月一题) whose volume is tracked month by month.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Integer, String, Table, Text

from megacity.store.tables import _ts, metadata

dispatch_decisions = Table(
    "dispatch_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), nullable=False, index=True),
    _ts("at", nullable=False),
    Column("mode", String(16), nullable=False),  # auto, queued, human, redispatch
    Column("actor", String(64), nullable=False),
    Column("model_version", String(64)),
    Column("category_code", String(32)),
    Column("unit_code", String(32)),
    Column("confidence", Float),
    Column("suggestions", JSON, nullable=False, default=list),
    Column("reason", Text, nullable=False, default=""),
)

training_labels = Table(
    "training_labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), nullable=False, index=True),
    _ts("created_at", nullable=False),
    Column("source", String(32), nullable=False),  # dispute, redispatch, human
    Column("actor", String(64), nullable=False),
    Column("title", String(200), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("category_code", String(32)),
    Column("unit_code", String(32)),
    Column("previous_category_code", String(32)),
    Column("previous_unit_code", String(32)),
    Column("used_by_model", String(64)),
)

key_complainants = Table(
    "key_complainants",
    metadata,
    Column("complainant_id", String(64), primary_key=True),
    Column("labels", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False, default="active"),  # active, closed
    Column("plan", Text, nullable=False, default=""),  # 一人一策
    _ts("designated_at", nullable=False),
    Column("designated_by", String(64), nullable=False),
    _ts("updated_at", nullable=False),
)

complainant_notes = Table(
    "complainant_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("complainant_id", String(64), nullable=False, index=True),
    _ts("at", nullable=False),
    Column("author", String(64), nullable=False),
    Column("note", Text, nullable=False),
)

monthly_topics = Table(
    "monthly_topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("terms", JSON, nullable=False, default=list),
    Column("category_codes", JSON, nullable=False, default=list),
    Column("street_codes", JSON, nullable=False, default=list),
    Column("heat", Float),
    Column("status", String(16), nullable=False, default="adopted"),  # adopted, closed
    _ts("adopted_at", nullable=False),
    Column("adopted_by", String(64), nullable=False),
    _ts("closed_at"),  # migration 0006: set when the topic's problem is solved
    Column("closed_by", String(64)),
    Column("close_reason", Text),
)
