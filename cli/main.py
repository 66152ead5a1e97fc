"""The ``seekers`` entry point: global options, command groups, exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from adapters.storage import DEFAULT_URL
from cli.errors import (
    ERROR,
    INTERRUPTED_LABEL,
    STORAGE,
    STORAGE_LABEL,
    USAGE,
    click_punctuation,
    report,
    report_domain_error,
)
from cli.help import HelpInLanguage, speak_the_run_s_language
from cli.params import TEXT, VERBATIM, as_typed_options
from domain import i18n
from domain.errors import SeekerLedgerError
from domain.i18n import _
from domain.typed import as_typed, is_one_line


def default_actor() -> str:
    """The operating-system user, read when no ``--actor`` is given."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


COMMANDS: dict[str, tuple[str, str]] = {
    "register": (
        "cli.commands.lifecycle:register",
        "Open a new account; prints its id.",
    ),
    "pause": (
        "cli.commands.lifecycle:pause",
        "Stop the service at the seeker's request (no contact while paused).",
    ),
    "resume": ("cli.commands.lifecycle:resume", "Resume a paused service."),
    "contact": (
        "cli.commands.lifecycle:contact",
        "Record an advisor's attempt to reach the seeker.",
    ),
    "mark-unreachable": (
        "cli.commands.lifecycle:mark_unreachable",
        "The advisor has lost contact.",
    ),
    "restore-contact": (
        "cli.commands.lifecycle:restore_contact",
        "Contact with an unreachable seeker is back.",
    ),
    "lapse": (
        "cli.commands.lifecycle:lapse",
        "End the registration's validity (normally by sweep).",
    ),
    "reactivate": (
        "cli.commands.lifecycle:reactivate",
        "Make a lapsed registration valid again.",
    ),
    "change-advisor": (
        "cli.commands.lifecycle:change_advisor",
        "Assign another advisor (policies with advisors only).",
    ),
    "apply": (
        "cli.commands.applications:apply",
        "Record an application (self-application or agency introduction).",
    ),
    "schedule-interview": (
        "cli.commands.applications:schedule_interview",
        "Schedule (or reschedule) an interview for an application.",
    ),
    "decline-interview": (
        "cli.commands.applications:decline_interview",
        "The seeker declines a scheduled interview.",
    ),
    "close-application": (
        "cli.commands.applications:close_application",
        "Close an application as hired, rejected or withdrawn.",
    ),
    "request-withdrawal": (
        "cli.commands.withdrawals:request_withdrawal",
        "The seeker asks to leave.",
    ),
    "cancel-withdrawal": (
        "cli.commands.withdrawals:cancel_withdrawal",
        "The seeker stays after all.",
    ),
    "withdraw": (
        "cli.commands.withdrawals:withdraw",
        "Complete a requested withdrawal (declines open applications where the "
        "policy says so, erases personal data where required).",
    ),
    "reinstate": (
        "cli.commands.withdrawals:reinstate",
        "Bring a withdrawn account back.",
    ),
    "purge": (
        "cli.commands.withdrawals:purge",
        "Erase a withdrawn or lapsed account's personal data for good.",
    ),
    "show": ("cli.commands.reading:show", "The account, rebuilt from its events."),
    "history": (
        "cli.commands.reading:history",
        "The account's audit trail: every event, who, when, from which state.",
    ),
    "policies": (
        "cli.commands.reading:policies",
        "The presets and their rules, and the lifecycle they apply to.",
    ),
    "list": (
        "cli.commands.reports:list_command",
        "Accounts from the status projection, by registration time.",
    ),
    "report": (
        "cli.commands.reports:report_command",
        "A management report fed by the projections.",
    ),
    "sweep": (
        "cli.commands.operations:sweep",
        "Lapse expired registrations and unreachable seekers; purge past retention.",
    ),
    "simulate": (
        "cli.commands.operations:simulate",
        "Generate a realistic population through the real commands (for demos "
        "and benchmarks): three policies, spread over past years.",
    ),
    "projections": (
        "cli.commands.operations:projections",
        "Projection upkeep: status, catch-up, rebuild, run.",
    ),
    "import": (
        "cli.commands.importing:import_command",
        "Import an agency's existing records (JSON Lines events or CSV registrations).",
    ),
    "find": (
        "cli.commands.privacy:find",
        "Accounts by email or name reading (keyed hashes: neither is stored).",
    ),
    "export-data": (
        "cli.commands.privacy:export_data",
        "Everything held about one seeker, as JSON (subject access request).",
    ),
    "audit": (
        "cli.commands.audit:audit",
        "Checks auditors run over the whole event log.",
    ),
    "roles": (
        "cli.commands.roles:roles",
        "Who may run which command (PostgreSQL): roles, grants and members.",
    ),
    "migrate": (
        "cli.commands.roles:migrate",
        "Create or upgrade the store's schema (the owner; idempotent).",
    ),
}
"""Every command: where it lives and its one-line help. ``seekers --help``
prints these without importing a single command module, so it starts in the
time it takes to import click; a command's module (and the libraries it
needs) is imported only when that command runs. A test checks each line
against the command's own help."""


