#!/usr/bin/env python3
"""Exports the benchmark DRSN models to benchmarks/models/ (ONNX + one batch-64 input).

    python3 benchmarks/export_models.py            # writes benchmarks/models/*.onnx, *.in.npy
    python3 benchmarks/export_models.py --check    # also compares each file with torch

Models (random weights, fixed seeds; BatchNorm running statistics and affine
parameters made non-trivial; eval mode; TorchScript exporter (dynamo=False), opset 17,
dynamic batch "batch", input "input", output "logits"):

  drsn_cw_1d       [N,1,2048]   widths 4/8/16,    3+3+3 units, RSBU-CW   (~1.95 MFLOPs/sample)
  drsn_cs_1d       [N,1,2048]   widths 4/8/16,    3+3+3 units, RSBU-CS   (channel-shared)
  drsn_cw_2d       [N,3,32,32]  widths 16/32/64,  3+3+3 units, RSBU-CW   (~81 MFLOPs/sample)
  drsn_cw_1d_wide  [N,1,4096]   widths 32/64/128, 3+3+3 units, RSBU-CW   (~246 MFLOPs/sample)

Architecture (Zhao et al. 2020, pre-activation residual shrinkage units; the same as
../shared/fixtures): stem Conv(k3, pad 1) -> units -> BN -> ReLU -> GAP -> FC(10).
Unit: BN -> ReLU -> Conv(k3, stride s, pad 1) -> BN -> ReLU -> Conv(k3, pad 1) -> r;
thresholds tau; y = sign(r) * relu(|r| - tau); out = y + shortcut(x), where shortcut is
the identity or AvgPool(kernel 1, stride 2) followed by zero padding of new channels.

  RSBU-CW (channel-wise):  a = GAP(|r|) [N,C]; z = sigmoid(FC(ReLU(BN(FC(a))))) [N,C];
                           tau = a * z, shape [N,C,1(,1)].
  RSBU-CS (channel-shared): a = mean(|r|) over channels and positions [N,1];
                           z = sigmoid(FC_C->1(ReLU(BN(FC_C->C(GAP(|r|)))))) [N,1];
                           tau = a * z, shape [N,1,1].

1-D models: stem stride 2 and every stage's first unit has stride 2 (as in the
fixtures); 2-D (CIFAR-style): stem stride 1, strides 1/2/2 for the stages.

FLOPs/sample: 2 x MACs of every convolution and fully connected layer (the ONNX Conv
and Gemm nodes), counted at batch 1; BN, pooling and elementwise ops are not counted.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
MODELS_DIR = HERE / "models"

# name -> (dims, in_channels, length/size, widths, units per stage, stem stride,
#          first-unit strides, threshold kind, seed)
SPECS = {
    "drsn_cw_1d": dict(dims=1, cin=1, size=2048, widths=(4, 8, 16), units=(3, 3, 3),
                       stem_stride=2, strides=(2, 2, 2), kind="cw", seed=1001),
    "drsn_cs_1d": dict(dims=1, cin=1, size=2048, widths=(4, 8, 16), units=(3, 3, 3),
                       stem_stride=2, strides=(2, 2, 2), kind="cs", seed=1002),
    "drsn_cw_2d": dict(dims=2, cin=3, size=32, widths=(16, 32, 64), units=(3, 3, 3),
                       stem_stride=1, strides=(1, 2, 2), kind="cw", seed=1003),
    "drsn_cw_1d_wide": dict(dims=1, cin=1, size=4096, widths=(32, 64, 128), units=(3, 3, 3),
                            stem_stride=2, strides=(2, 2, 2), kind="cw", seed=1004),
}

BATCH = 64  # batch of the committed input .npy
MAX_BYTES = 3 << 20


class Shrinkage(nn.Module):
    """Threshold network + soft thresholding (CW: one threshold per channel; CS: one per
    sample)."""

    def __init__(self, channels: int, dims: int, kind: str):
        super().__init__()
        self.kind = kind
        self.dims = dims
        self.gap = nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(channels, channels)
        self.bn = nn.BatchNorm1d(channels)
        self.fc2 = nn.Linear(channels, channels if kind == "cw" else 1)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        x_abs = torch.abs(r)
        a = torch.flatten(self.gap(x_abs), 1)                      # [N, C]
        z = torch.sigmoid(self.fc2(F.relu(self.bn(self.fc1(a)))))  # [N, C] or [N, 1]
        if self.kind == "cs":
            a = torch.mean(a, dim=1, keepdim=True)                 # mean over C and positions
        tau = a * z
        tau = tau.unsqueeze(-1) if self.dims == 1 else tau.unsqueeze(-1).unsqueeze(-1)
        return torch.sign(r) * F.relu(x_abs - tau)


class RSBU(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, dims: int, kind: str):
        super().__init__()
        Conv = nn.Conv1d if dims == 1 else nn.Conv2d
        BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.dims = dims
        self.bn1 = BN(cin)
        self.conv1 = Conv(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = BN(cout)
        self.conv2 = Conv(cout, cout, 3, stride=1, padding=1, bias=False)
        self.shrink = Shrinkage(cout, dims, kind)
        self.pool = None
        if stride != 1:
            Pool = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
            self.pool = Pool(kernel_size=1, stride=stride)
        self.extra = cout - cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.conv1(F.relu(self.bn1(x)))
        r = self.conv2(F.relu(self.bn2(r)))
        y = self.shrink(r)
        s = x if self.pool is None else self.pool(x)
        if self.extra:
            s = F.pad(s, (0, 0) * self.dims + (0, self.extra))
        return y + s


class DRSN(nn.Module):
    def __init__(self, dims, cin, widths, units, stem_stride, strides, kind, classes=10):
        super().__init__()
        Conv = nn.Conv1d if dims == 1 else nn.Conv2d
        BN = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.stem = Conv(cin, widths[0], 3, stride=stem_stride, padding=1, bias=False)
        layers = []
        c = widths[0]
        for w, n, s in zip(widths, units, strides):
            for i in range(n):
                layers.append(RSBU(c, w, s if i == 0 else 1, dims, kind))
                c = w
        self.units = nn.Sequential(*layers)
        self.bn = BN(c)
        self.gap = nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.units(self.stem(x))
        x = F.relu(self.bn(x))
        return self.fc(torch.flatten(self.gap(x), 1))


def randomize(model: nn.Module, gen: torch.Generator) -> None:
    """He-normal conv / FC weights (activations keep their scale through the depth, so
    the logits are O(1) and a 1e-4 tolerance is meaningful), small random biases, and
    non-trivial running statistics and affine parameters for every BatchNorm."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))


