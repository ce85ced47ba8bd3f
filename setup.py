"""Build script: the Cython kernels in ``src_c/`` become ``fastlinear._*``.

Every ``src_c/_<name>_fast.pyx`` is compiled into the extension module
``fastlinear._<name>_fast``.  The Cython directives are set here, once.

Environment switches
--------------------
FASTLINEAR_DEBUG=1
    Bounds checks, wraparound checks, initialisation checks and ``-O0 -g``:
    a slow build for hunting memory errors (the tests pass on it too).
FASTLINEAR_NATIVE=1
    Adds ``-march=native`` (faster on the build machine, not portable).
"""
import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTLINEAR_DEBUG", "0") not in ("", "0")
NATIVE = os.environ.get("FASTLINEAR_NATIVE", "0") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

# -O3 but never -ffast-math: it would delete the NaN checks.  OpenMP runs the
# parallel (PASSCoDe) passes of the dual coordinate descent.
compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]
compile_args.append("-fopenmp")
link_args = ["-fopenmp"]
if NATIVE and not DEBUG:
    compile_args.append("-march=native")

extensions = [
    Extension(
        "fastlinear." + os.path.splitext(os.path.basename(path))[0],
        sources=[path],
        include_dirs=[np.get_include(), "src_c"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for path in sorted(glob.glob(os.path.join("src_c", "_*_fast.pyx")))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        include_path=["src_c"],
        # The debug and release builds differ only by directives: rebuild on switch.
        force=DEBUG,
    ),
)