class LazyGroup(HelpInLanguage, click.Group):
    """A click group that imports a command's module only when it is used;
    its help, and every loaded command's, in the run's language
    (``cli.help``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            from adapters.interrupts import let_go

            let_go(interrupt)  # what it cut ends before the session closes
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return speak_the_run_s_language(as_typed_options(command))

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            help_text = COMMANDS[name][1]
            placeholder = HelpInLanguage(name, help=help_text)  # imports nothing
            rows.append((name, placeholder.get_short_help_str(limit)))
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "token_normalize_func": as_typed,  # choices as people type them (§5)
    },
)
@click.option(
    "--db",
    "db_url",
    type=VERBATIM,
    envvar="SEEKERS_DB",
    default=DEFAULT_URL,
    show_default=True,
    help="sqlite:///path.db or postgresql://user:password@host:port/dbname",
)
@click.option(
    "--actor",
    type=TEXT,
    envvar="SEEKERS_ACTOR",
    default=default_actor,
    help="Who is acting (default: the operating-system user).",
)
@click.option(
    "--read-db",
    "read_url",
    type=VERBATIM,
    envvar="SEEKERS_READ_DB",
    metavar="URL",
    help="A PostgreSQL hot standby for the read commands (show, history, list, "
    "report, find, export-data, audit verify/export/prove); the rest use --db.",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="With --read-db: first wait until the standby has caught up with the "
    "primary (--db) as it is now.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--lang",
    "lang",
    type=click.Choice(i18n.LANGUAGES),
    # Read by main() before click parses (_wanted_language), so that click's
    # own messages are in the language too; click keeps it here to validate
    # it, to accept it and to document it.
    help="The language of the output: ja or en (default: SEEKERS_LANG, then "
    "the locale).",
)
@click.option(
    "--era",
    is_flag=True,
    help="Japanese output: write dates in the Japanese era (令和8年2月2日 14:05). "
    "English output keeps ISO dates (2026-02-02 14:05) either way.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    db_url: str,
    actor: str,
    read_url: str | None,
    fresh: bool,
    as_json: bool,
    lang: str | None,
    era: bool,
) -> None:
    """Seeker Ledger: job seekers' accounts as an event-sourced ledger."""
    from cli.session import Session
    from domain.dates_for_people import write_era

    write_era(era)  # every run chooses afresh (tests run many in one process)
    actor = actor.strip() or default_actor()
    if not is_one_line(actor):
        raise click.BadParameter(
            _("who acted is one line, without tabs or line breaks"),
            param_hint="'--actor' / SEEKERS_ACTOR",
        )
    session = Session(
        db_url=db_url,
        actor=actor,
        json=as_json,
        read_url=read_url.strip() or None if read_url else None,
        fresh=fresh,
    )
    ctx.obj = session
    ctx.call_on_close(session.close)


speak_the_run_s_language(cli)  # the global options' help, looked up as printed


_GLOBAL_OPTIONS_WITH_VALUES = ("--db", "--actor", "--read-db", "--lang")


def _wants_json(argv: Sequence[str]) -> bool:
    """``--json`` among the global options, known even when parsing fails."""
    skip = False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--json":
            return True
        elif argument in _GLOBAL_OPTIONS_WITH_VALUES:
            skip = True
        elif not argument.startswith("-"):
            return False
    return False


