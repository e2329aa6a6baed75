#!/usr/bin/env python3
"""Train a DRSN-CW and a plain ResNet of the same size on CWRU bearing data,
measure noise robustness, export ONNX models and a small committed test set.

Development tool for drsn (not needed at run time). Reproducible: fixed seeds,
single-threaded torch, deterministic algorithms.

Typical use (everything; ~3.5 min per net for 20 epochs at ~10 s/epoch on one
free CPU core, plus ~1 min for evaluation and export):

    python3 examples/bearing/train.py          # data: ../shared/data/cwru next to the repository

Stages can also be run separately (e.g. to train both nets in parallel):

    python3 examples/bearing/train.py --stage train --nets drsn
    python3 examples/bearing/train.py --stage train --nets resnet
    python3 examples/bearing/train.py --stage export

Data preparation
----------------
* Signals: drive-end accelerometer, 12 kHz, one .npy per recording (manifest.json
  maps file -> label / load).
* Window length 2048 samples = 171 ms.  At 1720-1797 rpm one shaft rotation is
  401-419 samples, so a window covers ~5 rotations (4.98 at 1750 rpm; an earlier
  note said ~5.8, which is wrong).  The defect frequencies of the 6205 drive-end
  bearing are 5.42x (BPFI), 3.58x (BPFO) and 2.36x (BSF) the shaft frequency,
  i.e. ~158 / 105 / 69 Hz at 1750 rpm, so a window holds roughly 12 to 27
  fault-impact periods: enough repeated impacts for a decision, while short
  enough for low latency and a cheap model.
* Train windows: hop 512 from the FIRST 70 % of every recording.
  Test windows:  hop 2048 (non-overlapping) from the LAST 30 % of every recording.
  No test sample lies in any training window.
* Each window is normalised on its own: (w - mean(w)) / (std(w) + 1e-8)
  (population std).  The ONNX models expect normalised windows.
* Noise robustness: white Gaussian noise added to the RAW window BEFORE the
  normalisation, noise power = mean(w^2) / 10^(SNR/10), fixed seeds,
  averaged over several draws.  The same noisy windows are given to both nets.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WIN = 2048
TRAIN_HOP = 512
TEST_HOP = 2048
TRAIN_FRACTION = 0.7
EPS = 1e-8
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data", "cwru")


def recorded_args(args):
    """The arguments as written into the logs and results.json: paths relative to the
    repository (no machine-specific absolute path in committed files), the scratch folder
    --work left out."""
    rec = {k: v for k, v in vars(args).items() if k != "work"}
    for key in ("data", "out", "docs"):
        if isinstance(rec.get(key), str):
            rec[key] = os.path.relpath(os.path.abspath(rec[key]), REPO)
    return rec


# ----------------------------------------------------------------------------- data

def load_manifest(data_dir):
    with open(os.path.join(data_dir, "manifest.json")) as f:
        return json.load(f)


def split_point(n):
    return int(TRAIN_FRACTION * n)


def cut_windows(data_dir, manifest):
    """Returns dict with raw train/test windows, labels and per-window metadata."""
    tr_x, tr_y, te_x, te_y, te_meta = [], [], [], [], []
    for entry in manifest["files"]:
        sig = np.load(os.path.join(data_dir, entry["file"])).astype(np.float32).reshape(-1)
        n = sig.shape[0]
        s = split_point(n)
        for start in range(0, s - WIN + 1, TRAIN_HOP):
            tr_x.append(sig[start:start + WIN])
            tr_y.append(entry["label"])
        for start in range(s, n - WIN + 1, TEST_HOP):
            te_x.append(sig[start:start + WIN])
            te_y.append(entry["label"])
            te_meta.append((entry["file"], entry["label"], entry["load_hp"], start))
    return (np.stack(tr_x), np.array(tr_y, dtype=np.int64),
            np.stack(te_x), np.array(te_y, dtype=np.int64), te_meta)


def normalise(w):
    """Per-window z-score. w: [N, L] float."""
    w = w.astype(np.float64)
    m = w.mean(axis=1, keepdims=True)
    s = w.std(axis=1, keepdims=True)
    return ((w - m) / (s + EPS)).astype(np.float32)


def add_noise(raw, snr_db, rng):
    """White Gaussian noise at the given SNR, relative to each raw window's power."""
    p = np.mean(raw.astype(np.float64) ** 2, axis=1, keepdims=True)
    sigma = np.sqrt(p / (10.0 ** (snr_db / 10.0)))
    return (raw + sigma * rng.standard_normal(raw.shape)).astype(np.float32)


