"""The auditor's timeline: one account's history drawn over business time.

The states are a coloured band, every event a mark (its actor and details in
the mark's hover title and in the table under the chart), applications are
lanes of their own, and the policy's deadlines stand where they fall. A
backdated event is drawn as a diamond with a dotted line to the moment it was
recorded, so both times of SPEC §4 are visible at once.

The drawing is plain SVG written by the template from the geometry computed
here: a timeline is a few dozen shapes, not worth a charting library.
Deadlines are often years ahead (a purge is due five years after a
withdrawal), so the axis is linear over the events and switches to a
logarithmic stretch after them: the next thirty days stay readable next to
the purge date. Inputs are the documents ``history --json`` and ``show
--json`` print, so the page shows exactly what those commands would.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cli.pages.common import STATUS_COLOURS, moment, month, render
from cli.views import details_text
from domain.dates_for_people import era_wanted, format_date, format_iso
from domain.glossary import label, policy_name
from domain.i18n import N_, _, language

ERASED = "erased"

WIDTH = 1180
LEFT = 176
RIGHT = 24
TOP = 12
LANE = 30
LOG_SHARE = 0.26
"""Share of the plot's width given to the time after the last event."""
GAP = 16
BACKDATED_COLOUR = "#f18f01"
ACTIVITY_COLOUR = "#1f3a5f"

DEADLINES: tuple[tuple[str, str], ...] = (
    ("registration_lapses_at", N_("registration lapses")),
    ("unreachable_lapses_at", N_("lapses if still unreachable")),
    ("self_reinstatement_deadline", N_("self-reinstatement until")),
    ("purge_due_at", N_("purge due")),
)
DEADLINE_LEGEND = {
    "registration_lapses_at": N_("registration lapses"),
    "unreachable_lapses_at": N_("unreachable lapses"),
    "self_reinstatement_deadline": N_("self reinstatement deadline"),
    "purge_due_at": N_("purge due"),
}
"""The legend's name of each deadline line (in English, its key in words)."""
DEADLINE_COLOURS = {
    "registration_lapses_at": "#c9a227",
    "unreachable_lapses_at": "#ef6c00",
    "self_reinstatement_deadline": "#2e86ab",
    "purge_due_at": "#455a64",
}


@dataclass
class Scale:
    """Business time → x. Linear from ``start`` to ``split``; after it, if
    anything lies beyond, ``log1p(days)`` up to ``end``."""

    start: datetime
    split: datetime
    end: datetime
    x0: float
    x1: float

    @property
    def broken(self) -> bool:
        return self.end > self.split

    @property
    def x_split(self) -> float:
        if not self.broken:
            return self.x1
        return self.x0 + (self.x1 - self.x0) * (1 - LOG_SHARE) - GAP / 2

    @property
    def x_beyond(self) -> float:
        return self.x_split + GAP

    def __call__(self, moment: datetime) -> float:
        if moment <= self.split or not self.broken:
            span = (self.split - self.start).total_seconds() or 1.0
            ratio = (moment - self.start).total_seconds() / span
            return self.x0 + (self.x_split - self.x0) * min(max(ratio, 0.0), 1.0)
        days = (moment - self.split).total_seconds() / 86400
        most = (self.end - self.split).total_seconds() / 86400
        ratio = math.log1p(days) / math.log1p(most) if most > 0 else 1.0
        return self.x_beyond + (self.x1 - self.x_beyond) * min(ratio, 1.0)


@dataclass(frozen=True)
class Segment:
    state: str
    x: float
    width: float
    colour: str
    label: str
    title: str


@dataclass(frozen=True)
class Mark:
    version: int
    x: float
    y: float
    type: str
    colour: str
    backdated: bool
    title: str
    recorded_x: float | None = None


@dataclass(frozen=True)
class Deadline:
    key: str
    label: str
    when: str
    x: float
    colour: str
    row: int
    passed: bool
    anchor: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass
class Lane:
    label: str
    sublabel: str
    y: float
    bar_x: float = 0.0
    bar_width: float = 0.0
    open: bool = False
    title: str = ""
    marks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    version: int
    occurred: str
    recorded: str
    occurred_full: str
    recorded_full: str
    backdated: bool
    actor: str
    type: str
    from_state: str
    to_state: str
    details: str


