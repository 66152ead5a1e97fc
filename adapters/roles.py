"""Who may do what on a PostgreSQL store: group roles, grants, and the checks.

An agency's logins are members of five group roles (SPEC §9). The grants are
PostgreSQL's own, so they hold for anyone who connects with ``psql`` as well
as for the CLI; the CLI asks first (``Access.may``) so that a forbidden
command is one clear line (exit 7) with nothing written.

Set up the way PostgreSQL's documentation recommends: ``REVOKE ALL`` from
``PUBLIC`` first, group roles that hold the grants, login roles that are
members, and narrow ``SECURITY DEFINER`` functions (with a fixed
``search_path``) where a role needs one write it may not do directly:
erasing the keys of accounts the log has already ended, reading the log's
head without reading the log, and managing memberships. The log's tables
(events, chain, tree, kept checkpoints) are append-only for every role, the
owner's included: triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``
(the library's ``LOCK TABLE ... IN EXCLUSIVE MODE`` needs ``UPDATE``
granted on the events table; the trigger is what stops its use).

A store with no roles installed works as before for its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from adapters.storage import LEDGER_NAME
from domain.i18n import N_, _
from integrity.store import APPEND_FUNCTION

OPERATOR = "seekers_operator"
PRIVACY = "seekers_privacy"
AUDITOR = "seekers_auditor"
REPORTER = "seekers_reporter"
ADMIN = "seekers_admin"
GROUPS = (OPERATOR, PRIVACY, AUDITOR, REPORTER, ADMIN)
OWNER = N_("the database owner")

LIFECYCLE = (
    "register", "apply", "schedule-interview", "decline-interview",
    "close-application", "pause", "resume", "contact", "mark-unreachable",
    "restore-contact", "lapse", "reactivate", "change-advisor",
    "request-withdrawal", "cancel-withdrawal", "withdraw", "reinstate",
)  # fmt: skip

MAY: dict[str, tuple[str, ...]] = {
    **{command: (OPERATOR,) for command in LIFECYCLE},
    "show": (OPERATOR, PRIVACY, AUDITOR),
    "history": (OPERATOR, PRIVACY, AUDITOR),
    "find": (OPERATOR, PRIVACY),
    "list": (OPERATOR, AUDITOR, REPORTER),
    "report": (OPERATOR, AUDITOR, REPORTER),
    "purge": (PRIVACY,),
    "sweep": (PRIVACY,),
    "export-data": (PRIVACY,),
    "audit checkpoint": (AUDITOR,),
    "audit verify": (AUDITOR,),
    "audit export": (AUDITOR,),
    "audit prove": (AUDITOR,),
    "audit replay": (AUDITOR,),
    "projections status": (REPORTER, ADMIN),
    "projections catch-up": (ADMIN,),
    "projections rebuild": (ADMIN,),
    "projections run": (ADMIN,),
    "import": (ADMIN,),
    "simulate": (ADMIN,),
    "roles": (ADMIN,),
    "roles grant": (ADMIN,),
    "roles revoke": (ADMIN,),
    "roles install": (),
    "migrate": (),
}
"""Every command that opens the store, and the group roles that may run it.
The database owner may run every one; ``()`` means the owner only."""

EVENTS = f"{LEDGER_NAME}_events"
SNAPSHOTS = f"{LEDGER_NAME}_snapshots"
LOG = (EVENTS, "integrity_events", "integrity_nodes", "integrity_checkpoints")
"""Append-only for everyone: the triggers refuse any change to a row."""
PROJECTIONS = (
    "accounts", "accounts_tracking", "audit_trail", "audit_trail_tracking",
    "report_status", "report_withdrawals", "report_reinstatements",
    "report_declines",
)  # fmt: skip
REBUILD_FUNCTIONS = (
    "seekers_rebuild_begin(text)",
    "seekers_rebuild_analyze(text)",
    "seekers_rebuild_swap(text, text)",
    "seekers_rebuild_abandon(text)",
)
"""The owner's functions a projections rebuild runs its DDL through (made
with the schema by ``projections.postgres_rebuild.rebuild_functions``): the
swapped-in tables keep the live ones' owner and grants."""
KEYS = ("seeker_keys", "email_index", "reading_index")
MARKER = "seekers_roles"
"""The table whose presence says this store's roles are installed."""


@dataclass(frozen=True)
class Access:
    """What the login running this command is, on this store."""

    login: str
    installed: bool
    owner: bool
    groups: frozenset[str]
    reads_keys: bool

    def may(self, command: str) -> bool:
        if not self.installed or self.owner:
            return True
        return bool(self.groups.intersection(MAY.get(command, ())))

    def needs(self, command: str) -> str:
        """The roles that would allow ``command``, for the refusal."""
        roles = MAY.get(command, ())
        named = [_("role {role}").format(role=role) for role in roles]
        return _(" or ").join(named) or _(OWNER)


