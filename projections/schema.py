"""The projection tables. Portable SQL: the same statements run on SQLite and
PostgreSQL. Times are stored as fixed-width UTC text (``stamp``), so they
sort and compare the same way on both."""

from __future__ import annotations

import re
from datetime import UTC, datetime

ACCOUNTS_TABLES = [
    """CREATE TABLE IF NOT EXISTS accounts (
        id TEXT PRIMARY KEY,
        policy TEXT NOT NULL,
        status TEXT NOT NULL,
        status_since TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        last_activity_at TEXT NOT NULL,
        last_occurred_at TEXT NOT NULL,
        applications INTEGER NOT NULL,
        open_applications INTEGER NOT NULL,
        withdrawal_reason TEXT,
        withdrawal_channel TEXT,
        withdrawal_timing TEXT,
        erase_requested BOOLEAN NOT NULL,
        withdrawn_at TEXT,
        self_reinstatement_deadline TEXT,
        invalid_since TEXT,
        purge_due_at TEXT,
        purged_at TEXT,
        advisor TEXT,
        unreachable_since TEXT,
        contact_attempts INTEGER NOT NULL,
        unreachable_attempts INTEGER NOT NULL,
        declines INTEGER NOT NULL,
        last_minute_declines INTEGER NOT NULL,
        registration_lapses_at TEXT,
        unreachable_lapses_at TEXT,
        version INTEGER NOT NULL,
        timezone TEXT NOT NULL,
        validity_months INTEGER,
        grace_days INTEGER NOT NULL,
        retention_years INTEGER,
        self_reinstatement_days INTEGER
    )""",
    # Every index costs each write of a row (a command, a rebuild): these
    # three were made redundant by the paging indexes below, which start
    # with the same columns and serve the same queries.
    "DROP INDEX IF EXISTS accounts_status",
    "DROP INDEX IF EXISTS accounts_policy",
    "DROP INDEX IF EXISTS accounts_purge_due",
    # The sweep's three questions, each answered by an index holding only
    # the accounts it can concern (the third, purge_due_at, by
    # accounts_page_retention).
    """CREATE INDEX IF NOT EXISTS accounts_registration_due
        ON accounts (registration_lapses_at)
        WHERE registration_lapses_at IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS accounts_unreachable_due
        ON accounts (unreachable_lapses_at)
        WHERE unreachable_lapses_at IS NOT NULL""",
    # Keyset paging (``seekers list``, ``report retention|unreachable``):
    # each listing's order (its sort column, then id) under each filter is an
    # index, so a page, first or later, is a short range scan and never a sort
    # of the whole table.
    """CREATE INDEX IF NOT EXISTS accounts_page
        ON accounts (registered_at, id)""",
    """CREATE INDEX IF NOT EXISTS accounts_page_status
        ON accounts (status, registered_at, id)""",
    """CREATE INDEX IF NOT EXISTS accounts_page_policy
        ON accounts (policy, registered_at, id)""",
    """CREATE INDEX IF NOT EXISTS accounts_page_status_policy
        ON accounts (status, policy, registered_at, id)""",
    """CREATE INDEX IF NOT EXISTS accounts_page_retention
        ON accounts (purge_due_at, id) WHERE purge_due_at IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS accounts_page_unreachable
        ON accounts (status, unreachable_since, id) WHERE status = 'unreachable'""",
    """CREATE TABLE IF NOT EXISTS report_status (
        policy TEXT NOT NULL, status TEXT NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (policy, status))""",
    """CREATE TABLE IF NOT EXISTS report_withdrawals (
        month TEXT NOT NULL, policy TEXT NOT NULL, reason TEXT NOT NULL,
        channel TEXT NOT NULL, timing TEXT NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (month, policy, reason, channel, timing))""",
    """CREATE TABLE IF NOT EXISTS report_reinstatements (
        month TEXT NOT NULL, policy TEXT NOT NULL, mode TEXT NOT NULL,
        count BIGINT NOT NULL, total_days BIGINT NOT NULL,
        PRIMARY KEY (month, policy, mode))""",
    """CREATE TABLE IF NOT EXISTS report_declines (
        month TEXT NOT NULL, policy TEXT NOT NULL, channel TEXT NOT NULL,
        last_minute BOOLEAN NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (month, policy, channel, last_minute))""",
]
ACCOUNTS_TABLE_NAMES = [
    "accounts",
    "report_status",
    "report_withdrawals",
    "report_reinstatements",
    "report_declines",
]

AUDIT_TABLES = [
    """CREATE TABLE IF NOT EXISTS audit_trail (
        notification_id BIGINT PRIMARY KEY,
        account TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        actor TEXT NOT NULL,
        channel TEXT,
        reason TEXT,
        from_state TEXT,
        to_state TEXT NOT NULL,
        backdated BOOLEAN NOT NULL,
        details TEXT NOT NULL
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS audit_trail_account
        ON audit_trail (account, version)""",
]
AUDIT_TABLE_NAMES = ["audit_trail"]

TABLE_NAMES = ACCOUNTS_TABLE_NAMES + AUDIT_TABLE_NAMES

SHADOW = "__next"
"""A rebuild's shadow (``projections.runner``): each projection table, its
indexes and its tracking table under the live name with this suffix
(``accounts__next``, ``accounts_page__next``, ``accounts_tracking__next``),
filled while the live tables serve, then swapped in under the live names."""
FILL_INDEXES = frozenset({"audit_trail_account"})
"""The indexes a projection's own batches read through (the audit trail's
last state of each account): a shadow needs them while it fills. The others
serve readers only."""

_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
_CREATE_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX IF NOT EXISTS (\w+)\s+ON (\w+)")


def shadow_statements(statements: list[str], *, indexes: bool) -> list[str]:
    """The DDL of a rebuild's shadow: ``statements`` (a projection's tables)
    with every table and index renamed with ``SHADOW``. ``indexes=False``
    keeps only ``FILL_INDEXES``: on SQLite, which cannot rename an index,
    the swap builds the rest under their live names, once."""
    shadow: list[str] = []
    for statement in statements:
        if statement.startswith("DROP INDEX"):
            continue  # upgrades of live tables, nothing for a new table
        index = _CREATE_INDEX.match(statement)
        if index is not None:
            if not indexes and index.group(2) not in FILL_INDEXES:
                continue
            statement = _CREATE_INDEX.sub(
                lambda m: (
                    f"CREATE {m.group(1) or ''}INDEX IF NOT EXISTS "
                    f"{m.group(2)}{SHADOW} ON {m.group(3)}{SHADOW}"
                ),
                statement,
                count=1,
            )
        else:
            statement = _CREATE_TABLE.sub(
                lambda m: f"CREATE TABLE IF NOT EXISTS {m.group(1)}{SHADOW}",
                statement,
                count=1,
            )
        shadow.append(statement)
    return shadow


INDEX_NAMES = tuple(
    match.group(1)
    for statement in ACCOUNTS_TABLES + AUDIT_TABLES
    if (match := re.match(r"CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+)", statement))
)
"""Every index the projections' schema creates: a store lacking one has not
been opened by this version yet (``projections.reader`` then opens it)."""


def stamp(value: datetime | None) -> str | None:
    """A time as fixed-width UTC text: sorts and compares as time does."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # decoded times are UTC already
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def unstamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value)