def _japanese() -> bool:
    return language() == "ja"


def _state(code: str | None, kind: str = "account state") -> str:
    """A state as the page names it: the code in English, as ``history``
    prints it; the glossary's term in Japanese."""
    if not code:
        return "—"
    return label(kind, code) if _japanese() else code


def _event(code: str) -> str:
    """An event type: its name in English, the glossary's term in Japanese."""
    return label("event", code) if _japanese() else code


def _words(code: str, kind: str) -> str:
    """A code as words (underscores as spaces), or its Japanese name."""
    return label(kind, code) if _japanese() else code.replace("_", " ")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _deadlines(account: dict[str, Any]) -> list[tuple[str, str, datetime]]:
    values = {**account, **(account.get("withdrawal") or {})}
    found = []
    for key, name in DEADLINES:
        when = _parse(values.get(key))
        if when is not None:
            found.append((key, name, when))
    return found


def _scale(
    entries: Sequence[dict[str, Any]],
    cut: datetime,
    beyond: Iterable[datetime],
) -> Scale:
    occurred = [_parse(e["occurred_at"]) for e in entries]
    times = [t for t in occurred if t is not None]
    first, last = min(times), max(times)
    span = max(last - first, timedelta(days=1))
    near_limit = last + span * 0.5
    later = [t for t in [cut, *beyond] if t > last]
    split = max([last, *(t for t in later if t <= near_limit)])
    end = max([split, *later])
    pad = (split - first) * 0.03 or timedelta(hours=12)
    start = first - pad
    if end == split:
        split = end = split + pad
    return Scale(start=start, split=split, end=end, x0=LEFT, x1=WIDTH - RIGHT)


def _ticks(scale: Scale, zone: ZoneInfo) -> list[Tick]:
    """Calendar ticks over the linear part, at least ~80 px apart."""
    start = scale.start.astimezone(zone)
    stop = scale.split.astimezone(zone)
    days = (stop - start).total_seconds() / 86400
    moments: list[tuple[datetime, str]] = []
    if days <= 120:
        step = 1 if days <= 12 else 7
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if step == 7:
            day -= timedelta(days=day.weekday())
        while day <= stop:
            if day >= start:
                moments.append((day, _day_tick(day)))
            day = (day + timedelta(days=step, hours=2)).replace(hour=0)
    else:
        months = 1 if days <= 730 else 3 if days <= 2920 else 12
        year, month = start.year, start.month
        while True:
            mark = datetime(year, month, 1, tzinfo=zone)
            if mark > stop:
                break
            if mark >= start:
                moments.append((mark, _month_tick(mark, yearly=months == 12)))
            month += months
            while month > 12:
                month -= 12
                year += 1
    ticks: list[Tick] = []
    for when, text in moments:
        x = scale(when)
        if not ticks or x - ticks[-1].x >= max(80.0, _width(ticks[-1].label) + 14):
            ticks.append(Tick(x=x, label=text))
    return ticks


def _day_tick(day: datetime) -> str:
    """A day on the axis: ``2026-02-02``, ``2026年2月2日``."""
    return (
        format_date(day.date(), era=era_wanted())
        if _japanese()
        else day.strftime("%Y-%m-%d")
    )


def _month_tick(mark: datetime, *, yearly: bool) -> str:
    """A month (or a year) on the axis: ``2026-02``, ``2026年2月``."""
    text = mark.strftime("%Y" if yearly else "%Y-%m")
    if not _japanese():
        return text
    if yearly:
        from babel.dates import format_skeleton

        return format_skeleton("y", mark.date(), locale="ja")
    return month(text)


CHAR = 6.6
"""Approximate width of a label character at 11 px, for placing labels."""
WIDE = 11.0
"""A kana or kanji at 11 px: a full em."""


def _width(text: str, char: float = CHAR) -> float:
    """A label's approximate width: wide (CJK) characters take a full em."""
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return (len(text) - wide) * char + wide * WIDE * char / CHAR


def _anchor(x: float, text: str) -> str:
    """Labels that would run off the right edge end at their line instead."""
    return "end" if x + _width(text) + 8 > WIDTH else "start"


