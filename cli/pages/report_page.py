"""The manager's report page: every report of SPEC §6 as a chart and a table.

The rows come from ``projections.queries.report``, the function behind
``seekers report NAME --format json``, called with the same arguments, so a
table on the page and the JSON of the same report on the same store can only
agree. Charts show aggregates (per month, per bucket of days), never one mark
per account: the retention queue and the unreachable list can hold a million
accounts, and the page must stay a file a browser opens in a second. Their
tables show the first ``ROW_LIMIT`` rows and say how many there are in all.
Nothing here reads personal data or needs the master key: the projections
hold none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cli.pages import charts
from cli.pages.common import STATUS_COLOURS, colour_for, local_now, render
from domain.guards import WITHDRAWAL_TIMINGS
from domain.policy import WITHDRAWAL_REASONS
from projections.queries import REPORT_COLUMNS, REPORTS, report
from projections.reader import Readable

ROW_LIMIT = 200
"""Row-level tables (retention, unreachable) show this many rows at most."""

MAX_MONTHS = 240
"""A ``--from``/``--to`` wider than this is charted over the months with data."""

REASONS = (*WITHDRAWAL_REASONS, "(none)")
TIMINGS = WITHDRAWAL_TIMINGS
MODES = ("self_service", "assisted")
DAY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–7 days", 0, 7),
    ("8–14 days", 8, 14),
    ("15–30 days", 15, 30),
    ("31–90 days", 31, 90),
    ("91–365 days", 91, 365),
    ("over a year", 366, None),
)
"""Days since an account was marked unreachable; the presets' grace is 30
days, so everything from the fourth bucket on is past it."""

COLUMN_TITLES = {
    "policy": "Policy",
    "status": "Status",
    "count": "Count",
    "month": "Month",
    "reason": "Reason",
    "channel": "Channel",
    "timing": "Timing",
    "mode": "Mode",
    "avg_days_after_withdrawal": "Avg days after withdrawal",
    "last_minute": "Last-minute",
    "flagged": "Flagged",
    "id": "Account",
    "invalid_since": "Invalid since",
    "purge_due_at": "Purge due",
    "unreachable_since": "Unreachable since",
    "days": "Days",
    "attempts": "Attempts",
    "open_applications": "Open applications",
}
NUMERIC = frozenset(
    {"count", "avg_days_after_withdrawal", "days", "attempts", "open_applications"}
)
TIMES = frozenset({"invalid_since", "purge_due_at", "unreachable_since"})


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str  # "number", "time", "flag" or "text"


@dataclass(frozen=True)
class Table:
    report: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int
    noun: str

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str


@dataclass(frozen=True)
class Section:
    report: str
    title: str
    intro: str
    charts: list[Chart]
    table: Table
    facts: list[str] = field(default_factory=list)
    table_title: str = ""


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    note: str


def collect(
    view: Readable, *, start: str | None, end: str | None, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Every report's rows, exactly as ``seekers report NAME`` gets them."""
    return {name: report(view, name, start=start, end=end, now=now) for name in REPORTS}


def zones(view: Readable) -> list[str]:
    """The time zones of the policies in the store (months are in these)."""
    rows = view.query("SELECT DISTINCT timezone FROM accounts ORDER BY timezone")
    return [str(row["timezone"]) for row in rows]


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    result = []
    while (year, month) <= end:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def month_axis(present: Iterable[str], start: str | None, end: str | None) -> list[str]:
    """Every month from the first to the last, gaps included: a month with
    nothing in it is a zero on the chart, not a missing bar. ``--from`` and
    ``--to`` widen the axis to the period asked for."""
    months = sorted(set(present))
    low = start[:7] if start else (months[0] if months else None)
    high = end[:7] if end else (months[-1] if months else None)
    if low is None or high is None or low > high:
        return months
    axis = _months(low, high)
    if len(axis) > MAX_MONTHS and months:
        axis = _months(months[0], months[-1])
    return axis


def _order(present: Iterable[str], known: Sequence[str]) -> list[str]:
    seen = set(present)
    return [k for k in known if k in seen] + sorted(seen - set(known))


def _series(
    counts: Mapping[tuple[str, str], float],
    categories: Sequence[str],
    keys: Sequence[str],
    *,
    colours: Sequence[str],
    labels: Mapping[str, str] | None = None,
) -> list[charts.Series]:
    return [
        charts.Series(
            label=(labels or {}).get(key, key.replace("_", " ")),
            values=[counts.get((category, key), 0) for category in categories],
            colour=colour_for(key, list(colours)),
        )
        for key in keys
    ]


