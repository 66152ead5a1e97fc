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
from datetime import date, datetime
from typing import Any

from cli import views
from cli.pages import charts
from cli.pages.common import STATUS_COLOURS, colour_for, local_now, month, render
from cli.views import REPORT_COLUMN_KINDS
from domain.dates_for_people import accounts, era_wanted, format_date
from domain.glossary import policy_name
from domain.guards import WITHDRAWAL_TIMINGS
from domain.i18n import N_, NC_, _, language, ngettext, pgettext
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
    (N_("0–7 days"), 0, 7),
    (N_("8–14 days"), 8, 14),
    (N_("15–30 days"), 15, 30),
    (N_("31–90 days"), 31, 90),
    (N_("91–365 days"), 91, 365),
    (N_("over a year"), 366, None),
)
"""Days since an account was marked unreachable; the presets' grace is 30
days, so everything from the fourth bucket on is past it."""

COLUMN_TITLES = {
    "policy": NC_("report column", "Policy"),
    "status": NC_("report column", "Status"),
    "count": NC_("report column", "Count"),
    "month": NC_("report column", "Month"),
    "reason": NC_("report column", "Reason"),
    "channel": NC_("report column", "Channel"),
    "timing": NC_("report column", "Timing"),
    "mode": NC_("report column", "Mode"),
    "avg_days_after_withdrawal": NC_("report column", "Avg days after withdrawal"),
    "last_minute": NC_("report column", "Last-minute"),
    "flagged": NC_("report column", "Flagged"),
    "id": NC_("report column", "Account"),
    "invalid_since": NC_("report column", "Invalid since"),
    "purge_due_at": NC_("report column", "Purge due"),
    "unreachable_since": NC_("report column", "Unreachable since"),
    "days": NC_("report column", "Days"),
    "attempts": NC_("report column", "Attempts"),
    "open_applications": NC_("report column", "Open applications"),
}
"""Column titles, in the chosen language through ``pgettext("report column",
…)`` where shown (the CLI's own report tables may word them differently)."""

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

    @property
    def cut_note(self) -> str:
        """The start of the note under a table that shows only its first rows."""
        shown, total = f"{len(self.rows):,}", f"{self.total:,}"
        if self.noun == "accounts":
            text = _("Showing the first {shown} of {total} accounts;")
        else:
            text = _("Showing the first {shown} of {total} rows;")
        return text.format(shown=shown, total=total)

    @property
    def all_note(self) -> str:
        """The note under a table that shows every row."""
        if self.noun == "accounts":
            text = ngettext("{n} account in all.", "{n} accounts in all.", self.total)
        else:
            text = ngettext("{n} row in all.", "{n} rows in all.", self.total)
        return text.format(n=f"{self.total:,}")


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


def term(kind: str, key: str) -> str:
    """A code as the page names it: in English as the page always has
    (underscores as spaces), in Japanese through the glossary."""
    if language() != "ja":
        return key.replace("_", " ")
    if key == "(none)":
        return _("(none)")
    return views.term(kind, key)


def cell(key: str, value: Any) -> Any:
    """A text cell as people read it: the value itself in English (what the
    JSON says), the code's Japanese name in Japanese."""
    if language() != "ja" or not isinstance(value, str):
        return value
    if key == "month":
        return month(value)
    kind = REPORT_COLUMN_KINDS.get(key)
    return value if kind is None else term(kind, value)