# ---------------------------------------------------------------------------- model

class ShrinkageUnit(nn.Module):
    """Pre-activation residual shrinkage building unit with channel-wise thresholds
    (RSBU-CW, Zhao et al. 2020).  With shrink=False the same unit without the
    shrinkage step (plain pre-activation residual unit)."""

    def __init__(self, cin, cout, stride, shrink=True):
        super().__init__()
        self.cin, self.cout, self.stride, self.shrink = cin, cout, stride, shrink
        self.bn1 = nn.BatchNorm1d(cin)
        self.conv1 = nn.Conv1d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(cout)
        self.conv2 = nn.Conv1d(cout, cout, 3, padding=1, bias=False)
        if shrink:
            self.fc1 = nn.Linear(cout, cout)
            self.bn_fc = nn.BatchNorm1d(cout)
            self.fc2 = nn.Linear(cout, cout)

    def forward(self, x, stats=None):
        r = self.conv1(F.relu(self.bn1(x)))
        r = self.conv2(F.relu(self.bn2(r)))
        tau = None
        if self.shrink:
            a = r.abs().mean(dim=2)                                   # [N, C]
            z = torch.sigmoid(self.fc2(F.relu(self.bn_fc(self.fc1(a)))))
            tau = a * z                                               # [N, C]
            t = tau.unsqueeze(2)
            if stats is not None:
                stats.append((r.abs() <= t).float().mean(dim=(1, 2)))  # per-window fraction
            r = torch.sign(r) * F.relu(r.abs() - t)
        sc = x
        if self.stride != 1:
            sc = F.avg_pool1d(sc, kernel_size=1, stride=self.stride)
        if self.cout != self.cin:
            sc = F.pad(sc, (0, 0, 0, self.cout - self.cin))           # zero channels
        return r + sc, tau


class Net(nn.Module):
    def __init__(self, shrink=True, widths=(4, 8, 16), units=(3, 3, 3), classes=10,
                 return_taus=False):
        super().__init__()
        self.return_taus = return_taus
        self.stem = nn.Conv1d(1, widths[0], 3, stride=2, padding=1, bias=False)
        blocks, cin = [], widths[0]
        for si, (w, n) in enumerate(zip(widths, units)):
            for ui in range(n):
                stride = 2 if (si > 0 and ui == 0) else 1
                blocks.append(ShrinkageUnit(cin, w, stride, shrink))
                cin = w
        self.units = nn.ModuleList(blocks)
        self.bn = nn.BatchNorm1d(cin)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x, stats=None):
        h = self.stem(x)
        taus = []
        for u in self.units:
            h, tau = u(h, stats)
            if tau is not None:
                taus.append(tau)
        h = F.relu(self.bn(h)).mean(dim=2)
        logits = self.fc(h)
        if self.return_taus:
            return (logits, *taus)
        return logits


def build(name, args, return_taus=False):
    return Net(shrink=(name == "drsn"), widths=tuple(args.widths), units=tuple(args.units),
               return_taus=return_taus)


def count_macs(model):
    """Multiply-accumulates per sample of Conv1d / Linear layers (elementwise ops excluded)."""
    macs = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv1d):
            macs.append(out.shape[1] * out.shape[2] * m.in_channels // m.groups * m.kernel_size[0])
        elif isinstance(m, nn.Linear):
            macs.append(m.in_features * m.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, WIN))
    for h in hs:
        h.remove()
    return int(sum(macs))


# ------------------------------------------------------------------------- training

def predict(model, x, batch=256):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            o = model(torch.from_numpy(x[i:i + batch]).unsqueeze(1))
            out.append(o[0] if isinstance(o, tuple) else o)
    return torch.cat(out).numpy()


def accuracy(model, x, y):
    return float((predict(model, x).argmax(1) == y).mean())


