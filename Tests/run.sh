#!/usr/bin/env bash
# Runs every test of drsn: Swift unit tests, the C/C++ API tests and the Python tests
# (which compare against onnxruntime). Installs the Python test dependencies if missing.
# Usage: bash Tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import numpy, onnx, onnxruntime, pytest" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check numpy onnx onnxruntime pytest

echo "== building libdrsn.so (release)"
swift build -c release --product drsn

echo "== Swift unit tests"
swift test

echo "== C and C++ API tests"
bash Tests/c/run.sh

echo "== Python tests (oracle: onnxruntime)"
python3 -m pytest -q Tests/python
