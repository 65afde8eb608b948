"""Encryption at rest of personal data (Fernet: AES-128-CBC + HMAC-SHA256).

The Fernet key is derived from ``MEGACITY_SECRET_KEY``; rotation decrypts with every key
in the keyring and encrypts with the first (see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet


def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(f"megacity-personal-data:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class Vault:
    """Encrypts and decrypts short personal-data strings."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("a vault needs at least one secret")
        self._crypto = MultiFernet([_fernet(s) for s in secrets])

    def seal(self, value: str | None) -> bytes | None:
        return None if value is None else self._crypto.encrypt(value.encode())

    def open(self, token: bytes | None) -> str | None:
        return None if token is None else self._crypto.decrypt(token).decode()

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the newest key."""
        return self._crypto.rotate(token)
