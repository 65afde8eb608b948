"""Analytics over the canonical ticket table: repeat-request detection and its helpers."""