def _wanted_language(argv: Sequence[str]) -> str | None:
    """The value of ``--lang`` (or ``--lang=…``) among the global options,
    known before click parses so that click's own messages, its usage errors
    included, are already in that language (the last one given, as click
    reads it)."""
    wanted: str | None = None
    skip = False
    for index, argument in enumerate(argv):
        if skip:
            skip = False
        elif argument == "--lang":
            wanted = argv[index + 1] if index + 1 < len(argv) else None
            skip = True
        elif argument.startswith("--lang="):
            wanted = argument.partition("=")[2]
        elif argument in _GLOBAL_OPTIONS_WITH_VALUES:
            skip = True
        elif not argument.startswith("-"):
            break
    return wanted


def activate_language(argv: Sequence[str]) -> str:
    """Choose this run's language afresh and speak it: ``--lang`` as
    written (NFKC, any case), else the environment, else
    English. A value no language has is left for click to refuse, in
    English; ``SEEKERS_LANG`` or a locale naming another language gives
    English."""
    given = _wanted_language(argv)
    chosen = i18n.choose(as_typed(given) if given is not None else None)
    if chosen not in i18n.LANGUAGES:
        chosen = i18n.DEFAULT
    i18n.activate(chosen)
    return chosen


INTERRUPTED = 130
_ENVIRONMENT = ("SEEKERS_DB", "SEEKERS_ACTOR", "SEEKERS_MASTER_KEY", "SEEKERS_READ_DB")


def unreadable_input(arguments: Sequence[str]) -> str | None:
    """The first argument or setting no command may take: bytes that are not
    UTF-8 (Python hands them over as lone surrogates) or control characters
    (anything below a space but tab and newline, and DEL). One check here
    covers every text option, so no command meets them half-way through."""
    labelled = [
        (_("argument {n}").format(n=n), value) for n, value in enumerate(arguments, 1)
    ]
    labelled += [
        (name, os.environ[name]) for name in _ENVIRONMENT if name in os.environ
    ]
    for label, value in labelled:
        for character in value:
            if "\udc80" <= character <= "\udcff":
                return _("{source} is not valid UTF-8 text").format(source=label)
            if (ord(character) < 32 and character not in "\t\n") or character == "\x7f":
                return _("{source} holds a control character ({code})").format(
                    source=label, code=f"{ord(character):#04x}"
                )
    return None


def storage_failure(error: BaseException) -> str | None:
    """A failure of the store or the file system, from any connection or
    file: the one boundary that turns all of them into exit 6."""
    from eventsourcing.persistence import PersistenceError

    drivers: list[type[BaseException]] = [PersistenceError, OSError]
    for module in ("sqlite3", "psycopg"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            drivers.append(loaded.Error)
    if isinstance(error, tuple(drivers)):
        from adapters.driver_errors import describe

        return describe(error)
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; expected failures print one line and exit with their code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    activate_language(arguments)
    as_json = _wants_json(arguments)
    problem = unreadable_input(arguments)
    if problem is not None:
        report(problem, USAGE, ERROR, as_json=as_json)
        sys.exit(USAGE)
    try:
        code = cli.main(args=arguments, prog_name="seekers", standalone_mode=False)
    except SeekerLedgerError as error:
        sys.exit(report_domain_error(error, as_json=as_json))
    except click.exceptions.NoArgsIsHelpError as error:
        # A group without its subcommand: its help, as click shows it (the
        # JSON reader gets click's one-line reason instead).
        if as_json or error.ctx is None:
            report(_("Missing command."), USAGE, ERROR, as_json=as_json)
        else:
            click.echo(error.ctx.get_help(), err=True)
        sys.exit(USAGE)
    except click.UsageError as error:
        report(click_punctuation(error.format_message()), USAGE, ERROR, as_json=as_json)
        sys.exit(USAGE)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except (click.Abort, KeyboardInterrupt):
        report(
            _(
                "what was committed stays and nothing is half-written (every batch "
                "is one transaction); run the command again to resume"
            ),
            INTERRUPTED,
            INTERRUPTED_LABEL,
            as_json=as_json,
        )
        sys.exit(INTERRUPTED)
    except click.ClickException as error:
        label = INTERRUPTED_LABEL if error.exit_code == INTERRUPTED else ERROR
        report(error.format_message(), error.exit_code, label, as_json=as_json)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        _quiet_stdout()  # the reader went away (``| head``): nothing to say
        sys.exit(0)
    except Exception as error:
        detail = storage_failure(error)
        if detail is None:
            raise  # a bug: let it show where it is
        report(detail, STORAGE, STORAGE_LABEL, as_json=as_json)
        sys.exit(STORAGE)
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a closed
    pipe does not print a second error on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
