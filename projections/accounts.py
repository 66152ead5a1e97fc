"""The ``accounts`` projection: one row per account, and the report counters.

Where an event moves the account, and what that does to its clocks, is not
written here: ``apply`` takes the state from ``domain.effects`` (the machine)
and the due times from ``domain.deadlines``, as the aggregate does. The
handlers, one per event type, keep only the columns and report counters
that event carries. Report counters live here, updated in the same
transaction as the account rows they are counted from, because most of them
need the account's previous status or its withdrawal details.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.dispatch import singledispatchmethod

from domain import events as recorded
from domain.deadlines import Clocks, deadlines, invalid_since_after
from domain.effects import EFFECTS
from domain.rules import ACCOUNT_STATES
from projections.changes import ChangeSet, Row, registered_before
from projections.schema import stamp, unstamp
from projections.views import BatchProjection


def month_of(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


class AccountsProjection(BatchProjection):
    name = "accounts"

    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None:
        event_class = type(event)
        handler = _BY_CLASS.get(event_class) or _handler_for(event_class)
        row = handler(self, event, changes)
        if row is None:
            return
        kind = event_class.__name__
        at = stamp(event.occurred_at)
        row["version"] = event.originator_version
        row["last_occurred_at"] = at
        if kind in EFFECTS.activity:
            row["last_activity_at"] = at
        entered = EFFECTS.state_after[kind]
        if entered is not None and kind != "Registered":
            _enter(row, entered, event.occurred_at, at, changes)

    def prepare(self, items: Sequence[tuple[int, Any]], changes: ChangeSet) -> None:
        changes.load_accounts(registered_before(items, changes))

    def settle(self, changes: ChangeSet) -> None:
        """The due times depend only on where the batch leaves each account:
        derived once per account and batch, not once per event."""
        for row in changes.changed_accounts():
            _derive_due_times(row)

    @singledispatchmethod
    def handle(self, event: Any, changes: ChangeSet) -> Row | None:
        """An account event with no columns of its own still moves the
        account (``apply`` does that); anything else changes no row."""
        if isinstance(event, recorded.SeekerEvent):
            return _row(event, changes)
        return None

    @handle.register
    def _(self, event: recorded.Registered, changes: ChangeSet) -> Row:
        policy = event.policy
        at = stamp(event.occurred_at)
        row: Row = {
            "id": changes.account_id(event.originator_id),
            "policy": policy["name"],
            "status": ACCOUNT_STATES.registered,
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
    def _(self, event: recorded.Applied, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["applications"] += 1
        row["open_applications"] += 1
        return row

    @handle.register
    def _(self, event: recorded.InterviewDeclined, changes: ChangeSet) -> Row:
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
    def _(self, event: recorded.ApplicationClosed, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["open_applications"] -= 1
        return row

    @handle.register
    def _(self, event: recorded.ContactAttempted, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["contact_attempts"] += 1
        if row["status"] in ACCOUNT_STATES.unreachable:
            row["unreachable_attempts"] += 1
        return row

    @handle.register
    def _(self, event: recorded.MarkedUnreachable, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["unreachable_attempts"] = 0
        return row

    @handle.register
    def _(self, event: recorded.AdvisorChanged, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["advisor"] = event.advisor
        return row

    @handle.register
    def _(self, event: recorded.WithdrawalRequested, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["withdrawal_channel"] = event.channel
        row["withdrawal_reason"] = event.reason
        row["erase_requested"] = bool(event.erase_data)
        return row

    @handle.register
    def _(self, event: recorded.WithdrawalCancelled, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        _clear_withdrawal(row)
        return row

    @handle.register
    def _(self, event: recorded.Withdrawn, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["withdrawal_timing"] = event.timing
        row["withdrawn_at"] = stamp(event.occurred_at)
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
    def _(self, event: recorded.Reinstated, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        _clear_withdrawal(row)
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
    def _(self, event: recorded.Purged, changes: ChangeSet) -> Row:
        row = _row(event, changes)
        row["purged_at"] = stamp(event.occurred_at)
        return row


def _row(event: Any, changes: ChangeSet) -> Row:
    return changes.account(changes.account_id(event.originator_id))


def _status_key(row: Row) -> dict[str, Any]:
    return {"policy": row["policy"], "status": row["status"]}


def _enter(
    row: Row, status: str, at: datetime, stamped: str | None, changes: ChangeSet
) -> None:
    """The account enters ``status`` at ``at`` (``stamped``): counters and
    clocks follow, by the same rules as the aggregate
    (``domain.deadlines.invalid_since_after``)."""
    changes.count("report_status", _status_key(row), count=-1)
    row["status"] = status
    row["status_since"] = stamped
    changes.count("report_status", _status_key(row), count=1)
    invalid_since = invalid_since_after(status, unstamp(row["invalid_since"]), at)
    row["invalid_since"] = (
        stamped if invalid_since is at else _stamp_or_none(invalid_since)
    )
    unreachable = status in ACCOUNT_STATES.unreachable
    row["unreachable_since"] = stamped if unreachable else None


def _clear_withdrawal(row: Row) -> None:
    row["withdrawal_channel"] = None
    row["withdrawal_reason"] = None
    row["withdrawal_timing"] = None
    row["withdrawn_at"] = None
    row["erase_requested"] = False


def _derive_due_times(row: Row) -> None:
    """The sweep's due times, set only while the account can be due, so the
    partial indexes hold exactly the accounts the sweep may act on."""
    found = deadlines(
        _clocks(
            row["timezone"],
            row["validity_months"],
            row["grace_days"],
            row["retention_years"],
            row["self_reinstatement_days"],
        ),
        status=row["status"],
        last_activity_at=_instant(row["last_activity_at"]),
        unreachable_since=unstamp(row["unreachable_since"]),
        invalid_since=unstamp(row["invalid_since"]),
        withdrawn_at=unstamp(row["withdrawn_at"]),
    )
    row["registration_lapses_at"] = _stamp_or_none(found.registration_lapses_at)
    row["unreachable_lapses_at"] = _stamp_or_none(found.unreachable_lapses_at)
    row["purge_due_at"] = _stamp_or_none(found.purge_due_at)
    row["self_reinstatement_deadline"] = _stamp_or_none(
        found.self_reinstatement_deadline
    )


@cache
def _clocks(
    timezone: str,
    validity_months: int | None,
    grace_days: int,
    retention_years: int | None,
    self_reinstatement_days: int | None,
) -> Clocks:
    return Clocks(
        zone=ZoneInfo(timezone),
        validity_months=validity_months,
        grace_days=grace_days,
        retention_years=retention_years,
        self_reinstatement_days=self_reinstatement_days,
    )


def _instant(value: str) -> datetime:
    instant = unstamp(value)
    assert instant is not None
    return instant


def _stamp_or_none(value: datetime | None) -> str | None:
    return stamp(value) if value is not None else None


Handler = Callable[[AccountsProjection, Any, ChangeSet], "Row | None"]
_DISPATCH = AccountsProjection.__dict__["handle"].dispatcher.dispatch
_BY_CLASS: dict[type[Any], Handler] = {}
"""Each event class's handler, found once: the library's singledispatchmethod
builds a wrapper on every access, and even its dispatcher's cache costs a
weak-reference lookup per event."""


def _handler_for(event_class: type[Any]) -> Handler:
    handler: Handler = _DISPATCH(event_class)
    _BY_CLASS[event_class] = handler
    return handler
