"""/api/auth/token: the OAuth2 password flow that issues bearer tokens."""

from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from megacity.services import accounts
from megacity.web.deps import MegacityDep
from megacity.web.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


class TokenRead(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


@router.post("/token", response_model=TokenRead)
def issue_token(
    app: MegacityDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenRead:
    """Exchange a username and password for a bearer token (valid 8 hours)."""
    token = accounts.authenticate(app=app, username=username, password=password)
    return TokenRead(
        access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in
    )
