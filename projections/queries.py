"""Reading the projections: the account list, the reports, the audit trail.

Every figure comes from projection tables; nothing here loads an account.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import BadValue, SeekerNotFound
from domain.history import HistoryEntry
from domain.timerules import days_between, parse_date, parse_instant
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


def list_accounts(
    view: LedgerView, *, status: str | None = None, policy: str | None = None
) -> list[dict[str, Any]]:
    conditions, params = [], []
    if status is not None:
        conditions.append("status = ?")
        params.append(status)
    if policy is not None:
        conditions.append("policy = ?")
        params.append(policy)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    rows = view.query(
        f"SELECT {', '.join(LIST_COLUMNS)}, timezone FROM accounts {where}"
        "ORDER BY registered_at, id",
        params,
    )
    return [_account_out(row, LIST_COLUMNS) for row in rows]


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
    if name == "retention":
        return _retention(view, start, end)
    return _unreachable(view, now)


def _retention(
    view: LedgerView, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """Accounts waiting to be purged, soonest first; ``start``/``end`` bound
    the purge date (in the account's time zone, inclusive)."""
    first = parse_date(start) if start else date.min
    last = parse_date(end) if end else date.max
    rows = view.query(
        "SELECT id, policy, status, invalid_since, purge_due_at, timezone "
        "FROM accounts WHERE purge_due_at IS NOT NULL ORDER BY purge_due_at, id"
    )
    columns = ("id", "policy", "status", "invalid_since", "purge_due_at")
    result = [_account_out(row, columns) for row in rows]
    return [
        row
        for row in result
        if first <= date.fromisoformat(row["purge_due_at"][:10]) <= last
    ]


def _unreachable(view: LedgerView, now: datetime) -> list[dict[str, Any]]:
    rows = view.query(
        "SELECT id, policy, unreachable_since, unreachable_attempts, "
        "open_applications, timezone FROM accounts WHERE status = 'unreachable' "
        "ORDER BY unreachable_since, id"
    )
    result = []
    for row in rows:
        since = unstamp(row["unreachable_since"])
        assert since is not None
        zone = ZoneInfo(row["timezone"])
        result.append(
            {
                "id": row["id"],
                "policy": row["policy"],
                "unreachable_since": since.astimezone(zone).isoformat(),
                "days": days_between(since, now, zone),
                "attempts": row["unreachable_attempts"],
                "open_applications": row["open_applications"],
            }
        )
    return result


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
