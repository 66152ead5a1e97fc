#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (Debian's `postgresql` package) are
# present, so the test suite can start its own throwaway server
# (tests/support/postgres_server.py). Idempotent; a no-op when they are already
# installed or when SEEKERS_TEST_POSTGRES_URL points the tests at another server.
set -euo pipefail

# shellcheck source=tests/support/root-helpers.sh
source "$(dirname "${BASH_SOURCE[0]}")/root-helpers.sh"

# The server refuses to run as root, so the harness runs it as `postgres` when
# the tests run as root. Debian's package creates that user; a manually
# installed PostgreSQL may not have.
ensure_postgres_user() {
    if getent passwd postgres >/dev/null 2>&1; then
        return 0
    fi
    if [[ ${EUID} -ne 0 ]]; then
        # Only needed when the tests run as root; as another user the server
        # runs as that user.
        return 0
    fi
    useradd --system --user-group --home-dir /var/lib/postgresql \
        --shell /bin/bash --comment "PostgreSQL administrator" postgres
    echo "ensure-postgres: created the 'postgres' system user"
}

if [[ -n ${SEEKERS_TEST_POSTGRES_URL:-} ]]; then
    echo "ensure-postgres: SEEKERS_TEST_POSTGRES_URL is set; using that server, nothing to install"
    exit 0
fi

shopt -s nullglob
servers=(/usr/lib/postgresql/*/bin/postgres)
shopt -u nullglob

if ((${#servers[@]} > 0)); then
    ensure_postgres_user
    versions=$(printf '%s\n' "${servers[@]}" | sed -E 's#^/usr/lib/postgresql/([^/]+)/.*#\1#' | sort -n | paste -sd' ')
    echo "ensure-postgres: PostgreSQL ${versions} already installed"
    exit 0
fi

if ! can_be_root; then
    msg="ensure-postgres: PostgreSQL is not installed and installing it needs root or sudo"
    if is_ci; then
        echo "${msg}" >&2
        exit 1
    fi
    echo "${msg}; PostgreSQL tests will be skipped (run: apt-get install postgresql)" >&2
    exit 0
fi

echo "ensure-postgres: installing Debian's postgresql package..."
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null

shopt -s nullglob
servers=(/usr/lib/postgresql/*/bin/postgres)
shopt -u nullglob
if ((${#servers[@]} == 0)); then
    echo "ensure-postgres: installed the postgresql package but found no /usr/lib/postgresql/*/bin/postgres" >&2
    exit 1
fi
if [[ ${EUID} -eq 0 ]]; then
    ensure_postgres_user
fi
echo "ensure-postgres: installed ${servers[*]}"
