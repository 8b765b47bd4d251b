# shellcheck shell=bash
# Shared helpers for scripts/*: sourced, never run. Sourcing it moves to the repository
# root, so every script works from any directory, and defines the two lanes:
#   latest (default)  .venv         Python 3.14 (>= 3.14.2), requirements/latest.txt
#   oldest (LANE=oldest) .venv-oldest Python 3.13,          requirements/oldest.txt
# Latest-lane scripts find their Python with reexec_latest (PATH, then uv, then the
# ../shared/tools/py314 helper beside the repository) and say which they chose.

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

# uv, on PATH or where its installer puts it; empty when there is none.
find_uv() {
    local candidate
    for candidate in "$(command -v uv || true)" "$HOME/.local/bin/uv" "$HOME/.cargo/bin/uv"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
}

# May uv install Python 3.14? Yes with INSTALL_PYTHON=1 (scripts/setup --install-python sets
# it), no with INSTALL_PYTHON=0 or without a terminal to ask on; otherwise ask.
may_install_python() {
    case "${INSTALL_PYTHON:-}" in
        1 | yes | true) return 0 ;;
        0 | no | false) return 1 ;;
    esac
    [ -t 0 ] && [ -t 2 ] || return 1
    local answer
    printf 'No Python >= 3.14.2 found. Install one with "%s python install 3.14" (into uv'"'"'s own directory)? [y/N] ' "$1" >&2
    read -r answer || return 1
    [[ "$answer" =~ ^[Yy] ]]
}

# Choose the latest lane's Python (>= 3.14.2) and say which: python3.14 or python3 on PATH,
# else a Python uv finds outside any virtual environment (`uv python find --system`: the
# ones uv installed, and others it knows of; `uv python install 3.14` when allowed, see
# may_install_python), else re-run the calling script through ../shared/tools/py314 beside
# the repository (a helper that provides one). The choice is exported as LATEST_PYTHON, so
# the scripts this one runs keep it. Call as: reexec_latest "$@"
reexec_latest() {
    [ "$LANE" = latest ] || return 0
    if [ -n "${LATEST_PYTHON:-}" ] && is_py314 "$LATEST_PYTHON"; then
        return 0
    fi
    local candidate uv found=""
    for candidate in python3.14 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_py314 "$candidate"; then
            found=$(command -v "$candidate")
            log "latest lane: $found ($("$found" -V 2>&1), ${VIA_PY314:-on PATH})"
            break
        fi
    done
    uv=$(find_uv)
    if [ -z "$found" ] && [ -n "$uv" ]; then
        found=$("$uv" python find --system --no-project '>=3.14.2' 2>/dev/null || true)
        if [ -z "$found" ] && may_install_python "$uv"; then
            log "installing Python 3.14 with uv"
            "$uv" python install 3.14 >&2 || die "uv python install 3.14 failed"
            found=$("$uv" python find --system --no-project '>=3.14.2' 2>/dev/null || true)
        fi
        if [ -n "$found" ] && is_py314 "$found"; then
            log "latest lane: $found ($("$found" -V 2>&1), found by uv)"
        else
            found=""
        fi
    fi
    if [ -n "$found" ]; then
        export LATEST_PYTHON=$found
        return 0
    fi
    local helper=$REPO_ROOT/../shared/tools/py314
    if [ -r "$helper" ]; then
        log "latest lane: no Python >= 3.14.2 here; running through ../shared/tools/py314"
        export VIA_PY314="inside ../shared/tools/py314"
        if [ -x "$helper" ]; then
            exec "$helper" "scripts/$(basename "$0")" "$@"
        fi
        exec sh "$helper" "scripts/$(basename "$0")" "$@"
    fi
    local oldest=""
    case "$(basename "$0")" in
        test | setup) oldest=" Meanwhile the oldest lane works on Python 3.13: LANE=oldest scripts/$(basename "$0")" ;;
    esac
    if [ -n "$uv" ]; then
        die "the latest lane needs Python >= 3.14.2 and none was found. Get one with: $uv python install 3.14 (or run scripts/setup --install-python).$oldest"
    fi
    case "${INSTALL_PYTHON:-}" in
        1 | yes | true)
            die "--install-python needs uv, which installs Python 3.14, and uv was not found (on PATH, ~/.local/bin or ~/.cargo/bin). Get uv with: curl -LsSf https://astral.sh/uv/install.sh | sh (or pipx install uv, or see https://docs.astral.sh/uv/getting-started/installation/), then run scripts/setup --install-python again.$oldest" ;;
    esac
    die "the latest lane needs Python >= 3.14.2 and none was found. Get one with uv: curl -LsSf https://astral.sh/uv/install.sh | sh && ~/.local/bin/uv python install 3.14 (or run scripts/setup --install-python once uv is there).$oldest"
}

# Print the calling script's header comment (its usage) and exit, when its arguments ask for
# help (-h or --help): this needs no Python, so it works before reexec_latest.
# Call as: help_from_header "$@"
help_from_header() {
    local arg
    for arg in "$@"; do
        case "$arg" in
            -h | --help)
                sed -n '2,/^[^#]/{/^# shellcheck/d;/^#/!d;s/^# \{0,1\}//;p}' "$0"
                exit 0 ;;
        esac
    done
}

# The interpreter a new venv for this lane is made from.
lane_python() {
    if [ "$LANE" = latest ]; then
        echo "$LATEST_PYTHON"
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
