"""The ``seekers`` entry point: global options, command groups, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from cli.commands import (
    applications,
    audit,
    lifecycle,
    operations,
    privacy,
    reading,
    reports,
    withdrawals,
)
from cli.errors import USAGE, report, report_domain_error
from cli.session import Session, default_actor
from domain.errors import SeekerLedgerError
from domain.storage import DEFAULT_URL


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="SEEKERS_DB",
    default=DEFAULT_URL,
    show_default=True,
    help="sqlite:///path.db or postgresql://user:password@host:port/dbname",
)
@click.option(
    "--actor",
    envvar="SEEKERS_ACTOR",
    default=default_actor,
    help="Who is acting (default: the operating-system user).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def cli(ctx: click.Context, db_url: str, actor: str, as_json: bool) -> None:
    """Seeker Ledger: job seekers' accounts as an event-sourced ledger."""
    session = Session(
        db_url=db_url, actor=actor.strip() or default_actor(), json=as_json
    )
    ctx.obj = session
    ctx.call_on_close(session.close)


for module in (
    lifecycle,
    applications,
    withdrawals,
    reading,
    reports,
    operations,
    privacy,
    audit,
):
    for command in module.COMMANDS:
        cli.add_command(command)


_GLOBAL_OPTIONS_WITH_VALUES = ("--db", "--actor")


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


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; expected failures print one line and exit with their code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(arguments)
    try:
        code = cli.main(args=arguments, prog_name="seekers", standalone_mode=False)
    except SeekerLedgerError as error:
        sys.exit(report_domain_error(error, as_json=as_json))
    except click.UsageError as error:
        report(error.format_message(), USAGE, "error", as_json=as_json)
        sys.exit(USAGE)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        report(error.format_message(), error.exit_code, "error", as_json=as_json)
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
