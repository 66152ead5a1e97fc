"""What each stored event's hashes cover, byte for byte.

Hashes are taken over the exact stored bytes (the mapper's output, personal
data still sealed), never over re-serialized JSON, so verifying needs no key
and still works after a purge destroyed one. ``docs/integrity.md`` gives
the same layout for auditors who write their own verifier.

- ``event_digest`` = SHA-256 of the topic and the stored state, each length
  prefixed: what the event says.
- ``stream_hash`` = SHA-256 of a domain tag, the previous event's stream hash
  in the same account (32 zero bytes for version 1), the account id's 16
  bytes, the version (8 bytes, big-endian), the event digest and, from
  format 2 on, the principal (the login that wrote the event, UTF-8, length
  prefixed): SPEC §8's stream chain. Deleting, reordering or altering an
  event of a stream, or changing who wrote it, breaks every later link.
- ``leaf_data`` = a domain tag, the notification id (8 bytes) and the stream
  hash: the log tree's leaf for the event (hashed as RFC 9162 leaves, prefix
  0x00), so the tree also pins each event to its place in the log.

A chain row with no principal is a format-1 row (written before principals
existed, tags ``/v1``); every row written now has one (tags ``/v2``), so the
two are told apart by the row itself and both verify.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = bytes(32)
STREAM_TAGS = (b"seekers/stream/v1\x00", b"seekers/stream/v2\x00")
LEAF_TAGS = (b"seekers/leaf/v1\x00", b"seekers/leaf/v2\x00")


def event_digest(topic: str, state: bytes) -> bytes:
    encoded = topic.encode()
    return hashlib.sha256(
        len(encoded).to_bytes(4, "big")
        + encoded
        + len(state).to_bytes(8, "big")
        + state
    ).digest()


def stream_hash(
    previous: bytes,
    account: UUID,
    version: int,
    digest: bytes,
    principal: str | None = None,
) -> bytes:
    """Format 2 when ``principal`` is given, format 1 (no principal) if not."""
    head = previous + account.bytes + version.to_bytes(8, "big") + digest
    if principal is None:
        return hashlib.sha256(STREAM_TAGS[0] + head).digest()
    who = principal.encode()
    return hashlib.sha256(
        STREAM_TAGS[1] + head + len(who).to_bytes(4, "big") + who
    ).digest()


def leaf_data(
    notification_id: int, stream: bytes, principal: str | None = None
) -> bytes:
    """The leaf of a format-2 row (one with a principal) carries the /v2 tag."""
    tag = LEAF_TAGS[0 if principal is None else 1]
    return tag + notification_id.to_bytes(8, "big") + stream
