"""Reading the projections: the account list, the reports, the audit trail.

Every figure comes from projection tables; nothing here loads an account.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import BadValue, SeekerNotFound
from domain.history import HistoryEntry
from domain.timerules import days_between, parse_date, parse_instant
from projections.changes import Row
from projections.schema import stamp, unstamp
from projections.views import LedgerView

REPORTS = (
    "status",
    "withdrawals",
    "reinstatements",
    "retention",
    "declines",
    "unreachable",
)
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


def _account_out(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        column: local_iso(row[column], row["timezone"])
        if column in TIME_COLUMNS
        else row[column]
        for column in columns
    }


PAGED_REPORTS = ("retention", "unreachable")
"""The reports that list accounts (one row each): paged like ``list``."""
BATCH_SIZE = 1000
"""Rows fetched per query while streaming a listing."""
# A local date spans at most these hours either side of the same UTC date
# (time zones run from UTC-12 to UTC+14): the SQL bound on a stored UTC
# stamp is widened by this much and the exact local date checked after.
_ZONE_MARGIN = timedelta(hours=15)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,400}")

SortKey = tuple[str, str]
"""A row's place in a listing: its sort column's value, then its id."""


def encode_cursor(listing: str, key: SortKey) -> str:
    """An opaque, printable token for the position after the row ``key``."""
    raw = json.dumps([listing, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, listing: str) -> SortKey:
    """The position a cursor of ``listing`` encodes; ``BadValue`` for anything
    else (garbage, a cursor of another listing)."""
    try:
        if not _TOKEN.fullmatch(token):
            raise ValueError(token)
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, list) or len(data) != 3:
            raise ValueError(token)
        kind, value, row_id = data
        if kind != listing or not isinstance(value, str):
            raise ValueError(token)
        if not isinstance(row_id, str) or not row_id:
            raise ValueError(token)
        datetime.fromisoformat(value)
    except ValueError:
        shown = token if len(token) <= 40 else token[:37] + "..."
        raise BadValue(
            f"--after {shown!r} is not a cursor of this listing "
            "(give the one its previous page printed)"
        ) from None
    return value, row_id


Fetch = Callable[[SortKey | None, int], list[Row]]


class RowStream:
    """The rows of a keyset-ordered listing, fetched ``batch_size`` at a time
    (each query starts after the previous batch's last sort key and id), so
    memory stays flat however many rows there are.

    Iterate once; afterwards ``next_cursor`` is the cursor of the rest, or
    ``None`` when no row is left beyond ``limit``. The cursor given as
    ``after`` is checked here, before any row is read.
    """

    def __init__(
        self,
        listing: str,
        fetch: Fetch,
        convert: Callable[[Row], dict[str, Any]],
        *,
        order: str,
        limit: int | None = None,
        after: str | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if limit is not None and limit < 1:
            raise BadValue(f"--limit must be at least 1 (got {limit})")
        if batch_size < 1:
            raise BadValue(f"batch size must be at least 1 (got {batch_size})")
        self.listing = listing
        self.limit = limit
        self.next_cursor: str | None = None
        self.count = 0
        self._fetch = fetch
        self._convert = convert
        self._order = order
        self._keep = keep
        self._batch_size = batch_size
        self._start = decode_cursor(after, listing) if after is not None else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        position = self._start
        last: SortKey | None = None
        limit = self.limit
        while True:
            wanted = self._batch_size
            if limit is not None:
                # One row past the limit tells whether there is a next page.
                wanted = min(wanted, limit - self.count + 1)
            rows = self._fetch(position, wanted)
            for row in rows:
                position = (row[self._order], row["id"])
                out = self._convert(row)
                if self._keep is not None and not self._keep(out):
                    continue
                if limit is not None and self.count == limit:
                    assert last is not None
                    self.next_cursor = encode_cursor(self.listing, last)
                    return
                self.count += 1
                last = position
                yield out
            if len(rows) < wanted:
                return


def _keyset(
    view: LedgerView,
    columns: str,
    conditions: Sequence[str],
    params: Sequence[Any],
    order: str,
    position: SortKey | None,
    count: int,
) -> list[Row]:
    """One batch: the first ``count`` rows after ``position`` in the order
    (``order``, id), a range scan of the matching index on both stores."""
    where, args = list(conditions), list(params)
    if position is not None:
        where.append(f"({order}, id) > (?, ?)")
        args += position
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    args.append(count)
    return view.query(
        f"SELECT {columns} FROM accounts{clause} ORDER BY {order}, id LIMIT ?", args
    )


def iter_accounts(
    view: LedgerView,
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
    columns = f"{', '.join(LIST_COLUMNS)}, timezone"

    def fetch(position: SortKey | None, count: int) -> list[Row]:
        return _keyset(
            view, columns, conditions, params, "registered_at", position, count
        )

    return RowStream(
        "list",
        fetch,
        lambda row: _account_out(row, LIST_COLUMNS),
        order="registered_at",
        limit=limit,
        after=after,
        batch_size=batch_size,
    )


def list_accounts(
    view: LedgerView, *, status: str | None = None, policy: str | None = None
) -> list[dict[str, Any]]:
    return list(iter_accounts(view, status=status, policy=policy))


def _month_bounds(start: str | None, end: str | None) -> tuple[str, str]:
    low = parse_date(start).strftime("%Y-%m") if start else "0000-00"
    high = parse_date(end).strftime("%Y-%m") if end else "9999-99"
    return low, high


def report(
    view: LedgerView,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The rows of report ``name``; ``start``/``end`` are dates (inclusive)."""
    if name not in REPORTS:
        raise BadValue(f"unknown report {name!r} (reports: {', '.join(REPORTS)})")
    low, high = _month_bounds(start, end)
    if name == "status":
        return view.query(
            "SELECT policy, status, count FROM report_status WHERE count > 0 "
            "ORDER BY policy, status"
        )
    if name == "withdrawals":
        return view.query(
            "SELECT month, policy, reason, channel, timing, count "
            "FROM report_withdrawals WHERE month >= ? AND month <= ? AND count > 0 "
            "ORDER BY month, policy, reason, channel, timing",
            (low, high),
        )
    if name == "reinstatements":
        rows = view.query(
            "SELECT month, policy, mode, count, total_days "
            "FROM report_reinstatements WHERE month >= ? AND month <= ? "
            "AND count > 0 ORDER BY month, policy, mode",
            (low, high),
        )
        return [
            {
                "month": row["month"],
                "policy": row["policy"],
                "mode": row["mode"],
                "count": row["count"],
                "avg_days_after_withdrawal": round(row["total_days"] / row["count"], 1),
            }
            for row in rows
        ]
    if name == "declines":
        rows = view.query(
            "SELECT month, policy, channel, last_minute, count FROM report_declines "
            "WHERE month >= ? AND month <= ? AND count > 0 "
            "ORDER BY month, policy, channel, last_minute",
            (low, high),
        )
        return [
            {
                **row,
                "last_minute": bool(row["last_minute"]),
                "flagged": bool(row["last_minute"]) and row["channel"] == "email",
            }
            for row in rows
        ]
    if name in PAGED_REPORTS:
        return list(report_rows(view, name, start=start, end=end, now=now))
    raise AssertionError(name)  # pragma: no cover - every name is handled


def report_rows(
    view: LedgerView,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    now: datetime,
    limit: int | None = None,
    after: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> RowStream:
    """The rows of a report that lists accounts (``PAGED_REPORTS``), streamed
    and paged as ``iter_accounts``."""
    if name == "retention":
        return _retention(view, start, end, limit, after, batch_size)
    if name == "unreachable":
        return _unreachable(view, now, limit, after, batch_size)
    raise BadValue(
        f"report {name!r} is not a list of accounts "
        f"(paged reports: {', '.join(PAGED_REPORTS)})"
    )


RETENTION_COLUMNS = ("id", "policy", "status", "invalid_since", "purge_due_at")


def _retention(
    view: LedgerView,
    start: str | None,
    end: str | None,
    limit: int | None,
    after: str | None,
    batch_size: int,
) -> RowStream:
    """Accounts waiting to be purged, soonest first; ``start``/``end`` bound
    the purge date (in the account's time zone, inclusive)."""
    first = parse_date(start) if start else date.min
    last = parse_date(end) if end else date.max
    conditions = ["purge_due_at IS NOT NULL"]
    params: list[Any] = []
    # The index narrows to the UTC stamps that can fall on those local
    # dates; ``keep`` checks each row's local date exactly.
    lower = _utc_edge(first, -_ZONE_MARGIN) if start else None
    upper = _utc_edge(last, timedelta(days=1) + _ZONE_MARGIN) if end else None
    if lower is not None:
        conditions.append("purge_due_at >= ?")
        params.append(lower)
    if upper is not None:
        conditions.append("purge_due_at < ?")
        params.append(upper)
    columns = f"{', '.join(RETENTION_COLUMNS)}, timezone"

    def fetch(position: SortKey | None, count: int) -> list[Row]:
        return _keyset(
            view, columns, conditions, params, "purge_due_at", position, count
        )

    def keep(row: dict[str, Any]) -> bool:
        return first <= date.fromisoformat(row["purge_due_at"][:10]) <= last

    return RowStream(
        "retention",
        fetch,
        lambda row: _account_out(row, RETENTION_COLUMNS),
        order="purge_due_at",
        limit=limit,
        after=after,
        keep=keep if start or end else None,
        batch_size=batch_size,
    )


def _utc_edge(day: date, shift: timedelta) -> str | None:
    """The stamp of ``day``'s UTC midnight moved by ``shift``; ``None`` when
    that falls outside the calendar (no bound needed there)."""
    try:
        return stamp(datetime.combine(day, time.min, UTC) + shift)
    except OverflowError:
        return None


def _unreachable(
    view: LedgerView,
    now: datetime,
    limit: int | None,
    after: str | None,
    batch_size: int,
) -> RowStream:
    """Unreachable accounts, longest unreachable first."""
    columns = (
        "id, policy, unreachable_since, unreachable_attempts, open_applications, "
        "timezone"
    )
    # The literal 'unreachable' lets both stores use the partial index.
    conditions = ["status = 'unreachable'"]

    def fetch(position: SortKey | None, count: int) -> list[Row]:
        return _keyset(
            view, columns, conditions, (), "unreachable_since", position, count
        )

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

    return RowStream(
        "unreachable",
        fetch,
        convert,
        order="unreachable_since",
        limit=limit,
        after=after,
        batch_size=batch_size,
    )


def account_timezone(view: LedgerView, seeker_id: UUID) -> str:
    """The time zone of the account's policy, from the accounts projection."""
    rows = view.query("SELECT timezone FROM accounts WHERE id = ?", (str(seeker_id),))
    if not rows:
        raise SeekerNotFound(seeker_id)
    timezone: str = rows[0]["timezone"]
    return timezone


def audit_history(
    view: LedgerView,
    seeker_id: UUID,
    *,
    timezone: str,
    as_of: str | None = None,
    known_at: str | None = None,
) -> list[HistoryEntry]:
    """The account's audit trail as the projection holds it; the same entries
    ``SeekerLedger.history`` rebuilds from the account's events."""
    zone = ZoneInfo(timezone)
    rows = view.query(
        "SELECT version, type, occurred_at, recorded_at, actor, from_state, "
        "to_state, details FROM audit_trail WHERE account = ? ORDER BY version",
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