def train_net(name, args, data):
    tr_x, tr_y, te_x, te_y = data
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = build(name, args)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(tr_x) / args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    te_n = normalise(te_x)
    log = []
    for ep in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = rng.permutation(len(tr_x))
        loss_sum = 0.0
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            raw = tr_x[idx]
            if args.aug_snr_min is not None:
                # noise augmentation, same recipe for both nets: the first
                # aug_fraction of the (shuffled) batch gets noise at SNR ~ U(min, max) dB
                k = int(round(len(idx) * args.aug_fraction))
                snr = rng.uniform(args.aug_snr_min, args.aug_snr_max, size=(k, 1))
                p = np.mean(raw[:k].astype(np.float64) ** 2, axis=1, keepdims=True)
                raw = raw.copy()
                raw[:k] += (np.sqrt(p / 10 ** (snr / 10)) *
                            rng.standard_normal((k, WIN))).astype(np.float32)
            xb = torch.from_numpy(normalise(raw)).unsqueeze(1)
            yb = torch.from_numpy(tr_y[idx])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
        acc = accuracy(model, te_n, te_y)
        rec = dict(epoch=ep + 1, loss=loss_sum / len(perm), test_acc=acc, secs=time.time() - t0)
        log.append(rec)
        print(f"[{name}] epoch {ep + 1}/{args.epochs} loss {rec['loss']:.4f} "
              f"clean test acc {acc:.4f} ({rec['secs']:.0f}s)", flush=True)
    return model, log


def noise_eval(models, te_x, te_y, snrs, draws, seed):
    res = {n: {"clean": accuracy(m, normalise(te_x), te_y)} for n, m in models.items()}
    for snr in snrs:
        accs = {n: [] for n in models}
        for d in range(draws):
            rng = np.random.default_rng([seed, d, int(round(snr * 100)) + 100000])
            xn = normalise(add_noise(te_x, snr, rng))
            for n, m in models.items():
                accs[n].append(accuracy(m, xn, te_y))
        for n in models:
            res[n][f"{snr:g}dB"] = float(np.mean(accs[n]))
            res[n][f"{snr:g}dB_draws"] = accs[n]
    return res


# --------------------------------------------------------------------------- export

def export_onnx(model, path, output_names):
    model.eval()
    dummy = torch.zeros(2, 1, WIN)
    dyn = {"signal": {0: "batch"}}
    dyn.update({o: {0: "batch"} for o in output_names})
    torch.onnx.export(model, (dummy,), path, dynamo=False, opset_version=17,
                      input_names=["signal"], output_names=output_names,
                      dynamic_axes=dyn, do_constant_folding=True)
    fold_constants(path)


def fold_constants(path, max_elems=4096):
    """Replaces every non-Constant node whose inputs are all constants by an initializer.

    The TorchScript exporter turns F.pad's constant channel padding into a
    ConstantOfShape/Concat/Reshape/Slice/Transpose/Reshape/Cast chain that
    computes the (constant) `pads` tensor and does not fold it.  This pass
    evaluates such chains with onnx's reference evaluator, so the shipped graph
    only holds the ops the network really computes (Pad gets an int64 initializer).
    """
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
    model = onnx.load(path)
    g = model.graph
    const = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            const[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    folded, new_inits = set(), {}
    for i, n in enumerate(g.node):
        if n.op_type == "Constant" or not n.input:
            continue
        ins = [x for x in n.input if x]
        if not all(x in const for x in ins):
            continue
        vi = [helper.make_tensor_value_info(x, helper.np_dtype_to_tensor_dtype(const[x].dtype),
                                            const[x].shape) for x in ins]
        outs = [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in n.output]
        sub = helper.make_model(helper.make_graph([n], "fold", vi, outs),
                                opset_imports=model.opset_import)
        vals = ReferenceEvaluator(sub).run(None, {x: const[x] for x in ins})
        if any(np.asarray(v).size > max_elems for v in vals):
            continue
        for o, v in zip(n.output, vals):
            const[o] = np.asarray(v)
            new_inits[o] = np.asarray(v)
        folded.add(i)
    keep = [n for i, n in enumerate(g.node) if i not in folded]
    # drop constants nobody reads any more (dead Constant nodes, unused folded values)
    while True:
        used = {x for n in keep for x in n.input} | {o.name for o in g.output}
        dead = [n for n in keep if n.op_type == "Constant" and n.output[0] not in used]
        if not dead:
            break
        keep = [n for n in keep if n not in dead]
    for n in keep:  # trailing empty optional inputs (e.g. Pad's constant_value) are implicit
        while n.input and n.input[-1] == "":
            del n.input[-1]
    used = {x for n in keep for x in n.input} | {o.name for o in g.output}
    del g.node[:]
    g.node.extend(keep)
    for name, v in new_inits.items():
        if name in used:
            g.initializer.append(numpy_helper.from_array(v, name))
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return len(folded)


def verify_onnx(path, model, x):
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path), full_check=True)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"signal": x[:, None, :]})
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(x).unsqueeze(1))
    ref = ref if isinstance(ref, tuple) else (ref,)
    devs = [float(np.max(np.abs(o - r.numpy()))) for o, r in zip(outs, ref)]
    return max(devs), devs


