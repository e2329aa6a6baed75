# tools/venv.sh - the project-local Python environment (.venv) used by the scripts.
#
#   source tools/venv.sh && drsn_venv test|release|example
#
# Creates $ROOT/.venv with the first `python3` on PATH ($PYTHON overrides) when it does
# not exist, then installs tools/requirements/PROFILE.txt into it unless the same file was
# installed before (a stamp in .venv records its checksum). Nothing is installed into the
# interpreter the venv was made from. Sets VENV (the folder) and VENV_PY (its python).
# Environment: DRSN_VENV (folder, default $ROOT/.venv), PYTHON.

drsn_venv() {
    local profile=$1 root req stamp sum base
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    VENV=${DRSN_VENV:-$root/.venv}
    VENV_PY=$VENV/bin/python
    req=$root/tools/requirements/$profile.txt
    [ -f "$req" ] || { echo "venv.sh: no requirements file $req" >&2; return 1; }
    if [ ! -x "$VENV_PY" ]; then
        base=${PYTHON:-python3}
        command -v "$base" >/dev/null 2>&1 || { echo "venv.sh: error: no $base on PATH (Python 3.9+ is needed)" >&2; return 1; }
        echo "== creating the project's Python environment: $VENV (from $(command -v "$base"))"
        if ! "$base" -m venv "$VENV" 2>/tmp/drsn-venv.$$.err; then
            # Debian/Ubuntu ship venv's pip bootstrap in a separate package.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                echo "== installing the system package python3-venv (apt-get; root)"
                rm -rf "$VENV"
                { apt-get install -y -qq python3-venv >/dev/null 2>&1 ||
                  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-venv >/dev/null 2>&1; }; } &&
                    "$base" -m venv "$VENV"
            else
                false
            fi || { cat /tmp/drsn-venv.$$.err >&2; rm -f /tmp/drsn-venv.$$.err
                    echo "venv.sh: error: '$base -m venv' failed; install your distribution's venv" \
                         "package (e.g. python3-venv) or set PYTHON to a Python with venv" >&2; return 1; }
        fi
        rm -f /tmp/drsn-venv.$$.err
    fi
    # every profile file: a profile includes others with -r
    sum=$(cat "$root/tools/requirements/"*.txt | cksum | cut -d' ' -f1)
    stamp=$VENV/.drsn-$profile.stamp
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        echo "== installing Python packages into $VENV (tools/requirements/$profile.txt)"
        (cd "$root/tools/requirements" &&
            "$VENV_PY" -m pip install --quiet --disable-pip-version-check -r "$profile.txt") ||
            { echo "venv.sh: error: pip could not install tools/requirements/$profile.txt" >&2; return 1; }
        echo "$sum" > "$stamp"
    fi
    export VENV VENV_PY
}