def _label_rows(items: list[tuple[float, str]], *, char: float = CHAR) -> list[int]:
    """Stack labels into rows so none overlaps another in its row."""
    ends: list[float] = []
    rows = []
    for x, text in items:
        width = _width(text, char) + 10
        left = x - 4 if _anchor(x, text) == "start" else x - width
        for row, end in enumerate(ends):
            if left > end:
                ends[row] = left + width
                rows.append(row)
                break
        else:
            ends.append(left + width)
            rows.append(len(ends) - 1)
    return rows


def _title(entry: dict[str, Any], zone_name: str) -> str:
    state = (
        f"{_state(entry['from_state'])} → {_state(entry['to_state'])}"
        if entry["from_state"] != entry["to_state"]
        else _("in {state}").format(state=_state(entry["to_state"]))
    )
    lines = [
        _("v{version} {event} by {actor}").format(
            version=entry["version"], event=_event(entry["type"]), actor=entry["actor"]
        ),
        _("occurred {moment} ({zone})").format(
            moment=moment(entry["occurred_at"]), zone=zone_name
        ),
        _("recorded {moment}").format(moment=moment(entry["recorded_at"]))
        + (_(" — BACKDATED") if entry["backdated"] else ""),
        state,
    ]
    details = details_text(entry)
    if details:
        lines.append(details)
    return "\n".join(lines)


