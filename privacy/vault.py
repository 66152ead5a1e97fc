"""The vault: AES-GCM data keys per seeker, wrapped by the master key.

Each seeker's personal data is sealed with a data key of their own, bound to
their account id as associated data (a sealed value copied onto another
account does not open). The data keys are stored wrapped by the master key;
destroying one makes every copy of that seeker's personal data unreadable at
once (crypto-shredding). Emails, and names by their reading, are found
through keyed hashes (blind indexes), never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Sequence
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain import kana
from domain.errors import StorageError
from domain.i18n import _
from privacy.key_table import KeyTable, MemoryKeyTable
from privacy.master_key import MasterKeyError

NONCE_BYTES = 12
KEY_AAD = b"seekers/data-key/"
DATA_AAD = b"seekers/personal/"


def unwrap_data_key(master: AESGCM, seeker_id: UUID, wrapped: bytes) -> bytes:
    """The seeker's data key; ``InvalidTag`` if ``master`` did not wrap it."""
    nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    return master.decrypt(nonce, body, KEY_AAD + seeker_id.bytes)


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


class Vault:
    def __init__(self, table: KeyTable | MemoryKeyTable, master_key: bytes) -> None:
        self.table = table
        self._master = AESGCM(master_key)
        self._index_key = _index_key(master_key, b"seekers/email-index")
        self._reading_key = _index_key(master_key, b"seekers/reading-index")
        self._keys: dict[UUID, bytes | None] = {}

    # -- data keys -------------------------------------------------------

    def create_key(self, seeker_id: UUID) -> None:
        self.create_keys([seeker_id])

    def create_keys(self, seeker_ids: Sequence[UUID]) -> None:
        rows = []
        for seeker_id in seeker_ids:
            data_key = AESGCM.generate_key(bit_length=256)
            nonce = secrets.token_bytes(NONCE_BYTES)
            aad = KEY_AAD + seeker_id.bytes
            rows.append(
                (str(seeker_id), nonce + self._master.encrypt(nonce, data_key, aad))
            )
            self._keys[seeker_id] = data_key
        self.table.insert_keys(rows)

    def destroy_key(self, seeker_id: UUID) -> None:
        """Crypto-shred: the key, its blind-index entries, and their traces."""
        self.destroy_keys([seeker_id])

    def destroy_keys(self, seeker_ids: Sequence[UUID]) -> None:
        self.table.destroy_keys([str(seeker_id) for seeker_id in seeker_ids])
        for seeker_id in seeker_ids:
            self._keys[seeker_id] = None

    def _data_key(self, seeker_id: UUID) -> bytes | None:
        if seeker_id not in self._keys:
            wrapped = self.table.wrapped_key(str(seeker_id))
            if wrapped is None:
                self._keys[seeker_id] = None
            else:
                try:
                    key = unwrap_data_key(self._master, seeker_id, wrapped)
                except InvalidTag:
                    raise MasterKeyError(
                        _(
                            "the master key does not open this ledger's data keys "
                            "(wrong SEEKERS_MASTER_KEY or key file)"
                        )
                    ) from None
                self._keys[seeker_id] = key
        return self._keys[seeker_id]

    # -- the Vault protocol of adapters.sealing -------------------------------

    def seal(self, seeker_id: UUID, plaintext: bytes) -> bytes:
        key = self._data_key(seeker_id)
        if key is None:
            raise StorageError(
                _("seeker {seeker} has no data key to seal with").format(
                    seeker=seeker_id
                )
            )
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(key).encrypt(nonce, plaintext, DATA_AAD + seeker_id.bytes)

    def unseal(self, seeker_id: UUID, blob: bytes) -> bytes | None:
        key = self._data_key(seeker_id)
        if key is None:
            return None
        nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, body, DATA_AAD + seeker_id.bytes)
        except InvalidTag:
            raise StorageError(
                _(
                    "personal data of seeker {seeker} does not open: altered, "
                    "or sealed for another account"
                ).format(seeker=seeker_id)
            ) from None

    # -- the email blind index -------------------------------------------

    def email_digest(self, email: str) -> str:
        message = normalise_email(email).encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()

    def claim_email(self, policy: str, email: str, seeker_id: UUID) -> UUID | None:
        """Index the email under the policy; the earlier holder if taken."""
        holder = self.table.claim_email(
            policy, self.email_digest(email), str(seeker_id)
        )
        return UUID(holder) if holder else None

    def index_emails(self, entries: Sequence[tuple[str, str, UUID]]) -> None:
        """Index many (policy, email, seeker) at once (imports, simulations)."""
        self.table.insert_emails(
            [
                (policy, self.email_digest(email), str(seeker))
                for policy, email, seeker in entries
            ]
        )

    def release_indexes(self, seeker_id: UUID) -> None:
        """Forget the seeker's email and reading (a registration that never
        completed, or an account erased before these rows went with its key)."""
        self.table.release_indexes(str(seeker_id))

    def find_email(self, email: str) -> list[tuple[str, UUID]]:
        return [
            (policy, UUID(seeker))
            for policy, seeker in self.table.find_email(self.email_digest(email))
        ]

    # -- the reading blind index -----------------------------------------

    def reading_digest(self, key: str) -> str:
        """The keyed hash of one search key of a reading (``domain.kana``).

        Its own key, derived apart from the email index's: a reading's hash
        never equals an email's, and one index says nothing of the other."""
        return hmac.new(self._reading_key, key.encode(), hashlib.sha256).hexdigest()

    def index_readings(self, entries: Sequence[tuple[str, str, UUID]]) -> None:
        """Index (policy, stored reading, seeker) by the whole reading and by
        each of its parts; names are not unique, so nothing is claimed."""
        self.table.insert_readings(
            [
                (policy, self.reading_digest(key), str(seeker))
                for policy, reading, seeker in entries
                for key in kana.search_keys(reading)
            ]
        )

    def find_reading(self, reading: str) -> list[tuple[str, UUID]]:
        """Accounts (policy, id) whose reading is, or has a part that is,
        ``reading`` as someone typed it; ``BadValue`` if it is not kana."""
        digest = self.reading_digest(kana.query_key(reading))
        return [
            (policy, UUID(seeker)) for policy, seeker in self.table.find_reading(digest)
        ]


def _index_key(master_key: bytes, purpose: bytes) -> bytes:
    """A blind index's HMAC key, derived from the master key for one purpose."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(
        master_key
    )