def op_counts(path):
    import onnx
    from collections import Counter
    return dict(sorted(Counter(n.op_type for n in onnx.load(path).graph.node).items()))


def pick_committed(te_x, te_y, te_meta, per_class, classes):
    """Balanced subset: per class `per_class` windows spread evenly over loads/time."""
    idx = []
    for c in range(len(classes)):
        cls_idx = [i for i, m in enumerate(te_meta) if m[1] == c]
        loads = sorted({te_meta[i][2] for i in cls_idx})
        per_load = [per_class // len(loads) + (1 if k < per_class % len(loads) else 0)
                    for k in range(len(loads))]
        for ld, k in zip(loads, per_load):
            li = [i for i in cls_idx if te_meta[i][2] == ld]
            sel = np.linspace(0, len(li) - 1, k).round().astype(int)
            idx.extend(li[j] for j in sel)
    return np.array(idx)


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="CWRU recordings and manifest.json (default: ../shared/data/cwru next to the repository)")
    ap.add_argument("--work", default="/tmp/drsn_bearing_work",
                    help="checkpoints and logs (outside the repo)")
    ap.add_argument("--out", default=HERE, help="examples/bearing folder")
    ap.add_argument("--stage", choices=["all", "train", "export"], default="all")
    ap.add_argument("--nets", default="drsn,resnet")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--aug-snr-min", type=float, default=0.0,
                    help="noise augmentation: a fraction of every batch gets white noise at "
                         "SNR ~ U(this, --aug-snr-max) dB")
    ap.add_argument("--no-noise-aug", dest="aug_snr_min", action="store_const", const=None,
                    help="train on clean windows only")
    ap.add_argument("--aug-snr-max", type=float, default=20.0)
    ap.add_argument("--aug-fraction", type=float, default=0.5)
    ap.add_argument("--widths", type=int, nargs=3, default=[4, 8, 16])
    ap.add_argument("--units", type=int, nargs=3, default=[3, 3, 3])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise-seed", type=int, default=1234)
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--snrs", type=float, nargs="+", default=[8, 4, 0, -4])
    ap.add_argument("--per-class", type=int, default=32, help="committed test windows per class")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.work, exist_ok=True)
    manifest = load_manifest(args.data)
    classes = manifest["classes"]
    tr_x, tr_y, te_x, te_y, te_meta = cut_windows(args.data, manifest)
    print(f"train windows {len(tr_x)}  test windows {len(te_x)}  "
          f"train/class {np.bincount(tr_y).tolist()}  test/class {np.bincount(te_y).tolist()}", flush=True)
    nets = [n for n in args.nets.split(",") if n]

    if args.stage in ("all", "train"):
        for name in nets:
            model, log = train_net(name, args, (tr_x, tr_y, te_x, te_y))
            torch.save(model.state_dict(), os.path.join(args.work, f"{name}.pt"))
            with open(os.path.join(args.work, f"{name}_log.json"), "w") as f:
                json.dump(dict(args=recorded_args(args), log=log), f, indent=1)
    if args.stage == "train":
        return

    # ---- evaluation, export, committed data
    models = {}
    for name in ["drsn", "resnet"]:
        m = build(name, args)
        m.load_state_dict(torch.load(os.path.join(args.work, f"{name}.pt")))
        m.eval()
        models[name] = m
    res = noise_eval(models, te_x, te_y, args.snrs, args.draws, args.noise_seed)

    data_dir = os.path.join(args.out, "data")
    model_dir = os.path.join(args.out, "model")
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(model_dir, exist_ok=True)
    sel = pick_committed(te_x, te_y, te_meta, args.per_class, classes)
    cx, cy = te_x[sel].astype(np.float32), te_y[sel].astype(np.int64)
    np.save(os.path.join(data_dir, "test_windows.npy"), cx)
    np.save(os.path.join(data_dir, "test_labels.npy"), cy)
    with open(os.path.join(data_dir, "test_index.csv"), "w") as f:
        f.write("row,file,label,class,load_hp,start_sample\n")
        for r, i in enumerate(sel):
            fn, lab, ld, st = te_meta[i]
            f.write(f"{r},{fn},{lab},{classes[lab]},{ld},{st}\n")
    with open(os.path.join(data_dir, "classes.json"), "w") as f:
        json.dump(classes, f, indent=1)
    tail_entry = next(e for e in manifest["files"] if e["file"] == "IR007_1.npy")
    sig = np.load(os.path.join(args.data, tail_entry["file"])).astype(np.float32).reshape(-1)
    tail = sig[split_point(len(sig)):]
    np.save(os.path.join(data_dir, "IR007_1_tail.npy"), tail)

    cxn = normalise(cx)
    for name in ["drsn", "resnet"]:
        res[name]["committed_clean"] = accuracy(models[name], cxn, cy)
        res[name]["params"] = sum(p.numel() for p in models[name].parameters())
        res[name]["macs"] = count_macs(models[name])

    # ONNX
    info = {}
    p_drsn = os.path.join(model_dir, "drsn_cwru.onnx")
    p_taus = os.path.join(model_dir, "drsn_cwru_taus.onnx")
    p_res = os.path.join(model_dir, "resnet_cwru.onnx")
    export_onnx(models["drsn"], p_drsn, ["logits"])
    export_onnx(models["resnet"], p_res, ["logits"])
    drsn_t = build("drsn", args, return_taus=True)
    drsn_t.load_state_dict(models["drsn"].state_dict())
    drsn_t.eval()
    n_units = len(drsn_t.units)
    tau_names = [f"tau_{k}" for k in range(n_units)]
    export_onnx(drsn_t, p_taus, ["logits"] + tau_names)
    te_n = normalise(te_x)
    for key, path, m in [("drsn_cwru.onnx", p_drsn, models["drsn"]),
                         ("drsn_cwru_taus.onnx", p_taus, drsn_t),
                         ("resnet_cwru.onnx", p_res, models["resnet"])]:
        dev, devs = verify_onnx(path, m, te_n)
        info[key] = dict(max_abs_dev=dev, per_output_dev=devs, ops=op_counts(path),
                         bytes=os.path.getsize(path))
        print(f"{key}: max |torch - ort| = {dev:.3g}  size {info[key]['bytes']} B", flush=True)

    # reference outputs for the committed windows (oracle for runtime tests)
    stats = []
    with torch.no_grad():
        outs = drsn_t(torch.from_numpy(cxn).unsqueeze(1), stats)
    ref = {"logits": outs[0].numpy(),
           "zero_fraction": torch.stack(stats).numpy(),               # [units, N]
           "zero_fraction_mean": torch.stack(stats).mean(1).numpy()}  # [units]
    for k, t in enumerate(outs[1:]):
        ref[f"tau_{k}"] = t.numpy()
    with torch.no_grad():
        ref["resnet_logits"] = models["resnet"](torch.from_numpy(cxn).unsqueeze(1)).numpy()
    np.savez_compressed(os.path.join(model_dir, "drsn_cwru_reference.npz"), **ref)
    # zero fractions on the full test split as well (for the docs)
    stats_full = []
    with torch.no_grad():
        for i in range(0, len(te_n), 256):
            s = []
            drsn_t(torch.from_numpy(te_n[i:i + 256]).unsqueeze(1), s)
            stats_full.append(torch.stack(s))
    zf_full = torch.cat(stats_full, dim=1).mean(1).numpy()

    summary = dict(results=res, onnx=info, zero_fraction_full_test=zf_full.tolist(),
                   zero_fraction_committed=ref["zero_fraction_mean"].tolist(),
                   n_train=len(tr_x), n_test=len(te_x), n_committed=len(cx),
                   test_per_class=np.bincount(te_y).tolist(), args=recorded_args(args))
    for name in ["drsn", "resnet"]:
        lp = os.path.join(args.work, f"{name}_log.json")
        if os.path.exists(lp):
            summary[f"{name}_train_log"] = json.load(open(lp))
    with open(os.path.join(model_dir, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if not kk.endswith("draws")}
                      for k, v in res.items()}, indent=1))


if __name__ == "__main__":
    main()
