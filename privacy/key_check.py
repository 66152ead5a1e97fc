"""How a store knows the master key it was created with.

The first time a store gets a master key, it records the key's *check
value* in its key table (``seeker_keys``, row ``KEY_CHECK_ROW``): an HMAC of a
fixed label under a key derived from the master key (HKDF). The value tells
nothing about the key, yet a key either gives it or not. Every later opening
compares: a key that does not give it (the key file deleted and remade,
replaced, or a wrong ``SEEKERS_MASTER_KEY``) is refused before anything is
written, so a lost key is never silently replaced by a new one.

Stores written before check values have wrapped data keys but no check: the
first key that unwraps one of them is recorded; a key that does not is
refused. A new key file is made only for a store with neither.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.i18n import _
from privacy.key_table import KeyTable
from privacy.master_key import KeySource, MasterKeyError, load_master_key
from privacy.vault import unwrap_data_key

CHECK_INFO = b"seekers/master-key-check"
CHECK_LABEL = b"seekers: this store's master key, check value v1"


def key_check_value(master_key: bytes) -> bytes:
    """HMAC-SHA256 of a fixed label under a key derived from the master key."""
    check_key = HKDF(algorithm=SHA256(), length=32, salt=None, info=CHECK_INFO).derive(
        master_key
    )
    return hmac.new(check_key, CHECK_LABEL, hashlib.sha256).digest()


def short(check: bytes) -> str:
    """A check value as the operator sees it: enough to tell keys apart."""
    return check[:4].hex() + "…"


@dataclass(frozen=True)
class StoreKeys:
    """What the store's key table says about its master key."""

    check: bytes | None
    """The recorded check value, if any."""
    sample: tuple[str, bytes] | None
    """Without a check value: one seeker's wrapped key, if any (a store
    written before check values)."""

    @property
    def sealed(self) -> bool:
        """Whether the store ever had a master key (and must keep it)."""
        return self.check is not None or self.sample is not None

    @property
    def sealed_with(self) -> str:
        if self.check is None:
            return _("a key recorded before check values")
        return _("key check {check}").format(check=short(self.check))


def store_keys(table: KeyTable) -> StoreKeys:
    check = table.key_check()
    if check is not None:
        return StoreKeys(check=check, sample=None)
    return StoreKeys(check=None, sample=table.some_wrapped_key())


def _missing_key_file(
    store: StoreKeys, source: KeySource
) -> Callable[[Path], MasterKeyError]:
    def error(path: Path) -> MasterKeyError:
        return MasterKeyError(
            _(
                "master key file {path} is missing, but this store holds personal "
                "data sealed with {sealed_with}; no new key was made: {remedy}"
            ).format(path=path, sealed_with=store.sealed_with, remedy=source.remedy)
        )

    return error


def _mismatch(source: KeySource, why: str) -> MasterKeyError:
    return MasterKeyError(
        _(
            "the master key in {source} does not match this store ({why}); {remedy}"
        ).format(source=source.description, why=why, remedy=source.remedy)
    )


def _unwraps(master_key: bytes, seeker_id: str, wrapped: bytes) -> bool:
    try:
        unwrap_data_key(AESGCM(master_key), UUID(seeker_id), wrapped)
    except (InvalidTag, ValueError):
        return False
    return True


def _sealed_with_another(recorded: bytes, given: bytes) -> str:
    return _("it was sealed with key check {recorded}, this key's is {given}").format(
        recorded=short(recorded), given=short(given)
    )


def verify_master_key(
    table: KeyTable, store: StoreKeys, master_key: bytes, source: KeySource
) -> None:
    """Refuse a key the store was not created with; record the check value
    of a store that has none yet."""
    given = key_check_value(master_key)
    if store.check is not None:
        if not hmac.compare_digest(store.check, given):
            raise _mismatch(source, _sealed_with_another(store.check, given))
        return
    if store.sample is not None and not _unwraps(master_key, *store.sample):
        raise _mismatch(source, _("it does not open the data keys the store holds"))
    recorded = table.record_key_check(given)
    if not hmac.compare_digest(recorded, given):  # another key got there first
        raise _mismatch(source, _sealed_with_another(recorded, given))


def open_master_key(
    table: KeyTable, source: KeySource, notice: Callable[[str], None]
) -> bytes:
    """The master key of the store behind ``table``, verified against it.

    A key file is created only for a store that has never had a key; any
    other mismatch is a ``MasterKeyError`` and nothing is written.
    """
    store = store_keys(table)
    master_key = load_master_key(
        source,
        may_create=not store.sealed,
        missing=_missing_key_file(store, source),
        notice=notice,
    )
    verify_master_key(table, store, master_key, source)
    return master_key
