"""Reading the projections: the account list, the reports, the audit trail.

Every figure comes from projection tables; nothing here loads an account.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import BadValue, SeekerNotFound
from domain.i18n import _
from domain.timerules import days_between, parse_date, parse_instant
from projections.changes import Row
from projections.reader import Readable
from projections.schema import stamp, unstamp

if TYPE_CHECKING:
    from domain.history import HistoryEntry

REPORTS = (
    "status",
    "withdrawals",
    "reinstatements",
    "retention",
    "declines",
    "unreachable",
)
UNDATED = ("status", "unreachable")
"""Reports of the accounts as they are now: a period (``--from``/``--to``)
does not apply to them."""
LIST_COLUMNS = (
    "id",
    "policy",
    "status",
    "status_since",
    "registered_at",
    "last_activity_at",
    "open_applications",
    "advisor",
    "withdrawal_reason",
    "withdrawal_timing",
    "withdrawn_at",
    "self_reinstatement_deadline",
    "invalid_since",
    "purge_due_at",
    "purged_at",
    "unreachable_since",
    "contact_attempts",
    "version",
)
TIME_COLUMNS = frozenset(
    {
        "status_since",
        "registered_at",
        "last_activity_at",
        "withdrawn_at",
        "self_reinstatement_deadline",
        "invalid_since",
        "purge_due_at",
        "purged_at",
        "unreachable_since",
    }
)


def local_iso(value: str | None, timezone: str) -> str | None:
    moment = unstamp(value)
    return moment.astimezone(ZoneInfo(timezone)).isoformat() if moment else None


def _account_out(row: Row, columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        column: local_iso(row[column], row["timezone"])
        if column in TIME_COLUMNS
        else row[column]
        for column in columns
    }


RETENTION_COLUMNS = ("id", "policy", "status", "invalid_since", "purge_due_at")
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "status": ("policy", "status", "count"),
    "withdrawals": ("month", "policy", "reason", "channel", "timing", "count"),
    "reinstatements": ("month", "policy", "mode", "count", "avg_days_after_withdrawal"),
    "retention": RETENTION_COLUMNS,
    "declines": ("month", "policy", "channel", "last_minute", "count", "flagged"),
    "unreachable": (
        "id",
        "policy",
        "unreachable_since",
        "days",
        "attempts",
        "open_applications",
    ),
}
"""The fields of each report's rows, in order: the JSON objects', the CSV
header and the table's columns, even when there is no row."""
BATCH_SIZE = 1000
"""Rows fetched per query while streaming a listing."""
# A local date spans at most these hours either side of the same UTC date
# (time zones run from UTC-12 to UTC+14): the SQL bound on a stored UTC
# stamp is widened by this much and the exact local date checked after.
_ZONE_MARGIN = timedelta(hours=15)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,2000}")

Key = tuple[str | bool, ...]
"""A row's place in a listing: the values of its sort columns."""
Kind = Literal["text", "stamp", "flag"]
"""What a sort column holds, so a cursor's values can be checked: any text,
a stored time (``stamp``), or a boolean."""


@dataclass(frozen=True)
class Listing:
    """A table read in one total order, a page at a time, by keyset.

    ``order`` is the sort columns, whose values together are unique (the
    account id last, or a report table's whole primary key): so "the rows
    after this key" skips and repeats nothing however the table changes
    between pages, and an index on exactly those columns (after any equality
    filter) turns every page, the first or the ten-thousandth, into a short
    range scan instead of a sort of the table.
    """

    name: str
    table: str
    columns: tuple[str, ...]
    order: tuple[tuple[str, Kind], ...]

    def key(self, row: Row) -> Key:
        return tuple(
            bool(row[column]) if kind == "flag" else str(row[column])
            for column, kind in self.order
        )


LISTINGS: dict[str, Listing] = {
    listing.name: listing
    for listing in (
        Listing(
            "list",
            "accounts",
            (*LIST_COLUMNS, "timezone"),
            (("registered_at", "stamp"), ("id", "text")),
        ),
        Listing(
            "retention",
            "accounts",
            (*RETENTION_COLUMNS, "timezone"),
            (("purge_due_at", "stamp"), ("id", "text")),
        ),
        Listing(
            "unreachable",
            "accounts",
            (
                "id",
                "policy",
                "unreachable_since",
                "unreachable_attempts",
                "open_applications",
                "timezone",
            ),
            (("unreachable_since", "stamp"), ("id", "text")),
        ),
        Listing(
            "status",
            "report_status",
            ("policy", "status", "count"),
            (("policy", "text"), ("status", "text")),
        ),
        Listing(
            "withdrawals",
            "report_withdrawals",
            ("month", "policy", "reason", "channel", "timing", "count"),
            (
                ("month", "text"),
                ("policy", "text"),
                ("reason", "text"),
                ("channel", "text"),
                ("timing", "text"),
            ),
        ),
        Listing(
            "reinstatements",
            "report_reinstatements",
            ("month", "policy", "mode", "count", "total_days"),
            (("month", "text"), ("policy", "text"), ("mode", "text")),
        ),
        Listing(
            "declines",
            "report_declines",
            ("month", "policy", "channel", "last_minute", "count"),
            (
                ("month", "text"),
                ("policy", "text"),
                ("channel", "text"),
                ("last_minute", "flag"),
            ),
        ),
    )
}
"""``list`` and every report (by name)."""


