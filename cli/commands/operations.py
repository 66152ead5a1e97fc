"""Back-office operations: the sweep and the projections' upkeep."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from unicodedata import east_asian_width
from zoneinfo import ZoneInfo

import click

from adapters.interrupts import let_go
from cli.commands.common import Seconds, session
from cli.output import emit_json, table
from cli.progress import ProgressLine
from domain.dates_for_people import era_wanted, format_instant
from domain.errors import BadValue
from domain.glossary import label
from domain.i18n import _, language, pgettext
from domain.timerules import FUTURE_TOLERANCE, parse_instant, utcnow
from projections.runner import BATCH_SIZE, PROJECTIONS, ProjectionStatus
from services.simulation import simulate as simulate_population
from services.sweep import finish_erasures
from services.sweep import sweep as run_sweep

SWEEP_ZONE = ZoneInfo("Asia/Tokyo")
"""A date alone given to ``sweep --at`` means 00:00 here (the presets' zone)."""
MAX_SIMULATED = 2_000_000
"""A simulation larger than any agency (and than a day's patience)."""
POLL_SECONDS = (0.05, 3600.0)
"""``projections run --poll``: from a busy loop's sane floor to an hour."""


@click.command()
@click.option("--at", "at", metavar="T", help="Sweep as of T (default: now).")
@click.option("--dry-run", is_flag=True, help="Show what is due; record nothing.")
def sweep(at: str | None, dry_run: bool) -> None:
    """Lapse expired registrations and unreachable seekers; purge past retention."""
    run = session()
    now = utcnow()
    moment = parse_instant(at, SWEEP_ZONE) if at else now
    if moment > now + FUTURE_TOLERANCE and not dry_run:
        raise BadValue(
            _("--at {at} is in the future; only a --dry-run may look ahead").format(
                at=_shown(moment, moment.isoformat())
            )
        )
    run.catch_up()
    projections = run.projections()
    with resumable(
        lambda: _(
            "the accounts swept so far are recorded, each in its own "
            "transaction; 'seekers sweep' again finishes the rest"
        )
    ):
        actions = run.call(
            run_sweep,
            run.ledger(),
            projections.views["accounts"],
            moment,
            dry_run=dry_run,
        )
    erasures = run.call(
        finish_erasures, run.ledger(), projections.views["accounts"], dry_run=dry_run
    )
    if not dry_run:
        run.catch_up()
    if run.json:
        emit_json(
            {
                "at": moment.astimezone(SWEEP_ZONE).isoformat(),
                "dry_run": dry_run,
                "actions": [
                    {
                        "id": a.id,
                        "command": a.command,
                        "reason": a.reason,
                        "effective_at": a.effective_at.astimezone(
                            SWEEP_ZONE
                        ).isoformat(),
                    }
                    for a in actions
                ],
                "erasures_finished": erasures,
            }
        )
        return
    heading = (
        _("sweep at {at}: would do {count} action(s)")
        if dry_run
        else _("sweep at {at}: did {count} action(s)")
    )
    at_tokyo = moment.astimezone(SWEEP_ZONE).isoformat()
    click.echo(heading.format(at=_shown(moment, at_tokyo), count=len(actions)))
    if actions:
        rows = [
            [
                a.id,
                label("command", a.command),
                _sweep_reason(a.command, a.reason),
                _effective(a.effective_at),
            ]
            for a in actions
        ]
        header = [
            pgettext("sweep column", "id"),
            pgettext("sweep column", "command"),
            pgettext("sweep column", "reason"),
            pgettext("sweep column", "effective"),
        ]
        click.echo(table(rows, header))
    for seeker in erasures:
        done = (
            _("would finish the erasure of purged seeker {id} (its key survived)")
            if dry_run
            else _("finished the erasure of purged seeker {id} (its key survived)")
        )
        click.echo(done.format(id=seeker))


def _shown(moment: datetime, english: str) -> str:
    """The sweep's moment: ``english`` (ISO 8601, as the English output has
    always said it), or the Japanese date and time in Tokyo."""
    if language() != "ja":
        return english
    return format_instant(moment, SWEEP_ZONE, era=era_wanted())


def _effective(moment: datetime) -> str:
    """When a sweep action took effect, to the minute, on Tokyo's clock."""
    return format_instant(moment, SWEEP_ZONE, era=era_wanted())


def _sweep_reason(command: str, reason: str) -> str:
    """Why the sweep acts, as the glossary names it: a purge reason
    (``retention_expired``) or a lapse reason (``registration_expired``,
    ``unreachable_grace``)."""
    return label("purge reason" if command == "purge" else "lapse reason", reason)


class Interrupted(click.ClickException):
    """Ctrl-C during long work: exit 130, saying what is kept and what resumes."""

    exit_code = 130


@contextmanager
def resumable(message: Callable[[], str]) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt as interrupt:
        let_go(interrupt)  # before the session closes its pool
        raise Interrupted(message()) from None


@click.command()
@click.option(
    "--seekers",
    "count",
    type=click.IntRange(min=1, max=MAX_SIMULATED),
    required=True,
)
@click.option(
    "--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True
)
@click.option(
    "--years", type=click.IntRange(min=1, max=30), default=6, show_default=True
)
def simulate(count: int, seed: int, years: int) -> None:
    """Generate a realistic population through the real commands (for demos
    and benchmarks): three policies, spread over past years."""
    run = session()
    ledger = run.ledger(create=True)
    started = time.monotonic()
    saved = ProgressLine("simulate", count, enabled=not run.json)
    with (
        resumable(
            lambda: _(
                "{done} of {count} seekers were saved, in whole batches "
                "(nothing half-written); 'seekers projections catch-up' projects "
                "them, and a new run needs another --seed than {seed}"
            ).format(done=saved.done, count=count, seed=seed)
        ),
        saved as bar,
    ):
        report = run.call(
            simulate_population,
            ledger,
            seekers=count,
            seed=seed,
            now=utcnow(),
            years=years,
            progress=bar,
        )
    views = run.projections()
    with ProgressLine(
        "catch-up", report.events * len(views.names), enabled=not run.json
    ) as bar:
        run.call(views.catch_up, progress=bar)
    elapsed = time.monotonic() - started
    if run.json:
        emit_json(
            {
                "seekers": report.seekers,
                "events": report.events,
                "refused": report.refused,
                "statuses": report.statuses,
                "seconds": round(elapsed, 3),
            }
        )
        return
    click.echo(
        _(
            "simulated {seekers} seekers, {events} events ({refused} commands "
            "refused by the rules) in {seconds} s"
        ).format(
            seekers=report.seekers,
            events=report.events,
            refused=report.refused,
            seconds=f"{elapsed:.1f}",
        )
    )
    for status, number in sorted(report.statuses.items()):
        name = label("account state", status)
        click.echo(f"  {name}{' ' * (21 - _width(name))} {number}")


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide characters two."""
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


@click.group()
def projections() -> None:
    """Projection upkeep: status, catch-up, rebuild, run."""


name_argument = click.argument(
    "name", required=False, type=click.Choice(list(PROJECTIONS))
)


@projections.command()
@name_argument
def status(name: str | None) -> None:
    """Each projection's position in the log, its lag, and how far a
    rebuild has got."""
    run = session()
    views = run.projections()
    statuses: list[ProjectionStatus] = [
        run.call(views.status, each, rebuild=True) for each in views.select(name)
    ]
    if run.json:
        emit_json(
            {
                "projections": [
                    {
                        "name": s.name,
                        "position": s.position,
                        "head": s.head,
                        "lag": s.lag,
                        "rebuild": _rebuild_json(s),
                    }
                    for s in statuses
                ]
            }
        )
        return
    rows = [[s.name, s.position, s.head, s.lag, _rebuild_cell(s)] for s in statuses]
    header = [
        pgettext("projection column", "projection"),
        pgettext("projection column", "position"),
        pgettext("projection column", "head"),
        pgettext("projection column", "lag"),
        pgettext("projection column", "rebuild"),
    ]
    click.echo(table(rows, header))
    if any(s.rebuild is not None for s in statuses):
        click.echo(
            _(
                "a rebuild is filling shadow tables (or its process was killed: "
                "the next rebuild starts over); the live tables serve meanwhile"
            )
        )


def _rebuild_json(state: ProjectionStatus) -> dict[str, object] | None:
    if state.rebuild is None:
        return None
    return {
        "position": state.rebuild,
        "head": state.head,
        "percent": state.rebuilt_percent,
    }


def _rebuild_cell(state: ProjectionStatus) -> str:
    if state.rebuild is None:
        return "-"
    return f"{state.rebuild} ({state.rebuilt_percent:g}%)"


batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Events per transaction.",
)


def _with_progress(
    action: str, name: str | None, *, rebuild: bool, batch_size: int
) -> None:
    run = session()
    views = run.projections()
    names = views.select(name)
    states = [run.call(views.status, each) for each in names]
    total = sum(state.head if rebuild else state.lag for state in states)
    counts: dict[str, int] = {}
    started = time.monotonic()
    method = views.rebuild if rebuild else views.catch_up
    stopped = (
        _(
            "rebuild stopped after {count} event(s); the live projections are "
            "as they were and serve on; 'seekers projections rebuild' starts over"
        )
        if rebuild
        else _(
            "catch-up stopped after {count} event(s); every batch committed "
            "with its position, so 'seekers projections catch-up' goes on from "
            "there"
        )
    )
    with (
        ProgressLine(
            f"{action} {', '.join(names)}", total, enabled=not run.json
        ) as bar,
        resumable(lambda: stopped.format(count=bar.done)),
    ):
        run.call(method, name, batch_size=batch_size, progress=bar, counts=counts)
    elapsed = time.monotonic() - started
    if run.json:
        emit_json({"action": action, "processed": counts, "seconds": round(elapsed, 3)})
        return
    done = (
        _("rebuild {name}: {count} event(s)")
        if rebuild
        else _("catch-up {name}: {count} event(s)")
    )
    for each, count in counts.items():
        click.echo(done.format(name=each, count=count))
    click.echo(_("in {seconds} s").format(seconds=f"{elapsed:.2f}"))


@projections.command(name="catch-up")
@name_argument
@batch_size_option
def catch_up(name: str | None, batch_size: int) -> None:
    """Process the events the projections have not seen yet."""
    _with_progress("catch-up", name, rebuild=False, batch_size=batch_size)


@projections.command()
@name_argument
@batch_size_option
def rebuild(name: str | None, batch_size: int) -> None:
    """Process the whole log again into shadow tables, in batches, and swap
    them in once caught up: reads and commands go on meanwhile."""
    _with_progress("rebuild", name, rebuild=True, batch_size=batch_size)


@projections.command(name="run")
@click.option(
    "--poll",
    type=Seconds(POLL_SECONDS[0], POLL_SECONDS[1]),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the log (SQLite, or behind a pooler).",
)
def run_live(poll: float) -> None:
    """Follow the log live until Ctrl-C or SIGTERM (PostgreSQL: subscription)."""
    run = session()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        if run.config.kind == "postgresql":
            run.ledger()  # makes sure the schema exists before the runners start
        if run.config.kind == "postgresql" and not run.pooled:
            environment = {**run.config.environment, "CREATE_TABLE": "no"}
            _follow_postgres(environment, stop)
        else:
            views = run.projections()
            following = (
                _(
                    "following the log (polling: LISTEN needs a session, and a "
                    "transaction pooler keeps none; point --db at the server "
                    "itself to follow by subscription); Ctrl-C to stop"
                )
                if run.pooled
                else _("following the log (SQLite: polling); Ctrl-C to stop")
            )
            click.echo(following, err=True)
            while not stop.is_set():
                run.call(views.catch_up)
                stop.wait(poll)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(_("stopped"), err=True)


def _follow_postgres(environment: dict[str, str], stop: threading.Event) -> None:
    """One library ``ProjectionRunner`` per projection, on its subscription."""
    from eventsourcing.projection import ProjectionRunner

    from projections.runner import postgres_view_class
    from services.ledger import SeekerLedger

    runners = [
        ProjectionRunner(
            application_class=SeekerLedger,
            projection_class=projection_class,
            view_class=postgres_view_class(name),
            env=environment,
        )
        for name, (projection_class, _, _) in PROJECTIONS.items()
    ]
    click.echo(
        _("following the log (PostgreSQL subscription); Ctrl-C to stop"), err=True
    )
    try:
        while not stop.is_set():
            for runner in runners:
                if runner.is_interrupted.is_set():
                    runner.run_forever(timeout=0)  # re-raises the runner's error
            stop.wait(0.5)
    finally:
        for runner in runners:
            runner.stop()


COMMANDS = [sweep, simulate, projections]
