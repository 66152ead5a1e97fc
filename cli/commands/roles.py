"""``seekers roles`` and ``seekers migrate``: who may do what, and the schema.

``roles install`` (the store's owner) creates the group roles and their
grants; ``roles grant|revoke ROLE LOGIN`` (an admin) manages membership;
``roles`` prints the matrix and the members. The grants are PostgreSQL's
(``adapters.roles``), so they hold for ``psql`` too. ``migrate`` (the
owner) creates or upgrades the schema explicitly, so no other login ever
runs DDL.
"""

from __future__ import annotations

from typing import Any

import click

from cli.commands.common import session
from cli.output import emit_json, table
from domain.errors import BadValue, SeekerNotFound
from domain.i18n import N_, _, pgettext

_ROLES = ("seekers_operator", "seekers_privacy", "seekers_auditor",
          "seekers_reporter", "seekers_admin")  # fmt: skip
"""``adapters.roles.GROUPS``, repeated so ``--help`` imports no driver (a test
keeps them equal)."""


def _postgres_connection() -> Any:
    """The ledger opened (which checks the login's roles), then a plain
    connection of the same login for the role statements."""
    run = session()
    if run.config.kind != "postgresql":
        raise BadValue(
            _("roles are PostgreSQL's: a SQLite store is one file for one user")
        )
    run.ledger()
    from adapters.postgres import connect

    return connect(run.config)


@click.group(invoke_without_command=True)
@click.pass_context
def roles(ctx: click.Context) -> None:
    """Who may run which command (PostgreSQL): roles, grants and members."""
    if ctx.invoked_subcommand is not None:
        return
    from adapters.roles import GROUPS, MARKER, MAY, MEMBERS_QUERY

    run = session()
    if run.config.kind != "postgresql":
        message = N_("SQLite store: one file for one user, no roles")
        if run.json:
            emit_json({"installed": False, "note": message})
        else:
            click.echo(_(message))
        return
    with _postgres_connection() as connection:
        installed = connection.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (MARKER,)
        ).fetchone()[0]
        members: dict[str, list[str]] = {group: [] for group in GROUPS}
        for group, login in connection.execute(MEMBERS_QUERY).fetchall():
            members[group].append(login)
    if run.json:
        emit_json(
            {
                "installed": bool(installed),
                "commands": {command: list(may) for command, may in MAY.items()},
                "members": members,
            }
        )
        return
    if not installed:
        click.echo(
            _(
                "single-login mode: no roles installed on this store; its owner "
                "runs every command ('seekers roles install' as the owner sets "
                "them up)"
            )
        )
    rows = [
        [command, *("x" if group in may else "" for group in GROUPS)]
        for command, may in MAY.items()
    ]
    header = [
        pgettext("roles column", "command"),
        *(g.removeprefix("seekers_") for g in GROUPS),  # role names, as in SQL
    ]
    click.echo(table(rows, header))
    click.echo(_("(the store's owner may run every command)"))
    for group in GROUPS:
        click.echo(f"{group}: {', '.join(members[group]) or '-'}")


@roles.command()
def install() -> None:
    """Create the group roles and their grants (the store's owner; idempotent)."""
    from adapters.roles import install_statements

    with _postgres_connection() as connection, connection.transaction():
        for statement in install_statements():
            connection.execute(statement)
    _done(
        N_(
            "roles installed: seekers_operator, seekers_privacy, seekers_auditor, "
            "seekers_reporter, seekers_admin; the log is append-only for all"
        )
    )


def _membership(role: str, login: str, member: bool) -> None:
    import psycopg

    with _postgres_connection() as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)
        ).fetchone()
        if not exists:
            raise SeekerNotFound(
                _("login {login} (no such database role)").format(login=repr(login))
            )
        try:
            connection.execute(
                "SELECT seekers_set_membership(%s, %s, %s)", (role, login, member)
            )
        except psycopg.errors.UndefinedFunction:
            raise BadValue(
                _("roles are not installed on this store ('seekers roles install')")
            ) from None
    done = (
        N_("granted {role} to {login}") if member else N_("revoked {role} from {login}")
    )
    _done(done, role=role, login=login)


@roles.command()
@click.argument("role", type=click.Choice(_ROLES))
@click.argument("login")
def grant(role: str, login: str) -> None:
    """Make LOGIN a member of ROLE (an admin)."""
    _membership(role, login, True)


@roles.command()
@click.argument("role", type=click.Choice(_ROLES))
@click.argument("login")
def revoke(role: str, login: str) -> None:
    """Take LOGIN out of ROLE (an admin)."""
    _membership(role, login, False)


def _done(message: str, **fields: str) -> None:
    """Say what was done: in the chosen language to people, in English (the
    message as marked) to ``--json``, whose output never changes with it."""
    if session().json:
        emit_json({"done": message.format(**fields)})
    else:
        click.echo(_(message).format(**fields))


@click.command()
def migrate() -> None:
    """Create or upgrade the store's schema (the owner; idempotent)."""
    run = session()
    run.migrating = True
    run.ledger(create=True)
    _done(N_("schema of {url} is ready"), url=run.config.safe_url)


COMMANDS = [roles, migrate]
