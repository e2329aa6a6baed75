#!/usr/bin/env python3
"""Exports the DRSN "zoo" into Tests/models/zoo/: real-world variants of Deep Residual
Shrinkage Networks, exported with the TorchScript exporter at several opsets and with
the dynamo exporter, as small ONNX files used by the Python, C and C++ tests.

    python3 Tests/models/export_zoo.py                 # (re)writes Tests/models/zoo/
    python3 Tests/models/export_zoo.py --only ref_cw_1d --exporters ts17

Every model: random weights (fixed seeds; BatchNorm running statistics and affine
parameters non-trivial), eval mode, dynamic batch ("batch"), input "input", output
"logits" [N,10]. For every file <name>.onnx the script writes <name>.in.npy (float32,
batch 3) and <name>.out.npy (onnxruntime output on that input, all graph optimisations
off) and checks torch against onnxruntime within 1e-4 (batch 3 and batch 7) before
writing anything; an exporter/opset combination that fails to export (or disagrees) is
skipped and reported. Finally Tests/models/zoo/README.md is regenerated.

File names: <variant>.<exporter><opset>.onnx, exporter "ts" (torch.onnx.export,
dynamo=False) or "dynamo" (dynamo=True, its default opset).

Variants (see VARIANTS):
  block   pre  : BN -> ReLU -> Conv -> BN -> ReLU -> Conv -> shrink -> + shortcut
                 (Zhao et al. reference; shortcut identity or AvgPool(k1, s2) + zero pad)
          post : Conv -> BN -> ReLU -> Conv -> BN -> shrink -> + shortcut -> ReLU
                 (shortcut identity or Conv1x1(stride s) + BN when the shape changes)
  soft    relu : sign(x) * relu(|x| - t)
          max  : sign(x) * max(|x| - t, (|x| - t) - (|x| - t))     (Keras port)
          clamp: sign(x) * clamp(|x| - t, min=0)
          where: where(x > t, x - t, where(x < -t, x + t, 0))
  thr     fc   : GAP(|x|) -> flatten -> Linear -> BN1d -> ReLU -> Linear -> Sigmoid
          conv : GAP(|x|) [N,C,1(,1)] -> Conv1x1 -> BN -> ReLU -> Conv1x1 -> Sigmoid
  kind    cw   : one threshold per channel (RSBU-CW); cs: one per sample (RSBU-CS)
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
ZOO = HERE / "zoo"
ATOL = 1e-4
MAX_BYTES = 200_000
TS_OPSETS = (11, 13, 17, 18)

_1D = dict(dims=1, cin=1, size=256, widths=(4, 8, 16), units=(2, 1, 1), stem_stride=2,
           strides=(1, 2, 2))
_2D = dict(dims=2, cin=3, size=16, widths=(8, 16), units=(1, 1), stem_stride=1, strides=(1, 2))

# variant -> architecture, soft-threshold form, threshold network, kind, seed, dynamo?
VARIANTS = {
    "ref_cw_1d": dict(_1D, block="pre", soft="relu", thr="fc", kind="cw", seed=11, dynamo=True),
    "post_cw_1d": dict(_1D, block="post", soft="relu", thr="fc", kind="cw", seed=12, dynamo=True),
    "kerasmax_cw_1d": dict(_1D, block="pre", soft="max", thr="fc", kind="cw", seed=13, dynamo=False),
    "clamp_cw_1d": dict(_1D, block="pre", soft="clamp", thr="fc", kind="cw", seed=14, dynamo=False),
    "where_cw_1d": dict(_1D, block="pre", soft="where", thr="fc", kind="cw", seed=15, dynamo=True),
    "convthr_cw_1d": dict(_1D, block="pre", soft="relu", thr="conv", kind="cw", seed=16, dynamo=False),
    "ref_cs_1d": dict(_1D, block="pre", soft="relu", thr="fc", kind="cs", seed=17, dynamo=False),
    "ref_cw_2d": dict(_2D, block="pre", soft="relu", thr="fc", kind="cw", seed=18, dynamo=True),
    "post_convthr_clamp_cw_2d": dict(_2D, block="post", soft="clamp", thr="conv", kind="cw", seed=19,
                                     dynamo=False),
    "post_where_cs_2d": dict(_2D, block="post", soft="where", thr="fc", kind="cs", seed=20, dynamo=False),
}


def soft_threshold(x: torch.Tensor, t: torch.Tensor, form: str) -> torch.Tensor:
    if form == "relu":
        return torch.sign(x) * torch.relu(torch.abs(x) - t)
    if form == "max":
        n_sub = torch.abs(x) - t
        zeros = n_sub - n_sub
        return torch.sign(x) * torch.max(n_sub, zeros)
    if form == "clamp":
        return torch.sign(x) * torch.clamp(torch.abs(x) - t, min=0)
    if form == "where":
        zeros = torch.zeros_like(x)
        return torch.where(x > t, x - t, torch.where(x < -t, x + t, zeros))
    raise ValueError(form)


class Shrinkage(nn.Module):
    def __init__(self, channels: int, dims: int, kind: str, thr: str, soft: str):
        super().__init__()
        self.dims, self.kind, self.thr, self.soft = dims, kind, thr, soft
        self.gap = nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)
        out = channels if kind == "cw" else 1
        if thr == "fc":
            self.fc1 = nn.Linear(channels, channels)
            self.bn = nn.BatchNorm1d(channels)
            self.fc2 = nn.Linear(channels, out)
        else:
            Conv = nn.Conv1d if dims == 1 else nn.Conv2d
            BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
            self.fc1 = Conv(channels, channels, 1)
            self.bn = BN(channels)
            self.fc2 = Conv(channels, out, 1)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        a = self.gap(torch.abs(r))                                  # [N,C,1(,1)]
        if self.thr == "fc":
            a = torch.flatten(a, 1)                                 # [N,C]
        z = torch.sigmoid(self.fc2(F.relu(self.bn(self.fc1(a)))))   # [N,C|1(,1,1)]
        if self.kind == "cs":
            a = torch.mean(a, dim=1, keepdim=True)
        tau = a * z
        if self.thr == "fc":
            tau = tau.unsqueeze(-1) if self.dims == 1 else tau.unsqueeze(-1).unsqueeze(-1)
        return soft_threshold(r, tau, self.soft)


class PreUnit(nn.Module):
    """Reference pre-activation RSBU; shortcut identity or AvgPool(k1, s) + zero pad."""

    def __init__(self, cin, cout, stride, spec):
        super().__init__()
        dims = spec["dims"]
        Conv = nn.Conv1d if dims == 1 else nn.Conv2d
        BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.dims = dims
        self.bn1 = BN(cin)
        self.conv1 = Conv(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = BN(cout)
        self.conv2 = Conv(cout, cout, 3, padding=1, bias=False)
        self.shrink = Shrinkage(cout, dims, spec["kind"], spec["thr"], spec["soft"])
        self.pool = None
        if stride != 1:
            Pool = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
            self.pool = Pool(kernel_size=1, stride=stride)
        self.extra = cout - cin

    def forward(self, x):
        r = self.conv1(F.relu(self.bn1(x)))
        r = self.conv2(F.relu(self.bn2(r)))
        y = self.shrink(r)
        s = x if self.pool is None else self.pool(x)
        if self.extra:
            s = F.pad(s, (0, 0) * self.dims + (0, self.extra))
        return y + s


class PostUnit(nn.Module):
    """Post-activation port: Conv-BN-ReLU-Conv-BN, shrinkage, add, ReLU; projection
    shortcut Conv1x1(stride s) + BN when the shape changes."""

    def __init__(self, cin, cout, stride, spec):
        super().__init__()
        dims = spec["dims"]
        Conv = nn.Conv1d if dims == 1 else nn.Conv2d
        BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.conv1 = Conv(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BN(cout)
        self.conv2 = Conv(cout, cout, 3, padding=1, bias=False)
        self.bn2 = BN(cout)
        self.shrink = Shrinkage(cout, dims, spec["kind"], spec["thr"], spec["soft"])
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(Conv(cin, cout, 1, stride=stride, bias=False), BN(cout))

    def forward(self, x):
        r = F.relu(self.bn1(self.conv1(x)))
        r = self.bn2(self.conv2(r))
        y = self.shrink(r)
        s = x if self.proj is None else self.proj(x)
        return F.relu(y + s)


class DRSN(nn.Module):
    def __init__(self, spec, classes=10):
        super().__init__()
        dims = spec["dims"]
        Conv = nn.Conv1d if dims == 1 else nn.Conv2d
        BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        widths = spec["widths"]
        self.post = spec["block"] == "post"
        stem = [Conv(spec["cin"], widths[0], 3, stride=spec["stem_stride"], padding=1, bias=False)]
        if self.post:
            stem += [BN(widths[0]), nn.ReLU()]
        self.stem = nn.Sequential(*stem)
        Unit = PostUnit if self.post else PreUnit
        layers, c = [], widths[0]
        for w, n, s in zip(widths, spec["units"], spec["strides"]):
            for i in range(n):
                layers.append(Unit(c, w, s if i == 0 else 1, spec))
                c = w
        self.units = nn.Sequential(*layers)
        self.bn = None if self.post else BN(c)
        self.gap = nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.units(self.stem(x))
        if self.bn is not None:
            x = F.relu(self.bn(x))
        return self.fc(torch.flatten(self.gap(x), 1))


def randomize(model: nn.Module, gen: torch.Generator) -> None:
    """He-normal conv / linear weights, small random biases, non-trivial BatchNorm statistics
    and LayerNorm affine parameters, uniform recurrent weights (PyTorch's own range). Shared
    with export_variants.py (the zoo's models have no transposed convolution, LayerNorm or
    recurrent layer: their draws are those of the convolution / linear / BatchNorm cases)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.Linear)):
                fan_in = m.weight[0].numel() if not isinstance(m, nn.ConvTranspose1d) else m.weight.shape[0] * m.weight.shape[2]
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(0.75 + 0.5 * torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
            elif isinstance(m, (nn.GRU, nn.LSTM)):
                bound = 1.0 / m.hidden_size ** 0.5
                for p in m.parameters():
                    p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * bound)