ACCESS_QUERY = sql.SQL(
    """SELECT session_user AS login,
        to_regclass({marker}) IS NOT NULL AS installed,
        COALESCE((SELECT pg_has_role(session_user, c.relowner, 'USAGE')
                  FROM pg_class c WHERE c.oid = to_regclass({events})), true)
            AS owner,
        ARRAY(SELECT r.rolname::text FROM pg_roles r
              WHERE r.rolname = ANY({groups})
                AND pg_has_role(session_user, r.oid, 'USAGE')) AS groups,
        to_regclass('seeker_keys') IS NULL
            OR has_table_privilege(session_user, 'seeker_keys', 'SELECT')
            AS reads_keys"""
).format(
    marker=sql.Literal(MARKER),
    events=sql.Literal(EVENTS),
    groups=sql.Literal(list(GROUPS)),
)


def access_of(row: Any) -> Access:
    login, installed, owner, groups, reads_keys = row
    return Access(
        str(login), bool(installed), bool(owner), frozenset(groups), bool(reads_keys)
    )


def _names(tables: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(table) for table in tables)


def _groups(*roles: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(role) for role in roles)


def functions(final_topics: list[str]) -> list[sql.Composed]:
    """The narrow writes and reads a role may need beyond its grants; part of
    the schema (every store has them, roles installed or not).

    ``seekers_erase_keys`` deletes only the keys and index rows of accounts
    whose stream already holds an event that ends the account (``Purged``,
    in the same transaction or earlier), so a login that may record a purge
    may destroy that key and no other. ``seekers_log_head`` tells how far
    the log goes without letting the reader read it.
    """
    return [
        sql.SQL(
            """CREATE OR REPLACE FUNCTION seekers_erase_keys(ids text[])
            RETURNS void LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = public, pg_temp AS $$
            DECLARE ended text[];
            BEGIN
                SELECT array_agg(DISTINCT e.originator_id::text) INTO ended
                FROM {events} e
                WHERE e.originator_id = ANY(ids::uuid[]) AND e.topic = ANY({topics});
                DELETE FROM seeker_keys WHERE seeker_id = ANY(ended);
                DELETE FROM email_index WHERE seeker_id = ANY(ended);
                DELETE FROM reading_index WHERE seeker_id = ANY(ended);
            END $$"""
        ).format(events=sql.Identifier(EVENTS), topics=sql.Literal(final_topics)),
        sql.SQL(
            """CREATE OR REPLACE FUNCTION seekers_log_head() RETURNS bigint
            LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = public, pg_temp AS
            $$ SELECT max(notification_id) FROM {events} $$"""
        ).format(events=sql.Identifier(EVENTS)),
    ]


