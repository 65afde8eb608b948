"""Dispatch (派单): who should handle a request. Pluggable behind `Dispatcher`.

The rules dispatcher applies the catalogue: a territorial (属地) leaf goes to the street/town
of the location, otherwise to the named department or company; a request whose street is
unknown goes to the district government (条例 Art. 12), and with neither, to a human.
The smart-dispatch model plugs in behind the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket


@dataclass(frozen=True)
class Suggestion:
    """A proposed unit and category, with how sure the dispatcher is and why."""

    unit_code: str | None
    category_code: str | None
    confidence: float
    reason: str
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    def confident(self, threshold: float) -> bool:
        return self.unit_code is not None and self.confidence >= threshold


class Dispatcher(Protocol):
    def suggest(self, ticket: Ticket) -> Suggestion: ...


class RulesDispatcher:
    """Catalogue + location → unit, with no model."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile

    def suggest(self, ticket: Ticket) -> Suggestion:
        """Suggest a unit for `ticket` from its category and location."""
        catalogue, org = self._profile.catalogue, self._profile.org
        category = catalogue.get(ticket.category_code) if ticket.category_code else None
        if category is None or not catalogue.is_leaf(category.code):
            return Suggestion(None, ticket.category_code, 0.0, "no leaf category: needs a human dispatcher")
        if not category.is_territorial:
            return Suggestion(category.responsible, category.code, 1.0, f"catalogue: {category.name}")
        if ticket.street_code and org.unit(ticket.street_code):
            return Suggestion(ticket.street_code, category.code, 1.0, "catalogue: territorial (属地)")
        if ticket.district_code:
            government = org.district_government(ticket.district_code)
            if government is not None:
                return Suggestion(government.code, category.code, 0.8, "street unknown: district government")
        return Suggestion(None, category.code, 0.0, "location unknown: needs a human dispatcher")
