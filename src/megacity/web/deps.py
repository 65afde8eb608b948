"""Dependencies shared by routes: the application container and the acting user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from megacity.bootstrap import Megacity
from megacity.domain.enums import Role


def get_megacity(request: Request) -> Megacity:
    app: Megacity = request.app.state.megacity
    return app


@dataclass(frozen=True)
class Actor:
    """Who is calling, with the scope their role is limited to."""

    name: str
    role: Role
    unit_code: str | None = None
    district_code: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        """Until accounts land (security issue), no API caller sees unmasked personal data."""
        return False


def current_actor(request: Request) -> Actor:
    """The acting user.

    Accounts, tokens and per-role scopes are the security issue's work; until then every
    API call acts as the hotline centre's service account and sees masked data only.
    """
    return Actor(name="api", role=Role.DISPATCHER)


MegacityDep = Annotated[Megacity, Depends(get_megacity)]
ActorDep = Annotated[Actor, Depends(current_actor)]
