"""Token encryption at rest: Fernet with key rotation (TOKEN_ENCRYPTION_KEYS, newest first).

MultiFernet encrypts with the first key and decrypts with any, so adding a new key at the
front and later running :func:`rotate_connection` (or ``rotate``) on every row retires an old
key without forcing a reconnect. Plaintext tokens exist only in memory and are never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from portal.qbo.errors import TokenDecryptError


def cipher(keys: Sequence[str] | None = None) -> MultiFernet:
    """A MultiFernet over ``keys`` (default: the app's TOKEN_ENCRYPTION_KEYS)."""
    if keys is None:
        keys = current_app.config.get("TOKEN_ENCRYPTION_KEYS") or []
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    if not keys:
        raise RuntimeError("TOKEN_ENCRYPTION_KEYS is empty: QBO tokens cannot be stored")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str, keys: Sequence[str] | None = None) -> bytes:
    return cipher(keys).encrypt(plaintext.encode("utf-8"))


def decrypt(ciphertext: bytes, keys: Sequence[str] | None = None) -> str:
    try:
        return cipher(keys).decrypt(bytes(ciphertext)).decode("utf-8")
    except InvalidToken as exc:
        raise TokenDecryptError(
            "The saved QuickBooks tokens cannot be decrypted with the configured keys."
        ) from exc


def rotate(ciphertext: bytes, keys: Sequence[str] | None = None) -> bytes:
    """Re-encrypt under the newest key (any configured key may have encrypted it)."""
    try:
        return cipher(keys).rotate(bytes(ciphertext))
    except InvalidToken as exc:
        raise TokenDecryptError(
            "The saved QuickBooks tokens cannot be decrypted with the configured keys."
        ) from exc


def rotate_connection(conn: Any, keys: Sequence[str] | None = None) -> bool:
    """Re-encrypt a QboConnection's token columns in place (caller commits). True if any."""
    changed = False
    for column in ("access_token_enc", "refresh_token_enc"):
        value = getattr(conn, column)
        if value:
            setattr(conn, column, rotate(value, keys))
            changed = True
    return changed
