"""Use cases. Each opens one unit of work, commits once, and records its audit events in it."""
