"""The integrity of a ledger's database: chain a legacy store, issue and
verify checkpoints, export the log, prove one seeker's history, replay the
rules one stream at a time.

Everything here reads or appends the integrity tables through the
application's own datastore and recorder (the library ``Application``'s
``recorder``, ``mapper`` and ``snapshots``), in short transactions, so it
runs beside live commands on either store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.errors import SeekerLedgerError, SeekerNotFound
from domain.i18n import _, pgettext
from domain.policy import Policies
from domain.replay import Violation, replay_violations
from integrity.chaining import ChainedLog
from integrity.checkpoint import Checkpoint, sign, signed_by
from integrity.evidence import FORMAT as EVIDENCE_FORMAT
from integrity.merkle import inclusion_proof, root_at
from integrity.store import (
    Appender,
    Sql,
    StoredRecord,
    account_id,
    read_state,
    record_of,
)
from integrity.verify import (
    Expected,
    Finding,
    Recorded,
    Report,
    merge_by_notification,
    verify_rows,
)

BATCH = 5000
Progress = Callable[[int], None]


class IntegrityBroken(SeekerLedgerError):
    """The log no longer matches a checkpoint it issued: no new checkpoint."""


class AuditLog(ChainedLog):
    """The integrity of one ledger's event log."""

    # -- checkpoints ---------------------------------------------------------

    def checkpoint(self, signing_key: Any = None) -> Checkpoint:
        """Record (and return) a checkpoint of the whole log as it is now.

        Refused when the log no longer agrees with the last checkpoint the
        store issued: two inconsistent checkpoints are never issued.
        """
        with self._writing() as sql:
            state = read_state(sql)
            if state is None:
                Appender(sql, self.events_table).append([])
                state = read_state(sql)
                assert state is not None
            previous = self._stored_checkpoints(sql)
            if previous:
                seq, last = previous[-1]
                if last.size > state.size or (
                    root_at(last.size, self._node_reader(sql)) != last.root
                ):
                    raise IntegrityBroken(
                        _(
                            "the log no longer matches checkpoint {seq} "
                            "(size {size}); run 'seekers audit verify'"
                        ).format(seq=seq, size=last.size)
                    )
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            issued = Checkpoint(state.origin, state.size, state.root, now)
            if signing_key is not None:
                issued = sign(issued, signing_key)
            seq = previous[-1][0] + 1 if previous else 1
            sql.run(
                "INSERT INTO integrity_checkpoints (seq, size, root, issued_at, text) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, issued.size, issued.root, now, issued.text()),
            )
        return issued

    def _stored_checkpoints(self, sql: Sql) -> list[tuple[int, Checkpoint]]:
        kept, unreadable = self._kept_checkpoints(sql)
        if unreadable:
            raise IntegrityBroken(
                _(
                    "kept checkpoint #{seq} is no longer a checkpoint; "
                    "run 'seekers audit verify'"
                ).format(seq=unreadable[0])
            )
        return kept

    def _kept_checkpoints(
        self, sql: Sql
    ) -> tuple[list[tuple[int, Checkpoint]], list[int]]:
        """The checkpoints the store kept, and the seqs of rows whose text is
        no longer a checkpoint (edited behind the ledger's back)."""
        from integrity.checkpoint import CheckpointError, parse_checkpoints

        kept: list[tuple[int, Checkpoint]] = []
        unreadable: list[int] = []
        for row in sql.rows("SELECT seq, text FROM integrity_checkpoints ORDER BY seq"):
            try:
                kept.append((int(row["seq"]), parse_checkpoints(row["text"])[0]))
            except CheckpointError:
                unreadable.append(int(row["seq"]))
        return kept, unreadable

    def _node_reader(self, sql: Sql) -> Callable[[int, int], bytes]:
        def node(level: int, index: int) -> bytes:
            rows = sql.rows(
                "SELECT hash FROM integrity_nodes WHERE level = ? AND idx = ?",
                (level, index),
            )
            if not rows:
                raise IntegrityBroken(
                    _("tree node ({level}, {index}) is missing").format(
                        level=level, index=index
                    )
                )
            return bytes(rows[0]["hash"])

        return node

    # -- verify --------------------------------------------------------------

    def verify(
        self,
        given: list[tuple[str, Checkpoint]] = (),  # type: ignore[assignment]
        *,
        public_key: Any = None,
        progress: Progress | None = None,
    ) -> Report:
        with self._reading() as sql:
            state = read_state(sql)
            if state is None:
                return Report()
            stored, unreadable = self._kept_checkpoints(sql)
            kept = [
                (pgettext("checkpoint", "#{seq} (kept)").format(seq=seq), cp)
                for seq, cp in stored
            ]
            expected = Expected(
                origin=state.origin,
                size=state.size,
                root=state.root,
                chained_from=state.chained_from,
                checkpoints=given,
                kept=kept,
            )
            if sql.postgres:
                # Each page's join is a few thousand index probes: parallel
                # workers cost more to start than they save, and take the
                # core the verifier hashes on.
                sql.run("SET LOCAL max_parallel_workers_per_gather = 0")
            stored = sql.tuples(f"SELECT count(*) FROM {self.events_table}")[0][0]
            report = verify_rows(
                self._log(sql),
                expected,
                public_key=public_key,
                progress=progress,
                watch=_final_topics(),
            )
            if report.events != stored:
                # Events no integrity row names (written to the table directly):
                # walk again with them in their places, to name each.
                report = verify_rows(
                    _with_unchained(self._log(sql), self._unchained(sql)),
                    expected,
                    public_key=public_key,
                    watch=_final_topics(),
                )
        report.findings.extend(
            Finding(
                "altered",
                _("kept checkpoint #{seq} is no longer a checkpoint").format(seq=seq),
            )
            for seq in unreadable
        )
        report.findings.extend(self.verify_snapshots())
        report.findings.extend(self.verify_erasures(sorted(report.watched)))
        return report

    def _log(self, sql: Sql) -> Iterator[list[tuple[Any, ...]]]:
        """The integrity rows in leaf order, each beside the stored event of
        its notification id (``integrity.verify.Row``), a page a query: the
        join is the database's, so Python sees each position once."""
        nid = sql.nid
        same = (
            "e.originator_id::text = i.originator_id"
            if sql.postgres
            else "e.originator_id = replace(i.originator_id, '-', '')"
        )
        after = -1
        while True:
            rows = sql.tuples(
                "SELECT i.leaf_index, i.notification_id, i.originator_id, "
                "i.originator_version, i.event_digest, i.stream_hash, "
                f"e.{nid}, {same}, e.originator_id, e.originator_version, e.topic, "
                f"e.state, i.principal FROM integrity_events i "
                f"LEFT JOIN {self.events_table} e "
                f"ON e.{nid} = i.notification_id WHERE i.leaf_index > ? "
                f"ORDER BY i.leaf_index LIMIT {BATCH}",
                (after,),
            )
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def _unchained(self, sql: Sql) -> list[tuple[Any, ...]]:
        """Stored events no integrity row names (written outside the ledger),
        in notification order, as ``Row``s without the integrity columns."""
        nid = sql.nid
        rows = sql.tuples(
            f"SELECT e.{nid}, e.originator_id, e.originator_version, e.topic "
            f"FROM {self.events_table} e WHERE NOT EXISTS (SELECT 1 FROM "
            f"integrity_events i WHERE i.notification_id = e.{nid}) ORDER BY e.{nid}"
        )
        return [
            (
                None,
                n,
                None,
                None,
                None,
                None,
                n,
                False,
                account,
                version,
                topic,
                None,
                None,
            )
            for n, account, version, topic in rows
        ]

    def verify_erasures(self, erased: list[str] | None = None) -> list[Finding]:
        """A purged seeker whose data key or email-index row survives can
        still be read and found: report each (``seekers sweep`` finishes it).

        ``erased`` are the accounts with an event into a final state (verify
        collects them on its pass over the log); ``None`` reads them here.
        Which key rows survive is the application's to say (its
        ``surviving_keys``: the key tables are not the log's), asked in this
        read transaction.
        """
        with self._reading() as sql:
            if erased is None:
                topics = sorted(_final_topics())
                marks = ", ".join("?" for _topic in topics)
                erased = sorted(
                    {
                        str(UUID(str(row[0])))
                        for row in sql.tuples(
                            f"SELECT DISTINCT originator_id FROM {self.events_table} "
                            f"WHERE topic IN ({marks})",
                            topics,
                        )
                    }
                )
            survivors = self.ledger.surviving_keys(sql, erased)
        return [
            Finding(
                "privacy",
                _(
                    "purged, but its {tables} row(s) survive: the personal data "
                    "can still be read or found ('seekers sweep' finishes the "
                    "erasure)"
                ).format(tables=pgettext("audit finding", " and ").join(tables)),
                seeker,
            )
            for seeker, tables in sorted(survivors.items())
        ]

    def _events(self, sql: Sql) -> Iterator[StoredRecord]:
        after = 0
        nid = sql.nid
        while True:
            rows = sql.tuples(
                f"SELECT {nid}, originator_id, originator_version, topic, state "
                f"FROM {self.events_table} WHERE {nid} > ? ORDER BY {nid} "
                f"LIMIT {BATCH}",
                (after,),
            )
            if not rows:
                return
            for notification_id, account, version, topic, state in rows:
                yield StoredRecord(
                    notification_id,
                    account if isinstance(account, UUID) else account_id(account),
                    version,
                    topic,
                    bytes(state),
                )
            after = rows[-1][0]

    def _recorded(self, sql: Sql) -> Iterator[Recorded]:
        after = -1
        while True:
            rows = sql.tuples(
                "SELECT leaf_index, notification_id, originator_id, "
                "originator_version, event_digest, stream_hash, principal "
                "FROM integrity_events "
                f"WHERE leaf_index > ? ORDER BY leaf_index LIMIT {BATCH}",
                (after,),
            )
            if not rows:
                return
            for leaf, nid, account, version, digest, chained, principal in rows:
                yield Recorded(
                    leaf,
                    nid,
                    account_id(account),
                    version,
                    bytes(digest),
                    bytes(chained),
                    principal,
                )
            after = rows[-1][0]

    def verify_snapshots(self) -> list[Finding]:
        """Every snapshot against a replay of its stream's chained events.

        Snapshots are derived, not chained: an edited snapshot changes what
        ``show`` prints, so each is rebuilt from the events and compared.
        Sealed personal data cannot be compared without the key; everything
        else is.
        """
        snapshots = self.ledger.snapshots
        if snapshots is None:
            return []
        mapper = self.ledger.mapper.without_unsealing()
        recorder: Any = snapshots.recorder
        with self._reading() as sql:
            rows = sql.rows(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name}"
            )
        findings = []
        for row in rows:
            stored = record_of({**row, "notification_id": 0})
            account = stored.originator_id
            try:
                snapshot = mapper.to_domain_event(_stored_event(stored))
                events = [
                    mapper.to_domain_event(event)
                    for event in self.recorder.select_events(
                        account, lte=stored.originator_version
                    )
                ]
                replayed: Any = None
                for event in events:
                    replayed = event.mutate(replayed)
                expected = (
                    _comparable(
                        dict(type(snapshot).take(replayed).state), mapper.is_sealed
                    )
                    if replayed is not None
                    else None
                )
                found = _comparable(dict(snapshot.state), mapper.is_sealed)
            except Exception as error:
                findings.append(
                    Finding(
                        "snapshot",
                        _("snapshot cannot be read ({error})").format(
                            error=type(error).__name__
                        ),
                        str(account),
                        stored.originator_version,
                    )
                )
                continue
            if expected != found:
                keys = sorted(
                    key
                    for key in set(expected or {}) | set(found)
                    if (expected or {}).get(key) != found.get(key)
                )
                findings.append(
                    Finding(
                        "snapshot",
                        _(
                            "snapshot disagrees with a replay of the stream's "
                            "events ({keys})"
                        ).format(keys=", ".join(keys)),
                        str(account),
                        stored.originator_version,
                    )
                )
        return findings

    # -- export --------------------------------------------------------------

    def export(
        self, directory: Path, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Write ``events.jsonl`` and ``manifest.json`` (``integrity.export``)."""
        import hashlib

        from integrity.export import EVENTS, FORMAT, MANIFEST, export_line

        directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        count = 0
        first = last = None
        with self._reading() as sql:
            state = read_state(sql)
            if state is None:
                raise IntegrityBroken(
                    _("this store has no chain yet; run a command first")
                )
            kept = self._stored_checkpoints(sql)
            with (directory / EVENTS).open("wb") as handle:
                for event, recorded in merge_by_notification(
                    self._events(sql), self._recorded(sql)
                ):
                    if event is None or recorded is None:
                        continue  # verify reports these; an export holds pairs
                    if recorded.leaf_index >= state.size:
                        break
                    line = (export_line(event, recorded) + "\n").encode()
                    handle.write(line)
                    digest.update(line)
                    count += 1
                    first = recorded.notification_id if first is None else first
                    last = recorded.notification_id
                    if progress is not None:
                        progress(1)
        manifest = {
            "format": FORMAT,
            "origin": state.origin,
            "count": count,
            "first_notification_id": first,
            "last_notification_id": last,
            "tree_size": state.size,
            "tree_root": _b64(state.root),
            "chained_from": state.chained_from,
            "latest_checkpoint": kept[-1][1].text() if kept else None,
            "events_sha256": digest.hexdigest(),
        }
        (directory / MANIFEST).write_text(dumps(manifest) + "\n", encoding="utf-8")
        return manifest

    # -- evidence ------------------------------------------------------------

    def prove(self, seeker_id: UUID, signing_key: Any = None) -> dict[str, Any]:
        """One seeker's stored events, their chain, an inclusion proof of each
        against a checkpoint covering them all, and the checkpoint."""
        checkpoint = self._covering_checkpoint(seeker_id, signing_key)
        with self._reading() as sql:
            rows = sql.rows(
                "SELECT i.leaf_index, i.notification_id, i.originator_id, "
                "i.originator_version, i.event_digest, i.stream_hash, i.principal, "
                f"e.topic, e.state FROM integrity_events i JOIN {self.events_table} e "
                f"ON e.{sql.nid} = i.notification_id "
                "WHERE i.originator_id = ? AND i.leaf_index < ? "
                "ORDER BY i.originator_version",
                (str(seeker_id), checkpoint.size),
            )
            if not rows:
                raise SeekerNotFound(seeker_id)
            nodes = self._node_reader(sql)
            events = [
                {
                    "notification_id": int(row["notification_id"]),
                    "version": int(row["originator_version"]),
                    "topic": row["topic"],
                    "state": _b64(bytes(row["state"])),
                    "event_digest": _b64(bytes(row["event_digest"])),
                    "stream_hash": _b64(bytes(row["stream_hash"])),
                    "principal": row["principal"],
                    "leaf_index": int(row["leaf_index"]),
                    "inclusion_proof": [
                        _b64(step)
                        for step in inclusion_proof(
                            int(row["leaf_index"]), checkpoint.size, nodes
                        )
                    ],
                }
                for row in rows
            ]
        return {
            "format": EVIDENCE_FORMAT,
            "account": str(seeker_id),
            "origin": checkpoint.origin,
            "checkpoint": checkpoint.text(),
            "events": events,
        }

    def _covering_checkpoint(self, seeker_id: UUID, signing_key: Any) -> Checkpoint:
        """The newest kept checkpoint covering every event of the account
        (with a signing key, the newest that key signed); a new one, signed
        when a key is given, only when none does: a bundle never mints a
        checkpoint it does not need."""
        with self._reading() as sql:
            last = sql.rows(
                "SELECT max(leaf_index) AS leaf FROM integrity_events "
                "WHERE originator_id = ?",
                (str(seeker_id),),
            )
            kept = self._stored_checkpoints(sql)
        if not last or last[0]["leaf"] is None:
            raise SeekerNotFound(seeker_id)
        needed = int(last[0]["leaf"]) + 1
        public = signing_key.public_key() if signing_key is not None else None
        for _seq, checkpoint in reversed(kept):
            if checkpoint.size >= needed and (
                public is None or signed_by(checkpoint, public)
            ):
                return checkpoint
        return self.checkpoint(signing_key)

    # -- replay --------------------------------------------------------------

    def replay(
        self, progress: Progress | None = None, *, page: int = BATCH
    ) -> tuple[int, int, list[Violation]]:
        """Every stream through the current rules, one stream at a time.

        The log is read in (account, version) order through the store's own
        unique index, ``page`` rows a query (each query its own short read
        transaction, so replay runs beside live commands), so memory holds
        one page and one stream, never the log. Each row is decoded once,
        personal data left sealed (the rules never read it); an account's id
        is parsed once, when its stream begins, so nothing is cached.
        """
        if page < 1:
            raise ValueError(f"page must be at least 1, not {page}")
        decode = self.ledger.mapper.without_unsealing().to_domain_event
        policies = Policies()
        violations: list[Violation] = []
        accounts = total = 0
        stream: list[Any] = []
        stored_id: Any = None  # the current account as the store returns it
        account: Any = None
        after: tuple[Any, int] | None = None
        while True:
            rows = self._stream_page(after, page)
            if not rows:
                break
            for originator_id, version, topic, state in rows:
                if originator_id != stored_id:
                    if stream:
                        violations.extend(replay_violations(stream, policies))
                        accounts += 1
                        stream = []
                    stored_id = originator_id
                    account = (
                        originator_id
                        if isinstance(originator_id, UUID)
                        else UUID(originator_id)
                    )
                stream.append(decode(_stored(account, version, topic, state)))
            total += len(rows)
            if progress is not None:
                progress(len(rows))
            after = (rows[-1][0], rows[-1][1])
            del rows  # the page is decoded: let it go before the next is read
        if stream:
            violations.extend(replay_violations(stream, policies))
            accounts += 1
        return accounts, total, violations

    def _stream_page(
        self, after: tuple[Any, int] | None, page: int
    ) -> list[tuple[Any, ...]]:
        """The next ``page`` events in (account, version) order after
        ``after``, as plain tuples: id, version, topic, stored bytes."""
        # PostgreSQL: the id as text, compared and parsed once per stream here
        # (the driver would build a UUID object for every row); named apart,
        # so that ORDER BY still means the column and its index.
        account = "originator_id::text AS account" if self.postgres else "originator_id"
        after_id = "?::uuid" if self.postgres else "?"
        where = (
            f"WHERE (originator_id, originator_version) > ({after_id}, ?)"
            if after
            else ""
        )
        with self._reading() as sql:
            return sql.tuples(
                f"SELECT {account}, originator_version, topic, state "
                f"FROM {self.events_table} {where} "
                f"ORDER BY originator_id, originator_version LIMIT {int(page)}",
                after or (),
            )


def _final_topics() -> frozenset[str]:
    """The topics of the events that leave an account in a final state."""
    from domain.seeker import final_event_topics

    return final_event_topics()


def _with_unchained(
    pages: Iterator[list[tuple[Any, ...]]], unchained: list[tuple[Any, ...]]
) -> Iterator[list[tuple[Any, ...]]]:
    """The log's pages with the unchained events put in notification order
    (there are none unless someone wrote to the events table directly)."""
    if not unchained:
        yield from pages
        return
    waiting = list(reversed(unchained))
    for page in pages:
        merged: list[tuple[Any, ...]] = []
        for row in page:
            while waiting and waiting[-1][1] < row[1]:
                merged.append(waiting.pop())
            merged.append(row)
        yield merged
    if waiting:
        yield waiting[::-1]


def _stored_event(record: StoredRecord) -> Any:
    return _stored(
        record.originator_id, record.originator_version, record.topic, record.state
    )


def _stored(account: UUID, version: int, topic: str, state: bytes) -> Any:
    """The library's ``StoredEvent`` for the mapper, made without the frozen
    dataclass's ``__init__`` (a quarter of a replay's own time, per event)."""
    stored = object.__new__(StoredEvent)
    object.__setattr__(
        stored,
        "__dict__",
        {
            "originator_id": account,
            "originator_version": version,
            "topic": topic,
            "state": state,
        },
    )
    return stored


def _comparable(state: dict[str, Any], sealed: Callable[[Any], bool]) -> dict[str, Any]:
    """An aggregate's state with what cannot be compared without the key
    (sealed personal data, re-sealed with a fresh nonce in each snapshot:
    ``sealed`` is the application's mapper's test) and the library's
    bookkeeping of pending events left out."""
    comparable = {}
    for key, value in state.items():
        if key in ("_pending_events",):
            continue
        if sealed(value):
            value = "sealed"
        comparable[key] = value
    return comparable


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1)
