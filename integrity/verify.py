"""Verifying the log: every stream chain, the tree, and the kept checkpoints.

The verifier reads two sequences, both in log order: the stored events
(exactly their stored bytes) and the integrity rows written beside them
(leaf index, notification id, account, version, digest, stream hash). It
walks them side by side, recomputes every digest, every link of every stream
chain and every leaf of the tree, and reports what does not match, naming
the account, version and notification id. It decodes nothing, so it needs
no key and works on a purged seeker's events as on any other.

The same code verifies a database and an export (``integrity.export``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from integrity.chain import GENESIS, event_digest, leaf_data, stream_hash
from integrity.checkpoint import Checkpoint, signed_by
from integrity.merkle import CompactRange, leaf_hash
from integrity.store import StoredRecord

KINDS = (
    "altered",
    "missing",
    "inserted",
    "reordered",
    "truncated",
    "inconsistent",
    "signature",
    "origin",
    "tree",
    "snapshot",
    "privacy",
    "export",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    account: str | None = None
    version: int | None = None
    notification_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        where = []
        if self.account is not None:
            where.append(f"account {self.account}")
        if self.version is not None:
            where.append(f"version {self.version}")
        if self.notification_id is not None:
            where.append(f"event #{self.notification_id}")
        place = f" ({', '.join(where)})" if where else ""
        return f"{self.kind}{place}: {self.detail}"


@dataclass(frozen=True)
class Recorded:
    """One integrity row: what was chained when the event was written."""

    leaf_index: int
    notification_id: int
    originator_id: UUID
    originator_version: int
    event_digest: bytes
    stream_hash: bytes


@dataclass(frozen=True)
class Expected:
    """What the store says of its tree, and the checkpoints to hold it to."""

    origin: str
    size: int
    root: bytes
    chained_from: int
    checkpoints: list[tuple[str, Checkpoint]] = field(default_factory=list)


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    checkpoints_checked: int = 0
    chained_from: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


Progress = Callable[[int], None]


def verify_log(
    events: Iterable[StoredRecord],
    recorded: Iterable[Recorded],
    expected: Expected,
    *,
    public_key: Any = None,
    progress: Progress | None = None,
) -> Report:
    report = Report(chained_from=expected.chained_from)
    wanted = {cp.size for _, cp in expected.checkpoints} | {expected.size}
    roots: dict[int, bytes] = {}
    tree = CompactRange.from_nodes(0, [])
    if 0 in wanted:
        roots[0] = tree.root()
    last_hash: dict[UUID, bytes] = {}
    last_version: dict[UUID, int] = {}
    mismatched: list[tuple[Recorded, bytes]] = []
    add = report.findings.append

    for event, row in merge_by_notification(events, recorded):
        if row is None:
            assert event is not None
            add(
                Finding(
                    "inserted",
                    "stored event that was never chained (written outside the ledger)",
                    str(event.originator_id),
                    event.originator_version,
                    event.notification_id,
                )
            )
            report.events += 1
            continue
        if row.leaf_index != tree.size:
            add(
                Finding(
                    "reordered",
                    f"leaf index {row.leaf_index} at log position {tree.size}",
                    str(row.originator_id),
                    row.originator_version,
                    row.notification_id,
                )
            )
        account = row.originator_id
        expected_version = last_version.get(account, 0) + 1
        if row.originator_version > expected_version:
            add(
                Finding(
                    "missing",
                    f"versions {expected_version}..{row.originator_version - 1} "
                    "of this stream are gone from the chain",
                    str(account),
                    expected_version,
                    row.notification_id,
                )
            )
        previous = last_hash.get(account, GENESIS)
        if row.originator_version == 1:
            previous = GENESIS
        last_version[account] = row.originator_version
        if event is None:
            add(
                Finding(
                    "missing",
                    "event deleted from the store (its chain entry remains)",
                    str(account),
                    row.originator_version,
                    row.notification_id,
                )
            )
        else:
            report.events += 1
            if (
                event.originator_id != account
                or event.originator_version != row.originator_version
            ):
                add(
                    Finding(
                        "altered",
                        f"stored as account {event.originator_id} version "
                        f"{event.originator_version}, chained as version "
                        f"{row.originator_version}",
                        str(account),
                        row.originator_version,
                        row.notification_id,
                    )
                )
            digest = event_digest(event.topic, event.state)
            if digest != row.event_digest:
                mismatched.append((row, digest))
            elif (
                stream_hash(previous, account, row.originator_version, digest)
                != row.stream_hash
            ):
                add(
                    Finding(
                        "altered",
                        "stream chain broken (the chain entry was rewritten)",
                        str(account),
                        row.originator_version,
                        row.notification_id,
                    )
                )
        last_hash[account] = row.stream_hash
        tree.append(leaf_hash(leaf_data(row.notification_id, row.stream_hash)))
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        if progress is not None:
            progress(1)

    report.findings.extend(_altered_or_reordered(mismatched))
    report.streams = len(last_version)
    _check_tree(report, tree, roots, expected)
    _check_checkpoints(report, tree.size, roots, expected, public_key)
    return report


def merge_by_notification(
    events: Iterable[StoredRecord], recorded: Iterable[Recorded]
) -> Iterator[tuple[StoredRecord | None, Recorded | None]]:
    """Pair stored events and integrity rows by notification id."""
    event_iter, row_iter = iter(events), iter(recorded)
    event, row = next(event_iter, None), next(row_iter, None)
    while event is not None or row is not None:
        if row is None or (
            event is not None and event.notification_id < row.notification_id
        ):
            yield event, None
            event = next(event_iter, None)
        elif event is None or row.notification_id < event.notification_id:
            yield None, row
            row = next(row_iter, None)
        else:
            yield event, row
            event, row = next(event_iter, None), next(row_iter, None)


def _altered_or_reordered(mismatched: list[tuple[Recorded, bytes]]) -> list[Finding]:
    """An event whose bytes are another event's of the same stream was moved
    (two events swapped); any other mismatch is an alteration."""
    by_stream: dict[UUID, dict[bytes, Recorded]] = {}
    for row, _ in mismatched:
        by_stream.setdefault(row.originator_id, {})[row.event_digest] = row
    findings = []
    for row, digest in mismatched:
        twin = by_stream[row.originator_id].get(digest)
        if twin is not None and twin is not row:
            detail = (
                f"holds the bytes chained as version {twin.originator_version} "
                "(events swapped)"
            )
            kind = "reordered"
        else:
            detail = "stored bytes (state or topic) differ from what was chained"
            kind = "altered"
        findings.append(
            Finding(
                kind,
                detail,
                str(row.originator_id),
                row.originator_version,
                row.notification_id,
            )
        )
    return findings


def _check_tree(
    report: Report, tree: CompactRange, roots: dict[int, bytes], expected: Expected
) -> None:
    if tree.size > expected.size:
        report.findings.append(
            Finding(
                "inserted",
                f"{tree.size - expected.size} chain entries beyond the tree the "
                f"store committed ({expected.size} leaves)",
            )
        )
    elif tree.size < expected.size:
        report.findings.append(
            Finding(
                "truncated",
                f"the chain holds {tree.size} entries, the tree {expected.size}",
            )
        )
    elif roots.get(expected.size) != expected.root:
        report.findings.append(
            Finding(
                "tree",
                "the log tree recomputed from the chain does not match the "
                "store's recorded root (entries removed, inserted or rewritten)",
            )
        )


def _check_checkpoints(
    report: Report,
    size: int,
    roots: dict[int, bytes],
    expected: Expected,
    public_key: Any,
) -> None:
    for label, checkpoint in expected.checkpoints:
        report.checkpoints_checked += 1
        if checkpoint.origin != expected.origin:
            report.findings.append(
                Finding(
                    "origin",
                    f"checkpoint {label} is from another store ({checkpoint.origin})",
                )
            )
            continue
        if public_key is not None and not signed_by(checkpoint, public_key):
            report.findings.append(
                Finding(
                    "signature",
                    f"checkpoint {label} is not signed by the given public key",
                )
            )
        if checkpoint.size > size:
            report.findings.append(
                Finding(
                    "truncated",
                    f"checkpoint {label} covers {checkpoint.size} events, the log "
                    f"now has {size}: the newest events were cut off",
                )
            )
        elif roots.get(checkpoint.size) != checkpoint.root:
            report.findings.append(
                Finding(
                    "inconsistent",
                    f"the log at size {checkpoint.size} is not the log checkpoint "
                    f"{label} recorded (history below it was rewritten)",
                )
            )
