"""Verifying the log: every stream chain, the tree, and the kept checkpoints.

The verifier walks the log once, in order: each integrity row written
beside an event (leaf index, notification id, account, version, digest,
stream hash) next to the stored event of that notification id (exactly its
stored bytes), as a database join gives them (``verify_rows``) or as two
sequences paired here (``verify_log``, an export). It recomputes every
digest, every link of every stream chain and every leaf of the tree, and
reports what does not match, naming the account, version and notification
id. It decodes nothing, so it needs
no key and works on a purged seeker's events as on any other.

The same code verifies a database and an export (``integrity.export``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from domain.i18n import NC_, _, pgettext
from integrity.chain import GENESIS, event_digest, leaf_data, stream_hash
from integrity.checkpoint import Checkpoint, SignatureCheck, check_signature
from integrity.merkle import CompactRange, leaf_hash, node_hash
from integrity.store import StoredRecord, account_id

KINDS = (
    NC_("audit finding", "altered"),
    NC_("audit finding", "missing"),
    NC_("audit finding", "inserted"),
    NC_("audit finding", "reordered"),
    NC_("audit finding", "truncated"),
    NC_("audit finding", "inconsistent"),
    NC_("audit finding", "signature"),
    NC_("audit finding", "origin"),
    NC_("audit finding", "tree"),
    NC_("audit finding", "snapshot"),
    NC_("audit finding", "privacy"),
    NC_("audit finding", "export"),
)
"""What a finding is (its ``kind``: a code, kept by ``--json``); each shown
to people by its name in the chosen language (``Finding.line``)."""


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
        """The finding for people: its kind by name, where, and what."""
        where = []
        if self.account is not None:
            where.append(
                pgettext("audit finding", "account {account}").format(
                    account=self.account
                )
            )
        if self.version is not None:
            where.append(
                pgettext("audit finding", "version {version}").format(
                    version=self.version
                )
            )
        if self.notification_id is not None:
            where.append(
                pgettext("audit finding", "event #{event}").format(
                    event=self.notification_id
                )
            )
        kind = pgettext("audit finding", self.kind)
        if not where:
            return pgettext("audit finding", "{kind}: {detail}").format(
                kind=kind, detail=self.detail
            )
        return pgettext("audit finding", "{kind} ({place}): {detail}").format(
            kind=kind,
            place=pgettext("audit finding", ", ").join(where),
            detail=self.detail,
        )


@dataclass(frozen=True)
class Recorded:
    """One integrity row: what was chained when the event was written."""

    leaf_index: int
    notification_id: int
    originator_id: UUID
    originator_version: int
    event_digest: bytes
    stream_hash: bytes
    principal: str | None = None
    """Who wrote it (``None``: a format-1 row, from before principals)."""


@dataclass(frozen=True)
class Expected:
    """What the store says of its tree, and the checkpoints to hold it to."""

    origin: str
    size: int
    root: bytes
    chained_from: int
    checkpoints: list[tuple[str, Checkpoint]] = field(default_factory=list)
    """The checkpoints the auditor handed in: with a public key, each must
    carry a valid signature of it."""
    kept: list[tuple[str, Checkpoint]] = field(default_factory=list)
    """The checkpoints the store (or an export) keeps: held to the log like
    the others, but only a signature that is there and wrong is a finding;
    an unsigned one (``audit prove`` with no signing key records one) or
    one signed by another key is noted."""


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    checkpoints_checked: int = 0
    chained_from: int = 0
    watched: set[str] = field(default_factory=set)
    """Accounts with an event of a watched topic (``verify_rows``)."""
    notes: list[str] = field(default_factory=list)
    """Informational lines, not findings (unsigned kept checkpoints)."""

    @property
    def ok(self) -> bool:
        return not self.findings


Progress = Callable[[int], None]


Row = tuple[Any, ...]
"""One position of the log, as ``verify_rows`` reads it: the integrity row
(leaf index, notification id, account, version, event digest, stream hash)
beside the stored event with that notification id (its notification id,
whether its account is the row's, its account, version, topic and stored
bytes), the event's columns ``None`` when it is gone, then the integrity
row's principal. A stored event with no integrity row has ``None`` for the
row's columns but the notification id."""


def verify_log(
    events: Iterable[StoredRecord],
    recorded: Iterable[Recorded],
    expected: Expected,
    *,
    public_key: Any = None,
    progress: Progress | None = None,
) -> Report:
    """``verify_rows`` over two sequences in log order (an export's lines)."""
    return verify_rows(
        _pages(merge_by_notification(events, recorded)),
        expected,
        public_key=public_key,
        progress=progress,
    )


