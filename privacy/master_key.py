"""Where the master key comes from: ``SEEKERS_MASTER_KEY``, or for a local
SQLite store a key file beside the database (created, mode 0600, when none
is given)."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from domain.errors import StorageError

MASTER_KEY_ENV = "SEEKERS_MASTER_KEY"
KEY_BYTES = 32


class MasterKeyError(StorageError):
    """The master key is missing, malformed, or not the one this store uses."""


def decode_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{source} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{source} must hold {KEY_BYTES} bytes (base64), not {len(key)}"
        )
    return key


def key_file_for(database: Path) -> Path:
    return database.with_name(database.name + ".key")


def load_master_key(
    *,
    environ: dict[str, str],
    sqlite_path: Path | None,
    notice: Callable[[str], None],
) -> bytes:
    """The master key for this store, creating a key file only for SQLite."""
    text = environ.get(MASTER_KEY_ENV, "").strip()
    if text:
        return decode_master_key(text, MASTER_KEY_ENV)
    if sqlite_path is None:
        raise MasterKeyError(
            f"{MASTER_KEY_ENV} is not set: a PostgreSQL store needs the master "
            "key (base64 of 32 bytes) to read or write personal data"
        )
    path = key_file_for(sqlite_path)
    if path.exists():
        return decode_master_key(path.read_text(encoding="ascii"), f"key file {path}")
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(key).decode("ascii") + "\n")
    notice(
        f"created master key file {path} (mode 0600); without it the personal "
        "data in this ledger cannot be read: back it up, or set "
        f"{MASTER_KEY_ENV} instead"
    )
    return key
