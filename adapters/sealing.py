"""Sealing personal data where it is stored: the hook in the library's mapper.

Events and snapshots carry personal data in one value, ``PersonalData``. On
the way to the store this mapper replaces it with ``SealedPersonalData``,
encrypted with the seeker's own data key (held by a ``Vault``); on the way
back it opens it again. When the key has been destroyed (the seeker was
purged) the value comes back as ``None``: erased, while the event keeps its
type, times, actor and reason codes. The domain model never sees any of it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
)

from domain.errors import StorageError
from domain.i18n import _
from domain.values import PersonalData


@dataclass(frozen=True)
class SealedPersonalData:
    """Personal data as stored: ciphertext only the seeker's key opens."""

    blob: bytes


class Vault(Protocol):
    """Holds one data key per seeker, itself wrapped by a master key, and
    the keyed hashes that find an account by email or by the reading of its
    name without storing either."""

    def seal(self, seeker_id: UUID, plaintext: bytes) -> bytes: ...

    def unseal(self, seeker_id: UUID, blob: bytes) -> bytes | None:
        """The plaintext, or ``None`` once the seeker's key is destroyed."""

    def create_key(self, seeker_id: UUID) -> None: ...

    def create_keys(self, seeker_ids: Sequence[UUID]) -> None: ...

    def destroy_key(self, seeker_id: UUID) -> None:
        """Destroy the key and the seeker's blind-index entries, for good."""

    def destroy_keys(self, seeker_ids: Sequence[UUID]) -> None: ...

    def index_emails(self, entries: Sequence[tuple[str, str, UUID]]) -> None: ...

    def claim_email(self, policy: str, email: str, seeker_id: UUID) -> UUID | None:
        """Index the email under the policy; the earlier holder if taken."""

    def release_indexes(self, seeker_id: UUID) -> None: ...

    def find_email(self, email: str) -> list[tuple[str, UUID]]: ...

    def index_readings(self, entries: Sequence[tuple[str, str, UUID]]) -> None:
        """Index (policy, reading, seeker): a name's reading, never unique."""

    def find_reading(self, reading: str) -> list[tuple[str, UUID]]: ...


class SealedPersonalDataAsBase64(Transcoding):
    type = SealedPersonalData
    name = "sealed_personal"

    def encode(self, obj: SealedPersonalData) -> str:
        return base64.b64encode(obj.blob).decode("ascii")

    def decode(self, data: str) -> SealedPersonalData:
        return SealedPersonalData(base64.b64decode(data))


class PersonalDataUnprotected(StorageError):
    """Personal data was about to be stored without a vault to seal it."""


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing every ``PersonalData`` value it stores."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        *,
        vault: Callable[[], Vault | None] = lambda: None,
        unseal: bool = True,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self._vault = vault
        self._unseal = unseal

    @staticmethod
    def is_sealed(value: object) -> bool:
        """Whether ``value`` is personal data as stored (for readers that
        compare states without the keys, e.g. the snapshot check)."""
        return isinstance(value, SealedPersonalData)

    def without_unsealing(self) -> SealingMapper:
        """A mapper for readers that never need personal data (projections):
        sealed values stay sealed, so no key is touched."""
        return SealingMapper(
            self.transcoder,
            self.compressor,
            self.cipher,
            vault=self._vault,
            unseal=False,
        )

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = vars(domain_event)
        sealed = self._sealed_state(domain_event.originator_id, state)
        if sealed is not state:
            clone = object.__new__(type(domain_event))
            object.__setattr__(clone, "__dict__", sealed)
            domain_event = clone
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        if self._unseal:
            self._unseal_in_place(domain_event.originator_id, vars(domain_event))
        return domain_event

    # -- the two places personal data lives: an event, a snapshot's state --

    def _sealed_state(self, seeker_id: UUID, state: dict[str, Any]) -> dict[str, Any]:
        personal = state.get("personal")
        if isinstance(personal, PersonalData):
            state = {**state, "personal": self._seal(seeker_id, personal)}
        inner = state.get("state")
        if isinstance(inner, dict) and isinstance(inner.get("personal"), PersonalData):
            sealed = self._seal(seeker_id, inner["personal"])
            state = {**state, "state": {**inner, "personal": sealed}}
        return state

    def _unseal_in_place(self, seeker_id: UUID, state: dict[str, Any]) -> None:
        if isinstance(state.get("personal"), SealedPersonalData):
            state["personal"] = self._open(seeker_id, state["personal"])
        inner = state.get("state")
        if isinstance(inner, dict) and isinstance(
            inner.get("personal"), SealedPersonalData
        ):
            inner["personal"] = self._open(seeker_id, inner["personal"])

    def _seal(self, seeker_id: UUID, personal: PersonalData) -> SealedPersonalData:
        vault = self._vault()
        if vault is None:
            raise PersonalDataUnprotected(
                _("refusing to store personal data without a vault to seal it")
            )
        plaintext = json.dumps(personal.to_dict(), ensure_ascii=False).encode()
        return SealedPersonalData(vault.seal(seeker_id, plaintext))

    def _open(
        self, seeker_id: UUID, sealed: SealedPersonalData
    ) -> PersonalData | SealedPersonalData | None:
        vault = self._vault()
        if vault is None:
            return sealed  # a reader without keys (a projection runner)
        plaintext = vault.unseal(seeker_id, sealed.blob)
        if plaintext is None:
            return None
        return PersonalData.from_dict(json.loads(plaintext))