def _pages(
    pairs: Iterable[tuple[StoredRecord | None, Recorded | None]], size: int = 5000
) -> Iterator[list[Row]]:
    page: list[Row] = []
    for event, row in pairs:
        if row is None:
            assert event is not None
            page.append(
                (None, event.notification_id, None, None, None, None,
                 event.notification_id, False, event.originator_id,
                 event.originator_version, event.topic, event.state, None)
            )  # fmt: skip
        elif event is None:
            page.append(
                (row.leaf_index, row.notification_id, row.originator_id,
                 row.originator_version, row.event_digest, row.stream_hash,
                 None, None, None, None, None, None, row.principal)
            )  # fmt: skip
        else:
            page.append(
                (row.leaf_index, row.notification_id, row.originator_id,
                 row.originator_version, row.event_digest, row.stream_hash,
                 event.notification_id, event.originator_id == row.originator_id,
                 event.originator_id, event.originator_version, event.topic,
                 event.state, row.principal)
            )  # fmt: skip
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _as_stored(state: Any) -> bytes:
    """An event's state as bytes. SQLite keeps whatever type it is given, so
    a hand edit may leave text where the ledger wrote bytes: its UTF-8 is
    what it now says, and a digest of it is a finding, not a crash."""
    if isinstance(state, str):
        return state.encode("utf-8", "surrogatepass")
    return bytes(state)


def _uuid(stored: Any) -> UUID:
    return stored if isinstance(stored, UUID) else account_id(str(stored))


def verify_rows(
    pages: Iterable[Sequence[Row]],
    expected: Expected,
    *,
    public_key: Any = None,
    progress: Progress | None = None,
    watch: Collection[str] = (),
) -> Report:
    """Walk the log in order (``Row``s, page by page): recompute every event
    digest, every stream chain link and every leaf of the tree, and hold the
    tree to the store's root and every checkpoint.

    ``watch`` is a set of topics: the accounts with an event of one of them
    are collected in ``Report.watched`` on the way (the purged accounts
    ``verify_erasures`` needs, without a second pass over the log).
    """
    report = Report(chained_from=expected.chained_from)
    wanted = {cp.size for _label, cp in [*expected.kept, *expected.checkpoints]}
    wanted.add(expected.size)
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = CompactRange.from_nodes(0, []).root()
    # The tree's right edge, kept here rather than by ``CompactRange.append``
    # (which also returns every completed node, for the writer): the same
    # RFC 9162 hashes, a third less work per leaf.
    frontier: list[bytes] = []
    # Keyed by the account's 128-bit integer: a UUID hashes in Python code.
    last_hash: dict[int, bytes] = {}
    last_version: dict[int, int] = {}
    mismatched: list[tuple[Recorded, bytes]] = []
    add = report.findings.append
    watched = report.watched
    events = 0
    size = 0
    for page in pages:
        for row in page:
            (leaf, nid, stored_account, version, chained_digest, chained,
             event_nid, same_account, event_account, event_version, topic,
             state, principal) = row  # fmt: skip
            if leaf is None:
                event_id = _uuid(event_account)
                add(
                    Finding(
                        "inserted",
                        _(
                            "stored event that was never chained (written outside "
                            "the ledger)"
                        ),
                        str(event_id),
                        event_version,
                        event_nid,
                    )
                )
                events += 1
                if topic in watch:
                    watched.add(str(event_id))
                continue
            if leaf != size:
                add(
                    Finding(
                        "reordered",
                        _("leaf index {leaf} at log position {position}").format(
                            leaf=leaf, position=size
                        ),
                        str(_uuid(stored_account)),
                        version,
                        nid,
                    )
                )
            account = (
                stored_account
                if isinstance(stored_account, UUID)
                else account_id(stored_account)
            )
            key = account.int
            expected_version = last_version.get(key, 0) + 1
            if version > expected_version:
                add(
                    Finding(
                        "missing",
                        _(
                            "versions {first}..{last} of this stream are gone "
                            "from the chain"
                        ).format(first=expected_version, last=version - 1),
                        str(account),
                        expected_version,
                        nid,
                    )
                )
            previous = GENESIS if version == 1 else last_hash.get(key, GENESIS)
            last_version[key] = version
            if event_nid is None:
                add(
                    Finding(
                        "missing",
                        _("event deleted from the store (its chain entry remains)"),
                        str(account),
                        version,
                        nid,
                    )
                )
            else:
                events += 1
                if (
                    not same_account and _uuid(event_account) != account
                ) or event_version != version:
                    add(
                        Finding(
                            "altered",
                            _(
                                "stored as account {account} version {stored}, "
                                "chained as version {chained}"
                            ).format(
                                account=_uuid(event_account),
                                stored=event_version,
                                chained=version,
                            ),
                            str(account),
                            version,
                            nid,
                        )
                    )
                digest = event_digest(topic, _as_stored(state))
                if digest != chained_digest:
                    mismatched.append(
                        (
                            Recorded(
                                leaf,
                                nid,
                                account,
                                version,
                                chained_digest,
                                chained,
                                principal,
                            ),
                            digest,
                        )
                    )
                elif (
                    stream_hash(previous, account, version, digest, principal)
                    != chained
                ):
                    add(
                        Finding(
                            "altered",
                            _(
                                "stream chain broken (the chain entry or its "
                                "principal was rewritten)"
                            ),
                            str(account),
                            version,
                            nid,
                        )
                    )
                if topic in watch:
                    watched.add(str(_uuid(event_account)))
            last_hash[key] = chained
            node = leaf_hash(leaf_data(nid, chained, principal))
            index = size
            while index & 1:
                node = node_hash(frontier.pop(), node)
                index >>= 1
            frontier.append(node)
            size += 1
            if size in wanted:
                roots[size] = CompactRange.from_nodes(size, frontier).root()
        if progress is not None:
            progress(len(page))

    report.events = events
    report.findings.extend(_altered_or_reordered(mismatched))
    report.streams = len(last_version)
    _check_tree(report, CompactRange.from_nodes(size, frontier), roots, expected)
    _check_checkpoints(report, size, roots, expected, public_key)
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
    for row, _digest in mismatched:
        by_stream.setdefault(row.originator_id, {})[row.event_digest] = row
    findings = []
    for row, digest in mismatched:
        twin = by_stream[row.originator_id].get(digest)
        if twin is not None and twin is not row:
            detail = _(
                "holds the bytes chained as version {version} (events swapped)"
            ).format(version=twin.originator_version)
            kind = "reordered"
        else:
            detail = _("stored bytes (state or topic) differ from what was chained")
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
                _(
                    "{count} chain entries beyond the tree the store committed "
                    "({size} leaves)"
                ).format(count=tree.size - expected.size, size=expected.size),
            )
        )
    elif tree.size < expected.size:
        report.findings.append(
            Finding(
                "truncated",
                _("the chain holds {chain} entries, the tree {tree}").format(
                    chain=tree.size, tree=expected.size
                ),
            )
        )
    elif roots.get(expected.size) != expected.root:
        report.findings.append(
            Finding(
                "tree",
                _(
                    "the log tree recomputed from the chain does not match the "
                    "store's recorded root (entries removed, inserted or rewritten)"
                ),
            )
        )


