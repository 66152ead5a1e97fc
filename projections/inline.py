"""Projecting in the same transaction as the events (SQLite).

A command's events and the projections' rows for them can be one commit:
the recorder below calls the projections back from inside the transaction
that inserts the events, right after the insert. It only acts when a
projection is exactly caught up to the events before these (so the order
of the log is kept); otherwise, or if anything goes wrong, it rolls back to
its savepoint and leaves the work to the ordinary catch-up, which then finds
the same events. Either way each event is projected exactly once, with its
tracking position in the same transaction as its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

InlineHook = Callable[[SQLiteCursor, Sequence[StoredEvent], Sequence[int]], None]


class InlineProjectingSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, with a hook after insert."""

    inline: InlineHook | None = None

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.inline is not None and ids:
            self.inline(c, stored_events, ids)
        return ids


TOPIC = f"{__name__}:{InlineProjectingSQLiteRecorder.__qualname__}"
