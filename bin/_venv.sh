# shellcheck shell=bash
# Sourced by bin/test and bin/console: the project's virtualenv in .venv, and root for installing packages.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1

# True when as_root can work: we are root, or sudo needs no password (there may be no one to type it).
can_be_root() {
    [[ $(id -u) -eq 0 ]] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

apt_install() {
    if ! command -v apt-get >/dev/null; then
        echo "$0: no apt-get here; install these yourself: $*" >&2
        return 1
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# ensure_venv [EXTRAS]: creates .venv if needed and installs the project, editable, with the given extras.
# pip install runs every time: it takes a few seconds when nothing changed, and catches changed dependencies.
ensure_venv() {
    if [[ ! -x $REPO_ROOT/.venv/bin/pip ]]; then
        # Debian's python3 lacks ensurepip, without which venv fails; it comes with python3-venv.
        if ! python3 -c 'import ensurepip' 2>/dev/null && can_be_root; then
            apt_install python3-venv
        fi
        python3 -m venv "$REPO_ROOT/.venv"
    fi
    "$REPO_ROOT/.venv/bin/pip" install -q -e "$REPO_ROOT${1:+[$1]}"
}