def months_shown(months: Sequence[str]) -> list[str]:
    """Month categories as an axis shows them."""
    return [month(m) for m in months]


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
    kind: str,
    labels: Mapping[str, str] | None = None,
) -> list[charts.Series]:
    return [
        charts.Series(
            label=(labels or {}).get(key) or term(kind, key),
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
            title=pgettext("report column", COLUMN_TITLES[key])
            if key in COLUMN_TITLES
            else key,
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


def _withdrawals(n: int) -> str:
    return ngettext("{n} withdrawal", "{n} withdrawals", n).format(n=f"{n:,}")


def _withdrawn_accounts(n: int) -> str:
    return ngettext("{n} withdrawn account", "{n} withdrawn accounts", n).format(
        n=f"{n:,}"
    )


def _interviews(n: int) -> str:
    return ngettext("{n} interview", "{n} interviews", n).format(n=f"{n:,}")


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _status_section(rows: list[dict[str, Any]]) -> Section:
    policies = sorted({r["policy"] for r in rows})
    statuses = _order((r["status"] for r in rows), list(STATUS_COLOURS))
    counts = {(r["policy"], r["status"]): r["count"] for r in rows}
    svg = charts.bars(
        "status",
        [term("policy", p) if language() == "ja" else p for p in policies],
        _series(counts, policies, statuses, colours=statuses, kind="account state"),
        label=_("Accounts by status per policy"),
        value_label=_("accounts"),
        horizontal=True,
        totals=True,
        empty=_("No accounts in the ledger"),
    )
    total = sum(r["count"] for r in rows)
    facts = [
        _("{policy}: {count}").format(
            policy=policy_name(p),
            count=accounts(sum(r["count"] for r in rows if r["policy"] == p)),
        )
        for p in policies
    ]
    return Section(
        report="status",
        title=_("Accounts by status"),
        intro=_(
            "Every account by its current status, per policy. A status is a "
            "present fact, so this section ignores the period; {accounts} in all."
        ).format(accounts=accounts(total)),
        charts=[Chart(_("Accounts by status, per policy"), svg)],
        table=_table("status", rows, noun="rows", limit=None),
        table_title=_("Accounts per policy and status"),
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
    reasons = _order((k for _month, k in by_reason), REASONS)
    timings = _order((k for _month, k in by_timing), TIMINGS)
    total = sum(r["count"] for r in rows)
    top = Counter[str]()
    for (_month, reason), count in by_reason.items():
        top[reason] += count
    facts = [
        _("{reason}: {count} ({share})").format(
            reason=term("withdrawal reason", reason),
            count=f"{count:,}",
            share=_percent(count, total),
        )
        for reason, count in top.most_common()
    ]
    return Section(
        report="withdrawals",
        title=_("Withdrawals per month"),
        intro=_(
            "{withdrawals} completed in the period, by the month of "
            "the withdrawal in the policy's time zone: why the seekers left, and "
            "how far their selections had gone."
        ).format(withdrawals=_withdrawals(total)),
        charts=[
            Chart(
                _("By reason"),
                charts.bars(
                    "withdrawals-reason",
                    months_shown(months),
                    _series(
                        by_reason,
                        months,
                        reasons,
                        colours=REASONS,
                        kind="withdrawal reason",
                    ),
                    label=_("Withdrawals per month by reason"),
                    value_label=_("withdrawals"),
                    empty=_("No withdrawals in this period"),
                ),
            ),
            Chart(
                _("By timing in the selection"),
                charts.bars(
                    "withdrawals-timing",
                    months_shown(months),
                    _series(
                        by_timing,
                        months,
                        timings,
                        colours=TIMINGS,
                        kind="withdrawal timing",
                    ),
                    label=_("Withdrawals per month by timing"),
                    value_label=_("withdrawals"),
                    empty=_("No withdrawals in this period"),
                ),
            ),
        ],
        table=_table("withdrawals", rows, noun="rows", limit=None),
        table_title=_("Withdrawals per month, policy, reason, channel and timing"),
        facts=facts,
    )


def _reinstatements_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None
) -> Section:
    months = month_axis((r["month"] for r in rows), start, end)
    by_mode: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_mode[(r["month"], r["mode"])] += r["count"]
    modes = _order((k for _month, k in by_mode), MODES)
    lines_by: dict[str, dict[str, float]] = defaultdict(dict)
    line_labels: dict[str, str] = {}
    for r in rows:
        key = f"{r['policy']} · {r['mode'].replace('_', ' ')}"
        lines_by[key][r["month"]] = r["avg_days_after_withdrawal"]
        line_labels[key] = (
            f"{term('policy', r['policy'])} · {term('reinstatement mode', r['mode'])}"
        )
    line_keys = sorted(lines_by)
    day_series = [
        charts.Series(
            label=line_labels[key],
            values=[lines_by[key].get(m) for m in months],
            colour=colour_for(key, line_keys),
        )
        for key in line_keys
    ]
    self_count = sum(r["count"] for r in rows if r["mode"] == "self_service")
    assisted = sum(r["count"] for r in rows if r["mode"] == "assisted")
    total = self_count + assisted
    english = language() != "ja"
    return Section(
        report="reinstatements",
        title=_("Reinstatements"),
        intro=_(
            "{accounts} brought back in the period: "
            "by the seeker themselves ({self_count}, {self_share}) or "
            "by staff ({assisted}, {assisted_share}), and how many "
            "days after the withdrawal."
        ).format(
            accounts=_withdrawn_accounts(total),
            self_count=f"{self_count:,}",
            self_share=_percent(self_count, total),
            assisted=f"{assisted:,}",
            assisted_share=_percent(assisted, total),
        ),
        charts=[
            Chart(
                _("Self-service and assisted, per month"),
                charts.bars(
                    "reinstatements-mode",
                    months_shown(months),
                    _series(
                        by_mode,
                        months,
                        modes,
                        colours=MODES,
                        kind="reinstatement mode",
                        labels={"self_service": "self-service"} if english else None,
                    ),
                    label=_("Reinstatements per month, self-service and assisted"),
                    value_label=_("reinstatements"),
                    empty=_("No reinstatements in this period"),
                ),
            ),
            Chart(
                _("Average days after the withdrawal"),
                charts.lines(
                    "reinstatements-days",
                    months_shown(months),
                    day_series,
                    label=_("Average days between withdrawal and reinstatement"),
                    value_label=_("days"),
                    empty=_("No reinstatements in this period"),
                ),
            ),
        ],
        table=_table("reinstatements", rows, noun="rows", limit=None),
        table_title=_("Reinstatements per month, policy and mode"),
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
        "flagged": _("last-minute by email (flagged)"),
        "last_minute": _("last-minute, other channels"),
        "notice": _("24 hours' notice or more"),
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
        label=_("last-minute share (right axis)"),
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
        title=_("Declined interviews"),
        intro=_(
            "{interviews} declined in the period; {last_minute} "
            "({share}) with less than 24 hours' notice, "
            "{flagged} of them by email, the case reports flag."
        ).format(
            interviews=_interviews(total),
            last_minute=f"{last_minute:,}",
            share=_percent(last_minute, total),
            flagged=f"{flagged:,}",
        ),
        charts=[
            Chart(
                _("Per month, with the last-minute share"),
                charts.bars(
                    "declines",
                    months_shown(months),
                    series,
                    label=_("Declined interviews per month and last-minute share"),
                    value_label=_("declines"),
                    share=share,
                    share_label=_("last-minute share (%)"),
                    overall=100 * last_minute / total if total else None,
                    empty=_("No declined interviews in this period"),
                ),
            )
        ],
        table=_table("declines", rows, noun="rows", limit=None),
        table_title=_("Declines per month, policy, channel and notice"),
    )


def _retention_section(
    rows: list[dict[str, Any]], start: str | None, end: str | None, now: datetime
) -> Section:
    due: Counter[tuple[str, str]] = Counter()
    for r in rows:
        due[(r["purge_due_at"][:7], r["policy"])] += 1
    months = month_axis((m for m, _ in due), start, end)
    policies = sorted({p for _month, p in due})
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
        title=_("Retention queue: purges due per month"),
        intro=ngettext(
            "{accounts} will have personal data erased when "
            "retention ends; {overdue} is due already "
            "and go at the next sweep. Months are those of the purge date in the "
            "policy's time zone.",
            "{accounts} will have personal data erased when "
            "retention ends; {overdue} are due already "
            "and go at the next sweep. Months are those of the purge date in the "
            "policy's time zone.",
            overdue,
        ).format(accounts=accounts(len(rows)), overdue=f"{overdue:,}"),
        charts=[
            Chart(
                _("Purges due per month, per policy"),
                charts.bars(
                    "retention",
                    months_shown(months),
                    _series(due, months, policies, colours=policies, kind="policy"),
                    label=_("Purges due per month"),
                    value_label=_("accounts"),
                    mark=None if this_month is None else month(this_month),
                    mark_label=_("this month"),
                    empty=_("No purge due in this period"),
                ),
            )
        ],
        table=_table("retention", rows, noun="accounts", limit=ROW_LIMIT),
        table_title=_("Accounts awaiting purge, soonest first"),
    )


def bucket(days: int) -> str:
    for name, low, high in DAY_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return DAY_BUCKETS[0][0]


def _unreachable_section(rows: list[dict[str, Any]]) -> Section:
    counts: Counter[tuple[str, str]] = Counter()
    for r in rows:
        counts[(bucket(r["days"]), r["policy"])] += 1
    buckets = [name for name, _low, _high in DAY_BUCKETS]
    policies = sorted({r["policy"] for r in rows})
    past_grace = sum(1 for r in rows if r["days"] > 30)
    waiting = sum(1 for r in rows if r["open_applications"])
    return Section(
        report="unreachable",
        title=_("Unreachable seekers"),
        intro=_(
            "{accounts} marked unreachable today, by days "
            "since they were marked; {past_grace} more than 30 days ago (past the "
            "presets' grace: the sweep lapses them), {waiting} with open "
            "applications companies are waiting on. Not limited by the period: this "
            "is today's list."
        ).format(
            accounts=accounts(len(rows)),
            past_grace=f"{past_grace:,}",
            waiting=f"{waiting:,}",
        ),
        charts=[
            Chart(
                _("Accounts by days since marked unreachable"),
                charts.bars(
                    "unreachable",
                    [_(name) for name in buckets],
                    _series(counts, buckets, policies, colours=policies, kind="policy"),
                    label=_("Unreachable accounts by days since marking"),
                    value_label=_("accounts"),
                    totals=True,
                    empty=_("No account is unreachable"),
                ),
            )
        ],
        table=_table("unreachable", rows, noun="accounts", limit=ROW_LIMIT),
        table_title=_("Unreachable accounts, longest first"),
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
        Headline(
            _("Accounts"), f"{accounts:,}", _("{n} active").format(n=f"{active:,}")
        ),
        Headline(_("Withdrawals"), f"{withdrawals:,}", _("in the period")),
        Headline(
            _("Reinstatements"),
            f"{reinstated:,}",
            _("{share} of withdrawals").format(share=_percent(reinstated, withdrawals)),
        ),
        Headline(
            _("Last-minute declines"),
            _percent(last_minute, declines),
            _("{last_minute} of {declines} declines").format(
                last_minute=f"{last_minute:,}", declines=f"{declines:,}"
            ),
        ),
        Headline(
            _("Purges due"),
            f"{len(rows['retention']):,}",
            _("{n} overdue").format(n=f"{overdue:,}"),
        ),
        Headline(_("Unreachable"), f"{unreachable:,}", _("accounts today")),
    ]


def _day(value: str) -> str:
    """A ``--from``/``--to`` bound as given; in Japanese, a plain date as
    people write it (``2026年2月2日``)."""
    if language() != "ja":
        return value
    try:
        return format_date(date.fromisoformat(value), era=era_wanted())
    except ValueError:
        return value


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
        period = _("{start} to {end}").format(start=_day(start), end=_day(end))
    elif start:
        period = _("from {start}").format(start=_day(start))
    elif end:
        period = _("until {end}").format(end=_day(end))
    else:
        period = _("all dates")
    return render(
        "report.html.j2",
        title=_("Seeker Ledger — management report"),
        period=period,
        generated=local_now(now, zone_names),
        zones=", ".join(zone_names) or "Asia/Tokyo",
        store=store,
        figures=_figures(rows, now),
        sections=[make() for make in sections],
        row_limit=ROW_LIMIT,
        cell=cell,
    )
