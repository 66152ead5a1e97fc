"""What each stored event's hashes cover, byte for byte.

Hashes are taken over the exact stored bytes (the mapper's output, personal
data still sealed), never over re-serialized JSON, so verifying needs no key
and still works after a purge destroyed one.

- ``event_digest`` = SHA-256 of the topic and the stored state, each length
  prefixed: what the event says.
- ``stream_hash`` = SHA-256 of a domain tag, the previous event's stream hash
  in the same account (32 zero bytes for version 1), the account id's 16
  bytes, the version (8 bytes, big-endian) and the event digest: SPEC §8's
  stream chain. Deleting, reordering or altering an event of a stream breaks
  every later link.
- ``leaf_data`` = a domain tag, the notification id (8 bytes) and the stream
  hash: the log tree's leaf for the event (hashed as RFC 9162 leaves, prefix
  0x00), so the tree also pins each event to its place in the log.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = bytes(32)
_STREAM_TAG = b"seekers/stream/v1\x00"
_LEAF_TAG = b"seekers/leaf/v1\x00"


def event_digest(topic: str, state: bytes) -> bytes:
    encoded = topic.encode()
    return hashlib.sha256(
        len(encoded).to_bytes(4, "big")
        + encoded
        + len(state).to_bytes(8, "big")
        + state
    ).digest()


def stream_hash(previous: bytes, account: UUID, version: int, digest: bytes) -> bytes:
    return hashlib.sha256(
        _STREAM_TAG + previous + account.bytes + version.to_bytes(8, "big") + digest
    ).digest()


def leaf_data(notification_id: int, stream: bytes) -> bytes:
    return _LEAF_TAG + notification_id.to_bytes(8, "big") + stream
