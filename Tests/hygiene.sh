#!/usr/bin/env bash
# Tests/hygiene.sh - machine-code checks of the kernel ISA variants (fast: objdump only).
#
#   Tests/hygiene.sh          (uses .build/release; builds `swift build -c release
#                              --product drsn` first if the kernel objects are missing)
#
# The kernel source (Sources/DRSNKernelSource) is compiled as DRSNKernelsAVX512
# (-march=x86-64-v4), DRSNKernelsAVX2 (-march=x86-64-v3) and DRSNKernelsBaseline (plain
# x86-64). For each variant's object files (.build/release/DRSNKernels<V>.build/*.o) this
# disassembles (objdump -dr) and checks:
#
#  1. Hot functions. Each listed kernel function is checked WHOLE: every function listed
#     is a hot loop or the loop nest around one (GEMM register tiles, the GEMM driver and
#     its packing, conv2D with its implicit-im2col packer, direct and depthwise paths, the binary
#     and unary inner loops, shrink, absMean, the threshold network, ...), so it may contain no reference at all
#     (call or address, found through the relocations) to swift_retain/swift_release,
#     swift_bridgeObject*, swift_beginAccess, swift_allocObject, malloc, fmaf/fma, and no
#     `ud2` trap. Functions that legitimately allocate (sgemm without scratch: packing
#     memory; shape ops: withUnsafeTemporaryAllocation) are not in the list.
#  2. FMAs: the AVX-512 GEMM register tiles contain vfmadd*ps on zmm registers, the AVX2
#     ones on ymm; the baseline variant has no FMA at all (madd is mul + add there). The
#     quantized convolution (qlinearConv, with the int8 tile of Sources/CDRSNInt8Tiles
#     inlined) contains vpmaddwd on ymm in the AVX2 and AVX-512 variants.
#  3. ISA ceiling of each whole variant: baseline has no VEX/EVEX instruction (no
#     v-prefixed mnemonic, no ymm/zmm) and no fmaf reference anywhere; AVX2 has no zmm,
#     no xmm/ymm16-31 and no mask registers (no EVEX encoding).
#  4. Shared weak symbols: generic stdlib code specialised inside a variant is emitted as
#     a weak symbol that the linker keeps ONE copy of for the whole library, so every
#     variant (and DRSNCore) may end up calling the AVX-512 copy. Weak functions defined
#     in a variant that do not belong to the variant's own module must contain no
#     VEX/EVEX instruction.
#  5. In the linked .build/release/libdrsn.so (if it has a symbol table): each variant's
#     KernelSet witness of sgemm(..., scratch:) calls that variant's own ISAKernels.sgemm
#     (no variant's conformance was merged into another's), and the AVX-512 GEMM tile that
#     survived linking still has zmm FMAs (i.e. the AVX-512 code is what runs).
# Prints one summary line per checked function. Exits non-zero on any violation.
set -euo pipefail
cd "$(dirname "$0")/.."
REL=${DRSN_BUILD_DIR:-.build/release}
if ! ls "$REL"/DRSNKernelsAVX512.build/*.o >/dev/null 2>&1 && [ "$(uname -m)" = x86_64 ]; then
    swift build -c release --product drsn
fi
exec python3 - "$REL" <<'EOF'
import glob, os, re, subprocess, sys

rel = sys.argv[1]
if os.uname().machine != "x86_64":
    print("hygiene: not x86_64, skipped (one native variant)"); sys.exit(0)

VARIANTS = ["AVX512", "AVX2", "Baseline"]
# Hot functions: substrings of the mangled name (after the module prefix).
HOT = {
    "15f32GemmTile6xNR": "GEMM 6xNR register tile",
    "15f32GemmTile4xNR": "GEMM 4xNR register tile",
    "5sgemm6transA0E1B1m1n1k5alpha1a3lda1b3ldb4beta1c3ldc7scratch": "sgemm(..., scratch:) (+ closures)",
    "gemmPackedB": "GEMM driver + packing (specialised per B packer)",
    "gemvFastPath": "matrix-vector paths",
    "6conv2D_5input7weights4bias10activation6output7scratch10batchRange": "conv2D(batchRange:) (+ closures)",
    "packConvPanel": "conv implicit-im2col packer",
    "9depthwise": "depthwise conv",
    "10directConv_5input": "direct conv driver (strides 1-2)",
    "21f32DirectConvTile4xTW": "direct conv 4-channel tile (the 8-channel one exists only in AVX-512)",
    "18directScatterStore": "direct conv tile scatter",
    "14padImagePhases": "direct conv padding, phase images (+ BN -> ReLU prologue)",
    "13padImageDense": "direct conv padding, dense planes (+ BN -> ReLU prologue)",
    "25copySegmentScaleShiftRelu": "direct conv prologue row copy",
    "17directPackWeights": "direct conv weight packing",
    "12winogradConv": "Winograd F(2x2,3x3) conv driver + transforms",
    "6binary_1a8aStrides": "binary (+ inner loop per op)",
    "6select9condition": "select",
    "5unary_5input": "unary (mapUnary inlined per op)",
    "9leakyRelu5input": "leakyRelu",
    "9unaryMath_5input": "unaryMath",
    "8mapUnary": "mapUnary per unary / unaryMath function",
    "10binaryMath_1a8aStrides": "binaryMath (+ inner loop per op)",
    "4expVys5SIMD8": "vector exp",
    "4logVys5SIMD8": "vector log",
    "9log1pUnit": "vector log1p (softplus)",
    "5tanhVys5SIMD8": "vector tanh",
    "4erfVys5SIMD8": "vector erf",
    "5geluVys5SIMD8": "vector gelu",
    "16expm1NonPositive": "vector expm1 (elu, selu)",
    "9logisticV": "vector logistic (gelu tanh)",
    "5sqrtVys5SIMD8": "vector sqrt (double Newton)",
    "4powVys5SIMD8": "vector pow (double precision)",
    "6shrink5input3tau": "shrink",
    "7absMean5input": "absMean",
    "16thresholdNetwork1m": "thresholdNetwork (shrinkage threshold network)",
    "13softThreshold": "softThreshold",
    "17channelScaleShift": "channelScaleShift",
    "17globalAveragePool": "globalAveragePool",
    "7softmax5input": "softmax",
    "9maxPool2D": "maxPool2D",
    "13averagePool2D": "averagePool2D",
    "3lrn5input": "lrn",
    "9layerNorm5input": "layerNorm",
    "19layerNormStatistics5input": "layerNormStatistics",
    "12instanceNorm5input": "instanceNorm",
    "13resizeNearest": "resizeNearest",
    "12resizeLinear": "resizeLinear",
    "13convTranspose_5input": "convTranspose (GEMM + col2im scatter-add)",
    "12lstmSequence_9direction": "lstmSequence (LSTM recurrence + fused gates)",
    "11gruSequence_9direction": "gruSequence (GRU recurrence + fused gates)",
    "11qlinearConv_5input": "qlinearConv (int8 tile and requantization inlined)",
    "15fillQConvBuffer": "qlinearConv input packing (int16 channel pairs)",
    "14quantizeLinear5input": "quantizeLinear (+ dequantized values)",
    "16dequantizeLinear5input": "dequantizeLinear",
}
FORBIDDEN = re.compile(r"^(swift_retain|swift_release|swift_bridgeObjectRetain|swift_bridgeObjectRelease|"
                       r"swift_beginAccess|swift_endAccess|swift_allocObject|malloc|calloc|fmaf|fma)(\W|$)")

def disasm(path):
    """{function name: (instructions [(mnemonic, operands)], relocation targets [str])}"""
    out = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", path], check=True,
                         capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            cur = funcs.setdefault(m.group(1), ([], []))
            continue
        if cur is None:
            continue
        m = re.match(r"^\s+[0-9a-f]+: (R_X86_64_\w+)\s+(\S+)", line)
        if m:
            cur[1].append(re.sub(r"[-+]0x[0-9a-f]+$", "", m.group(2)))
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$", line)
        if m:
            cur[0].append((m.group(1), m.group(2)))
    return funcs

def weak_defined(paths):
    out = subprocess.run(["nm"] + paths, check=True, capture_output=True, text=True).stdout
    return {l.split()[2] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in ("W", "V")}

def fma_regs(insns):
    regs = {"zmm": 0, "ymm": 0, "xmm": 0}
    for mn, ops in insns:
        if mn.startswith("vfmadd") or mn.startswith("vfnmadd") or mn.startswith("vfmsub"):
            for r in ("zmm", "ymm", "xmm"):
                if "%" + r in ops:
                    regs[r] += 1
                    break
    return regs

def is_vex(mn, ops):
    return mn.startswith("v") or "%ymm" in ops or "%zmm" in ops
EVEX_ONLY = re.compile(r"%zmm|%[xy]mm(1[6-9]|2\d|3[01])\b|%k[0-7]\b|\{")

errors = []
def err(msg):
    errors.append(msg); print("  FAIL " + msg)

for v in VARIANTS:
    mod = "DRSNKernels" + v
    objs = sorted(glob.glob(f"{rel}/{mod}.build/*.o"))
    if not objs:
        err(f"{mod}: no object files in {rel}/{mod}.build"); continue
    prefix = f"$s{len(mod)}{mod}"
    funcs = {}
    for o in objs:
        funcs.update(disasm(o))
    print(f"== {mod} ({len(funcs)} functions)")
    # 1 + 2: hot functions
    for key, what in HOT.items():
        names = [n for n in funcs if n.startswith(prefix) and key in n[len(prefix):]]
        if not names:
            err(f"{mod}: hot function '{what}' ({key}) not found"); continue
        total, f, bad, ud2 = 0, {"zmm": 0, "ymm": 0, "xmm": 0}, set(), 0
        for n in names:
            insns, relocs = funcs[n]
            total += len(insns)
            bad |= {r for r in relocs if FORBIDDEN.match(r)}
            ud2 += sum(1 for mn, _ in insns if mn == "ud2")
            for r, c in fma_regs(insns).items(): f[r] += c
        tag = what + (f" ({len(names)} functions)" if len(names) > 1 else "")
        print(f"  {tag:52s} {total:6d} insns  FMA zmm/ymm/xmm {f['zmm']:3d}/{f['ymm']:3d}/{f['xmm']:3d}"
              + (f"  forbidden: {', '.join(sorted(bad))}" if bad else "") + (f"  ud2 x{ud2}" if ud2 else ""))
        if bad: err(f"{mod}: {what}: references {', '.join(sorted(bad))}")
        if ud2: err(f"{mod}: {what}: {ud2} ud2 trap(s)")
        if key.startswith("15f32GemmTile"):
            if v == "AVX512" and (f["zmm"] < 8 or f["ymm"]): err(f"{mod}: {what}: expected zmm FMAs, found {f}")
            if v == "AVX2" and (f["ymm"] < 8 or f["zmm"]): err(f"{mod}: {what}: expected ymm FMAs only, found {f}")
            if v == "Baseline" and sum(f.values()): err(f"{mod}: {what}: FMA in the baseline build: {f}")
        if key == "11qlinearConv_5input":
            # the int8 tile (Sources/CDRSNInt8Tiles) must be inlined as vpmaddwd on ymm (AVX2 and
            # AVX-512 variants); the baseline variant multiplies in scalar code (no VEX at all, check 3)
            madd = sum(1 for n in names for mn, ops in funcs[n][0] if mn == "vpmaddwd" and "%ymm" in ops)
            print(f"  {'':52s} vpmaddwd on ymm: {madd}")
            if v != "Baseline" and madd < 8: err(f"{mod}: {what}: expected >= 8 vpmaddwd on ymm, found {madd}")
    # 3: ISA ceiling of the whole variant
    if v == "Baseline":
        vex = [(n, mn) for n, (insns, _) in funcs.items() for mn, ops in insns if is_vex(mn, ops)]
        if vex: err(f"{mod}: {len(vex)} VEX/EVEX instruction(s), e.g. {vex[0][1]} in {vex[0][0]}")
        fm = sorted({n for n, (_, relocs) in funcs.items() for r in relocs if re.match(r"^fmaf?$", r)})
        if fm: err(f"{mod}: fmaf/fma referenced by {fm[:3]}")
        print(f"  whole module: {'no' if not vex else len(vex)} VEX/EVEX instructions, "
              f"{'no' if not fm else len(fm)} fmaf references")
    if v == "AVX2":
        evex = [(n, mn, ops) for n, (insns, _) in funcs.items() for mn, ops in insns if EVEX_ONLY.search(ops)]
        if evex: err(f"{mod}: {len(evex)} EVEX-only operand(s), e.g. '{evex[0][1]} {evex[0][2]}' in {evex[0][0]}")
        print(f"  whole module: {'no' if not evex else len(evex)} zmm/EVEX-only operands")
    # 4: shared weak symbols
    foreign = sorted(n for n in weak_defined(objs) if n in funcs and not n.startswith(prefix))
    for n in foreign:
        vex = [mn for mn, ops in funcs[n][0] if is_vex(mn, ops)]
        if vex and v != "Baseline":
            err(f"{mod}: shared weak function {n} contains {len(vex)} VEX/EVEX instructions ({vex[0]})")
    print(f"  shared weak functions (linker keeps one copy): {', '.join(foreign) or 'none'}"
          f"{'' if v == 'Baseline' else ' - ISA-neutral'}")

# 5: the linked library
lib = f"{rel}/libdrsn.so"
if os.path.exists(lib):
    syms = subprocess.run(["nm", lib], capture_output=True, text=True).stdout.split("\n")
    def addr(sym_key):
        for l in syms:
            p = l.split()
            if len(p) == 3 and p[2].startswith("$s") and sym_key(p[2]):
                return p[2], int(p[0], 16)
        return None, None
    print(f"== {lib}")
    if not any("DRSNKernelsAVX512" in l for l in syms):
        print("  no symbol table (stripped): skipped")
    else:
        def dis(name, a):
            sizes = subprocess.run(["nm", "-S", lib], capture_output=True, text=True).stdout
            size = next(int(l.split()[1], 16) for l in sizes.splitlines() if l.endswith(" " + name))
            out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={a}",
                                  f"--stop-address={a + size}", lib], capture_output=True, text=True).stdout
            return out
        for v in VARIANTS:
            mod = f"DRSNKernels{v}"
            own = f"$s{len(mod)}{mod}10ISAKernelsO5sgemm"
            name, a = addr(lambda s: s.startswith(f"$s{len(mod)}{mod}10ISAKernelsO15DRSNKernelTypes9KernelSet")
                           and "5sgemm" in s and "7scratch" in s and s.endswith("TW"))
            if name is None:
                err(f"{mod}: KernelSet witness of sgemm(..., scratch:) not found in the library"); continue
            ok = re.search(rf"<{re.escape(own)}", dis(name, a)) is not None
            print(f"  KernelSet witness sgemm(..., scratch:) of {mod} -> {mod}.ISAKernels.sgemm: {'yes' if ok else 'NO'}")
            if not ok: err(f"{mod}'s KernelSet witness of sgemm does not call its own ISAKernels.sgemm")
        name, a = addr(lambda s: s.startswith("$s17DRSNKernelsAVX51215f32GemmTile6xNR"))
        if name is None:
            err("AVX-512 GEMM tile not found in the library")
        else:
            out = dis(name, a)
            n = len(re.findall(r"vfmadd\w*ps\s+.*%zmm", out))
            print(f"  linked AVX-512 6xNR GEMM tile: {n} zmm FMAs")
            if n < 8: err("linked AVX-512 GEMM tile has no zmm FMAs")

print()
if errors:
    print(f"hygiene: {len(errors)} violation(s)"); sys.exit(1)
print("hygiene: all kernel variants clean")
EOF
