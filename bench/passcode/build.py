"""Build ``bench/passcode/_passcode.pyx`` in place (needs Cython and OpenMP).

    python bench/passcode/build.py

It reuses the inline helpers of ``src_c/`` (``_sparse.pxd``, ``_random.pxd``,
``_prefetch.pxd``), so run it from a checkout of fastlinear.
"""
import os
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent / "src_c"


def main():
    ext = Extension(
        "_passcode",
        sources=[str(HERE / "_passcode.pyx")],
        include_dirs=[np.get_include(), str(SRC)],
        extra_compile_args=["-O3", "-fopenmp"],
        extra_link_args=["-fopenmp"],
    )
    modules = cythonize([ext], include_path=[str(SRC)], quiet=True,
                        compiler_directives={"language_level": 3, "boundscheck": False,
                                             "wraparound": False, "cdivision": True})
    dist = Distribution({"ext_modules": modules})
    cmd = dist.get_command_obj("build_ext")
    cmd.inplace = True
    cmd.build_lib = str(HERE)
    cmd.build_temp = str(HERE / "build")
    cmd.ensure_finalized()
    cwd = os.getcwd()
    os.chdir(HERE)
    try:
        cmd.run()
    finally:
        os.chdir(cwd)
    print("built", next(HERE.glob("_passcode*.so")))


if __name__ == "__main__":
    sys.exit(main())