def encode_cursor(listing: str, key: Key) -> str:
    """An opaque, printable token for the position after the row ``key``:
    base64url of the listing's name and the key (no padding, no character a
    shell would mind)."""
    raw = json.dumps([listing, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, listing: Listing) -> Key:
    """The position a cursor of ``listing`` encodes; ``BadValue`` for anything
    else (garbage, a cursor of another listing, a value of the wrong kind),
    so a mistyped cursor is a usage error rather than a silent restart."""
    try:
        if not _TOKEN.fullmatch(token):
            raise ValueError(token)
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, list) or len(data) != len(listing.order) + 1:
            raise ValueError(token)
        if data[0] != listing.name:
            raise ValueError(token)
        for value, (_column, kind) in zip(data[1:], listing.order, strict=True):
            if kind == "flag":
                if not isinstance(value, bool):
                    raise ValueError(token)
            elif not isinstance(value, str) or not value:
                raise ValueError(token)
            elif kind == "stamp":
                datetime.fromisoformat(value)
    except ValueError:
        shown = token if len(token) <= 40 else token[:37] + "..."
        raise BadValue(
            _(
                "--after {cursor!r} is not a cursor of this listing "
                "(give the one its previous page printed)"
            ).format(cursor=shown)
        ) from None
    return tuple(data[1:])


Fetch = Callable[[Key | None, int], list[Row]]


