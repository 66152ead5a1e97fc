"""The integrity tables, written in the transaction that inserts the events.

``integrity_events`` holds one row per stored event: its leaf index (its
position in the log), notification id, account, version, event digest and
stream hash. ``integrity_nodes`` holds every perfect subtree of the log tree
(``level``, ``idx``), so a root or a proof for any size is a few lookups, not
a pass over the log. ``integrity_state`` is one row: the store's origin (its
own id, named in every checkpoint), the tree size and its right edge (the
compact range), and how many events were already there when the store was
first chained. ``integrity_checkpoints`` keeps every checkpoint issued.

The same SQL runs on SQLite and PostgreSQL (``?`` becomes ``%s``). On both,
the library serializes event inserts (SQLite's write lock, PostgreSQL's
``LOCK TABLE ... EXCLUSIVE``), so appends to the tree happen in log order and
concurrent commands can never fork it.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from integrity.chain import (
    GENESIS,
    LEAF_TAGS,
    STREAM_TAGS,
    event_digest,
    leaf_data,
    stream_hash,
)
from integrity.merkle import CompactRange, leaf_hash

BACKFILL_BATCH = 5000
_TAG_STREAM_V2 = STREAM_TAGS[1].hex()
_TAG_LEAF_V2 = LEAF_TAGS[1].hex()


class RawCursor(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...

    def executemany(self, sql: Any, rows: Any) -> Any: ...

    def fetchall(self) -> Any: ...


def schema(postgres: bool) -> list[str]:
    blob = "BYTEA" if postgres else "BLOB"
    big = "BIGINT" if postgres else "INTEGER"
    return [
        f"""CREATE TABLE IF NOT EXISTS integrity_events (
            leaf_index {big} PRIMARY KEY,
            notification_id {big} NOT NULL UNIQUE,
            originator_id TEXT NOT NULL,
            originator_version {big} NOT NULL,
            event_digest {blob} NOT NULL,
            stream_hash {blob} NOT NULL,
            principal TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS integrity_events_stream "
        "ON integrity_events (originator_id, originator_version)",
        f"""CREATE TABLE IF NOT EXISTS integrity_nodes (
            level INTEGER NOT NULL,
            idx {big} NOT NULL,
            hash {blob} NOT NULL,
            PRIMARY KEY (level, idx)
        )""",
        f"""CREATE TABLE IF NOT EXISTS integrity_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            origin TEXT NOT NULL,
            size {big} NOT NULL,
            frontier {blob} NOT NULL,
            chained_from {big} NOT NULL,
            created_at TEXT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS integrity_checkpoints (
            seq {big} PRIMARY KEY,
            size {big} NOT NULL,
            root {blob} NOT NULL,
            issued_at TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        *(_POSTGRES_PRINCIPAL if postgres else []),
    ]


_POSTGRES_PRINCIPAL = [
    # Stores chained before principals existed (format-1 rows keep NULL).
    "ALTER TABLE integrity_events ADD COLUMN IF NOT EXISTS principal TEXT",
    # The database, not the client, says who wrote each row: whatever an
    # INSERT sends, the row gets the session's login.
    """CREATE OR REPLACE FUNCTION seekers_stamp_principal() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.principal := session_user;
            RETURN NEW;
        END $$""",
    "CREATE OR REPLACE TRIGGER integrity_events_principal "
    "BEFORE INSERT ON integrity_events "
    "FOR EACH ROW EXECUTE FUNCTION seekers_stamp_principal()",
]


APPEND_FUNCTION = "seekers_chain_appended(integer)"


def append_function(events_table: str) -> str:
    """PostgreSQL: ``Appender``'s work as one server-side function, for the
    insert of a command's events.

    Every insert holds the log's lock until it commits; computing the chain
    in the client meant a round trip and client work under that lock, which
    on a busy machine is where a descheduled client stalls every other one.
    The function chains the ``inserted`` newest events (those of the
    calling transaction: the lock keeps anyone else's out) in log order,
    exactly as ``Appender`` does (``integrity.chain``: the same tags, the
    same lengths, big-endian integers; ``uuid_send``, ``int8send`` and
    ``int4send`` give the bytes Python's ``UUID.bytes`` and
    ``int.to_bytes(..., "big")`` give), with the session's login as the
    principal. A store with no tree yet has it started by ``Appender``
    (``integrity.chaining``) before this is used; without one, it fails.
    ``audit verify`` checks every row it writes against the Python
    reference, and so does the independent verifier."""
    return f"""CREATE OR REPLACE FUNCTION seekers_chain_appended(inserted integer)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            genesis CONSTANT bytea := '\\x{GENESIS.hex()}';
            stream_tag CONSTANT bytea := '\\x{_TAG_STREAM_V2}';
            leaf_tag CONSTANT bytea := '\\x{_TAG_LEAF_V2}';
            who CONSTANT bytea := convert_to(session_user::text, 'UTF8');
            tree_size bigint;
            edge bytea;
            edge_nodes bytea[];
            stored record;
            topic_bytes bytea;
            digest bytea;
            previous bytea;
            chained bytea;
            node bytea;
            node_index bigint;
            depth integer;
            last integer;
        BEGIN
            SELECT s.size, s.frontier INTO tree_size, edge
                FROM integrity_state s WHERE s.id = 1;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'seekers: this log has no tree yet';
            END IF;
            edge_nodes := ARRAY(
                SELECT substring(edge FROM i FOR 32)
                FROM generate_series(1, octet_length(edge), 32) AS i
            );
            FOR stored IN
                SELECT * FROM (
                    SELECT notification_id, originator_id, originator_version,
                        e.topic, state
                    FROM {events_table} e
                    ORDER BY notification_id DESC LIMIT inserted
                ) AS newest ORDER BY notification_id
            LOOP
                topic_bytes := convert_to(stored.topic, 'UTF8');
                digest := sha256(int4send(octet_length(topic_bytes)) || topic_bytes
                    || int8send(octet_length(stored.state)::bigint) || stored.state);
                previous := NULL;
                IF stored.originator_version > 1 THEN
                    SELECT stream_hash INTO previous FROM integrity_events
                    WHERE originator_id = stored.originator_id::text
                        AND originator_version = stored.originator_version - 1;
                END IF;
                chained := sha256(stream_tag || coalesce(previous, genesis)
                    || uuid_send(stored.originator_id)
                    || int8send(stored.originator_version::bigint) || digest
                    || int4send(octet_length(who)) || who);
                INSERT INTO integrity_events (leaf_index, notification_id,
                    originator_id, originator_version, event_digest, stream_hash,
                    principal)
                VALUES (tree_size, stored.notification_id, stored.originator_id::text,
                    stored.originator_version, digest, chained, session_user);
                node := sha256('\\x00'::bytea || leaf_tag
                    || int8send(stored.notification_id::bigint) || chained);
                node_index := tree_size;
                depth := 0;
                INSERT INTO integrity_nodes (level, idx, hash)
                    VALUES (0, node_index, node);
                WHILE node_index % 2 = 1 LOOP
                    last := array_length(edge_nodes, 1);
                    node := sha256('\\x01'::bytea || edge_nodes[last] || node);
                    edge_nodes := edge_nodes[1:last - 1];
                    node_index := node_index / 2;
                    depth := depth + 1;
                    INSERT INTO integrity_nodes (level, idx, hash)
                        VALUES (depth, node_index, node);
                END LOOP;
                edge_nodes := edge_nodes || node;
                tree_size := tree_size + 1;
            END LOOP;
            UPDATE integrity_state SET size = tree_size,
                frontier = coalesce(
                    (SELECT string_agg(f, ''::bytea ORDER BY n)
                     FROM unnest(edge_nodes) WITH ORDINALITY AS t(f, n)),
                    ''::bytea)
            WHERE id = 1;
        END $$"""


def add_principal_column(cursor: RawCursor) -> None:
    """SQLite: give a table made before principals existed its column
    (SQLite's ``ADD COLUMN`` has no ``IF NOT EXISTS``)."""
    cursor.execute("PRAGMA table_info(integrity_events)")
    if "principal" not in {row[1] for row in cursor.fetchall()}:
        cursor.execute("ALTER TABLE integrity_events ADD COLUMN principal TEXT")


@lru_cache(maxsize=1)
def os_principal() -> str:
    """Who writes to a SQLite store: the operating-system user (SQLite has
    no logins, so this is recorded but not database-authenticated)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or passwd
        return f"uid:{os.getuid()}"


class Sql:
    """One cursor of either store, with ``?`` placeholders and dict rows."""

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    @property
    def nid(self) -> str:
        """The events table's notification id column (SQLite: its rowid)."""
        return "notification_id" if self.postgres else "rowid"

    def account(self, account: UUID) -> Any:
        """An account id as the events table stores it (SQLite: hex)."""
        return account if self.postgres else account.hex

    def sql(self, sql: str) -> str:
        """``sql`` with this store's placeholders."""
        return sql.replace("?", "%s") if self.postgres else sql

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.sql(sql), params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.sql(sql), rows)

    def _settle(self) -> None:
        """In PostgreSQL pipeline mode, receive every pending result before a
        read: a fetch right after a large ``executemany`` can otherwise be
        handed one of its results (psycopg 3.3)."""
        connection = self.cursor.connection
        if connection.pgconn.pipeline_status:
            with connection.pipeline():  # leaving a nested block syncs
                pass

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self.postgres:
            self._settle()
        self.cursor.execute(self.sql(sql), params)
        return [dict(row) for row in self.cursor.fetchall()]

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples in column order (the hot loops of verify)."""
        if self.postgres:  # the pool's cursors make dicts: ask for tuples
            self._settle()
            from psycopg.rows import tuple_row

            factory = self.cursor.row_factory
            self.cursor.row_factory = tuple_row
            try:
                self.cursor.execute(self.sql(sql), params)
                found: list[tuple[Any, ...]] = self.cursor.fetchall()
            finally:
                self.cursor.row_factory = factory
            return found
        raw = getattr(self.cursor, "sqlite_cursor", self.cursor)
        factory = raw.row_factory
        raw.row_factory = None  # plain tuples straight from the driver
        try:
            raw.execute(sql, params)
            rows: list[tuple[Any, ...]] = raw.fetchall()
        finally:
            raw.row_factory = factory
        return rows


@dataclass(frozen=True)
class TreeState:
    origin: str
    size: int
    frontier: CompactRange
    chained_from: int
    created_at: str

    @property
    def root(self) -> bytes:
        return self.frontier.root()


_STATE_COLUMNS = "origin, size, frontier, chained_from, created_at"


def read_state(sql: Sql) -> TreeState | None:
    rows = sql.rows(f"SELECT {_STATE_COLUMNS} FROM integrity_state WHERE id = 1")
    return _state_of(rows[0]) if rows else None


def _state_of(row: dict[str, Any]) -> TreeState:
    blob = bytes(row["frontier"])
    hashes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
    return TreeState(
        origin=row["origin"],
        size=int(row["size"]),
        frontier=CompactRange.from_nodes(int(row["size"]), hashes),
        chained_from=int(row["chained_from"]),
        created_at=row["created_at"],
    )


@dataclass(frozen=True)
class StoredRecord:
    """One stored event as the chain reads it: exactly the stored bytes."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


class Appender:
    """Chains and tree-appends one batch of just-inserted events."""

    def __init__(self, sql: Sql, events_table: str) -> None:
        self.sql = sql
        self.events_table = events_table

    def append(self, records: Sequence[StoredRecord]) -> None:
        """Chain and tree-append ``records``."""
        state, previous, principal = self._read(records)
        if state is None:
            first = records[0].notification_id if records else None
            state = self._start(before=first, principal=principal)
            previous = None
        self._append(state, records, principal, previous)

    def _read(
        self, records: Sequence[StoredRecord]
    ) -> tuple[TreeState | None, dict[tuple[UUID, int], bytes] | None, str]:
        """The tree's state, the principal writing (PostgreSQL: the session's
        login, as the trigger will stamp it) and, for a batch of one stream
        (a command), that stream's last hash, in one statement. ``None`` for
        the hashes means "look them up" (several streams)."""
        who = ", session_user AS principal" if self.sql.postgres else ""
        streams = {record.originator_id for record in records}
        hashes: dict[tuple[UUID, int], bytes] | None = None
        if len(streams) != 1:
            rows = self.sql.rows(
                f"SELECT {_STATE_COLUMNS}{who} FROM integrity_state WHERE id = 1", ()
            )
        else:
            account = records[0].originator_id
            version = records[0].originator_version - 1  # a batch is in order
            rows = self.sql.rows(
                f"SELECT {_STATE_COLUMNS}{who}, (SELECT stream_hash FROM "
                "integrity_events WHERE originator_id = ? AND originator_version = ?)"
                " AS previous FROM integrity_state WHERE id = 1",
                (str(account), version),
            )
            if rows:
                previous = rows[0]["previous"]
                hashes = (
                    {} if previous is None else {(account, version): bytes(previous)}
                )
        if not rows:
            return None, None, self._principal()
        principal = rows[0]["principal"] if self.sql.postgres else os_principal()
        return _state_of(rows[0]), hashes, principal

    def _principal(self) -> str:
        if self.sql.postgres:
            return str(
                self.sql.rows("SELECT session_user AS principal")[0]["principal"]
            )
        return os_principal()

    def _start(self, *, before: int | None, principal: str) -> TreeState:
        """The first chained write of a store: chain every event already
        there (a store written before chains existed), then begin."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        origin = f"seekers.ledger/{uuid.uuid4()}"
        state = TreeState(origin, 0, CompactRange.from_nodes(0, []), 0, now)
        existing = 0
        for batch in self._existing(before):
            state = self._append(state, batch, principal)
            existing += len(batch)
        state = TreeState(origin, state.size, state.frontier, existing, now)
        self.sql.run(
            "INSERT INTO integrity_state "
            "(id, origin, size, frontier, chained_from, created_at) "
            "VALUES (1, ?, ?, ?, ?, ?)",
            (origin, state.size, b"".join(state.frontier.to_nodes()), existing, now),
        )
        return state

    def _existing(self, before: int | None) -> Iterator[list[StoredRecord]]:
        after = 0
        while True:
            nid = self.sql.nid
            condition = f"{nid} > ?"
            params: list[Any] = [after]
            if before is not None:
                condition += f" AND {nid} < ?"
                params.append(before)
            rows = self.sql.rows(
                f"SELECT {nid} AS notification_id, originator_id, originator_version, "
                f"topic, state FROM {self.events_table} WHERE {condition} "
                f"ORDER BY {nid} LIMIT {BACKFILL_BATCH}",
                params,
            )
            if not rows:
                return
            yield [record_of(row) for row in rows]
            after = int(rows[-1]["notification_id"])

    def _append(
        self,
        state: TreeState,
        records: Sequence[StoredRecord],
        principal: str,
        previous: dict[tuple[UUID, int], bytes] | None = None,
    ) -> TreeState:
        if not records:
            return state
        if previous is None:
            previous = self._previous_hashes(records)
        frontier = state.frontier
        size = state.size
        rows: list[tuple[Any, ...]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for record in records:
            digest = event_digest(record.topic, record.state)
            key = (record.originator_id, record.originator_version - 1)
            prev = GENESIS if record.originator_version == 1 else previous.get(key)
            if prev is None:
                prev = GENESIS  # a stream whose start is not chained (corrupt store)
            chained = stream_hash(
                prev, record.originator_id, record.originator_version, digest, principal
            )
            previous[(record.originator_id, record.originator_version)] = chained
            rows.append(
                (
                    size,
                    record.notification_id,
                    str(record.originator_id),
                    record.originator_version,
                    digest,
                    chained,
                    principal,
                )
            )
            leaf = leaf_data(record.notification_id, chained, principal)
            nodes.extend(frontier.append(leaf_hash(leaf)))
            size += 1
        self._write(rows, nodes, size, b"".join(frontier.to_nodes()))
        return TreeState(
            state.origin, size, frontier, state.chained_from, state.created_at
        )

    def _write(
        self,
        rows: list[tuple[Any, ...]],
        nodes: list[tuple[int, int, bytes]],
        size: int,
        frontier: bytes,
    ) -> None:
        """The new leaves, the new perfect subtrees and the new frontier.

        PostgreSQL: one statement (arrays unnested in a data-modifying
        ``WITH``), since each statement costs the server a parse, a plan and
        a trip; SQLite runs statements in-process, so three plain ones.
        """
        if self.sql.postgres:
            columns = list(zip(*rows, strict=True)) if rows else [()] * 7
            tree = list(zip(*nodes, strict=True)) if nodes else [()] * 3
            self.sql.run(
                "WITH leaves AS (INSERT INTO integrity_events (leaf_index, "
                "notification_id, originator_id, originator_version, event_digest, "
                "stream_hash, principal) SELECT * FROM unnest(?::bigint[], "
                "?::bigint[], ?::text[], ?::bigint[], ?::bytea[], ?::bytea[], "
                "?::text[])), "
                "subtrees AS (INSERT INTO integrity_nodes (level, idx, hash) "
                "SELECT * FROM unnest(?::int[], ?::bigint[], ?::bytea[])) "
                "UPDATE integrity_state SET size = ?, frontier = ? WHERE id = 1",
                (*map(list, columns), *map(list, tree), size, frontier),
            )
            return
        self.sql.many(
            "INSERT INTO integrity_events (leaf_index, notification_id, originator_id, "
            "originator_version, event_digest, stream_hash, principal) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.sql.many(
            "INSERT INTO integrity_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes
        )
        self.sql.run(
            "UPDATE integrity_state SET size = ?, frontier = ? WHERE id = 1",
            (size, frontier),
        )

    def _previous_hashes(
        self, records: Sequence[StoredRecord]
    ) -> dict[tuple[UUID, int], bytes]:
        """The stream hash before each record's, for the streams this batch
        continues (one query per stream; a batch is usually one stream)."""
        found: dict[tuple[UUID, int], bytes] = {}
        first: dict[UUID, int] = {}
        for record in records:
            first.setdefault(record.originator_id, record.originator_version)
        for account, version in first.items():
            if version <= 1:
                continue
            rows = self.sql.rows(
                "SELECT stream_hash FROM integrity_events "
                "WHERE originator_id = ? AND originator_version = ?",
                (str(account), version - 1),
            )
            if rows:
                found[(account, version - 1)] = bytes(rows[0]["stream_hash"])
        return found


ACCOUNT_IDS = 4096
"""Account ids ``account_id`` keeps parsed: the accounts recently written
interleave in log order; a bound, so a pass over the log stays flat."""


@lru_cache(maxsize=ACCOUNT_IDS)
def account_id(stored: str) -> UUID:
    """An account id as either store returns it (hex or dashed), parsed once
    per run of an account's events rather than once per event."""
    return UUID(stored)


def record_of(row: dict[str, Any]) -> StoredRecord:
    originator = row["originator_id"]
    return StoredRecord(
        notification_id=int(row["notification_id"]),
        originator_id=originator
        if isinstance(originator, UUID)
        else account_id(originator),
        originator_version=int(row["originator_version"]),
        topic=row["topic"],
        state=bytes(row["state"]),
    )
