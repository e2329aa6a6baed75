"""Subprocess driver for the corrupt-file tests: loads many models through libdrsn's C API
and prints one line per model, so that a crash of the library ends this process (and is
counted by the parent) instead of the test run.

    python corrupt_driver.py PACK START

PACK is a file of records (see :func:`write_pack`): each one is either model bytes, loaded
with drsn_model_load_memory, or a path, loaded with drsn_model_load_file. Records from
index START on are processed in order. For each, after the load (and, when the load
succeeds, one run on the declared input shape with dynamic dimensions = 1 and at most
65536 elements) the driver prints

    <index> <load status> <run status or -1 when not run> <milliseconds>

and flushes, so the parent knows which record was being processed if the process dies.
Runs use one thread (num_threads = 1).
"""

import ctypes
import selectors
import struct
import subprocess
import sys
import time
from collections import Counter
from ctypes import POINTER, byref, c_float, c_int64, c_size_t, c_void_p
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

MAX_RUN_ELEMENTS = 1 << 16
KIND_MEMORY, KIND_FILE = 0, 1
STATUS = {0: "OK", 1: "INVALID_ARGUMENT", 2: "IO", 3: "INVALID_MODEL", 4: "UNSUPPORTED",
          5: "SHAPE_MISMATCH", 6: "DTYPE_MISMATCH", 7: "BUFFER_TOO_SMALL", 8: "OUT_OF_MEMORY",
          9: "LIMIT_EXCEEDED", 100: "INTERNAL"}
#: A driver that makes no progress for this long is killed and the file counted as a hang.
HANG_SECONDS = 20
#: A single file taking longer than this (milliseconds) is reported as slow. At the default
#: max_value_elements (2^27) a legal load of a tiny hostile file may take about a second.
SLOW_MS = 5000
HERE = Path(__file__).resolve().parent


def write_pack(path, records) -> int:
    """records: iterable of (kind, bytes); kind KIND_MEMORY (model bytes) or KIND_FILE
    (UTF-8 path). Returns the number of records written."""
    n = 0
    with open(path, "wb") as f:
        for kind, payload in records:
            f.write(struct.pack("<BI", kind, len(payload)))
            f.write(payload)
            n += 1
    return n


def read_pack(path):
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        kind, length = struct.unpack_from("<BI", data, pos)
        pos += 5
        out.append((kind, data[pos:pos + length]))
        pos += length
    return out


def run_once(c, model) -> int:
    n_in = c.drsn_model_input_count(model)
    n_out = c.drsn_model_output_count(model)
    shapes = []
    for i in range(n_in):
        rank = c_size_t(0)
        st = c.drsn_model_input_shape(model, i, None, 0, byref(rank))
        if st not in (0, 7):
            return st
        dims = (c_int64 * max(rank.value, 1))()
        st = c.drsn_model_input_shape(model, i, dims, rank.value, byref(rank))
        if st != 0:
            return st
        shape = [1 if d < 0 else d for d in dims[:rank.value]]
        total = 1
        for d in shape:
            total *= d
            if total > MAX_RUN_ELEMENTS:
                return -2  # not run: too large
        shapes.append(shape)
    dims_arrays = [(c_int64 * max(len(s), 1))(*s) for s in shapes]
    dims_ptrs = (POINTER(c_int64) * max(n_in, 1))(*[ctypes.cast(d, POINTER(c_int64)) for d in dims_arrays])
    ranks = (c_size_t * max(n_in, 1))(*[len(s) for s in shapes])
    inputs = []
    for s in shapes:
        total = 1
        for d in s:
            total *= d
        inputs.append((c_float * max(total, 1))(*[((k % 7) - 3) * 0.25 for k in range(total)]))
    in_ptrs = (POINTER(c_float) * max(n_in, 1))(*[ctypes.cast(a, POINTER(c_float)) for a in inputs])
    outputs, caps = [], []
    for j in range(n_out):
        rank = c_size_t(0)
        odims = (c_int64 * 16)()
        st = c.drsn_model_output_shape_for(model, n_in, dims_ptrs, ranks, j, odims, 16, byref(rank))
        if st != 0:
            return st
        total = 1
        for d in odims[:rank.value]:
            total *= d
        if total > MAX_RUN_ELEMENTS * 64:
            return -2
        outputs.append((c_float * max(total, 1))())
        caps.append(total)
    out_ptrs = (POINTER(c_float) * max(n_out, 1))(*[ctypes.cast(a, POINTER(c_float)) for a in outputs])
    cap_arr = (c_size_t * max(n_out, 1))(*caps)
    return c.drsn_model_run(model, n_in, in_ptrs, dims_ptrs, ranks, n_out, out_ptrs, cap_arr)