class RowStream:
    """The rows of a keyset-ordered listing, fetched ``batch_size`` at a time
    (each query starts after the previous batch's last key), so memory stays
    flat however many rows there are, and a page of ``limit`` rows reads
    ``limit + 1`` (the one more says whether a next page exists).

    Iterate once; afterwards ``count`` is the rows given and ``next_cursor``
    the cursor of the rest, or ``None`` when no row is left beyond ``limit``.
    The cursor given as ``after`` is checked here, before any row is read.
    """

    def __init__(
        self,
        listing: Listing,
        fetch: Fetch,
        convert: Callable[[Row], dict[str, Any]],
        *,
        limit: int | None = None,
        after: str | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if limit is not None and limit < 1:
            raise BadValue(
                _("--limit must be at least 1 (got {given})").format(given=limit)
            )
        if batch_size < 1:
            raise BadValue(
                _("batch size must be at least 1 (got {given})").format(
                    given=batch_size
                )
            )
        self.listing = listing
        self.limit = limit
        self.next_cursor: str | None = None
        self.count = 0
        self._fetch = fetch
        self._convert = convert
        self._keep = keep
        self._batch_size = batch_size
        self._start = decode_cursor(after, listing) if after is not None else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        position = self._start
        last: Key | None = None
        limit = self.limit
        batch = self._batch_size
        wanted = batch if limit is None else min(batch, limit + 1)
        while True:
            rows = self._fetch(position, wanted)
            skipped = False
            for row in rows:
                position = self.listing.key(row)
                out = self._convert(row)
                if self._keep is not None and not self._keep(out):
                    skipped = True
                    continue
                if limit is not None and self.count == limit:
                    assert last is not None
                    self.next_cursor = encode_cursor(self.listing.name, last)
                    return
                self.count += 1
                last = position
                yield out
            if len(rows) < wanted:
                return
            if limit is not None:
                # Exactly the rows still wanted, plus the one that tells
                # whether a page follows; more when ``keep`` threw some away.
                needed = limit - self.count + 1
                wanted = min(batch, max(needed, 2 * wanted) if skipped else needed)


def _keyset(
    view: Readable,
    listing: Listing,
    conditions: Sequence[str],
    params: Sequence[Any],
    *,
    floor: str | None = None,
) -> Fetch:
    """The batch query of ``listing`` under ``conditions``: the first ``count``
    rows after ``position`` in the listing's order. With an index on the
    equality filters then the order, it is a range scan on both stores
    (row-value comparison, as SQLite's and PostgreSQL's documentation
    recommend for scrolling).

    ``floor`` is a lower bound on the first sort column (``--from``). It is
    left out once the position is past it: SQLite would otherwise start its
    range scan at the floor on every page and filter its way to the
    position, so page N of a long period would cost N pages."""
    first = listing.order[0][0]
    order = ", ".join(column for column, _ in listing.order)
    marks = ", ".join("?" for _ in listing.order)
    select = f"SELECT {', '.join(listing.columns)} FROM {listing.table}"

    def fetch(position: Key | None, count: int) -> list[Row]:
        where, args = list(conditions), list(params)
        if floor is not None and (position is None or str(position[0]) < floor):
            where.append(f"{first} >= ?")
            args.append(floor)
        if position is not None:
            where.append(f"({order}) > ({marks})")
            args += position
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        args.append(count)
        return view.query(f"{select}{clause} ORDER BY {order} LIMIT ?", args)

    return fetch


def iter_accounts(
    view: Readable,
    *,
    status: str | None = None,
    policy: str | None = None,
    limit: int | None = None,
    after: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> RowStream:
    """``seekers list``: accounts by registration time, then id."""
    conditions, params = [], []
    if status is not None:
        conditions.append("status = ?")
        params.append(status)
    if policy is not None:
        conditions.append("policy = ?")
        params.append(policy)
    listing = LISTINGS["list"]
    return RowStream(
        listing,
        _keyset(view, listing, conditions, params),
        lambda row: _account_out(row, LIST_COLUMNS),
        limit=limit,
        after=after,
        batch_size=batch_size,
    )


def list_accounts(
    view: Readable, *, status: str | None = None, policy: str | None = None
) -> list[dict[str, Any]]:
    return list(iter_accounts(view, status=status, policy=policy))


def report(
    view: Readable,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every row of report ``name`` at once; ``start``/``end`` are dates
    (inclusive). For callers that need the whole report (the HTML page);
    the CLI streams ``report_rows`` instead."""
    return list(report_rows(view, name, start=start, end=end, now=now))


def report_rows(
    view: Readable,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    now: datetime,
    limit: int | None = None,
    after: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> RowStream:
    """The rows of report ``name``, streamed and paged as ``iter_accounts``:
    ``start``/``end`` are dates (inclusive), ``limit`` rows at most, after the
    cursor ``after``."""
    if name not in REPORTS:
        raise BadValue(
            _("unknown report {given!r} (reports: {reports})").format(
                given=name, reports=", ".join(REPORTS)
            )
        )
    first = parse_date(start) if start else None
    last = parse_date(end) if end else None
    if first is not None and last is not None and first > last:
        raise BadValue(
            _("--from {start} is after --to {end}: the period is empty").format(
                start=start, end=end
            )
        )
    listing = LISTINGS[name]
    paging: dict[str, Any] = {"limit": limit, "after": after, "batch_size": batch_size}
    if name == "retention":
        return _retention(view, listing, first, last, paging)
    if name == "unreachable":
        return _unreachable(view, listing, now, paging)
    # The aggregate reports are counters by month (and categories): every
    # row with a positive count, whole months of the period.
    conditions, params = ["count > 0"], []
    floor = None
    if name != "status":
        if first is not None:
            floor = first.strftime("%Y-%m")
        if last is not None:
            conditions.append("month <= ?")
            params.append(last.strftime("%Y-%m"))
    fetch = _keyset(view, listing, conditions, params, floor=floor)
    convert = _AGGREGATES.get(name, dict)
    return RowStream(listing, fetch, convert, **paging)


def _reinstatement(row: Row) -> dict[str, Any]:
    return {
        "month": row["month"],
        "policy": row["policy"],
        "mode": row["mode"],
        "count": row["count"],
        "avg_days_after_withdrawal": round(row["total_days"] / row["count"], 1),
    }


def _decline(row: Row) -> dict[str, Any]:
    last_minute = bool(row["last_minute"])
    return {
        **row,
        "last_minute": last_minute,
        "flagged": last_minute and row["channel"] == "email",
    }


_AGGREGATES: dict[str, Callable[[Row], dict[str, Any]]] = {
    "reinstatements": _reinstatement,
    "declines": _decline,
}


def _retention(
    view: Readable,
    listing: Listing,
    first: date | None,
    last: date | None,
    paging: dict[str, Any],
) -> RowStream:
    """Accounts waiting to be purged, soonest first; ``first``/``last`` bound
    the purge date (in the account's time zone, inclusive)."""
    conditions = ["purge_due_at IS NOT NULL"]
    params: list[Any] = []
    # The index narrows to the UTC stamps that can fall on those local
    # dates; ``keep`` checks each row's local date exactly.
    lower = _utc_edge(first, -_ZONE_MARGIN) if first else None
    upper = _utc_edge(last, timedelta(days=1) + _ZONE_MARGIN) if last else None
    if upper is not None:
        conditions.append("purge_due_at < ?")
        params.append(upper)
    low, high = first or date.min, last or date.max

    def keep(row: dict[str, Any]) -> bool:
        return low <= date.fromisoformat(row["purge_due_at"][:10]) <= high

    return RowStream(
        listing,
        _keyset(view, listing, conditions, params, floor=lower),
        lambda row: _account_out(row, RETENTION_COLUMNS),
        keep=keep if first or last else None,
        **paging,
    )


def _utc_edge(day: date, shift: timedelta) -> str | None:
    """The stamp of ``day``'s UTC midnight moved by ``shift``; ``None`` when
    that falls outside the calendar (no bound needed there)."""
    try:
        return stamp(datetime.combine(day, time.min, UTC) + shift)
    except OverflowError:
        return None


def _unreachable(
    view: Readable, listing: Listing, now: datetime, paging: dict[str, Any]
) -> RowStream:
    """Unreachable accounts, longest unreachable first."""

    def convert(row: Row) -> dict[str, Any]:
        since = unstamp(row["unreachable_since"])
        assert since is not None
        zone = ZoneInfo(row["timezone"])
        return {
            "id": row["id"],
            "policy": row["policy"],
            "unreachable_since": since.astimezone(zone).isoformat(),
            "days": days_between(since, now, zone),
            "attempts": row["unreachable_attempts"],
            "open_applications": row["open_applications"],
        }

    # The literal 'unreachable' lets both stores use the partial index.
    fetch = _keyset(view, listing, ["status = 'unreachable'"], ())
    return RowStream(listing, fetch, convert, **paging)


def account_timezone(view: Readable, seeker_id: UUID) -> str:
    """The time zone of the account's policy, from the accounts projection."""
    rows = view.query("SELECT timezone FROM accounts WHERE id = ?", (str(seeker_id),))
    if not rows:
        raise SeekerNotFound(seeker_id)
    timezone: str = rows[0]["timezone"]
    return timezone


def audit_history(
    view: Readable,
    seeker_id: UUID,
    *,
    timezone: str,
    as_of: str | None = None,
    known_at: str | None = None,
) -> list[HistoryEntry]:
    """The account's audit trail as the projection holds it; the same entries
    ``SeekerLedger.history`` rebuilds from the account's events."""
    from domain.history import HistoryEntry

    zone = ZoneInfo(timezone)
    # Who wrote each event is the chain's (``integrity_events.principal``,
    # stamped by the database on PostgreSQL), not the projection's: unknown
    # for events written before principals existed or before the store was
    # first chained.
    rows = view.query(
        "SELECT t.version, t.type, t.occurred_at, t.recorded_at, t.actor, "
        "t.from_state, t.to_state, t.details, CASE WHEN i.leaf_index < "
        "(SELECT chained_from FROM integrity_state WHERE id = 1) THEN NULL "
        "ELSE i.principal END AS principal FROM audit_trail t "
        "LEFT JOIN integrity_events i ON i.originator_id = t.account "
        "AND i.originator_version = t.version "
        "WHERE t.account = ? ORDER BY t.version",
        (str(seeker_id),),
    )
    if not rows:
        raise SeekerNotFound(seeker_id)
    occurred_by = stamp(parse_instant(as_of, zone)) if as_of else None
    recorded_by = stamp(parse_instant(known_at, zone)) if known_at else None
    entries = []
    for row in rows:
        if occurred_by is not None and row["occurred_at"] > occurred_by:
            break
        if recorded_by is not None and row["recorded_at"] > recorded_by:
            break
        occurred_at = unstamp(row["occurred_at"])
        recorded_at = unstamp(row["recorded_at"])
        assert occurred_at is not None and recorded_at is not None
        entries.append(
            HistoryEntry(
                version=row["version"],
                type=row["type"],
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                actor=row["actor"],
                principal=row["principal"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                details={
                    key: _revive(value)
                    for key, value in json.loads(row["details"]).items()
                },
            )
        )
    return entries


def _revive(value: Any) -> Any:
    """Times in stored details come back as ``datetime``, as in the events."""
    if isinstance(value, str) and len(value) == 27 and value.endswith("Z"):
        try:
            return unstamp(value)
        except ValueError:
            return value
    return value
