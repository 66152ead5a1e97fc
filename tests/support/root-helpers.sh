# Shared by the ensure-*.sh scripts (sourced, not run): how to tell CI, and
# how to run a command as root.

is_ci() {
    case "${CI:-}" in
        true | TRUE | True | 1) return 0 ;;
        *) return 1 ;;
    esac
}

# Runs its arguments as root: directly, through sudo, or not at all (returns 1).
as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        return 1
    fi
}

can_be_root() {
    [[ ${EUID} -eq 0 ]] || command -v sudo >/dev/null 2>&1
}
