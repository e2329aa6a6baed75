"""Release artifacts and installation paths, as a user meets them.

* ``bash tools/release.sh`` (run once per session into a temporary dist folder): the wheel's
  name, tag and layout, ``auditwheel show``, the wheel installed into a fresh venv and used
  (``import drsn``, ``drsn inspect``, ``drsn classify``) with the Swift toolchain hidden in
  a mount namespace; the C/C++ SDK tarball's layout, SONAME, stripping and debug file, and a
  pkg-config consumer and a CMake consumer (``find_package(drsn 0.2 REQUIRED)``) built
  against the unpacked tarball and run on the shipped bearing model, checked against
  onnxruntime.
* ``bindings/c/install.sh PREFIX`` installs the same layout.
* ``pip install ./bindings/python`` from source: bundles the library, builds it when it is
  missing and ``swift`` is on PATH, and otherwise fails with a message saying how; never
  installs the package without its library unless DRSN_PYTHON_ONLY=1 asks for that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import oracle
from oracle import ort_session

REPO = Path(__file__).resolve().parents[2]
BINDING = REPO / "bindings" / "python"
HEADER = (REPO / "include" / "drsn.h").read_text()
VERSION = re.search(r'#define DRSN_VERSION_STRING "([^"]+)"', HEADER).group(1)
MAJOR = VERSION.split(".")[0]
ARCH = os.uname().machine
MODEL = REPO / "examples" / "bearing" / "model" / "drsn_cwru.onnx"
DATA = REPO / "examples" / "bearing" / "data"
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the release artifacts are built for Linux")


def tool(name: str) -> str:
    """A command from the project's venv (where the test requirements put it) or PATH."""
    candidate = VENV_BIN / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed (tools/requirements/test.txt installs it into .venv)")
    return found


def extract(tar: tarfile.TarFile, dest: Path) -> None:
    """Unpacks with the "tar" filter where this Python has extraction filters."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="tar")
    else:
        tar.extractall(dest)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 900)
    return subprocess.run([str(c) for c in cmd], **kw)


def ok(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = run(cmd, **kw)
    assert proc.returncode == 0, f"{cmd} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def readelf(*args: str) -> str:
    return ok(["readelf", "-W", *args]).stdout


def build_id(path: Path) -> str:
    match = re.search(r"Build ID: ([0-9a-f]+)", readelf("-n", str(path)))
    assert match, f"{path} has no build id"
    return match.group(1)


def swift_toolchain() -> Path | None:
    """Root of the Swift toolchain on PATH (the folder holding usr/bin/swift), or None."""
    swift = shutil.which("swift")
    if swift is None:
        return None
    real = Path(os.path.realpath(swift))
    return real.parents[2] if real.parent.name == "bin" and real.parent.parent.name == "usr" else real.parent


def path_without_swift() -> str:
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "swift").exists()]
    return os.pathsep.join(keep)


def hidden_toolchain(cmd: list[str]) -> list[str]:
    """cmd run in a mount namespace where the Swift toolchain's folder is an empty tmpfs."""
    root = swift_toolchain()
    if root is None:
        return [str(c) for c in cmd]
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is needed to hide the Swift toolchain")
    ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    script = ('mount -t tmpfs none "$1" || exit 97; shift; '
              'if command -v swift >/dev/null 2>&1; then echo "swift still visible" >&2; exit 98; fi; '
              'exec "$@"')
    probe = run(ns + ["true"])
    if probe.returncode != 0:
        pytest.skip(f"cannot create a mount namespace here ({probe.stderr.strip()})")
    return ns + ["sh", "-c", script, "sh", str(root)] + [str(c) for c in cmd]


