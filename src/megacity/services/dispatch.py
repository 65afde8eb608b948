"""Dispatch (派单): who should handle a request. Pluggable behind `Dispatcher`.

The rules dispatcher applies the catalogue: a territorial (属地) leaf goes to the street/town
of the location, otherwise to the named department or company; a request whose street is
unknown goes to the district government (条例 Art. 12), and with neither, to a human.
The smart-dispatch model plugs in behind the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket

if TYPE_CHECKING:
    from megacity.settings import Settings

#: The version logged for decisions that no model made.
RULES = "rules"


@dataclass(frozen=True)
class Suggestion:
    """A proposed unit and category, with how sure the dispatcher is and why."""

    unit_code: str | None
    category_code: str | None
    confidence: float
    reason: str
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    model_version: str = RULES
    #: the category behind each alternative (same order), when the dispatcher knows it
    alternative_categories: tuple[str | None, ...] = ()

    def confident(self, threshold: float) -> bool:
        return self.unit_code is not None and self.confidence >= threshold


class Dispatcher(Protocol):
    def suggest(self, ticket: Ticket) -> Suggestion: ...


def model_path(settings: Settings) -> Path:
    """Where the dispatch model lives: ``MEGACITY_DISPATCH_MODEL``, else ``<files dir>/models/dispatch``."""
    return settings.dispatch_model or settings.files_dir / "models" / "dispatch"


def default_dispatcher(profile: Profile, settings: Settings) -> Dispatcher:
    """The model dispatcher over the local model folder; it answers by the rules while no model exists.

    Nothing is downloaded: the model is trained from local data (``megacity classify retrain``).
    """
    from megacity.profiles import default_profile_path
    from megacity.routing.gazetteer import Gazetteer
    from megacity.routing.model import ModelDispatcher

    folder = settings.profile if settings.profile is not None else default_profile_path()
    if folder.is_file():
        folder = folder.parent
    return ModelDispatcher(profile, model_path(settings), Gazetteer.for_profile(profile.org, folder))


def suggest_many(dispatcher: Dispatcher, tickets: list[Ticket]) -> list[Suggestion]:
    """Suggestions for many requests, batched when the dispatcher can (the model dispatcher can)."""
    batch = getattr(dispatcher, "suggest_many", None)
    if batch is not None:
        result: list[Suggestion] = batch(tickets)
        return result
    return [dispatcher.suggest(t) for t in tickets]


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
