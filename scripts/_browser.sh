# shellcheck shell=bash
# Sourced by scripts/browser and scripts/screenshots after _lib.sh: make sure Debian's
# Chromium and Python Playwright are there. Playwright only drives the distribution's
# Chromium (CHROMIUM, default /usr/bin/chromium); it never downloads a browser.
PLAYWRIGHT_VERSION=1.65.2
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

ensure_browser() {
    if [ ! -x "$CHROMIUM" ]; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
            die "$CHROMIUM is missing: install Debian's chromium (apt-get install chromium) or set CHROMIUM"
        fi
        log "installing Debian's chromium"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    if ! "$VENV/bin/python" -c 'import playwright' >/dev/null 2>&1; then
        log "installing playwright $PLAYWRIGHT_VERSION into $VENV"
        local uv
        uv=$(command -v uv || echo "$VENV/bin/uv")
        "$uv" pip install --quiet --python "$VENV/bin/python" "playwright==$PLAYWRIGHT_VERSION"
    fi
}
