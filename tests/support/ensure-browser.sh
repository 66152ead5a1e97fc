#!/usr/bin/env bash
# Make sure the browser tooling the page tests and `make screenshots` use is
# present: Debian's `chromium` (headless, driven by Playwright for Python
# through executable_path, so `playwright install` and its download of a
# browser build are never needed), `fonts-noto-cjk` (so Japanese text in the
# pages renders as glyphs, not boxes) and `graphviz` (diagrams for the docs).
# Idempotent: a no-op when everything is already installed.
set -euo pipefail

# shellcheck source=tests/support/root-helpers.sh
source "$(dirname "${BASH_SOURCE[0]}")/root-helpers.sh"

# package name -> a file it installs (what "installed" means here).
declare -A probes=(
    [chromium]=/usr/bin/chromium
    [fonts-noto-cjk]=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
    [graphviz]=/usr/bin/dot
)

missing=()
for package in chromium fonts-noto-cjk graphviz; do
    if [[ ! -e ${probes[${package}]} ]]; then
        missing+=("${package}")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "ensure-browser: chromium, fonts-noto-cjk and graphviz already installed"
    exit 0
fi

if ! can_be_root; then
    msg="ensure-browser: ${missing[*]} not installed and installing needs root or sudo"
    if is_ci; then
        echo "${msg}" >&2
        exit 1
    fi
    echo "${msg}; the page tests will fail (run: apt-get install ${missing[*]})" >&2
    exit 0
fi

echo "ensure-browser: installing Debian's ${missing[*]}..."
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null

for package in "${missing[@]}"; do
    if [[ ! -e ${probes[${package}]} ]]; then
        echo "ensure-browser: installed ${package} but found no ${probes[${package}]}" >&2
        exit 1
    fi
done
echo "ensure-browser: installed ${missing[*]}"
