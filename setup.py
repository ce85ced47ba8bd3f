"""Build script: the Cython kernels in ``src_c/`` become ``fastlinear._*``.

Every ``src_c/_<name>_fast.pyx`` is compiled into the extension module
``fastlinear._<name>_fast``; Cython's utility code (typed memoryviews),
which every kernel would otherwise carry, is compiled once into
``fastlinear._cyutility``.  The Cython directives are set here, once.

Environment switches
--------------------
FASTLINEAR_DEBUG=1
    Bounds checks, wraparound checks, initialisation checks and ``-O0 -g``:
    a slow build for hunting memory errors (the tests pass on it too).
FASTLINEAR_NATIVE=1
    Adds ``-march=native`` (faster on the build machine, not portable).
FASTLINEAR_OPENMP=0|1
    OpenMP for the kernels that split work over threads (the primal Newton
    solver's products with X).  Default: used when the compiler accepts
    ``-fopenmp`` (probed); without it those kernels run on one thread.
FASTLINEAR_LIBMVEC=0|1
    glibc's vector math library (x86-64: ``exp`` and ``log1p`` four at a
    time with AVX2, chosen at run time) for the logistic passes
    (``src_c/_vmath.pxd``).  Default: used when a program calling it
    compiles and links (probed); otherwise ``libm``, one at a time.
"""
import glob
import os
import shutil
import sys
import tempfile

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext


def _flag(name, default="0"):
    return os.environ.get(name, default) not in ("", "0")


DEBUG = _flag("FASTLINEAR_DEBUG")
NATIVE = _flag("FASTLINEAR_NATIVE")

#: Kernels with OpenMP loops (``cython.parallel.prange``).
OPENMP_MODULES = {"_hessian_fast", "_multinomial_fast", "_newton_fast"}

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
    # No kernel keeps mutable module state: each call works on the arrays it is
    # given, so the modules declare themselves safe without the GIL on
    # free-threaded CPython (3.14t).  Two threads fitting the *same*
    # estimator at once is a race, as with any scikit-learn estimator.
    "freethreading_compatible": True,
}


#: Kernels that take ``exp``/``log1p`` by blocks (``src_c/_vmath.pxd``).
LIBMVEC_MODULES = {"_glmnet_fast", "_newton_fast"}

_LIBMVEC_PROBE = """#include <immintrin.h>
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);
__attribute__((target("avx2"))) static double f(double x)
{
    double out[4];
    _mm256_storeu_pd(out, _ZGVdN4v_log1p(_ZGVdN4v_exp(_mm256_set1_pd(x))));
    return out[0];
}
int main(void) { return __builtin_cpu_supports("avx2") ? f(-1.0) < 0.0 : 0; }
"""


def _probe(name, source, flags, switch, missing):
    """``flags`` (``(compile, link)``) if a program of ``source`` compiles and
    links with them, else ``None`` (and the ``missing`` note on stderr);
    ``$<switch>`` = 0 or 1 skips the probe."""
    choice = os.environ.get(switch, "auto")
    if choice in ("0", ""):
        return None
    if choice != "auto":
        return flags
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, name + ".c")
        with open(src, "w") as fh:
            fh.write(source)
        objects = compiler.compile([src], output_dir=tmp, extra_postargs=flags[0])
        compiler.link_executable(objects, os.path.join(tmp, name),
                                 extra_postargs=flags[1])
        return flags
    except Exception:  # noqa: BLE001 - any failure means the feature is not usable
        print("fastlinear: " + missing, file=sys.stderr)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _openmp_flags():
    """``(compile, link)`` flags for OpenMP, or ``None`` when the compiler has none."""
    flags = (["/openmp"], []) if sys.platform == "win32" else (["-fopenmp"], ["-fopenmp"])
    return _probe("openmp", "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n",
                  flags, "FASTLINEAR_OPENMP",
                  "the compiler has no OpenMP; building the threaded kernels for one thread")


def _libmvec_flags():
    """``(compile, link)`` flags for glibc's vector math library, or ``None``."""
    if sys.platform != "linux":
        return None
    return _probe("libmvec", _LIBMVEC_PROBE, (["-DFL_HAVE_LIBMVEC"], ["-lmvec", "-lm"]),
                  "FASTLINEAR_LIBMVEC",
                  "no glibc vector math library (libmvec with log1p, glibc >= 2.35); "
                  "the logistic passes take exp and log1p one at a time")


base_args = ["-O0", "-g"] if DEBUG else ["-O3"]
if NATIVE and not DEBUG:
    base_args.append("-march=native")
if sys.platform == "win32":
    base_args = ["/Od"] if DEBUG else ["/O2"]


def _extension(path):
    return Extension(
        "fastlinear." + os.path.splitext(os.path.basename(path))[0],
        sources=[path],
        include_dirs=[np.get_include(), "src_c"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=list(base_args),
    )


#: Cython translation and C compilation run one job per core (the kernels
#: are independent modules): a build of every kernel takes half as long on
#: two cores as one after another.
JOBS = max(1, os.cpu_count() or 1)

#: Cython's utility code (typed memoryviews and the like), compiled once
#: into its own module instead of into every kernel: a third less C to
#: compile (a full build on two cores: 158 s instead of 243 s).
SHARED_UTILITY = "fastlinear._cyutility"


class build_ext(_build_ext):
    """Translate the ``.pyx`` sources to C and probe OpenMP and libmvec when (and only when) building.

    ``sdist``, ``egg_info`` and the metadata hooks of a PEP 517 build never
    need the generated C, so Cython runs here rather than at import.  The
    checking build writes its C under ``build/cython-debug`` so that
    switching between the two builds never reuses the other's C.
    """

    def run(self):
        from Cython.Build import cythonize

        for modules, flags in ((OPENMP_MODULES, _openmp_flags()),
                               (LIBMVEC_MODULES, _libmvec_flags())):
            for ext in self.extensions:
                if flags is not None and ext.name.rsplit(".", 1)[-1] in modules:
                    ext.extra_compile_args += flags[0]
                    ext.extra_link_args += flags[1]

        translated = cythonize(
            self.extensions,
            compiler_directives=directives,
            include_path=["src_c"],
            build_dir=os.path.join("build", "cython-debug") if DEBUG else None,
            nthreads=JOBS if JOBS > 1 else 0,
            shared_utility_qualified_name=SHARED_UTILITY,
        )
        by_name = {ext.name: ext for ext in translated}
        for ext in self.extensions:
            ext.sources = by_name[ext.name].sources
        super().run()


setup(
    ext_modules=[_extension(p) for p in sorted(glob.glob(os.path.join("src_c", "_*_fast.pyx")))]
    + [Extension(SHARED_UTILITY, sources=[os.path.join("src_c", "_cyutility.c")],
                 extra_compile_args=list(base_args))],
    cmdclass={"build_ext": build_ext},
    options={"build_ext": {"parallel": JOBS}},
)
