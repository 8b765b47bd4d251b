# shellcheck shell=bash
# Shared helpers for scripts/*: sourced, never run. Sourcing it moves to the repository
# root, so every script works from any directory, and defines the two lanes:
#   latest (default)  .venv         Python 3.14 (>= 3.14.2), requirements/latest.txt
#   oldest (LANE=oldest) .venv-oldest Python 3.13,          requirements/oldest.txt
# Where no python3.14 >= 3.14.2 is on PATH but ../shared/tools/py314 sits beside the
# repository, latest-lane scripts re-run themselves through it (see reexec_latest).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT" || exit 1

LANE=${LANE:-latest}
case "$LANE" in
    latest) VENV=.venv LOCK=requirements/latest.txt ;;
    oldest) VENV=.venv-oldest LOCK=requirements/oldest.txt ;;
    *) echo "LANE must be 'latest' or 'oldest', not '$LANE'" >&2; exit 2 ;;
esac
export LANE

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# True when $1 is a Python >= 3.14.2.
is_py314() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 14, 2))' >/dev/null 2>&1
}

# Re-run the calling script through ../shared/tools/py314 when this machine has no
# python3.14 >= 3.14.2 of its own. Call as: reexec_latest "$@"
reexec_latest() {
    [ "$LANE" = latest ] || return 0
    command -v python3.14 >/dev/null 2>&1 && is_py314 python3.14 && return 0
    # The helper beside the repository, else one on PATH, else the workplace's copy
    # (a clone made elsewhere, e.g. in /tmp, has no ../shared).
    local py314 candidate
    for candidate in "${PY314:-}" "$REPO_ROOT/../shared/tools/py314" \
        "$(command -v py314 || true)" /work/shared/tools/py314; do
        if [ -n "$candidate" ] && [ -r "$candidate" ]; then
            py314=$candidate
            break
        fi
    done
    if [ -n "${py314:-}" ] && [ -x "$py314" ]; then
        exec "$py314" "scripts/$(basename "$0")" "$@"
    elif [ -n "${py314:-}" ]; then  # a copy that lost its execute bit
        exec sh "$py314" "scripts/$(basename "$0")" "$@"
    fi
    die "the latest lane needs python3.14 >= 3.14.2 on PATH (or ../shared/tools/py314 beside the repository, or PY314=/path/to/py314)"
}

# The interpreter a new venv for this lane is made from.
lane_python() {
    if [ "$LANE" = latest ]; then
        echo python3.14
        return
    fi
    if python3.13 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then
        command -v python3.13
        return
    fi
    local root candidate found=""
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    for candidate in "$root"/versions/3.13*/bin/python3.13; do
        [ -x "$candidate" ] && found=$candidate
    done
    [ -n "$found" ] || die "the oldest lane needs Python 3.13: no working python3.13 on PATH and none under $root/versions/3.13*/bin"
    echo "$found"
}

# Fingerprint of what the venv was installed from: the lock file and the interpreter.
lock_stamp() {
    { cat "$LOCK"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1
}

venv_is_current() {
    [ -x "$VENV/bin/python" ] && [ -f "$VENV/.lock-stamp" ] && [ "$(cat "$VENV/.lock-stamp")" = "$(lock_stamp)" ]
}