def build(name: str) -> tuple[DRSN, tuple[int, ...]]:
    spec = SPECS[name]
    torch.manual_seed(spec["seed"])
    model = DRSN(spec["dims"], spec["cin"], spec["widths"], spec["units"],
                 spec["stem_stride"], spec["strides"], spec["kind"])
    randomize(model, torch.Generator().manual_seed(spec["seed"] + 1))
    model.eval()
    sample = (spec["cin"],) + (spec["size"],) * spec["dims"]
    return model, sample


def make_input(name: str, sample: tuple[int, ...], batch: int = BATCH) -> np.ndarray:
    rng = np.random.default_rng(SPECS[name]["seed"] + 2)
    return rng.standard_normal((batch,) + sample).astype(np.float32)


def export(model: nn.Module, sample: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    dummy = torch.zeros((2,) + sample)
    torch.onnx.export(model, (dummy,), buf, dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    return buf.getvalue()


def count_flops(model: nn.Module, sample: tuple[int, ...]) -> int:
    """2 x MACs of every convolution and fully connected layer, per sample (forward
    hooks on a batch-1 run): a conv output element costs (Cin/groups) x kernel MACs, an
    FC output element in_features MACs. BN, pooling, elementwise ops are not counted."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features
        else:
            macs += output.numel() * module.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros((1,) + sample))
    finally:
        for h in handles:
            h.remove()
    return 2 * macs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="*", default=list(SPECS), choices=list(SPECS))
    ap.add_argument("--out", type=Path, default=MODELS_DIR)
    ap.add_argument("--check", action="store_true",
                    help="compare torch with onnxruntime on the exported file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        model, sample = build(name)
        data = export(model, sample)
        if len(data) >= MAX_BYTES:
            print(f"{name}: {len(data)} bytes >= {MAX_BYTES}", file=sys.stderr)
            return 1
        x = make_input(name, sample)
        (args.out / f"{name}.onnx").write_bytes(data)
        np.save(args.out / f"{name}.in.npy", x)
        flops = count_flops(model, sample)
        line = (f"{name}: input [N,{','.join(map(str, sample))}], {len(data) / 1e6:.2f} MB, "
                f"{flops / 1e6:.3f} MFLOPs/sample ({flops} FLOPs)")
        if args.check:
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
            with torch.no_grad():
                ref = model(torch.from_numpy(x)).numpy()
            got = sess.run(None, {"input": x})[0]
            line += (f"; |torch - ort| max {np.max(np.abs(ref - got)):.2e}, "
                     f"|logit| max {np.max(np.abs(ref)):.2f}")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
