"""The ``accounts`` projection: one row per account, and the report counters.

One handler per event type. Report counters live here, updated in the same
transaction as the account rows they are counted from, because most of them
need the account's previous status or its withdrawal details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.seeker import ACTIVITY_EVENTS, Seeker
from domain.timerules import (
    add_years,
    end_of_day_count,
    registration_lapses_at,
)
from projections.changes import ChangeSet, Row
from projections.schema import stamp, unstamp
from projections.views import LedgerView

LIVE_STATES = ("active", "paused", "unreachable")
INVALID_STATES = ("lapsed", "withdrawn")


def month_of(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


class AccountsProjection(Projection[LedgerView]):
    name = "accounts"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event in its own transaction (the live runner's path)."""
        self.view.apply_batch(
            self, [(tracking.notification_id, domain_event)], tracking
        )

    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None:
        # The handler for the event's type, found once per type: the
        # library's singledispatchmethod builds a wrapper on every access.
        row = _HANDLERS(type(event))(self, event, changes)
        if row is not None:
            at = stamp(event.occurred_at)
            row["version"] = event.originator_version
            row["last_occurred_at"] = at
            if type(event).__name__ in ACTIVITY_EVENTS:
                row["last_activity_at"] = at
            _derive_due_times(row)

    @singledispatchmethod
    def handle(self, event: Any, changes: ChangeSet) -> Row | None:
        """Events of other kinds change no account row."""
        return None

    @handle.register
    def _(self, event: Seeker.Registered, changes: ChangeSet) -> Row:
        policy = event.policy
        at = stamp(event.occurred_at)
        row: Row = {
            "id": str(event.originator_id),
            "policy": policy["name"],
            "status": "active",
            "status_since": at,
            "registered_at": at,
            "last_activity_at": at,
            "last_occurred_at": at,
            "applications": 0,
            "open_applications": 0,
            "withdrawal_reason": None,
            "withdrawal_channel": None,
            "withdrawal_timing": None,
            "erase_requested": False,
            "withdrawn_at": None,
            "self_reinstatement_deadline": None,
            "invalid_since": None,
            "purge_due_at": None,
            "purged_at": None,
            "advisor": event.advisor,
            "unreachable_since": None,
            "contact_attempts": 0,
            "unreachable_attempts": 0,
            "declines": 0,
            "last_minute_declines": 0,
            "registration_lapses_at": None,
            "unreachable_lapses_at": None,
            "version": event.originator_version,
            "timezone": policy["timezone"],
            "validity_months": policy["registration_validity_months"],
            "grace_days": policy["unreachable_grace_days"],
            "retention_years": policy["retention_years"],
            "self_reinstatement_days": policy["self_reinstatement_days"],
        }
        changes.add_account(row)
        changes.count("report_status", _status_key(row), count=1)
        return row

    @handle.register
    def _(self, event: Seeker.Applied, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["applications"] += 1
        row["open_applications"] += 1
        return row

    @handle.register
    def _(self, event: Seeker.InterviewScheduled, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        return row

    @handle.register
    def _(self, event: Seeker.InterviewDeclined, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["open_applications"] -= 1
        row["declines"] += 1
        row["last_minute_declines"] += int(event.last_minute)
        changes.count(
            "report_declines",
            {
                "month": month_of(event.occurred_at, row["timezone"]),
                "policy": row["policy"],
                "channel": event.channel,
                "last_minute": bool(event.last_minute),
            },
            count=1,
        )
        return row

    @handle.register
    def _(self, event: Seeker.ApplicationClosed, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["open_applications"] -= 1
        return row

    @handle.register
    def _(self, event: Seeker.Paused, changes: ChangeSet) -> Row:
        return _enter(_row(event, changes), "paused", event, changes)

    @handle.register
    def _(self, event: Seeker.Resumed, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "active", event, changes)
        return row

    @handle.register
    def _(self, event: Seeker.ContactAttempted, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["contact_attempts"] += 1
        if row["status"] == "unreachable":
            row["unreachable_attempts"] += 1
        return row

    @handle.register
    def _(self, event: Seeker.MarkedUnreachable, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "unreachable", event, changes)
        row["unreachable_since"] = stamp(event.occurred_at)
        row["unreachable_attempts"] = 0
        return row

    @handle.register
    def _(self, event: Seeker.ContactRestored, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "active", event, changes)
        row["unreachable_since"] = None
        return row

    @handle.register
    def _(self, event: Seeker.Lapsed, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "lapsed", event, changes)
        row["unreachable_since"] = None
        row["invalid_since"] = row["invalid_since"] or stamp(event.occurred_at)
        return row

    @handle.register
    def _(self, event: Seeker.Reactivated, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "active", event, changes)
        row["invalid_since"] = None
        return row

    @handle.register
    def _(self, event: Seeker.AdvisorChanged, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["advisor"] = event.advisor
        return row

    @handle.register
    def _(self, event: Seeker.WithdrawalRequested, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "withdrawal_requested", event, changes)
        row["unreachable_since"] = None
        row["withdrawal_channel"] = event.channel
        row["withdrawal_reason"] = event.reason
        row["erase_requested"] = bool(event.erase_data)
        return row

    @handle.register
    def _(self, event: Seeker.WithdrawalCancelled, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "active", event, changes)
        _clear_withdrawal(row)
        row["invalid_since"] = None
        return row

    @handle.register
    def _(self, event: Seeker.Withdrawn, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "withdrawn", event, changes)
        row["withdrawal_timing"] = event.timing
        row["withdrawn_at"] = stamp(event.occurred_at)
        row["invalid_since"] = row["invalid_since"] or stamp(event.occurred_at)
        changes.count(
            "report_withdrawals",
            {
                "month": month_of(event.occurred_at, row["timezone"]),
                "policy": row["policy"],
                "reason": row["withdrawal_reason"] or "unspecified",
                "channel": row["withdrawal_channel"] or "unspecified",
                "timing": event.timing,
            },
            count=1,
        )
        return row

    @handle.register
    def _(self, event: Seeker.Reinstated, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "active", event, changes)
        _clear_withdrawal(row)
        row["invalid_since"] = None
        changes.count(
            "report_reinstatements",
            {
                "month": month_of(event.occurred_at, row["timezone"]),
                "policy": row["policy"],
                "mode": event.mode,
            },
            count=1,
            total_days=int(event.days_after_withdrawal),
        )
        return row

    @handle.register
    def _(self, event: Seeker.Purged, changes: ChangeSet) -> Row:
        row = _enter(_row(event, changes), "purged", event, changes)
        row["purged_at"] = stamp(event.occurred_at)
        return row


def _row(event: Any, changes: ChangeSet) -> Row:
    return changes.account(str(event.originator_id))


def _status_key(row: Row) -> dict[str, Any]:
    return {"policy": row["policy"], "status": row["status"]}


def _enter(row: Row, status: str, event: Any, changes: ChangeSet) -> Row:
    changes.count("report_status", _status_key(row), count=-1)
    row["status"] = status
    row["status_since"] = stamp(event.occurred_at)
    changes.count("report_status", _status_key(row), count=1)
    return row


def _clear_withdrawal(row: Row) -> None:
    row["withdrawal_channel"] = None
    row["withdrawal_reason"] = None
    row["withdrawal_timing"] = None
    row["withdrawn_at"] = None
    row["erase_requested"] = False


def _derive_due_times(row: Row) -> None:
    """The sweep's due times, set only while the account can be due, so the
    partial indexes hold exactly the accounts the sweep may act on."""
    zone = ZoneInfo(row["timezone"])
    status = row["status"]
    row["registration_lapses_at"] = None
    row["unreachable_lapses_at"] = None
    row["purge_due_at"] = None
    row["self_reinstatement_deadline"] = None
    if status in LIVE_STATES and row["validity_months"] is not None:
        last_activity = unstamp(row["last_activity_at"])
        assert last_activity is not None
        row["registration_lapses_at"] = stamp(
            registration_lapses_at(last_activity, row["validity_months"], zone)
        )
    if status == "unreachable" and row["unreachable_since"] is not None:
        since = unstamp(row["unreachable_since"])
        assert since is not None
        row["unreachable_lapses_at"] = stamp(
            end_of_day_count(since, row["grace_days"], zone)
        )
    if status in INVALID_STATES and row["invalid_since"] and row["retention_years"]:
        invalid_since = unstamp(row["invalid_since"])
        assert invalid_since is not None
        row["purge_due_at"] = stamp(
            add_years(invalid_since, row["retention_years"], zone)
        )
    if status == "withdrawn" and row["withdrawn_at"] and row["self_reinstatement_days"]:
        withdrawn_at = unstamp(row["withdrawn_at"])
        assert withdrawn_at is not None
        row["self_reinstatement_deadline"] = stamp(
            end_of_day_count(withdrawn_at, row["self_reinstatement_days"], zone)
        )


_HANDLERS = AccountsProjection.__dict__["handle"].dispatcher.dispatch
