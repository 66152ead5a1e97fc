#!/usr/bin/env bash
# Make sure Debian packages are installed, each given as PACKAGE=FILE (a file
# the package installs: what "installed" means here). Used by `make fonts`
# (the Japanese font, Noto CJK, and fontconfig's fc-list), `make browser`
# (chromium and graphviz for the page tests and screenshots), `make graphviz`
# (the rulebook diagrams `make demo` writes) and `make pooler` (PgBouncer,
# for tests/support/pgbouncer.py).
# Idempotent: a no-op when everything is already installed. Without root or
# sudo it fails under CI and only warns elsewhere.
set -euo pipefail

# shellcheck source=tests/support/root-helpers.sh
source "$(dirname "${BASH_SOURCE[0]}")/root-helpers.sh"

declare -A probes=()
packages=()
for pair in "$@"; do
    packages+=("${pair%%=*}")
    probes[${pair%%=*}]=${pair#*=}
done

missing=()
for package in "${packages[@]}"; do
    if [[ ! -e ${probes[${package}]} ]]; then
        missing+=("${package}")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "ensure-packages: ${packages[*]} already installed"
    exit 0
fi

if ! can_be_root; then
    msg="ensure-packages: ${missing[*]} not installed and installing needs root or sudo"
    if is_ci; then
        echo "${msg}" >&2
        exit 1
    fi
    echo "${msg}; what needs them will fail (run: apt-get install ${missing[*]})" >&2
    exit 0
fi

echo "ensure-packages: installing Debian's ${missing[*]}..."
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null

for package in "${missing[@]}"; do
    if [[ ! -e ${probes[${package}]} ]]; then
        echo "ensure-packages: installed ${package} but found no ${probes[${package}]}" >&2
        exit 1
    fi
done
echo "ensure-packages: installed ${missing[*]}"
