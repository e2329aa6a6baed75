# tools/header.sh - reads constants of include/drsn.h for the shell scripts.
#
#   source tools/header.sh && header_define DRSN_VERSION_STRING     # -> 0.2.0
#
# header_define NAME prints the value of `#define NAME VALUE` (quotes removed); nothing if the
# header has no such line.
header_define() {
    sed -n "s/^#define $1 \\(.*\\)\$/\\1/p" "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/include/drsn.h" | tr -d '"'
}
