# shellcheck shell=bash
# Shared by scripts/test and scripts/mailbag (sourced, not run): finds Python
# 3.11+, creates or refreshes the virtual environment in .venv and installs
# mailbag into it in editable mode.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

say() { printf 'mailbag: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# apt_install PKG...: install Debian packages when we are root, else fail
# with a message that names them.
apt_install() {
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        die "missing Debian packages: $*. Install them as root: apt-get install $*"
    fi
    say "installing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq "$@" >&2 || die "apt-get install $* failed"
}

# find_python: print the first interpreter that is Python 3.11 or newer.
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer is needed (Debian: apt-get install python3)"
}

# ensure_venv: a working .venv (recreated when its interpreter is gone).
ensure_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pip' 2>/dev/null; then
        return 0
    fi
    local python
    python="$(find_python)"
    rm -rf "$VENV"
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian ships venv/ensurepip separately.
        apt_install python3-venv
        "$python" -m venv "$VENV" || die "could not create $VENV"
    fi
}

# pyproject_hash: changes whenever pyproject.toml does.
pyproject_hash() {
    "$VENV/bin/python" - "$REPO_ROOT/pyproject.toml" <<'PY'
import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
PY
}

# ensure_installed [EXTRA [PROGRAM...]]: pip install -e ".[EXTRA]" unless
# pyproject.toml is unchanged since the last install of that set (a stamp file
# in the venv) and every PROGRAM named is in .venv/bin.
ensure_installed() {
    local extra="${1:-}" spec="." stamp hash program
    shift || true
    for program in "$@"; do
        if [ ! -x "$VENV/bin/$program" ]; then
            rm -f "$VENV"/.mailbag-installed*
            break
        fi
    done
    ensure_venv
    hash="$(pyproject_hash)"
    if [ -n "$extra" ]; then
        spec=".[$extra]"
        stamp="$VENV/.mailbag-installed-$extra"
    else
        stamp="$VENV/.mailbag-installed"
    fi
    # A test install contains everything a plain install has.
    for existing in "$stamp" "$VENV/.mailbag-installed-test"; do
        if [ -f "$existing" ] && [ "$(cat "$existing")" = "$hash" ] \
            && [ -x "$VENV/bin/mailbag" ]; then
            return 0
        fi
    done
    say "installing mailbag$( [ -n "$extra" ] && printf ' with its %s extras' "$extra") into .venv"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --editable "$spec") >&2 || die "pip install failed"
    printf '%s\n' "$hash" >"$stamp"
}