# ---- the release command ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    if oracle.ORACLE_ONLY:
        pytest.skip("needs libdrsn (--oracle-only)")
    out = tmp_path_factory.mktemp("dist")
    proc = run(["bash", REPO / "tools" / "release.sh"], cwd=REPO, env=dict(os.environ, DRSN_DIST_DIR=str(out)))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def sdk(dist, tmp_path_factory) -> Path:
    archive = dist / f"drsn-{VERSION}-linux-{ARCH}.tar.gz"
    assert archive.is_file(), sorted(p.name for p in dist.iterdir())
    out = tmp_path_factory.mktemp("sdk")
    with tarfile.open(archive) as tar:
        extract(tar, out)
    roots = list(out.iterdir())
    assert [r.name for r in roots] == [f"drsn-{VERSION}-linux-{ARCH}"]
    return roots[0]


@pytest.fixture(scope="module")
def bearing_input(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """Five z-scored bearing windows [5, 1, 2048] as .npy, and onnxruntime's argmax for them."""
    x = np.load(DATA / "test_windows.npy")[:5]
    x = ((x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-8)).astype(np.float32)[:, None, :]
    path = tmp_path_factory.mktemp("input") / "windows.npy"
    np.save(path, x)
    session = ort_session(MODEL.read_bytes())
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    return path, logits.argmax(1)


def argmax_rows(stdout: str) -> list[int]:
    return [int(m) for m in re.findall(r"^  row \d+: argmax (\d+)", stdout, re.M)]


def test_wheel_name_and_layout(wheel):
    match = re.fullmatch(rf"drsn-{re.escape(VERSION)}-py3-none-manylinux_(\d+)_(\d+)_{ARCH}\.whl", wheel.name)
    assert match, wheel.name
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(f"drsn-{VERSION}.dist-info/WHEEL").decode()
        metadata = zf.read(f"drsn-{VERSION}.dist-info/METADATA").decode()
        library = zf.read("drsn/libdrsn.so")
    assert "Root-Is-Purelib: false" in meta
    assert f"Tag: py3-none-manylinux_{match.group(1)}_{match.group(2)}_{ARCH}" in meta
    assert not [n for n in names if ".data/" in n], names           # nothing in purelib/platlib data dirs
    assert {"drsn/__init__.py", "drsn/py.typed", "drsn/libdrsn.so"} <= set(names)
    assert "Provides-Extra: onnxruntime" in metadata and "Provides-Extra: dask" in metadata
    assert {"drsn/dask.py", "drsn/_score.py", "drsn/_score_command.py"} <= set(names)
    assert library[:4] == b"\x7fELF"


def test_auditwheel_tag_is_the_glibc_floor(wheel, sdk):
    shown = ok([tool("auditwheel"), "show", wheel]).stdout
    tag = re.search(r"manylinux_(\d+)_(\d+)_" + ARCH, wheel.name)
    assert f'consistent with the following platform tag: "manylinux_{tag.group(1)}_{tag.group(2)}_{ARCH}"' \
        in " ".join(shown.split()), shown
    # the tag is the newest glibc symbol version the library needs: the lowest glibc it runs on
    symbols = ok(["objdump", "-T", sdk / "lib" / f"libdrsn.so.{VERSION}"]).stdout
    floor = max((tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", symbols)))
    assert (int(tag.group(1)), int(tag.group(2))) == floor[:2]


def test_wheel_library_is_the_sdk_library(wheel, sdk):
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("drsn/libdrsn.so") == (sdk / "lib" / f"libdrsn.so.{VERSION}").read_bytes()


def test_wheel_installs_and_runs_without_swift(wheel, tmp_path, bearing_input):
    venv = tmp_path / "venv"
    ok([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRSN_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{path_without_swift()}", PIP_DISABLE_PIP_VERSION_CHECK="1")
    ok(hidden_toolchain([python, "-m", "pip", "install", "--quiet", wheel]), env=env, cwd=tmp_path)
    site = ok([python, "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"], env=env).stdout.strip()

    where = ok(hidden_toolchain([python, "-c", "import drsn; print(drsn.library_path()); print(drsn.library_version())"]),
               env=env, cwd=tmp_path).stdout.split()
    assert where == [str(Path(site) / "drsn" / "libdrsn.so"), VERSION]

    inspect = ok(hidden_toolchain([venv / "bin" / "drsn", "inspect", MODEL]), env=env, cwd=tmp_path).stdout
    assert "Conv" in inspect and "shrinkage" in inspect.lower(), inspect

    classify = ok(hidden_toolchain([venv / "bin" / "drsn", "classify", MODEL, DATA / "IR007_1_tail.npy",
                                    "--window", "2048", "--hop", "1024", "--classes", DATA / "classes.json"]),
                  env=env, cwd=tmp_path).stdout
    assert "IR007" in classify, classify

    path, expected = bearing_input
    rows = ok(hidden_toolchain([python, "-c", "import sys, numpy as np, drsn\n"
                                "with drsn.Model(sys.argv[1]) as m: print(m.run(np.load(sys.argv[2]))[0].argmax(1).tolist())",
                                MODEL, path]), env=env, cwd=tmp_path).stdout
    assert rows.strip() == str(expected.tolist())


def test_sdk_layout(sdk):
    files = {str(p.relative_to(sdk)) for p in sdk.rglob("*") if not p.is_dir()}
    assert files == {"README.md", "include/drsn.h", "include/drsn.hpp", f"lib/libdrsn.so.{VERSION}",
                     f"lib/libdrsn.so.{MAJOR}", "lib/libdrsn.so", "lib/pkgconfig/drsn.pc",
                     "lib/cmake/drsn/drsnConfig.cmake", "lib/cmake/drsn/drsnConfigVersion.cmake"}
    lib = sdk / "lib"
    assert os.readlink(lib / f"libdrsn.so.{MAJOR}") == f"libdrsn.so.{VERSION}"
    assert os.readlink(lib / "libdrsn.so") == f"libdrsn.so.{MAJOR}"
    assert (sdk / "include" / "drsn.h").read_text() == HEADER
    assert (sdk / "include" / "drsn.hpp").read_bytes() == (REPO / "bindings" / "c" / "drsn.hpp").read_bytes()


def test_sdk_library_soname_stripped_and_debug_file(sdk, dist, tmp_path):
    lib = sdk / "lib" / f"libdrsn.so.{VERSION}"
    assert f"Library soname: [libdrsn.so.{MAJOR}]" in readelf("-d", str(lib))
    sections = readelf("-S", str(lib))
    assert ".symtab" not in sections and ".debug_info" not in sections, "the shipped library is not stripped"
    assert ".gnu_debuglink" in sections
    exported = ok(["nm", "-D", "--defined-only", lib]).stdout
    assert "drsn_model_run" in exported

    with tarfile.open(dist / f"drsn-{VERSION}-linux-{ARCH}-debug.tar.gz") as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
        extract(tar, tmp_path)
    bid = build_id(lib)
    expected = f"drsn-{VERSION}-linux-{ARCH}-debug/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
    assert names == [expected]
    debug = tmp_path / expected
    assert build_id(debug) == bid
    assert ".debug_info" in readelf("-S", str(debug))


def consumer_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # cmake and pkg-config from the venv
    return env


def check_classifier(binary: Path, bearing_input, env) -> None:
    """The consumer starts without LD_LIBRARY_PATH, needs libdrsn.so.MAJOR, and agrees with onnxruntime."""
    assert f"Shared library: [libdrsn.so.{MAJOR}]" in readelf("-d", str(binary))
    path, expected = bearing_input
    out = ok([binary, MODEL, path], env=env).stdout
    assert argmax_rows(out) == expected.tolist(), out


EXAMPLES = REPO / "bindings" / "c" / "examples"


def pkg_config_build(pkgconfig_dir: Path, source: Path, binary: Path) -> dict[str, str]:
    """Compiles an example the way README says (`cc app.c $(pkg-config --cflags --libs drsn)`)
    against the drsn.pc in `pkgconfig_dir`; returns the environment to run it in."""
    env = consumer_env()
    env["PKG_CONFIG_PATH"] = str(pkgconfig_dir)
    flags = ok([tool("pkg-config"), "--cflags", "--libs", "drsn"], env=env).stdout.split()
    if source.suffix == ".c":
        ok([shutil.which("cc") or "gcc", "-std=c11", "-I", EXAMPLES, source, "-o", binary, *flags, "-lm"], env=env)
    else:
        ok([shutil.which("c++") or "g++", "-std=c++17", "-I", EXAMPLES, source, "-o", binary, *flags], env=env)
    return env


def test_pkg_config_consumer(sdk, tmp_path, bearing_input):
    pkgconfig_dir = sdk / "lib" / "pkgconfig"
    assert ok([tool("pkg-config"), "--modversion", "drsn"],
              env=dict(consumer_env(), PKG_CONFIG_PATH=str(pkgconfig_dir))).stdout.strip() == VERSION
    for source in (EXAMPLES / "classify.c", EXAMPLES / "classify.cpp"):
        binary = tmp_path / source.name.replace(".", "_")
        env = pkg_config_build(pkgconfig_dir, source, binary)
        check_classifier(binary, bearing_input, env)


def cmake_configure(sdk: Path, build: Path, request: str, env) -> subprocess.CompletedProcess:
    return run([tool("cmake"), "-S", REPO / "Tests" / "sdk" / "cmake_consumer", "-B", build,
                f"-DCMAKE_PREFIX_PATH={sdk}", f"-DDRSN_REQUEST={request}", "-DCMAKE_BUILD_TYPE=Release"], env=env)


def test_cmake_consumer(sdk, tmp_path, bearing_input):
    env = consumer_env()
    build = tmp_path / "build"
    configured = cmake_configure(sdk, build, "0.2", env)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    assert f"drsn {VERSION} from {sdk / 'lib' / 'cmake' / 'drsn'}" in configured.stdout
    ok([tool("cmake"), "--build", build, "-j", "2"], env=env)
    check_classifier(build / "classify_cpp", bearing_input, env)
    check_classifier(build / "classify_c", bearing_input, env)


@pytest.mark.parametrize("request_version", ["0.3", "1.0", f"{VERSION}.1"])
def test_cmake_refuses_incompatible_versions(sdk, tmp_path, request_version):
    configured = cmake_configure(sdk, tmp_path / "build", request_version, consumer_env())
    assert configured.returncode != 0
    assert f"version: {VERSION}" in configured.stderr or VERSION in configured.stderr, configured.stderr


def test_install_sh_installs_the_sdk_layout(sdk, tmp_path, bearing_input):
    prefix = tmp_path / "prefix"
    out = ok(["bash", REPO / "bindings" / "c" / "install.sh", prefix]).stdout
    assert "pkg-config --cflags --libs drsn" in out
    files = {str(p.relative_to(prefix)) for p in prefix.rglob("*") if not p.is_dir()}
    shipped = {str(p.relative_to(sdk)) for p in sdk.rglob("*") if not p.is_dir()} - {"README.md"}
    debug = {f for f in files if f.startswith("lib/debug/.build-id/") and f.endswith(".debug")}
    assert len(debug) == 1 and files - debug == shipped
    lib = prefix / "lib" / f"libdrsn.so.{VERSION}"
    assert f"Library soname: [libdrsn.so.{MAJOR}]" in readelf("-d", str(lib))
    assert f"prefix={prefix}\n" in (prefix / "lib" / "pkgconfig" / "drsn.pc").read_text()
    binary = tmp_path / "classify"
    env = pkg_config_build(prefix / "lib" / "pkgconfig", EXAMPLES / "classify.c", binary)
    check_classifier(binary, bearing_input, env)


# ---- pip install from source --------------------------------------------------------------------

def copy_binding(dest: Path) -> Path:
    shutil.copytree(BINDING, dest, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "libdrsn.*"))
    return dest


def pip_install(source: Path, target: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                "--target", target, source], env=dict(env, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1"))


def source_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRSN_")}
    env.update(extra)
    return env


def test_pip_install_bundles_the_library_into_platlib(tmp_path, needs_library):
    import drsn
    lib = Path(drsn.library_path())
    source = copy_binding(tmp_path / "src")
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", tmp_path / "wheels", source], env=source_env(DRSN_LIBRARY=str(lib), PIP_NO_INPUT="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = list((tmp_path / "wheels").glob("*.whl"))
    assert len(built) == 1 and re.fullmatch(rf"drsn-{re.escape(VERSION)}-py3-none-linux_{ARCH}\.whl", built[0].name), built
    with zipfile.ZipFile(built[0]) as zf:
        assert zf.read("drsn/libdrsn.so") == lib.read_bytes()
        assert "Root-Is-Purelib: false" in zf.read(f"drsn-{VERSION}.dist-info/WHEEL").decode()

    target = tmp_path / "site"
    proc = pip_install(source, target, source_env(DRSN_LIBRARY=str(lib)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check = ok([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import drsn; "
                "print(drsn.library_path()); print(drsn.library_version())", target],
               env=source_env(), cwd=tmp_path)
    assert check.stdout.split() == [str(target / "drsn" / "libdrsn.so"), VERSION]


def test_pip_install_outside_the_repository_without_library_fails_with_howto(tmp_path):
    source = copy_binding(tmp_path / "bindings" / "python")   # no Package.swift two levels up
    target = tmp_path / "site"
    proc = pip_install(source, target, source_env())
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    for hint in ("swift build -c release --product drsn", "DRSN_LIBRARY", "tools/release.sh", "DRSN_PYTHON_ONLY"):
        assert hint in text, text[-3000:]
    assert not (target / "drsn").exists()


def fake_repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    copy_binding(repo / "bindings" / "python")
    (repo / "include").mkdir()
    shutil.copy(REPO / "include" / "drsn.h", repo / "include" / "drsn.h")
    (repo / "Package.swift").write_text("// swift-tools-version:6.0\n")
    return repo


def test_pip_install_in_repository_builds_the_missing_library(tmp_path, needs_library):
    import drsn
    repo = fake_repository(tmp_path)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    log = tmp_path / "swift.log"
    (fake_bin / "swift").write_text(  # stands in for the toolchain: records the call, "builds" the library
        "#!/bin/sh\n"
        f'echo "$PWD $*" >> "{log}"\n'
        '[ "$*" = "build -c release --product drsn" ] || exit 3\n'
        f'mkdir -p .build/release && cp "{drsn.library_path()}" .build/release/libdrsn.so\n')
    (fake_bin / "swift").chmod(0o755)
    target = tmp_path / "site"
    proc = pip_install(repo / "bindings" / "python", target,
                       source_env(PATH=f"{fake_bin}{os.pathsep}{path_without_swift()}"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert log.read_text().split() == [str(repo), "build", "-c", "release", "--product", "drsn"]
    assert (target / "drsn" / "libdrsn.so").read_bytes() == Path(drsn.library_path()).read_bytes()


def test_pip_install_in_repository_without_swift_fails_with_howto(tmp_path):
    repo = fake_repository(tmp_path)
    target = tmp_path / "site"
    proc = pip_install(repo / "bindings" / "python", target, source_env(PATH=path_without_swift()))
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "no Swift toolchain (swift) is on PATH" in text and "swift build -c release --product drsn" in text, text[-3000:]
    assert not (target / "drsn").exists()


def test_pip_install_python_only_on_request(tmp_path):
    source = copy_binding(tmp_path / "src")
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", tmp_path / "wheels", source], env=source_env(DRSN_PYTHON_ONLY="1", PIP_NO_INPUT="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = list((tmp_path / "wheels").glob("*.whl"))
    assert [w.name for w in built] == [f"drsn-{VERSION}-py3-none-any.whl"]
    with zipfile.ZipFile(built[0]) as zf:
        assert "drsn/libdrsn.so" not in zf.namelist() and "drsn/__init__.py" in zf.namelist()
