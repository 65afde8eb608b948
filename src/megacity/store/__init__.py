"""Storage adapter: SQLAlchemy 2 Core tables, repositories and the unit of work."""

from megacity.store import assessment_tables as assessment_tables  # noqa: E402,F401  (tables on metadata)
from megacity.store import followup_tables as followup_tables  # noqa: E402,F401  (tables on metadata)
from megacity.store import snapshot_tables as snapshot_tables  # noqa: E402,F401  (tables on metadata)
