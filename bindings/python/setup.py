"""Build hook: bundles libdrsn into the package when it has been built.

The library is looked for at $DRSN_LIBRARY, then at ../../.build/release/libdrsn.so
relative to this file (the repository's release build). When found it is copied into
the built package (drsn/libdrsn.so) and the wheel is tagged for this platform; when not
found the package installs without it and finds the library at run time instead
(see drsn/_library.py).
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))

if sys.platform == "darwin":
    LIBRARY_NAME = "libdrsn.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "drsn.dll"
else:
    LIBRARY_NAME = "libdrsn.so"


def find_library():
    """Path of the library to bundle, or None."""
    for path in (os.environ.get("DRSN_LIBRARY"),
                 os.path.join(HERE, "..", "..", ".build", "release", LIBRARY_NAME)):
        if path and os.path.isfile(path):
            return os.path.abspath(path)
    return None


LIBRARY = find_library()


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "drsn", LIBRARY_NAME)
        if LIBRARY is None:
            if os.path.exists(target):  # left in build/ by an earlier build: not ours to ship
                os.remove(target)
            self.announce(f"drsn: {LIBRARY_NAME} not found; installing without it", level=2)
            return
        self.announce(f"drsn: bundling {LIBRARY} -> {target}", level=2)
        shutil.copyfile(LIBRARY, target)
        os.chmod(target, 0o755)


cmdclass = {"build_py": BuildPyWithLibrary}

try:  # a bundled native library makes the wheel platform-specific (not Python-specific)
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

if bdist_wheel is not None and LIBRARY is not None:
    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel

setup(cmdclass=cmdclass)
