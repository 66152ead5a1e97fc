"""Idempotent commands: a request id stored with the events it recorded.

A command can fail after its events were committed (the connection drops at
``COMMIT``): the operator sees exit 6 and runs it again. With the same
``--request-id``, the second run finds the first one's record and returns
its outcome, recording nothing, the way payment APIs and event stores with
idempotent appends do. The record (request id, command, account, versions,
event names, result) is written by the recorder in the insert's transaction
(``adapters.recorders``), so it exists exactly when the events do; the
request id's primary key makes two concurrent runs of one request record
once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent


@dataclass(frozen=True)
class Request:
    """The request a save belongs to: its id and the use case it runs."""

    request_id: str
    command: str
    result: Any = None
    fresh: bool = False
    """The id was generated for this run (no ``--request-id``): no earlier
    run can have recorded it, so there is nothing to look up before the
    save. A retry of the insert inside this run still looks (see
    ``SeekerLedger.previous_outcome``)."""


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    command: str
    seeker_id: str
    first_version: int
    last_version: int
    events: list[str]
    result: Any
    recorded_at: str


CURRENT: ContextVar[Request | None] = ContextVar("seekers_request", default=None)


@contextmanager
def requested(request: Request | None) -> Iterator[None]:
    token = CURRENT.set(request)
    try:
        yield
    finally:
        CURRENT.reset(token)


def schema(postgres: bool) -> list[str]:
    big = "BIGINT" if postgres else "INTEGER"
    return [
        f"""CREATE TABLE IF NOT EXISTS command_requests (
            request_id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            seeker_id TEXT NOT NULL,
            first_version {big} NOT NULL,
            last_version {big} NOT NULL,
            events TEXT NOT NULL,
            result TEXT,
            recorded_at TEXT NOT NULL
        )"""
    ]


def record(sql: Any, stored_events: Sequence[StoredEvent]) -> None:
    """Store the current request with the events this insert records."""
    request = CURRENT.get()
    if request is None or not stored_events:
        return
    versions = [stored.originator_version for stored in stored_events]
    sql.run(
        "INSERT INTO command_requests (request_id, command, seeker_id, "
        "first_version, last_version, events, result, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            request.request_id,
            request.command,
            str(stored_events[0].originator_id),
            min(versions),
            max(versions),
            json.dumps([stored.topic.rpartition(".")[2] for stored in stored_events]),
            json.dumps(request.result, default=str),
            datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )


def lookup(rows: list[dict[str, Any]]) -> RequestRecord | None:
    if not rows:
        return None
    row = rows[0]
    return RequestRecord(
        request_id=row["request_id"],
        command=row["command"],
        seeker_id=row["seeker_id"],
        first_version=int(row["first_version"]),
        last_version=int(row["last_version"]),
        events=json.loads(row["events"]),
        result=json.loads(row["result"]) if row["result"] else None,
        recorded_at=row["recorded_at"],
    )


FIND = (
    "SELECT request_id, command, seeker_id, first_version, last_version, events, "
    "result, recorded_at FROM command_requests WHERE request_id = ?"
)
