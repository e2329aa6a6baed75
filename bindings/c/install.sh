#!/usr/bin/env bash
# Installs the drsn C/C++ SDK into PREFIX, in the layout of the release tarball
# (tools/sdk_stage.sh): lib/libdrsn.so.VERSION (SONAME libdrsn.so.MAJOR, stripped) and its
# symlinks, lib/debug/.build-id/NN/REST.debug, include/drsn.h and drsn.hpp,
# lib/pkgconfig/drsn.pc, lib/cmake/drsn/drsnConfig.cmake (imported target drsn::drsn).
#
#   bindings/c/install.sh [PREFIX]        (default /usr/local)
#
# Builds the library first (swift build -c release --product drsn) if
# .build/release/libdrsn.so is missing. Honours DESTDIR for staged installs
# (files go to $DESTDIR$PREFIX, drsn.pc still says PREFIX).
set -eu

usage() {
    echo "usage: $0 [PREFIX]   (default /usr/local)" >&2
    exit 2
}
[ $# -le 1 ] || usage
case "${1:-}" in -h|--help) usage ;; esac

PREFIX=${1:-/usr/local}
case "$PREFIX" in
    /*) ;;
    *) PREFIX=$(pwd)/$PREFIX ;;  # pkg-config needs an absolute prefix
esac
PREFIX=$(printf '%s' "$PREFIX" | sed 's:/*$::')
[ -n "$PREFIX" ] || PREFIX=/
DESTDIR=${DESTDIR:-}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIB=$ROOT/.build/release/libdrsn.so

if [ ! -f "$LIB" ]; then
    echo "==> $LIB is missing; building it (swift build -c release --product drsn)"
    (cd "$ROOT" && swift build -c release --product drsn)
    [ -f "$LIB" ] || { echo "error: the build did not produce $LIB" >&2; exit 1; }
fi

# shellcheck source=../../tools/header.sh
. "$ROOT/tools/header.sh"
VERSION=$(header_define DRSN_VERSION_STRING)
[ -n "$VERSION" ] || { echo "error: cannot read DRSN_VERSION_STRING from include/drsn.h" >&2; exit 1; }

DEST=$DESTDIR$PREFIX
echo "==> installing drsn $VERSION into $DEST"
bash "$ROOT/tools/sdk_stage.sh" "$LIB" "$DEST" "$PREFIX" | sed 's/^/    /'

# Is PREFIX/lib/pkgconfig on pkg-config's default search path?
PCDIR=$PREFIX/lib/pkgconfig
ON_PC_PATH=no
if command -v pkg-config >/dev/null 2>&1; then
    PC_PATH=$(pkg-config --variable pc_path pkg-config 2>/dev/null || true)
    OLDIFS=$IFS
    IFS=:
    for d in $PC_PATH; do [ "$d" = "$PCDIR" ] && ON_PC_PATH=yes; done
    IFS=$OLDIFS
fi
# Is PREFIX/lib searched by the dynamic loader by default?
LIBDIR=$PREFIX/lib
ON_LD_PATH=no
case "$LIBDIR" in
    /lib|/usr/lib|/lib64|/usr/lib64) ON_LD_PATH=yes ;;
    *)
        if [ -z "$DESTDIR" ] && command -v ldconfig >/dev/null 2>&1 &&
            ldconfig -v -N -X 2>/dev/null | grep -q "^$LIBDIR:"; then
            ON_LD_PATH=yes
        fi
        ;;
esac

echo
echo "Use it from C or C++:"
if [ "$ON_PC_PATH" = yes ]; then
    echo "    cc app.c \$(pkg-config --cflags --libs drsn)"
    echo "    c++ -std=c++17 app.cpp \$(pkg-config --cflags --libs drsn)     # with #include <drsn.hpp>"
else
    echo "    export PKG_CONFIG_PATH=$PCDIR\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
    echo "    cc app.c \$(pkg-config --cflags --libs drsn)"
    echo "    c++ -std=c++17 app.cpp \$(pkg-config --cflags --libs drsn)     # with #include <drsn.hpp>"
fi
echo
echo "At run time the loader must find libdrsn.so:"
if [ "$ON_LD_PATH" = yes ]; then
    echo "    $LIBDIR is on the loader's search path (run 'sudo ldconfig' once after installing)."
else
    echo "    drsn.pc embeds it in programs it links (-Wl,-rpath,$LIBDIR); for other builds"
    echo "    either embed the path at link time (-Wl,-rpath,$LIBDIR) or set it when running:"
    echo "        export LD_LIBRARY_PATH=$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
    echo "    or add $LIBDIR to /etc/ld.so.conf.d/ and run 'sudo ldconfig'."
fi
echo "libdrsn.so is linked with the Swift runtime built in (-static-stdlib): no Swift toolchain is needed at run time."
