"""Settings from the environment (prefix ``MEGACITY_``), read once through `get_settings`.

Nothing reads the environment at import time: the CLI, the web app and the tests build a
`Settings` and pass it on, so a test can use its own database without patching globals.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The key every fresh checkout knows; refused outside the local environment.
DEVELOPMENT_SECRET = "megacity-local-development-key-not-secret"


class Settings(BaseSettings):
    """Every setting Megacity reads; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="MEGACITY_", extra="ignore")

    environment: str = "local"
    database_url: str = "sqlite:///megacity.db"
    profile: Path | None = None
    secret_key: str = DEVELOPMENT_SECRET
    previous_secret_keys: str = ""  # comma-separated; still decrypt, never encrypt (key rotation)
    pseudonym_key: str | None = None  # keys complainant pseudonyms; defaults to secret_key, never rotate
    files_dir: Path = Path("files")
    default_language: str = "zh_CN"
    max_body_bytes: int = 1_000_000
    client_requests_per_minute: int = 600
    complainant_daily_limit: int = 20
    page_wait_seconds: float = 0.2  # ranking/monitoring/analysis pages wait this long for a cold result
    page_max_age_seconds: float = 600.0  # ... and show a result this young at once while it is renewed
    dispatch_model: Path | None = None  # model folder; default <files_dir>/models/dispatch (docs/dispatch.md)

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"local", "test", "production"}:
            raise ValueError("environment must be local, test or production")
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("set MEGACITY_SECRET_KEY: the development key is refused in production")
        return self

    @property
    def vault_keys(self) -> list[str]:
        """The newest key first, then the ones being rotated out."""
        return [self.secret_key, *(k.strip() for k in self.previous_secret_keys.split(",") if k.strip())]

    @property
    def pseudonym_secret(self) -> str:
        return self.pseudonym_key or self.secret_key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, from the environment."""
    return Settings()
