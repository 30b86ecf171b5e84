"""Tokens encrypted at rest: a copy of Redis (a backup, a replica, ``MONITOR``) holds no usable
token without ``TOKEN_ENCRYPTION_KEY``, which lives only in the processes' environment."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCipherError(Exception):
    """A stored token that this key cannot read (the key changed, or the value was tampered)."""


class TokenCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256) with one or more keys, comma-separated.

    The first key encrypts; every key decrypts, so a new key can be put first and the old one
    kept until the workspaces have been re-saved (each install saves again).
    """

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ValueError("TOKEN_ENCRYPTION_KEY is empty")
        try:
            self._fernet = MultiFernet([Fernet(part) for part in parts])
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "TOKEN_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes each, "
                "comma-separated); make one with: python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'"
            ) from exc
        self._count = len(parts)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise TokenCipherError(
                "a stored token cannot be decrypted with TOKEN_ENCRYPTION_KEY "
                "(was the key changed? keep the old key after the new one until reinstalled)"
            ) from exc

    def __repr__(self) -> str:
        return f"TokenCipher(keys={self._count})"
