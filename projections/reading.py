"""Reading the event log for the projections: a page at a time, each event
decoded once for every projection.

The events are decoded by the library's mapper, as every reader does, with
two savings that change nothing in what comes out: personal data stays
sealed (``SealingMapper.without_unsealing``: projections store none), and the
JSON is read by a decoder that turns the stored ``{"_type_", "_data_"}``
objects back into values through the same transcodings with one call per
value instead of the library's general-purpose hook.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    TranscodingNotRegisteredError,
)

from projections.views import LogRow

Decoded = tuple[int, Any]
"""An event and its notification id."""


class _Stored(NamedTuple):
    """What the mapper reads of a stored event; lighter to make than the
    library's frozen ``StoredEvent`` dataclass."""

    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


class ReadingTranscoder(Transcoder):
    """Decodes what ``transcoder`` encoded, through its own transcodings."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self._encoding = transcoder
        decoders: dict[str, Callable[[Any], Any]] = {
            name: transcoding.decode for name, transcoding in transcoder.names.items()
        }
        if "datetime_iso" in decoders:  # the library's, without its assert
            decoders["datetime_iso"] = datetime.fromisoformat
        self._decoders = decoders
        self._decode = json.JSONDecoder(object_hook=self._value).decode

    def _value(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            try:
                decode = self._decoders[obj["_type_"]]
            except KeyError:
                raise TranscodingNotRegisteredError(
                    f"Data serialized with name {obj['_type_']!r} is not "
                    "deserializable. Please register a custom transcoding for "
                    "this type."
                ) from None
            return decode(obj["_data_"])
        return obj

    def encode(self, obj: Any) -> bytes:
        return self._encoding.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decode(data.decode("utf8"))


def reading_mapper(mapper: Mapper[UUID]) -> Mapper[UUID]:
    """``mapper`` (a copy the projections own) with the reading transcoder."""
    if isinstance(mapper.transcoder, JSONTranscoder):
        mapper.transcoder = ReadingTranscoder(mapper.transcoder)
    return mapper


def decode_page(
    mapper: Mapper[UUID], page: Sequence[LogRow], as_id: Callable[[Any], UUID | str]
) -> list[Decoded]:
    """Each event of the page decoded once. An account's id is converted once
    per page (``as_id``), not once per event."""
    decode = mapper.to_domain_event
    ids: dict[Any, UUID | str] = {}
    decoded = []
    for notification_id, originator, version, topic, state in page:
        originator_id = ids.get(originator)
        if originator_id is None:
            originator_id = ids[originator] = as_id(originator)
        stored = _Stored(originator_id, version, topic, state)
        decoded.append((notification_id, decode(cast(StoredEvent, stored))))
    return decoded


def text_to_uuid(value: Any) -> UUID | str:
    """An id as SQLite stores it (text) made a ``UUID``, as the library does."""
    return value if isinstance(value, UUID) else UUID(value)


def unchanged(value: Any) -> UUID | str:
    """An id as PostgreSQL returns it (a ``UUID`` already), or a text id."""
    return cast("UUID | str", value)
