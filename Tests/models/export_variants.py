#!/usr/bin/env python3
"""Exports DRSN variants from the literature that go beyond the classifier zoo into
Tests/models/variants/: the shrinkage unit combined with recurrent layers, with a
transposed-convolution decoder and with a LayerNorm / self-attention block. Used by
Tests/python/test_variants.py.

Needs PyTorch, which the project's .venv does not have: run it once from a separate
environment, e.g.

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch onnx onnxscript onnxruntime numpy
    /tmp/torchenv/bin/python Tests/models/export_variants.py            # (re)writes variants/
    /tmp/torchenv/bin/python Tests/models/export_variants.py --only drsn_gru --exporters ts14

Models (random weights, fixed seeds, eval mode, dynamic batch "batch", input "input"
[N, 1, L]; the feature extractor is a 1-D DRSN: stem Conv1d, pre-activation RSBU-CW units
(Tests/models/export_zoo.py's `PreUnit`: BN -> ReLU -> Conv -> BN -> ReLU -> Conv ->
channel-wise soft thresholding with a learned threshold -> + shortcut), BN -> ReLU):

  drsn_gru        DRSN features [N, 8, T] -> GRU(8 -> 12, batch_first) -> last step ->
                  Linear(12 -> 1): remaining-useful-life style regression, output "rul" [N, 1]
  drsn_bilstm     DRSN features -> 2-layer bidirectional LSTM(8 -> 10, batch_first) -> mean
                  over time -> Linear(20 -> 3), output "logits" [N, 3]
  drsn_denoiser   denoising autoencoder: Conv1d(1 -> 8, k7, s2) -> RSBU-CW -> RSBU-CW(8 -> 16,
                  s2) -> BN -> ReLU encoder, ConvTranspose1d(16 -> 8, k4, s2, p1) -> ReLU ->
                  ConvTranspose1d(8 -> 1, k3, s2, p1, output_padding 1) decoder, output
                  "denoised" [N, 1, L]
  drsn_attention  DRSN features [N, 16, T] -> tokens [N, T, 16] -> x + Attention(LayerNorm(x))
                  (single head: Linear q / k / v, MatMul, scale, Softmax, MatMul, Linear) ->
                  mean over time -> Linear(16 -> 5), output "logits" [N, 5]

Exporters: "ts" = torch.onnx.export(dynamo=False) at the opsets in TS_OPSETS, "dynamo" =
torch.onnx.export(dynamo=True) at DYNAMO_OPSET. For each file <name>.onnx the script writes
<name>.in.npy (float32, batch 3) and <name>.torch.npy (PyTorch's output on it), after
checking PyTorch against onnxruntime (batch 3 and 5) within 1e-4 relative to the output
scale; a combination that fails to export or disagrees is skipped and reported in
variants/README.md, which is regenerated with the op types of every file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The zoo's DRSN unit, weight initialisation and export / check / command-line helpers.
from export_zoo import (PreUnit, check_file, export_all, exported, ort_session, parse_args,  # noqa: E402
                        random_input, save_files, seeded_model, torch_and_ort, versions)

OUT = HERE / "variants"
RTOL = 1e-4
TS_OPSETS = (14, 17)
DYNAMO_OPSET = 18
UNIT_SPEC = dict(dims=1, kind="cw", thr="fc", soft="relu")


class Extractor(nn.Module):
    """1-D DRSN feature extractor: stem Conv1d, RSBU-CW units, BN -> ReLU. [N, cin, L] ->
    [N, widths[-1], L / (stem_stride * prod(strides))]."""

    def __init__(self, cin=1, widths=(4, 8), strides=(1, 2), stem_kernel=3, stem_stride=2):
        super().__init__()
        self.stem = nn.Conv1d(cin, widths[0], stem_kernel, stride=stem_stride, padding=stem_kernel // 2, bias=False)
        units, c = [], widths[0]
        for w, s in zip(widths, strides):
            units.append(PreUnit(c, w, s, UNIT_SPEC))
            c = w
        self.units = nn.Sequential(*units)
        self.bn = nn.BatchNorm1d(c)

    def forward(self, x):
        return F.relu(self.bn(self.units(self.stem(x))))


class DRSNGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = Extractor(widths=(4, 8), strides=(1, 2))
        self.gru = nn.GRU(8, 12, batch_first=True)
        self.head = nn.Linear(12, 1)

    def forward(self, x):
        out, _ = self.gru(self.features(x).transpose(1, 2))
        return self.head(out[:, -1])


class DRSNBiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = Extractor(widths=(4, 8), strides=(1, 2))
        self.lstm = nn.LSTM(8, 10, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(20, 3)

    def forward(self, x):
        out, _ = self.lstm(self.features(x).transpose(1, 2))
        return self.head(out.mean(dim=1))


class DRSNDenoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Extractor(widths=(8, 16), strides=(1, 2), stem_kernel=7, stem_stride=2)
        self.up1 = nn.ConvTranspose1d(16, 8, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose1d(8, 1, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        return self.up2(F.relu(self.up1(self.encoder(x))))


class DRSNAttention(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.features = Extractor(widths=(8, width), strides=(1, 2))
        self.norm = nn.LayerNorm(width)
        self.q, self.k, self.v = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.proj = nn.Linear(width, width)
        self.scale = 1.0 / width ** 0.5
        self.head = nn.Linear(width, 5)

    def forward(self, x):
        t = self.features(x).transpose(1, 2)                       # [N, T, C]
        a = self.norm(t)
        scores = torch.matmul(self.q(a), self.k(a).transpose(1, 2)) * self.scale
        t = t + self.proj(torch.matmul(torch.softmax(scores, dim=-1), self.v(a)))
        return self.head(t.mean(dim=1))


# name -> (module class, input length, output name, seed)
VARIANTS = {
    "drsn_gru": (DRSNGRU, 128, "rul", 31),
    "drsn_bilstm": (DRSNBiLSTM, 96, "logits", 32),
    "drsn_denoiser": (DRSNDenoiser, 128, "denoised", 33),
    "drsn_attention": (DRSNAttention, 64, "logits", 34),
}


def build(name: str):
    cls, length, output, seed = VARIANTS[name]
    return seeded_model(cls, seed), (1, length), output


def make_input(name: str, sample, batch: int) -> np.ndarray:
    return random_input(VARIANTS[name][3], sample, batch)


def export_one(name: str, exporter: str, opset: int, out: Path) -> dict:
    model, sample, output = build(name)
    data = exported(model, sample, exporter, opset, output)
    file_opset, nodes, ops = check_file(data, opset)
    ops = sorted(ops)
    sess = ort_session(data)
    worst = 0.0
    for batch in (3, 5):
        x = make_input(name, sample, batch)
        ref, got = torch_and_ort(model, sess, x)
        scale = float(np.max(np.abs(ref)))
        dev = float(np.max(np.abs(ref.astype(np.float64) - got))) / scale
        if got.shape != ref.shape or not dev <= RTOL:
            raise RuntimeError(f"torch vs onnxruntime at batch {batch}: shape {got.shape} vs {ref.shape}, "
                               f"max deviation {dev:.3e} of the output scale {scale:.3g}")
        worst = max(worst, dev)
        if batch == 3:
            x3, y3 = x, ref
    stem = f"{name}.{exporter}{file_opset}"
    save_files(out, stem, data, x3, y3, "torch")
    return dict(name=stem, variant=name, exporter=exporter, opset=file_opset, nodes=nodes, ops=ops,
                bytes=len(data), dev=worst)


def write_readme(out: Path, rows: list[dict], skipped: list[str]) -> None:
    lines = [
        "# DRSN variants: recurrent, transposed-convolution and attention models",
        "",
        "Generated by `Tests/models/export_variants.py` (do not edit by hand; rerun the script, see its",
        "docstring for the architectures and how to run it). Random weights, fixed seeds, eval mode,",
        "dynamic batch `batch`, input `input` [N, 1, L]. Each `<name>.onnx` has `<name>.in.npy` (batch 3)",
        "and `<name>.torch.npy` (PyTorch's output on it); PyTorch and onnxruntime agree within 1e-4 of",
        "the output scale on every file (checked at export time at batch 3 and 5). Names:",
        "`<variant>.<exporter><opset>.onnx`; exporter `ts` = TorchScript (`dynamo=False`), `dynamo` =",
        "`torch.onnx.export(dynamo=True)`.",
        "",
        f"Exported with {versions()}. Used by Tests/python/test_variants.py.",
        "",
        "| file | exporter | opset | nodes | bytes | max abs(torch - onnxruntime) / scale | op types |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: r["name"]):
        lines.append(f"| {r['name']}.onnx | {'TorchScript' if r['exporter'] == 'ts' else 'dynamo'} | "
                     f"{r['opset']} | {r['nodes']} | {r['bytes']} | {r['dev']:.1e} | {' '.join(r['ops'])} |")
    lines += ["", "Skipped exporter/opset combinations:", ""]
    lines += [f"- {s}" for s in skipped] or ["- none"]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv, __doc__, VARIANTS,
                      f"subset of {' '.join(f'ts{o}' for o in TS_OPSETS)} dynamo{DYNAMO_OPSET} (default: all)", OUT)
    combos = [("ts", o) for o in TS_OPSETS] + [("dynamo", DYNAMO_OPSET)]
    rows, skipped = export_all(args, lambda name: combos, export_one,
                               lambda r: f"{r['name']}: {r['nodes']} nodes, {r['bytes']} bytes, |torch - ort| / scale "
                                         f"{r['dev']:.2e}; {' '.join(r['ops'])}")
    if args.exporters is None and args.only == list(VARIANTS):
        write_readme(args.out, rows, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