def install_statements() -> list[sql.Composable]:
    """Idempotent: group roles, the grants from scratch, the append-only
    triggers, the membership function, and the marker."""
    writers = _groups(OPERATOR, PRIVACY, ADMIN)
    everyone = _groups(*GROUPS)
    statements: list[sql.Composable] = [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) "
            "THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        ).format(name=sql.Literal(role), role=sql.Identifier(role))
        for role in GROUPS
    ]
    statements += [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} (installed_at TEXT NOT NULL)").format(
            sql.Identifier(MARKER)
        ),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {}").format(
            everyone
        ),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {}").format(
            everyone
        ),
        sql.SQL("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, {}").format(
            everyone
        ),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(everyone),
        sql.SQL("GRANT SELECT ON {}, seekers_schema, integrity_state TO {}").format(
            sql.Identifier(MARKER), everyone
        ),
        sql.SQL("GRANT EXECUTE ON FUNCTION seekers_log_head() TO {}").format(everyone),
        # Recording commands: append to the log and the chain, keep the
        # projections, seal with keys they may create but not delete.
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(
            sql.Identifier(EVENTS), writers
        ),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(_names(LOG[1:3]), writers),
        sql.SQL("GRANT SELECT ON integrity_checkpoints TO {}").format(writers),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON integrity_state TO {}").format(
            writers
        ),
        sql.SQL("GRANT SELECT, INSERT ON {}, command_requests TO {}").format(
            sql.Identifier(SNAPSHOTS), writers
        ),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
            _names(PROJECTIONS), writers
        ),
        sql.SQL("GRANT SELECT, INSERT ON seeker_keys TO {}").format(writers),
        sql.SQL(
            "GRANT SELECT, INSERT, DELETE ON email_index, reading_index TO {}"
        ).format(writers),
        sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(writers),
        sql.SQL("GRANT EXECUTE ON FUNCTION seekers_erase_keys(text[]) TO {}").format(
            writers
        ),
        # The chain and tree of an insert, computed by the server (its
        # caller's rights: it writes only what the writers may write).
        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
            sql.SQL(APPEND_FUNCTION), writers
        ),
        sql.SQL("GRANT TRUNCATE ON {} TO {}").format(
            _names(PROJECTIONS), sql.Identifier(ADMIN)
        ),
        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
            sql.SQL(", ").join(map(sql.SQL, REBUILD_FUNCTIONS)), sql.Identifier(ADMIN)
        ),
        # The auditor reads the log, never a key: which accounts still have
        # one (the erasure check), not the key itself.
        sql.SQL("GRANT SELECT ON {}, {}, {} TO {}").format(
            _names(LOG),
            sql.Identifier(SNAPSHOTS),
            _names(PROJECTIONS),
            sql.Identifier(AUDITOR),
        ),
        sql.SQL(
            "GRANT SELECT (seeker_id) ON seeker_keys, email_index, reading_index TO {}"
        ).format(sql.Identifier(AUDITOR)),
        sql.SQL("GRANT INSERT ON integrity_checkpoints TO {}").format(
            sql.Identifier(AUDITOR)
        ),
        sql.SQL("GRANT UPDATE ON {} TO {}").format(  # LOCK TABLE ... EXCLUSIVE
            sql.Identifier(EVENTS), sql.Identifier(AUDITOR)
        ),
        # The reporter reads projections, nothing else.
        sql.SQL("GRANT SELECT ON {} TO {}").format(
            _names(PROJECTIONS), sql.Identifier(REPORTER)
        ),
        sql.SQL(
            """CREATE OR REPLACE FUNCTION seekers_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the log is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$"""
        ),
        sql.SQL(
            """CREATE OR REPLACE FUNCTION seekers_set_membership(
                grp text, login text, member boolean)
            RETURNS void LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = public, pg_temp AS $$
            BEGIN
                IF NOT grp = ANY({groups}) THEN
                    RAISE EXCEPTION 'not a Seeker Ledger role: %', grp
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF member THEN
                    EXECUTE format('GRANT %I TO %I', grp, login);
                ELSE
                    EXECUTE format('REVOKE %I FROM %I', grp, login);
                END IF;
            END $$"""
        ).format(groups=sql.Literal(list(GROUPS))),
        sql.SQL(
            "REVOKE ALL ON FUNCTION seekers_set_membership(text, text, boolean) "
            "FROM PUBLIC"
        ),
        sql.SQL(
            "GRANT EXECUTE ON FUNCTION seekers_set_membership(text, text, boolean) "
            "TO {}"
        ).format(sql.Identifier(ADMIN)),
    ]
    statements += [
        # Nothing reaches the log around the ledger: at commit, every new
        # event has its chain row and every chain row its event, and every
        # new tree node lies inside the tree (a node beyond it would block
        # every later append). A raw INSERT by a login that may write is
        # refused by the database; a complete, chained write is a write
        # through the product, attributed to its principal.
        sql.SQL(
            """CREATE OR REPLACE FUNCTION seekers_check_chained() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_TABLE_NAME = {events} THEN
                    IF NOT EXISTS (SELECT 1 FROM integrity_events
                                   WHERE notification_id = NEW.notification_id) THEN
                        RAISE EXCEPTION 'event % was not chained', NEW.notification_id
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                ELSIF TG_TABLE_NAME = 'integrity_events' THEN
                    IF NOT EXISTS (SELECT 1 FROM {events_table}
                                   WHERE notification_id = NEW.notification_id) THEN
                        RAISE EXCEPTION 'chain row % names no event', NEW.leaf_index
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                ELSIF ((NEW.idx + 1) << NEW.level) >
                      (SELECT size FROM integrity_state WHERE id = 1) THEN
                    RAISE EXCEPTION 'tree node (%, %) lies outside the tree',
                        NEW.level, NEW.idx USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NULL;
            END $$"""
        ).format(events=sql.Literal(EVENTS), events_table=sql.Identifier(EVENTS)),
        *(
            sql.SQL(
                "DROP TRIGGER IF EXISTS seekers_chained ON {table}; "
                "CREATE CONSTRAINT TRIGGER seekers_chained AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION seekers_check_chained()"
            ).format(table=sql.Identifier(table))
            for table in LOG[:3]
        ),
    ]
    for table in LOG:
        statements += [
            sql.SQL(
                "CREATE OR REPLACE TRIGGER seekers_append_only BEFORE UPDATE OR "
                "DELETE ON {} FOR EACH ROW EXECUTE FUNCTION seekers_refuse_change()"
            ).format(sql.Identifier(table)),
            sql.SQL(
                "CREATE OR REPLACE TRIGGER seekers_append_only_truncate BEFORE "
                "TRUNCATE ON {} FOR EACH STATEMENT "
                "EXECUTE FUNCTION seekers_refuse_change()"
            ).format(sql.Identifier(table)),
        ]
    statements.append(
        sql.SQL(
            "INSERT INTO {} (installed_at) SELECT now()::text "
            "WHERE NOT EXISTS (SELECT 1 FROM {})"
        ).format(sql.Identifier(MARKER), sql.Identifier(MARKER))
    )
    return statements


MEMBERS_QUERY = sql.SQL(
    """SELECT g.rolname::text AS role, m.rolname::text AS login
    FROM pg_roles g JOIN pg_auth_members a ON a.roleid = g.oid
    JOIN pg_roles m ON m.oid = a.member
    WHERE g.rolname = ANY({groups}) ORDER BY 1, 2"""
).format(groups=sql.Literal(list(GROUPS)))
