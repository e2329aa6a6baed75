#!/usr/bin/env bash
# Runs every test of drsn: Swift unit tests (kernel tests also with DRSN_FORCE_ISA=avx2 and
# baseline), the kernel machine-code hygiene check, the C/C++ API tests, the allocation
# check of the run path, the ISA variant
# tests (fixtures natively and under qemu-x86_64) and the Python tests (which compare
# against onnxruntime). Installs the Python test dependencies if missing.
# Usage: bash Tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import numpy, onnx, onnxruntime, pytest" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check numpy onnx onnxruntime pytest

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
python3 -m pytest -q Tests/python