# ---- parent side: running the driver over many records ----------------------------------

def run_batches(records, workdir: Path, batch_size=4000):
    """Runs every record through corrupt_driver.py; returns one (load, run, ms) tuple per
    record, with load = 'CRASH:<rc>' or 'HANG' for records that killed the driver."""
    results = [None] * len(records)
    for b0 in range(0, len(records), batch_size):
        batch = records[b0:b0 + batch_size]
        pack = workdir / f"batch_{b0}.pack"
        write_pack(pack, batch)
        start = 0
        while start < len(batch):
            proc = subprocess.Popen([sys.executable, str(HERE / "corrupt_driver.py"), str(pack), str(start)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            sel = selectors.DefaultSelector()
            sel.register(proc.stdout, selectors.EVENT_READ)
            last = start - 1
            hung = False
            while True:
                if not sel.select(timeout=HANG_SECONDS):
                    proc.kill()
                    hung = True
                    break
                line = proc.stdout.readline()
                if not line:
                    break
                idx, st, ran, ms = line.split()
                results[b0 + int(idx)] = (int(st), int(ran), float(ms))
                last = int(idx)
            proc.wait()
            sel.close()
            err = proc.stderr.read()
            proc.stderr.close()
            proc.stdout.close()
            if last + 1 >= len(batch) and proc.returncode == 0:
                break
            bad = last + 1
            if bad >= len(batch):
                break
            results[b0 + bad] = ("HANG" if hung else f"CRASH:{proc.returncode}", -1, 0.0, err[-2000:])
            start = bad + 1
    return results


def outcome(r):
    load, ran = r[0], r[1]
    if isinstance(load, str):
        return load.split(":")[0]
    if load != 0:
        return f"load {STATUS.get(load, load)}"
    if ran == -1:
        return "load OK"
    if ran == -2:
        return "load OK, input too large to run"
    if ran == -3:
        return "FAILED LOAD LEFT A MODEL"
    return f"load OK, run {STATUS.get(ran, ran)}"


def report(title, names, results):
    counts = Counter(outcome(r) for r in results)
    print(f"\n{title}: {len(results)} files")
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {v:6d}  {k}")
    bad = [(names[i], r) for i, r in enumerate(results)
           if isinstance(r[0], str) or r[1] == -3 or r[0] == 100 or r[1] == 100]
    slow = [(names[i], r[2]) for i, r in enumerate(results) if not isinstance(r[0], str) and r[2] > SLOW_MS]
    return counts, bad, slow


def main() -> None:
    from drsn import _library

    lib = _library.load()
    c = lib.cdll
    c.drsn_model_input_shape.argtypes = [c_void_p, c_size_t, POINTER(c_int64), c_size_t, POINTER(c_size_t)]
    c.drsn_model_output_shape_for.argtypes = [c_void_p, c_size_t, c_void_p, c_void_p, c_size_t,
                                              POINTER(c_int64), c_size_t, POINTER(c_size_t)]
    c.drsn_model_run.argtypes = [c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_void_p]
    records = read_pack(sys.argv[1])
    start = int(sys.argv[2])
    options = c_void_p()
    assert c.drsn_options_create(byref(options)) == 0
    assert c.drsn_options_set_num_threads(options, 1) == 0
    out = sys.stdout
    for index in range(start, len(records)):
        kind, payload = records[index]
        t0 = time.perf_counter()
        model = c_void_p()
        if kind == KIND_MEMORY:
            buf = ctypes.create_string_buffer(payload, max(len(payload), 1))
            st = c.drsn_model_load_memory(buf, len(payload), options, byref(model))
        else:
            st = c.drsn_model_load_file(payload, options, byref(model))
        ran = -1
        if st == 0:
            ran = run_once(c, model)
            c.drsn_model_destroy(model)
        elif model.value is not None:
            ran = -3  # a failed load left a model behind: reported as a failure by the parent
        ms = (time.perf_counter() - t0) * 1000
        out.write(f"{index} {st} {ran} {ms:.2f}\n")
        out.flush()
    c.drsn_options_destroy(options)


if __name__ == "__main__":
    main()