def layout(
    entries: Sequence[dict[str, Any]],
    account: dict[str, Any],
    *,
    timezone: str,
    cut: datetime,
) -> dict[str, Any]:
    """Every shape of the timeline, in SVG user units."""
    zone = ZoneInfo(timezone)
    deadlines = _deadlines(account)
    backdated_recorded = [
        t
        for e in entries
        if e["backdated"] and (t := _parse(e["recorded_at"])) is not None
    ]
    scale = _scale(
        entries, cut, [d for _key, _label, d in deadlines] + backdated_recorded
    )

    deadline_items = sorted(
        (
            scale(when),
            _("{deadline} {moment}").format(
                deadline=_(name), moment=moment(when.astimezone(zone).isoformat())
            ),
            key,
            when,
        )
        for key, name, when in deadlines
    )
    cut_label = _("now {moment}").format(
        moment=moment(cut.astimezone(zone).isoformat())
    )
    rows = _label_rows([(x, text) for x, text, _key, _when in deadline_items])
    header = TOP + 16 * (max(rows) + 1 if rows else 0) + 18
    marks_top = header + LANE + 10

    segments: list[Segment] = []
    changes = [
        (_parse(e["occurred_at"]), e["to_state"])
        for e in entries
        if e["from_state"] != e["to_state"]
    ]
    for index, (since, state) in enumerate(changes):
        assert since is not None
        until = changes[index + 1][0] if index + 1 < len(changes) else cut
        assert until is not None
        parts = [(since, until)]
        if scale.broken and since < scale.split < until:
            parts = [(since, scale.split), (scale.split, until)]
        for low, high in parts:
            x = scale(low)
            right = scale(high)
            if low >= scale.split and scale.broken:
                x = max(x, scale.x_beyond)
            width = max(right - x, 2.0)
            name = _words(state, "account state")
            segments.append(
                Segment(
                    state=state,
                    x=x,
                    width=width,
                    colour=STATUS_COLOURS.get(state, "#9e9e9e"),
                    label=name if width > _width(name) + 8 else "",
                    title=f"{name}: {moment(since.astimezone(zone).isoformat())} → "
                    f"{moment(until.astimezone(zone).isoformat())}",
                )
            )

    marks: list[Mark] = []
    # Marks closer than a mark's width stack up (four rows at most), counted
    # per 9-pixel column: linear in the number of events, so a stream of
    # ten thousand events lays out as fast as its table renders.
    columns: dict[int, int] = {}
    for e in entries:
        occurred = _parse(e["occurred_at"])
        assert occurred is not None
        x = scale(occurred)
        level = columns.get(int(x // 9), 0)
        columns[int(x // 9)] = level + 1
        changed = e["from_state"] != e["to_state"]
        recorded = _parse(e["recorded_at"])
        marks.append(
            Mark(
                version=e["version"],
                x=x,
                y=marks_top + 8 + (level % 4) * 11,
                type=e["type"],
                colour=STATUS_COLOURS.get(e["to_state"], ACTIVITY_COLOUR)
                if changed
                else ACTIVITY_COLOUR,
                backdated=bool(e["backdated"]),
                title=_title(e, timezone),
                recorded_x=scale(recorded)
                if e["backdated"] and recorded is not None
                else None,
            )
        )
    levels = min(max(columns.values(), default=1), 4)
    recorded_lane = marks_top + 8 + levels * 11 + 14
    has_backdated = any(m.backdated for m in marks)

    lanes_top = recorded_lane + (LANE if has_backdated else 0)
    lanes = _application_lanes(entries, account, scale, lanes_top, cut, timezone)
    bottom = lanes_top + LANE * len(lanes) + 6
    height = bottom + 34
    return {
        "width": WIDTH,
        "height": height,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "header": header,
        "band_y": header,
        "band_h": LANE - 8,
        "marks_top": marks_top,
        "recorded_y": recorded_lane,
        "has_backdated": has_backdated,
        "bottom": bottom,
        "segments": segments,
        "marks": marks,
        "lanes": lanes,
        "ticks": _ticks(scale, zone),
        "broken": scale.broken,
        "x_split": scale.x_split,
        "x_beyond": scale.x_beyond,
        "cut_x": scale(cut),
        "cut_label": cut_label,
        "deadlines": [
            Deadline(
                key=key,
                label=text,
                # the Japanese label already says when, as people write it
                when="" if _japanese() else when.astimezone(zone).isoformat(),
                x=x,
                colour=DEADLINE_COLOURS[key],
                row=row,
                passed=when <= cut,
                anchor=_anchor(x, text),
            )
            for (x, text, key, when), row in zip(deadline_items, rows, strict=True)
        ],
    }


def _application_lanes(
    entries: Sequence[dict[str, Any]],
    account: dict[str, Any],
    scale: Scale,
    top: float,
    cut: datetime,
    timezone: str,
) -> list[Lane]:
    applications = {a["id"]: a for a in account.get("applications") or []}
    lanes: dict[str, Lane] = {}
    ends: dict[str, datetime] = {}
    for e in entries:
        app = e.get("application_id")
        if not app:
            continue
        occurred = _parse(e["occurred_at"])
        assert occurred is not None
        if app not in lanes:
            job = e.get("job") or applications.get(app, {}).get("job") or ""
            route = e.get("route") or applications.get(app, {}).get("route") or ""
            short = job if len(job) <= 18 else job[:17] + "…"
            route_name = label("application route", route) if route else route
            lanes[app] = Lane(
                label=f"{app} {short}",
                sublabel=route_name if _japanese() else route,
                y=top + LANE * len(lanes),
                bar_x=scale(occurred),
                title=f"{app}: {job}（{route_name}）"
                if _japanese()
                else f"{app}: {job} ({route})",
            )
        lane = lanes[app]
        x = scale(occurred)
        kind = {
            "Applied": "applied",
            "InterviewScheduled": "scheduled",
            "InterviewDeclined": "declined",
            "ApplicationClosed": "closed",
        }.get(e["type"], "other")
        text = ""
        if kind == "closed":
            outcome = e.get("outcome")
            text = (
                _words(str(outcome), "application outcome")
                if outcome
                else _words("closed", "application state")
            )
            ends[app] = occurred
        elif kind == "declined":
            text = _words("declined", "application state") + (
                _(" (last-minute)") if e.get("last_minute") else ""
            )
            ends[app] = occurred
        lane.marks.append(
            {
                "x": x,
                "kind": kind,
                "label": text,
                "title": _title(e, timezone),
                "version": e["version"],
            }
        )
        interview = _parse(e.get("interview_at"))
        if kind == "scheduled" and interview is not None:
            round_text = (
                _("final")
                if e.get("final")
                else _("round {n}").format(n=e.get("round_number"))
            )
            when = moment(interview.astimezone(ZoneInfo(timezone)).isoformat())
            lane.marks.append(
                {
                    "x": scale(interview),
                    "kind": "interview",
                    "label": "",
                    "title": _("{application} interview ({round}) on {moment}").format(
                        application=app, round=round_text, moment=when
                    ),
                    "version": e["version"],
                }
            )
    for app, lane in lanes.items():
        end = ends.get(app)
        lane.open = end is None
        lane.bar_width = max(scale(end or cut) - lane.bar_x, 2.0)
        status = applications.get(app, {}).get("status")
        if status:
            lane.title += f" — {_words(status, 'application state')}"
    return list(lanes.values())


def table_rows(entries: Sequence[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            version=e["version"],
            occurred=moment(e["occurred_at"]),
            recorded=moment(e["recorded_at"]),
            occurred_full=e["occurred_at"],
            recorded_full=e["recorded_at"],
            backdated=bool(e["backdated"]),
            actor=e["actor"],
            type=_event(e["type"]),
            from_state=_state(e["from_state"]),
            to_state=_state(e["to_state"]),
            details=details_text(e),
        )
        for e in entries
    ]


def personal_fields(account: dict[str, Any]) -> list[tuple[str, str]]:
    """Name, its reading, email, phone, birth date; all ``erased`` once the
    account's key is gone (purged), whatever the fields held."""
    erased = account.get("purged_at") is not None or account.get("name") is None
    fields = (
        (_("Name"), "name"),
        (_("Name (kana)"), "name_kana"),
        (_("Email"), "email"),
        (_("Phone"), "phone"),
        (_("Birth date"), "birth_date"),
    )
    return [
        (name, ERASED if erased else _personal(key, account.get(key)))
        for name, key in fields
    ]


def _personal(key: str, value: Any) -> str:
    """A personal field as shown; a birth date in Japanese as people write it."""
    if not value:
        return "—"
    if key == "birth_date" and _japanese():
        from datetime import date

        return format_date(date.fromisoformat(str(value)), era=era_wanted())
    return str(value)


def _when(value: str | None) -> str | None:
    """``--as-of`` / ``--known-at`` as given; in Japanese, a date or time
    written as people write it."""
    if not value or not _japanese():
        return value
    try:
        return format_iso(value, era=era_wanted())
    except ValueError:
        return value


def _coded(kind: str, code: str) -> str:
    """A code as the summary shows it: itself in English, its name in Japanese."""
    return label(kind, code) if _japanese() else code


def build(
    entries: Sequence[dict[str, Any]],
    account: dict[str, Any],
    *,
    timezone: str,
    cut: datetime,
    as_of: str | None = None,
    known_at: str | None = None,
    integrity: str | None = None,
) -> str:
    """The whole page. ``integrity`` is the "stream verified" status line of
    the audit-integrity checks (SPEC §8), shown in the header when given."""
    zone = ZoneInfo(timezone)
    withdrawal = account.get("withdrawal") or {}
    facts = [
        (_("Policy"), policy_name(account["policy"])),
        (_("Status since"), moment(account["status_since"])),
        (_("Registered"), moment(account["registered_at"])),
        (_("Advisor"), account.get("advisor") or "—"),
        (_("Version"), str(account["version"])),
    ]
    if withdrawal.get("reason"):
        reason = str(withdrawal["reason"])
        facts.append((_("Withdrawal reason"), _coded("withdrawal reason", reason)))
    if account.get("purge_reason"):
        reason = str(account["purge_reason"])
        facts.append((_("Purge reason"), _coded("recorded purge reason", reason)))
    return render(
        "timeline.html.j2",
        title=_("Account history — {account}").format(account=account["id"]),
        account=account,
        status_colour=STATUS_COLOURS.get(account["status"], "#9e9e9e"),
        personal=personal_fields(account),
        erased=personal_fields(account)[0][1] == ERASED,
        facts=facts,
        timezone=timezone,
        cut=moment(cut.astimezone(zone).isoformat()),
        as_of=_when(as_of),
        known_at=_when(known_at),
        integrity=integrity,
        chart=layout(entries, account, timezone=timezone, cut=cut),
        rows=table_rows(entries),
        backdated_count=sum(1 for e in entries if e["backdated"]),
        status_colours=STATUS_COLOURS,
        status_names={code: _words(code, "account state") for code in STATUS_COLOURS},
        status_name=_words(account["status"], "account state"),
        deadline_colours=DEADLINE_COLOURS,
        deadline_names={key: _(name) for key, name in DEADLINE_LEGEND.items()},
        backdated_colour=BACKDATED_COLOUR,
        activity_colour=ACTIVITY_COLOUR,
    )
