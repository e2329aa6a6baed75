"""Build hook of the drsn Python package: puts libdrsn into it and makes the wheel a
platform wheel (``py3-none-<platform>``; the library is in ``drsn/``, in the wheel's platlib).

Where the library comes from, first hit wins:

1. ``$DRSN_LIBRARY``: a built ``libdrsn.so`` (tools/release.sh passes its stripped release
   library this way);
2. ``<repository>/.build/release/libdrsn.so`` when this folder is the repository's
   ``bindings/python``;
3. built now with ``swift build -c release --product drsn`` in the repository when the
   library is missing there and ``swift`` is on PATH.

Otherwise the build stops with a message saying how to get the library: a package without
its library is never built silently. ``DRSN_PYTHON_ONLY=1`` builds a pure-Python package
without the library on purpose; it then loads a libdrsn found at run time
(``$DRSN_LIBRARY`` or the system loader, e.g. one installed from the C SDK).
"""

import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 (pyproject.toml asks for a newer one)
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBRARY_NAME = {"darwin": "libdrsn.dylib", "win32": "drsn.dll"}.get(sys.platform, "libdrsn.so")
BUILD_COMMAND = ["swift", "build", "-c", "release", "--product", "drsn"]
PYTHON_ONLY = os.environ.get("DRSN_PYTHON_ONLY", "") not in ("", "0")


class LibraryMissing(Exception):
    pass


def in_repository():
    """True when this folder is bindings/python of a drsn source tree."""
    return os.path.isfile(os.path.join(REPOSITORY, "Package.swift")) and \
        os.path.isfile(os.path.join(REPOSITORY, "include", "drsn.h"))


def locate_library(announce):
    """Path of the library to bundle; builds it in the repository when possible."""
    explicit = os.environ.get("DRSN_LIBRARY")
    if explicit:
        if not os.path.isfile(explicit):
            raise LibraryMissing(f"DRSN_LIBRARY={explicit} is not a file")
        return os.path.abspath(explicit)
    if not in_repository():
        raise LibraryMissing(f"this source folder ({HERE}) is not inside the drsn repository, "
                             f"so there is no {LIBRARY_NAME} to bundle and none can be built here")
    built = os.path.join(REPOSITORY, ".build", "release", LIBRARY_NAME)
    if os.path.isfile(built):
        return built
    if shutil.which("swift") is None:
        raise LibraryMissing(f"{built} has not been built and no Swift toolchain (swift) is on PATH")
    announce(f"drsn: {built} is missing; building it: {' '.join(BUILD_COMMAND)} (a few minutes)")
    done = subprocess.run(BUILD_COMMAND, cwd=REPOSITORY)
    if done.returncode != 0 or not os.path.isfile(built):
        raise LibraryMissing(f"'{' '.join(BUILD_COMMAND)}' in {REPOSITORY} failed "
                             f"(exit status {done.returncode})")
    return built


def how_to_fix(reason):
    return (f"drsn: cannot build the Python package with its native library: {reason}.\n"
            f"Do one of:\n"
            f"  - install a released wheel (bash tools/release.sh writes "
            f"dist/drsn-VERSION-py3-none-manylinux_*.whl; no Swift needed to install it);\n"
            f"  - build the library in the drsn repository first (Swift 6): {' '.join(BUILD_COMMAND)}\n"
            f"    then run pip install ./bindings/python there again;\n"
            f"  - set DRSN_LIBRARY=/path/to/{LIBRARY_NAME} (a built library) and run pip again;\n"
            f"  - set DRSN_PYTHON_ONLY=1 to install the binding alone; it then needs DRSN_LIBRARY "
            f"or a system-installed libdrsn (C SDK) at run time.")


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "drsn", LIBRARY_NAME)
        if os.path.exists(target):  # left in build/ by an earlier build: not necessarily ours
            os.remove(target)
        if PYTHON_ONLY:
            self.announce("drsn: DRSN_PYTHON_ONLY is set; building the binding without the library", level=2)
            return
        try:
            library = locate_library(lambda text: self.announce(text, level=2))
        except LibraryMissing as exc:
            sys.stderr.write(how_to_fix(str(exc)) + "\n")
            raise SystemExit(1) from None
        self.announce(f"drsn: bundling {library} -> {target}", level=2)
        shutil.copyfile(library, target)
        os.chmod(target, 0o755)


class BinaryDistribution(Distribution):
    """The package carries a native library: install it to platlib, tag the wheel per platform."""

    def has_ext_modules(self):
        return not PYTHON_ONLY


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        python, abi, platform = super().get_tag()
        if PYTHON_ONLY:
            return python, abi, platform
        # The library is loaded through ctypes: any Python 3, any ABI, one platform.
        return "py3", "none", platform


setup(distclass=BinaryDistribution,
      cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