def seeded_model(make, seed: int) -> nn.Module:
    """make() under torch.manual_seed(seed), randomized from seed + 1000, in eval mode."""
    torch.manual_seed(seed)
    model = make()
    randomize(model, torch.Generator().manual_seed(seed + 1000))
    model.eval()
    return model


def random_input(seed: int, sample, batch: int) -> np.ndarray:
    """Standard normal float32 [batch, *sample] from seed + 2000 + batch."""
    rng = np.random.default_rng(seed + 2000 + batch)
    return rng.standard_normal((batch,) + tuple(sample)).astype(np.float32)


def build(variant: str):
    spec = VARIANTS[variant]
    model = seeded_model(lambda: DRSN(spec), spec["seed"])
    sample = (spec["cin"],) + (spec["size"],) * spec["dims"]
    return model, sample


def make_input(variant: str, sample, batch: int) -> np.ndarray:
    return random_input(VARIANTS[variant]["seed"], sample, batch)


def export_ts(model, sample, opset: int, output: str = "logits") -> bytes:
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.zeros((2,) + sample),), buf, dynamo=False, opset_version=opset,
                      input_names=["input"], output_names=[output],
                      dynamic_axes={"input": {0: "batch"}, output: {0: "batch"}},
                      do_constant_folding=True)
    return buf.getvalue()


STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


def drop_stack_traces(model: onnx.ModelProto) -> onnx.ModelProto:
    """Removes the dynamo exporter's per-node stack traces (metadata_props
    "pkg.torch.onnx.stack_trace"): they quote absolute paths of the exporting machine
    (its checkout, its Python installation), which must not be committed. The graph and
    the other metadata are untouched."""
    def graphs(g: onnx.GraphProto):
        yield g
        for n in g.node:
            for a in n.attribute:
                if a.HasField("g"):
                    yield from graphs(a.g)
                for sub in a.graphs:
                    yield from graphs(sub)
    nodes = [n for g in graphs(model.graph) for n in g.node] + [n for f in model.functions for n in f.node]
    for n in nodes:
        kept = [p for p in n.metadata_props if p.key != STACK_TRACE_KEY]
        if len(kept) != len(n.metadata_props):
            del n.metadata_props[:]
            n.metadata_props.extend(kept)
    return model


def export_dynamo(model, sample, opset: int | None = None, output: str = "logits") -> bytes:
    """opset None: the exporter's default opset."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    prog = torch.onnx.export(model, (torch.zeros((2,) + sample),), dynamo=True, opset_version=opset,
                             input_names=["input"], output_names=[output],
                             dynamic_shapes={"x": {0: batch}}, optimize=True,
                             verbose=False)
    # one self-contained file (no external data)
    return drop_stack_traces(prog.model_proto).SerializeToString()


def ort_session(data: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def describe(data: bytes) -> tuple[int, int, list[str]]:
    m = onnx.load_from_string(data)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    ops = list(dict.fromkeys(n.op_type for n in m.graph.node))
    return opset, len(m.graph.node), ops


def exported(model, sample, exporter: str, opset: int | None, output: str = "logits") -> bytes:
    """The model exported by "ts" (at `opset`) or "dynamo" (at `opset`, None: its default)
    with the exporters' warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (export_ts(model, sample, opset, output) if exporter == "ts"
                else export_dynamo(model, sample, opset, output))


