"""The model dispatcher: text classifier (category) + location + catalogue rule → unit.

For each of the classifier's most probable leaf categories the catalogue rule names a unit: a
territorial (属地) leaf goes to the street/town of the request, any other leaf to its department
or company, and a territorial leaf whose street is unknown to the district government (条例
Art. 12). The probability of a unit is the sum of the probabilities of the categories that lead
to it, times how sure the location is when the rule needed it. Because the classifier's
probabilities are calibrated (temperature scaling), so is this confidence up to the location
factors below, which are assumptions (stated in docs/dispatch.md), not measurements.

The model is read lazily on first use (the CLI stays fast) and read again when its folder
changes (after ``megacity classify retrain``). Without a model the rules dispatcher answers and
decisions are logged with model version ``rules``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from megacity.domain.profile import Profile
from megacity.domain.tickets import Ticket
from megacity.routing.gazetteer import Gazetteer, Location
from megacity.services.dispatch import RulesDispatcher, Suggestion

if TYPE_CHECKING:
    from megacity.nlp.classifier import TextClassifier
    from megacity.routing.coords import DistrictIndex

__all__ = ["LOCATION_CONFIDENCE", "ModelDispatcher", "Place"]

#: How sure each way of finding the street is (assumed; see docs/dispatch.md).
LOCATION_CONFIDENCE = {
    "given": 1.0,  # the operator or the API client gave street_code
    "address": 0.95,  # a place name in the address field
    "text": 0.85,  # a place name in the title or text (may be a mention, not the place)
    "district": 0.8,  # only the district is known: its government (as the rules dispatcher)
}
TOP_CATEGORIES = 5


@dataclass(frozen=True)
class Place:
    """The resolved location of a request and how it was found."""

    street_code: str | None
    district_code: str | None
    source: str | None  # a key of LOCATION_CONFIDENCE, or None when nothing is known
    reason: str
    candidates: tuple[str, ...] = ()


class ModelDispatcher:
    """A `Dispatcher` that reads the text when the operator gave no category."""

    def __init__(
        self,
        profile: Profile,
        model_path: Path | None,
        gazetteer: Gazetteer,
        districts: DistrictIndex | None = None,
    ) -> None:
        self._profile = profile
        self._path = model_path
        self._gazetteer = gazetteer
        self._districts = districts
        self._rules = RulesDispatcher(profile)
        # the catalogue and organisation answer these by scanning; a dispatcher asks them often
        self._leaves = frozenset(c.code for c in profile.catalogue.leaves())
        self._governments = {
            d: g.code for d in profile.org.districts if (g := profile.org.district_government(d)) is not None
        }
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._model: TextClassifier | None = None

    @property
    def model_version(self) -> str:
        """The version of the model in use, or ``rules`` when there is none."""
        model = self.model()
        return str(model.meta.get("version", "unknown")) if model is not None else "rules"

    def model(self) -> TextClassifier | None:
        """The classifier, (re)loaded when its folder changed; None when there is no usable model."""
        if self._path is None:
            return None
        meta = self._path / "meta.json"
        try:
            stamp = meta.stat().st_mtime
        except OSError:
            self._model, self._stamp = None, None
            return None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    from megacity.nlp.classifier import ModelError, TextClassifier

                    try:
                        self._model = TextClassifier.load(self._path)
                    except ModelError:
                        self._model = None
                    self._stamp = stamp
        return self._model

    def locate(self, ticket: Ticket) -> Place:
        """Street and district of the request from its codes, address, text and coordinates."""
        org = self._profile.org
        if ticket.street_code and org.unit(ticket.street_code):
            return Place(ticket.street_code, ticket.district_code, "given", "street given")
        district = ticket.district_code
        note = ""
        if district is None and ticket.lon is not None and ticket.lat is not None:
            district = self._district_index().district_at(ticket.lon, ticket.lat)
            if district is not None:
                area = org.districts.get(district)
                note = f"; coordinates in {area.name if area else district}"
        found: Location | None = None
        for source, texts in (("address", [ticket.address]), ("text", [ticket.title, ticket.text])):
            found = self._gazetteer.locate(texts, district)
            if found.street_code is not None:
                return Place(found.street_code, found.district_code, source, found.reason + note)
            if found.ambiguous:
                break
        district = district or (found.district_code if found else None)
        reason = (found.reason if found else "no address") + note
        candidates = found.candidates if found else ()
        if district is not None:
            return Place(None, district, "district", reason, candidates)
        return Place(None, None, None, reason, candidates)

    def _district_index(self) -> DistrictIndex:
        if self._districts is None:  # numpy and the boundaries load on first use: the CLI stays fast
            from megacity.routing.coords import beijing_districts

            self._districts = beijing_districts()
        return self._districts

    def suggest(self, ticket: Ticket) -> Suggestion:
        """Suggest a unit for one request."""
        return self.suggest_many([ticket])[0]

    def suggest_many(self, tickets: Sequence[Ticket]) -> list[Suggestion]:
        """Suggestions for many requests; the classifier runs once over all of them."""
        model = self.model()
        if model is None:
            return [self._rules.suggest(t) for t in tickets]
        version = str(model.meta.get("version", "unknown"))
        catalogue = self._profile.catalogue
        unknown = [i for i, t in enumerate(tickets) if not self._given_leaf(t)]
        predicted = dict(
            zip(
                unknown,
                model.predict(
                    [tickets[i].text for i in unknown], [tickets[i].title for i in unknown], TOP_CATEGORIES
                ),
                strict=True,
            )
        )
        out = []
        for i, ticket in enumerate(tickets):
            if i in predicted:
                ranked = list(predicted[i].top)
                origin = f"model {version}"
            else:
                ranked = [(str(ticket.category_code), 1.0)]
                origin = "category given"
            ranked = [(code, p) for code, p in ranked if catalogue.get(code) is not None]
            out.append(self._combine(ticket, ranked, origin, version))
        return out

    def _given_leaf(self, ticket: Ticket) -> bool:
        return ticket.category_code in self._leaves

    def _territorial(self, place: Place) -> list[tuple[str, float]]:
        """Who handles a territorial (属地) request at `place`, with how sure the location is.

        An ambiguous place name splits its confidence equally among the streets it may mean,
        so a human sees them all and none is dispatched automatically.
        """
        if place.street_code and place.source:
            return [(place.street_code, LOCATION_CONFIDENCE[place.source])]
        if place.candidates:
            share = LOCATION_CONFIDENCE["address"] / len(place.candidates)
            return [(code, share) for code in place.candidates]
        government = self._governments.get(place.district_code or "")
        return [(government, LOCATION_CONFIDENCE["district"])] if government else []

    def _combine(
        self, ticket: Ticket, ranked: list[tuple[str, float]], origin: str, version: str
    ) -> Suggestion:
        """Units from categories × location, probabilities summed per unit."""
        catalogue, org = self._profile.catalogue, self._profile.org
        place: Place | None = None
        scores: dict[str, float] = defaultdict(float)
        best_category: dict[str, tuple[str, float]] = {}
        for code, probability in ranked:
            category = catalogue.get(code)
            if category is None or code not in self._leaves:
                continue
            if category.is_territorial:
                place = place or self.locate(ticket)
                targets = self._territorial(place)
            else:
                targets = [(category.responsible, 1.0)]
            for unit, weight in targets:
                if org.unit(unit) is None:
                    continue
                scores[unit] += probability * weight
                if unit not in best_category or best_category[unit][1] < probability:
                    best_category[unit] = (code, probability)
        names = "; ".join(f"{catalogue.categories[c].name} {p:.2f}" for c, p in ranked[:3])
        where = f"; location: {place.reason}" if place else ""
        if not scores:
            reason = f"{origin}: {names or 'no known category'}{where}: needs a human dispatcher"
            return Suggestion(None, ranked[0][0] if ranked else None, 0.0, reason, model_version=version)
        units = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        unit, confidence = units[0]
        category_code = best_category[unit][0]
        reason = f"{origin}: {names}{where}"
        alternatives = tuple((u, round(min(s, 1.0), 4)) for u, s in units[:3])
        return Suggestion(
            unit,
            category_code,
            min(confidence, 1.0),
            reason,
            alternatives,
            model_version=version,
            alternative_categories=tuple(best_category[u][0] for u, _ in units[:3]),
        )