def _check_checkpoints(
    report: Report,
    size: int,
    roots: dict[int, bytes],
    expected: Expected,
    public_key: Any,
) -> None:
    unsigned: list[str] = []
    other_key: list[str] = []
    checkpoints = [(label, cp, False) for label, cp in expected.kept] + [
        (label, cp, True) for label, cp in expected.checkpoints
    ]
    for label, checkpoint, given in checkpoints:
        report.checkpoints_checked += 1
        if checkpoint.origin != expected.origin:
            report.findings.append(
                Finding(
                    "origin",
                    _("checkpoint {label} is from another store ({origin})").format(
                        label=label, origin=checkpoint.origin
                    ),
                )
            )
            continue
        if public_key is not None:
            signature = check_signature(checkpoint, public_key)
            if signature is SignatureCheck.INVALID:
                report.findings.append(
                    Finding(
                        "signature",
                        _(
                            "checkpoint {label} carries a signature of the given "
                            "public key that does not verify (forged, or the "
                            "checkpoint altered)"
                        ).format(label=label),
                    )
                )
            elif signature is not SignatureCheck.VALID and given:
                report.findings.append(
                    Finding(
                        "signature",
                        (
                            _(
                                "checkpoint {label} is not signed by the given "
                                "public key"
                            )
                            if checkpoint.signed
                            else _(
                                "checkpoint {label} is not signed by the given "
                                "public key (it is unsigned)"
                            )
                        ).format(label=label),
                    )
                )
            elif signature is SignatureCheck.UNSIGNED:
                unsigned.append(label)
            elif signature is SignatureCheck.OTHER_KEY:
                other_key.append(label)
        if checkpoint.size > size:
            report.findings.append(
                Finding(
                    "truncated",
                    _(
                        "checkpoint {label} covers {covered} events, the log now "
                        "has {size}: the newest events were cut off"
                    ).format(label=label, covered=checkpoint.size, size=size),
                )
            )
        elif roots.get(checkpoint.size) != checkpoint.root:
            report.findings.append(
                Finding(
                    "inconsistent",
                    _(
                        "the log at size {size} is not the log checkpoint {label} "
                        "recorded (history below it was rewritten)"
                    ).format(size=checkpoint.size, label=label),
                )
            )
    if unsigned:
        report.notes.append(
            _(
                "{count} kept checkpoint(s) unsigned ({labels}): held to the log "
                "like the others, with no signature to check"
            ).format(count=len(unsigned), labels=", ".join(unsigned))
        )
    if other_key:
        report.notes.append(
            _(
                "{count} kept checkpoint(s) signed by another key ({labels}): "
                "held to the log, their signature not checked"
            ).format(count=len(other_key), labels=", ".join(other_key))
        )