def check_file(data: bytes, opset: int | None) -> tuple[int, int, list[str]]:
    """describe(data) after checking the file: the opset asked for (unless None), under
    MAX_BYTES, onnx.checker's full check."""
    file_opset, nodes, ops = describe(data)
    if opset is not None and file_opset != opset:
        raise RuntimeError(f"asked for opset {opset}, file declares {file_opset}")
    if len(data) >= MAX_BYTES:
        raise RuntimeError(f"{len(data)} bytes >= {MAX_BYTES}")
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return file_opset, nodes, ops


def torch_and_ort(model, sess: ort.InferenceSession, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's and onnxruntime's outputs on x."""
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    return ref, sess.run(None, {sess.get_inputs()[0].name: x})[0]


def save_files(out: Path, stem: str, data: bytes, x: np.ndarray, y: np.ndarray, kind: str) -> None:
    """Writes <stem>.onnx, its input <stem>.in.npy and the reference output <stem>.<kind>.npy
    (float32)."""
    (out / f"{stem}.onnx").write_bytes(data)
    np.save(out / f"{stem}.in.npy", x)
    np.save(out / f"{stem}.{kind}.npy", np.ascontiguousarray(y.astype(np.float32)))


def export_one(variant: str, exporter: str, opset: int | None, out: Path) -> dict:
    model, sample = build(variant)
    data = exported(model, sample, exporter, opset)
    file_opset, nodes, ops = check_file(data, opset)
    sess = ort_session(data)
    worst = 0.0
    for batch in (3, 7):
        x = make_input(variant, sample, batch)
        ref, got = torch_and_ort(model, sess, x)
        dev = float(np.max(np.abs(ref.astype(np.float64) - got)))
        if got.shape != ref.shape or not dev <= ATOL:
            raise RuntimeError(f"torch vs onnxruntime at batch {batch}: shape {got.shape} vs "
                               f"{ref.shape}, max deviation {dev:.3e}")
        worst = max(worst, dev)
        if batch == 3:
            x3, y3 = x, got
    name = f"{variant}.{exporter}{file_opset}"
    save_files(out, name, data, x3, y3, "out")
    return dict(name=name, variant=variant, exporter=exporter, opset=file_opset, nodes=nodes,
                ops=ops, bytes=len(data), dev=worst, logit=float(np.max(np.abs(y3))))


def spec_text(variant: str) -> str:
    s = VARIANTS[variant]
    inp = "x".join(map(str, (s["cin"],) + (s["size"],) * s["dims"]))
    return (f"{s['block']}-act, soft={s['soft']}, thr={s['thr']}, RSBU-{s['kind'].upper()}, "
            f"{s['dims']}-D [N,{inp.replace('x', ',')}], widths {'/'.join(map(str, s['widths']))}")


def versions() -> str:
    """"torch X, onnx Y, onnxruntime Z[, onnxscript W]": what the files were exported with."""
    try:
        import onnxscript
    except ImportError:
        script = ""
    else:
        script = f", onnxscript {onnxscript.__version__}"
    return f"torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}{script}"


def write_readme(out: Path, rows: list[dict], skipped: list[str]) -> None:
    lines = [
        "# DRSN export zoo",
        "",
        "Generated by `Tests/models/export_zoo.py` (do not edit by hand; rerun the script).",
        "Random-weight DRSN variants (fixed seeds, non-trivial BatchNorm statistics, eval mode,",
        "dynamic batch `batch`), input `input`, output `logits` [N,10]. Each `<name>.onnx` has",
        "`<name>.in.npy` (float32, batch 3) and `<name>.out.npy` (onnxruntime output on it, graph",
        "optimisations off). torch and onnxruntime agree within 1e-4 on every file (checked at",
        "export time at batch 3 and 7). Names: `<variant>.<exporter><opset>.onnx`; exporter `ts` =",
        "TorchScript (`dynamo=False`), `dynamo` = `torch.onnx.export(dynamo=True)` at its default",
        "opset. See the script's docstring for the variants' architecture. The dynamo files are",
        "larger: that exporter stores per-node metadata (namespaces, FX nodes; its stack traces,",
        "which quote the exporting machine's paths, are removed).",
        "",
        f"Exported with {versions()}. Used by Tests/python/test_zoo.py and by",
        "Tests/c/test_capi.c and Tests/c/test_cpp.cpp (through Tests/c/run.sh).",
        "",
        "| file | variant | exporter | opset | nodes | bytes | op types |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: r["name"]):
        lines.append(f"| {r['name']}.onnx | {r['variant']} ({spec_text(r['variant'])}) | "
                     f"{'TorchScript' if r['exporter'] == 'ts' else 'dynamo'} | {r['opset']} | "
                     f"{r['nodes']} | {r['bytes']} | {' '.join(r['ops'])} |")
    lines += ["", "Skipped exporter/opset combinations (export failed):", ""]
    lines += [f"- {s}" for s in skipped] or ["- none: every variant exported at TorchScript opsets "
                                             f"{', '.join(map(str, TS_OPSETS))}"]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def parse_args(argv, doc: str, names, exporters_help: str, out: Path) -> argparse.Namespace:
    """The exporters' command line (--only NAME..., --exporters TAG..., --out DIR); also
    limits torch to one thread and creates the output folder."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(names), default=list(names))
    ap.add_argument("--exporters", nargs="*", default=None, help=exporters_help)
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def export_all(args: argparse.Namespace, combos, export, summary) -> tuple[list[dict], list[str]]:
    """export(name, exporter, opset, args.out) for every name of args.only and every
    (exporter, opset) of combos(name) whose tag ("ts17", "dynamo", "dynamo18") is in
    args.exporters (None: all); prints summary(row) for each file, and "SKIPPED ..." for a
    combination that raises. Returns the rows and the skipped combinations."""
    rows, skipped = [], []
    for name in args.only:
        for exporter, opset in combos(name):
            tag = f"{exporter}{opset or ''}"
            if args.exporters is not None and tag not in args.exporters:
                continue
            try:
                r = export(name, exporter, opset, args.out)
            except Exception as exc:  # noqa: BLE001 - report and skip the combination
                msg = f"{name} {tag}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                print("SKIPPED", msg, flush=True)
                skipped.append(msg)
                continue
            rows.append(r)
            print(summary(r), flush=True)
    return rows, skipped


def main(argv=None) -> int:
    args = parse_args(argv, __doc__, VARIANTS, "subset of ts11 ts13 ts17 ts18 dynamo (default: all)", ZOO)

    def combos(variant):
        return [("ts", o) for o in TS_OPSETS] + ([("dynamo", None)] if VARIANTS[variant]["dynamo"] else [])

    rows, skipped = export_all(args, combos, export_one,
                               lambda r: f"{r['name']}: {r['nodes']} nodes, {r['bytes']} bytes, |torch - ort| "
                                         f"{r['dev']:.2e}, |logit| max {r['logit']:.2f}; {' '.join(r['ops'])}")
    if args.exporters is None and args.only == list(VARIANTS):
        write_readme(args.out, rows, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
