"""A rebuild's DDL on PostgreSQL: functions the store's owner defines with
the schema, ``SECURITY DEFINER``, so an admin who owns no table (and may
create none) can rebuild, and the swapped-in tables keep the owner and the
grants of the live ones (``projections.rebuild``, ``adapters.roles``).

Each is narrow: it knows the projections' tables itself and takes only a
projection's name, so it can do nothing else to the schema; the swap swaps
in only a shadow at least as far as the live tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from psycopg.sql import SQL, Composable, Composed, Identifier, Literal

from adapters.roles import REBUILD_FUNCTIONS
from projections.schema import SHADOW, shadow_statements

ProjectionTables = tuple[str, tuple[str, ...], tuple[str, ...]]
"""A projection's name, its tables' DDL (``projections.schema``) and its
tables' names."""

_TABLES = """CREATE OR REPLACE FUNCTION {schema}.seekers_rebuild_tables(projection text)
RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE projection {tables}
    ELSE RAISE EXCEPTION 'no projection %', projection
        USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END $$"""

_ABANDON = """CREATE OR REPLACE FUNCTION {schema}.seekers_rebuild_abandon(
    projection text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE live text;
BEGIN
    FOREACH live IN ARRAY
        seekers_rebuild_tables(projection) || (projection || '_tracking')
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', live || {shadow});
    END LOOP;
END $$"""

# The shadow's tables take the live tables' owner and grants: a role that
# may read (or write) the live tables may do the same once they are swapped.
_BEGIN = """CREATE OR REPLACE FUNCTION {schema}.seekers_rebuild_begin(projection text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE
    statements text[];
    statement text;
    live text;
    privilege record;
    owner name;
BEGIN
    PERFORM seekers_rebuild_abandon(projection);
    CASE projection {statements}
    END CASE;
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
    END LOOP;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL)',
        projection || '_tracking' || {shadow}, projection || '_tracking');
    FOREACH live IN ARRAY
        seekers_rebuild_tables(projection) || (projection || '_tracking')
    LOOP
        FOR privilege IN
            SELECT a.privilege_type, a.is_grantable, a.grantee
            FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = live::regclass AND a.grantee <> c.relowner
        LOOP
            EXECUTE format('GRANT %s ON %I TO %s%s', privilege.privilege_type,
                live || {shadow},
                CASE WHEN privilege.grantee = 0 THEN 'PUBLIC'
                     ELSE quote_ident(pg_get_userbyid(privilege.grantee)) END,
                CASE WHEN privilege.is_grantable THEN ' WITH GRANT OPTION'
                     ELSE '' END);
        END LOOP;
        SELECT pg_get_userbyid(relowner) INTO owner
        FROM pg_class WHERE oid = live::regclass;
        IF owner <> current_user THEN
            EXECUTE format('ALTER TABLE %I OWNER TO %I', live || {shadow}, owner);
        END IF;
    END LOOP;
END $$"""

_ANALYZE = """CREATE OR REPLACE FUNCTION {schema}.seekers_rebuild_analyze(
    projection text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE live text;
BEGIN
    FOREACH live IN ARRAY seekers_rebuild_tables(projection) LOOP
        EXECUTE format('ANALYZE %I', live || {shadow});
    END LOOP;
END $$"""

# Safe whoever calls it: it swaps in only a shadow at least as far as the
# live tables (a shadow's rows and position commit together, so it holds
# exactly the events up to its position), and the catch-ups go on from it.
_SWAP = """CREATE OR REPLACE FUNCTION {schema}.seekers_rebuild_swap(
    projection text, application text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {schema}, pg_temp AS $$
DECLARE
    tracking text := projection || '_tracking';
    live text;
    indexes name[];
    index_name name;
    shadow_at bigint;
    live_at bigint;
BEGIN
    EXECUTE format('LOCK TABLE %I, %I IN EXCLUSIVE MODE',
        tracking, tracking || {shadow});
    EXECUTE format('SELECT coalesce(max(notification_id), 0) FROM %I '
        'WHERE application_name = $1', tracking || {shadow})
        INTO shadow_at USING application;
    EXECUTE format('SELECT coalesce(max(notification_id), 0) FROM %I '
        'WHERE application_name = $1', tracking)
        INTO live_at USING application;
    IF shadow_at < live_at THEN
        RAISE EXCEPTION 'the rebuild of % is at event %, the live tables at %: '
            'not swapped', projection, shadow_at, live_at
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    FOREACH live IN ARRAY seekers_rebuild_tables(projection) LOOP
        EXECUTE format('DROP TABLE %I', live);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', live || {shadow}, live);
        SELECT array_agg(c.relname) INTO indexes
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = live::regclass AND strpos(c.relname, {shadow}) > 0;
        FOREACH index_name IN ARRAY coalesce(indexes, '{{}}') LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I',
                index_name, replace(index_name, {shadow}, ''));
        END LOOP;
    END LOOP;
    EXECUTE format('DELETE FROM %I WHERE application_name = $1', tracking)
        USING application;
    IF shadow_at > 0 THEN
        EXECUTE format('INSERT INTO %I (application_name, notification_id) '
            'VALUES ($1, $2)', tracking) USING application, shadow_at;
    END IF;
    EXECUTE format('DROP TABLE %I', tracking || {shadow});
    RETURN shadow_at;
END $$"""


def _by_projection(arrays: Mapping[str, Sequence[str]], assign: str) -> Composable:
    """``WHEN name THEN <assign> ARRAY[...];`` for each projection."""
    return SQL(" ").join(
        SQL("WHEN {0} THEN {1} ARRAY[{2}]::text[];").format(
            Literal(name), SQL(assign), SQL(", ").join(map(Literal, items))
        )
        for name, items in arrays.items()
    )


@cache
def rebuild_functions(
    schema: str, projections: tuple[ProjectionTables, ...]
) -> tuple[Composed, ...]:
    """The functions that create, ready, swap and drop a rebuild's shadow,
    for ``projections``; part of the schema (``SCHEMA_VERSION`` goes up when they or the
    projection tables change). Only the owner may call them until ``seekers
    roles install`` grants them to the admin. Made once per process."""
    tables = {name: names for name, _, names in projections}
    statements = {
        name: shadow_statements(list(ddl), indexes=True) for name, ddl, _ in projections
    }
    names = {
        "schema": Identifier(schema),
        "shadow": Literal(SHADOW),
        "tables": _by_projection(tables, "RETURN"),
        "statements": _by_projection(statements, "statements :="),
    }
    revoke = SQL("REVOKE ALL ON FUNCTION {0} FROM PUBLIC").format(
        SQL(", ").join(
            SQL("{0}.{1}").format(Identifier(schema), SQL(function))
            for function in (*REBUILD_FUNCTIONS, "seekers_rebuild_tables(text)")
        )
    )
    texts = (_TABLES, _ABANDON, _BEGIN, _ANALYZE, _SWAP)
    return (*(SQL(text).format(**names) for text in texts), revoke)