def _table(
    name: str, rows: list[dict[str, Any]], *, noun: str, limit: int | None
) -> Table:
    shown = rows if limit is None else rows[:limit]
    columns = [
        Column(
            key=key,
            title=COLUMN_TITLES.get(key, key),
            kind="number"
            if key in NUMERIC
            else "time"
            if key in TIMES
            else "flag"
            if key in {"last_minute", "flagged"}
            else "text",
        )
        for key in REPORT_COLUMNS[name]
    ]
    return Table(report=name, columns=columns, rows=shown, total=len(rows), noun=noun)


def _count(number: int, noun: str) -> str:
    """``1 account``, ``2 accounts``."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _status_section(rows: list[dict[str, Any]]) -> Section:
    policies = sorted({r["policy"] for r in rows})
    statuses = _order((r["status"] for r in rows), list(STATUS_COLOURS))
    counts = {(r["policy"], r["status"]): r["count"] for r in rows}
    svg = charts.bars(
        "status",
        policies,
        _series(counts, policies, statuses, colours=statuses),
        label="Accounts by status per policy",
        value_label="accounts",
        horizontal=True,
        totals=True,
        empty="No accounts in the ledger",
    )
    total = sum(r["count"] for r in rows)
    facts = [
        f"{p}: {_count(sum(r['count'] for r in rows if r['policy'] == p), 'account')}"
        for p in policies
    ]
    return Section(
        report="status",
        title="Accounts by status",
        intro="Every account by its current status, per policy. A status is a "
        f"present fact, so this section ignores the period; {_count(total, 'account')}"
        " in all.",
        charts=[Chart("Accounts by status, per policy", svg)],
        table=_table("status", rows, noun="rows", limit=None),
        table_title="Accounts per policy and status",
        facts=facts,
    )


def _withdrawals_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None
) -> Section:
    months = month_axis((r["month"] for r in rows), start, end)
    by_reason: Counter[tuple[str, str]] = Counter()
    by_timing: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_reason[(r["month"], r["reason"] or "(none)")] += r["count"]
        by_timing[(r["month"], r["timing"] or "(none)")] += r["count"]
    reasons = _order((k for _, k in by_reason), REASONS)
    timings = _order((k for _, k in by_timing), TIMINGS)
    total = sum(r["count"] for r in rows)
    top = Counter[str]()
    for (_, reason), count in by_reason.items():
        top[reason] += count
    facts = [
        f"{reason.replace('_', ' ')}: {count:,} ({_percent(count, total)})"
        for reason, count in top.most_common()
    ]
    return Section(
        report="withdrawals",
        title="Withdrawals per month",
        intro=f"{_count(total, 'withdrawal')} completed in the period, by the month of "
        "the withdrawal in the policy's time zone: why the seekers left, and "
        "how far their selections had gone.",
        charts=[
            Chart(
                "By reason",
                charts.bars(
                    "withdrawals-reason",
                    months,
                    _series(by_reason, months, reasons, colours=REASONS),
                    label="Withdrawals per month by reason",
                    value_label="withdrawals",
                    empty="No withdrawals in this period",
                ),
            ),
            Chart(
                "By timing in the selection",
                charts.bars(
                    "withdrawals-timing",
                    months,
                    _series(by_timing, months, timings, colours=TIMINGS),
                    label="Withdrawals per month by timing",
                    value_label="withdrawals",
                    empty="No withdrawals in this period",
                ),
            ),
        ],
        table=_table("withdrawals", rows, noun="rows", limit=None),
        table_title="Withdrawals per month, policy, reason, channel and timing",
        facts=facts,
    )


def _reinstatements_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None
) -> Section:
    months = month_axis((r["month"] for r in rows), start, end)
    by_mode: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_mode[(r["month"], r["mode"])] += r["count"]
    modes = _order((k for _, k in by_mode), MODES)
    lines_by: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        lines_by[f"{r['policy']} · {r['mode'].replace('_', ' ')}"][r["month"]] = r[
            "avg_days_after_withdrawal"
        ]
    line_keys = sorted(lines_by)
    day_series = [
        charts.Series(
            label=key,
            values=[lines_by[key].get(m) for m in months],
            colour=colour_for(key, line_keys),
        )
        for key in line_keys
    ]
    self_count = sum(r["count"] for r in rows if r["mode"] == "self_service")
    assisted = sum(r["count"] for r in rows if r["mode"] == "assisted")
    total = self_count + assisted
    return Section(
        report="reinstatements",
        title="Reinstatements",
        intro=f"{_count(total, 'withdrawn account')} brought back in the period: "
        f"by the seeker themselves ({self_count:,}, {_percent(self_count, total)}) or "
        f"by staff ({assisted:,}, {_percent(assisted, total)}), and how many "
        "days after the withdrawal.",
        charts=[
            Chart(
                "Self-service and assisted, per month",
                charts.bars(
                    "reinstatements-mode",
                    months,
                    _series(
                        by_mode,
                        months,
                        modes,
                        colours=MODES,
                        labels={"self_service": "self-service", "assisted": "assisted"},
                    ),
                    label="Reinstatements per month, self-service and assisted",
                    value_label="reinstatements",
                    empty="No reinstatements in this period",
                ),
            ),
            Chart(
                "Average days after the withdrawal",
                charts.lines(
                    "reinstatements-days",
                    months,
                    day_series,
                    label="Average days between withdrawal and reinstatement",
                    value_label="days",
                    empty="No reinstatements in this period",
                ),
            ),
        ],
        table=_table("reinstatements", rows, noun="rows", limit=None),
        table_title="Reinstatements per month, policy and mode",
    )


def _declines_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None
) -> Section:
    months = month_axis((r["month"] for r in rows), start, end)
    kinds: Counter[tuple[str, str]] = Counter()
    per_month: Counter[str] = Counter()
    for r in rows:
        kind = (
            "flagged"
            if r["flagged"]
            else "last_minute"
            if r["last_minute"]
            else "notice"
        )
        kinds[(r["month"], kind)] += r["count"]
        per_month[r["month"]] += r["count"]
    total = sum(r["count"] for r in rows)
    last_minute = sum(r["count"] for r in rows if r["last_minute"])
    flagged = sum(r["count"] for r in rows if r["flagged"])
    keys = ("flagged", "last_minute", "notice")
    colours = {"flagged": "#b71c1c", "last_minute": "#f18f01", "notice": "#90a4ae"}
    labels = {
        "flagged": "last-minute by email (flagged)",
        "last_minute": "last-minute, other channels",
        "notice": "24 hours' notice or more",
    }
    series = [
        charts.Series(
            label=labels[k],
            values=[kinds.get((m, k), 0) for m in months],
            colour=colours[k],
        )
        for k in keys
    ]
    share = charts.Series(
        label="last-minute share (right axis)",
        values=[
            100
            * (kinds.get((m, "flagged"), 0) + kinds.get((m, "last_minute"), 0))
            / per_month[m]
            if per_month[m]
            else None
            for m in months
        ],
        colour="#1f2933",
    )
    return Section(
        report="declines",
        title="Declined interviews",
        intro=f"{_count(total, 'interview')} declined in the period; {last_minute:,} "
        f"({_percent(last_minute, total)}) with less than 24 hours' notice, "
        f"{flagged:,} of them by email, the case reports flag.",
        charts=[
            Chart(
                "Per month, with the last-minute share",
                charts.bars(
                    "declines",
                    months,
                    series,
                    label="Declined interviews per month and last-minute share",
                    value_label="declines",
                    share=share,
                    share_label="last-minute share (%)",
                    overall=100 * last_minute / total if total else None,
                    empty="No declined interviews in this period",
                ),
            )
        ],
        table=_table("declines", rows, noun="rows", limit=None),
        table_title="Declines per month, policy, channel and notice",
    )


def _retention_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None, now: datetime
) -> Section:
    due: Counter[tuple[str, str]] = Counter()
    for r in rows:
        due[(r["purge_due_at"][:7], r["policy"])] += 1
    months = month_axis((m for m, _ in due), start, end)
    policies = sorted({p for _, p in due})
    overdue = 0
    this_month = None
    if rows:
        offset = datetime.fromisoformat(rows[0]["purge_due_at"]).tzinfo
        this_month = now.astimezone(offset).strftime("%Y-%m")
        stamp = now.timestamp()
        overdue = sum(
            1
            for r in rows
            if datetime.fromisoformat(r["purge_due_at"]).timestamp() <= stamp
        )
    return Section(
        report="retention",
        title="Retention queue: purges due per month",
        intro=f"{_count(len(rows), 'account')} will have personal data erased when "
        f"retention ends; {overdue:,} {'is' if overdue == 1 else 'are'} due already "
        "and go at the next sweep. Months are those of the purge date in the "
        "policy's time zone.",
        charts=[
            Chart(
                "Purges due per month, per policy",
                charts.bars(
                    "retention",
                    months,
                    _series(due, months, policies, colours=policies),
                    label="Purges due per month",
                    value_label="accounts",
                    mark=this_month,
                    mark_label="this month",
                    empty="No purge due in this period",
                ),
            )
        ],
        table=_table("retention", rows, noun="accounts", limit=ROW_LIMIT),
        table_title="Accounts awaiting purge, soonest first",
    )


def bucket(days: int) -> str:
    for label, low, high in DAY_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return DAY_BUCKETS[0][0]


def _unreachable_section(rows: list[dict[str, Any]]) -> Section:
    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        counts[(bucket(r["days"]), r["policy"])] += 1
    buckets = [label for label, _, _ in DAY_BUCKETS]
    policies = sorted({r["policy"] for r in rows})
    past_grace = sum(1 for r in rows if r["days"] > 30)
    waiting = sum(1 for r in rows if r["open_applications"])
    return Section(
        report="unreachable",
        title="Unreachable seekers",
        intro=f"{_count(len(rows), 'account')} marked unreachable today, by days "
        f"since they were marked; {past_grace:,} more than 30 days ago (past the "
        f"presets' grace: the sweep lapses them), {waiting:,} with open "
        "applications companies are waiting on. Not limited by the period: this "
        "is today's list.",
        charts=[
            Chart(
                "Accounts by days since marked unreachable",
                charts.bars(
                    "unreachable",
                    buckets,
                    _series(counts, buckets, policies, colours=policies),
                    label="Unreachable accounts by days since marking",
                    value_label="accounts",
                    totals=True,
                    empty="No account is unreachable",
                ),
            )
        ],
        table=_table("unreachable", rows, noun="accounts", limit=ROW_LIMIT),
        table_title="Unreachable accounts, longest first",
    )


def _figures(rows: Mapping[str, list[dict[str, Any]]], now: datetime) -> list[Headline]:
    accounts = sum(r["count"] for r in rows["status"])
    active = sum(r["count"] for r in rows["status"] if r["status"] == "active")
    withdrawals = sum(r["count"] for r in rows["withdrawals"])
    reinstated = sum(r["count"] for r in rows["reinstatements"])
    declines = sum(r["count"] for r in rows["declines"])
    last_minute = sum(r["count"] for r in rows["declines"] if r["last_minute"])
    stamp = now.timestamp()
    overdue = sum(
        1
        for r in rows["retention"]
        if datetime.fromisoformat(r["purge_due_at"]).timestamp() <= stamp
    )
    unreachable = len(rows["unreachable"])
    return [
        Headline("Accounts", f"{accounts:,}", f"{active:,} active"),
        Headline("Withdrawals", f"{withdrawals:,}", "in the period"),
        Headline(
            "Reinstatements",
            f"{reinstated:,}",
            f"{_percent(reinstated, withdrawals)} of withdrawals",
        ),
        Headline(
            "Last-minute declines",
            _percent(last_minute, declines),
            f"{last_minute:,} of {declines:,} declines",
        ),
        Headline("Purges due", f"{len(rows['retention']):,}", f"{overdue:,} overdue"),
        Headline("Unreachable", f"{unreachable:,}", "accounts today"),
    ]


def build(
    rows: Mapping[str, list[dict[str, Any]]],
    *,
    start: str | None,
    end: str | None,
    now: datetime,
    zone_names: list[str],
    store: str,
) -> str:
    """The whole page as one HTML document."""
    sections: list[Callable[[], Section]] = [
        lambda: _status_section(rows["status"]),
        lambda: _withdrawals_section(rows["withdrawals"], start, end),
        lambda: _reinstatements_section(rows["reinstatements"], start, end),
        lambda: _declines_section(rows["declines"], start, end),
        lambda: _retention_section(rows["retention"], start, end, now),
        lambda: _unreachable_section(rows["unreachable"]),
    ]
    if start and end:
        period = f"{start} to {end}"
    elif start:
        period = f"from {start}"
    elif end:
        period = f"until {end}"
    else:
        period = "all dates"
    return render(
        "report.html.j2",
        title="Seeker Ledger — management report",
        period=period,
        generated=local_now(now, zone_names),
        zones=", ".join(zone_names) or "Asia/Tokyo",
        store=store,
        figures=_figures(rows, now),
        sections=[make() for make in sections],
        row_limit=ROW_LIMIT,
    )
