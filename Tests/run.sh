#!/usr/bin/env bash
# Runs every test of drsn: Swift unit tests (kernel tests also with DRSN_FORCE_ISA=avx2 and
# baseline), the kernel machine-code hygiene check, the C/C++ API tests, the allocation
# check of the run path, the ISA variant
# tests (fixtures natively and under qemu-x86_64) and the Python tests (which compare
# against onnxruntime, and the release artifacts: wheel and C/C++ SDK).
# Python: the project's virtual environment .venv, created on first run from the first
# python3 on PATH and given tools/requirements/test.txt (tools/venv.sh); nothing is installed
# into any other interpreter. System packages: qemu-user for the ISA checks, installed only
# when running as root (announced); otherwise those checks are skipped with a message.
# Fixtures: when ../shared/fixtures exists, DRSN_REQUIRE_FIXTURES=1 is exported, so a test
# that cannot find a fixture it uses fails instead of skipping.
# Usage: bash Tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../tools/venv.sh
source tools/venv.sh
drsn_venv test
export PATH=$VENV/bin:$PATH   # python3, pytest, cmake, pkg-config, auditwheel from .venv

# The shared fixtures next to the checkout: when they are there, every fixture test must
# find them (a missing file fails instead of skipping; Swift, C/C++, ISA and Python tests).
if [ -d ../shared/fixtures ]; then
    export DRSN_REQUIRE_FIXTURES=1
    echo "== ../shared/fixtures present: DRSN_REQUIRE_FIXTURES=1"
fi

echo "== building libdrsn.so (release)"
swift build -c release --product drsn

echo "== Swift unit tests"
swift test

echo "== kernel tests with the lower ISA variants (DRSN_FORCE_ISA)"
for isa in avx2 baseline; do
    DRSN_FORCE_ISA=$isa swift test --skip-build --filter DRSNKernelsTests
done

echo "== kernel machine-code hygiene (per ISA variant)"
bash Tests/hygiene.sh

echo "== C and C++ API tests"
bash Tests/c/run.sh

echo "== no heap allocation on the steady-state run path"
bash Tests/alloc/run.sh

echo "== ISA variants on the fixtures: native (DRSN_FORCE_ISA) and under qemu (Haswell, qemu64)"
bash Tests/isa/run.sh

echo "== C boundary and concurrency stress tests"
bash Tests/c/run_hardening.sh

echo "== Python tests (oracle: onnxruntime)"
"$VENV_PY" -m pytest -q Tests/python
