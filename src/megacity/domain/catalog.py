"""The dispatch catalogue (派单目录): a category tree whose leaves say who is responsible.

Names repeat under different parents in real catalogues (e.g. "其他"), so a category is
identified by a code derived from its path, never by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from megacity.domain.enums import Urgency
from megacity.domain.org import Validity

TERRITORIAL = "territorial"  # 属地: the street/town where the request is located


@dataclass(frozen=True)
class Category:
    """One node of the catalogue tree.

    `responsible` is only meaningful on leaves: either `TERRITORIAL` or a handling-unit code.
    """

    code: str
    name: str
    level: int
    parent_code: str | None
    responsible: str = TERRITORIAL
    urgency: Urgency = Urgency.GENERAL
    validity: Validity = field(default_factory=Validity)

    @property
    def is_territorial(self) -> bool:
        return self.responsible == TERRITORIAL


@dataclass(frozen=True)
class Catalogue:
    """All categories by code, with tree navigation."""

    categories: Mapping[str, Category]

    def get(self, code: str) -> Category | None:
        return self.categories.get(code)

    def children(self, code: str | None) -> list[Category]:
        """Direct children of `code` (`None` gives the first level)."""
        return [c for c in self.categories.values() if c.parent_code == code]

    def is_leaf(self, code: str) -> bool:
        return not any(c.parent_code == code for c in self.categories.values())

    def path(self, code: str) -> list[Category]:
        """The categories from the root down to `code`."""
        out: list[Category] = []
        current = self.categories.get(code)
        while current is not None:
            out.append(current)
            current = self.categories.get(current.parent_code) if current.parent_code else None
        return list(reversed(out))

    def by_path(self, *names: str) -> Category | None:
        """Find a category by its names from the first level down."""
        parent: str | None = None
        found: Category | None = None
        for name in names:
            found = next((c for c in self.children(parent) if c.name == name), None)
            if found is None:
                return None
            parent = found.code
        return found

    def leaves(self) -> list[Category]:
        parents = {c.parent_code for c in self.categories.values()}
        return [c for c in self.categories.values() if c.code not in parents]
