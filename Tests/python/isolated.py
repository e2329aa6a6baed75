"""Loads (and optionally runs) one model in a fresh process and prints the outcome as
one JSON line, so that a crash in the library shows up as a non-zero exit status of
this process instead of killing the test run.

    python isolated.py <path> file|memory [run]

Output: {"error": null | class name, "status": int | null, "message": str, "ran": bool}
Inputs for the run are zeros, with 1 for every dynamic dimension.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

import numpy as np  # noqa: E402

import drsn  # noqa: E402


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    run = len(sys.argv) > 3 and sys.argv[3] == "run"
    result = {"error": None, "status": None, "message": "", "ran": False}
    try:
        source = Path(path).read_bytes() if mode == "memory" else path
        with drsn.Model(source) as model:
            if run:
                feeds = [np.zeros([1 if d is None else d for d in info.shape], np.float32)
                         for info in model.inputs]
                model.run(feeds)
                result["ran"] = True
    except drsn.Error as exc:
        result.update(error=type(exc).__name__, status=exc.status, message=str(exc))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
