"""Running scikit-learn's own test modules on fastlinear's classes.

The installed scikit-learn ships its tests.  A :class:`Suite` takes test
modules from one subpackage's ``tests`` folder (``sklearn/svm/tests``,
``sklearn/linear_model/tests``, found through ``sklearn.__file__``) and, for
each of its runs, writes a copy of them into a temporary package, where every
``from sklearn... import`` statement that can bind a replaced name is followed,
on the same line (so the line numbers of a traceback are those of the
installed file), by a rebinding of the names it bound:

* the subpackage (``from sklearn import svm``) becomes a proxy module: the
  subpackage, except that the run's classes are fastlinear's;
* a replaced class (``from sklearn.svm import LinearSVC``) becomes fastlinear's
  class of the same name; every other name stays sklearn's;
* a sibling test module (``from sklearn.svm.tests import test_svm``) becomes
  its copy.

sklearn itself is untouched.  The copies are imported through the import
system, so pytest rewrites their asserts as it does for any test file.  A run
selects the test functions whose code (decorators, defaults, body, and the
module-level helpers they call) names one of its classes; comments and strings
do not count.  A parametrisation of a selected test that uses a *rival* class
(say sklearn's LinearSVR in the LinearSVC run) and none of the run's is
dropped.  Each selected function becomes a static method of a class
``Test<run>_<module>`` that carries the copied module's ``pytestmark``, so the
ids read, e.g., ``TestLinearSVC_test_svm::test_linearsvc_parameters[42-True-l1-hinge]``.

Expected failures are a table ``{test id pattern: reason}``, where the id is
the name pytest gives within the class (``test_zero_max_iter[sag]``) and ``*``
is the only wildcard; the first matching pattern marks the test ``xfail``
with its reason, strictly or not as the suite says, and the error the test
ends with is added to the reason in brackets (see :func:`_expecting`).

The test modules import :func:`global_random_seed` and :func:`global_dtype`,
sklearn's conftest fixtures, from here.
"""
import ast
import atexit
import functools
import importlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import types
import unittest
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import sklearn

import fastlinear

SKLEARN_ROOT = Path(sklearn.__file__).resolve().parent


# -- selection ---------------------------------------------------------------


def _named(node):
    """The identifiers a piece of code names: variables, attributes, imports."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.alias):
            names.update(sub.name.split("."))
    return names


def selected_tests(source, class_names):
    """Names of the module's test functions whose code names one of
    ``class_names``, directly or through module-level functions they refer
    to, in file order."""
    class_names = {class_names} if isinstance(class_names, str) else set(class_names)
    tree = ast.parse(source)
    funcs = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    named = {name: _named(node) for name, node in funcs.items()}

    def reaches(name):
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if class_names & named[current]:
                return True
            todo.extend(named[current] & funcs.keys())
        return False

    return [name for name in funcs if name.startswith("test") and reaches(name)]


def id_matcher(pattern):
    """A compiled regex for a test id pattern in which ``*`` is the only
    wildcard (brackets and dots stand for themselves)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


# -- the substituted copies --------------------------------------------------


def rebinding_source(source, package, subpackage):
    """``source`` with ``; x, y, = <package>.substitute(x, y,)`` after each import
    from sklearn or sklearn.<subpackage>*, for the names ``x, y`` it binds (same
    line, same column)."""
    full = f"sklearn.{subpackage}"

    def related(module):  # what can bind the subpackage, a replaced class or a sibling test module
        return module == "sklearn" or module == full or module.startswith(full + ".")

    tree = ast.parse(source)
    inserts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or not related(node.module or ""):
                continue
            bound = [alias.asname or alias.name for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Import):
            bound = [alias.asname for alias in node.names if alias.asname and related(alias.name)]
        else:
            continue
        if bound:
            names = "".join(f"{name}, " for name in bound)
            code = f"; {names}= __import__({package!r}).substitute({names.rstrip()})"
            inserts.append((node.end_lineno, node.end_col_offset, code))
    # ast's columns count UTF-8 bytes.
    lines = source.encode("utf-8").splitlines(keepends=True)
    for lineno, col, code in sorted(inserts, reverse=True):
        line = lines[lineno - 1]
        lines[lineno - 1] = line[:col] + code.encode("utf-8") + line[col:]
    return b"".join(lines).decode("utf-8")


def _drop_rivals(func, own, rivals):
    """Drop the parametrisations that use one of ``rivals`` but none of ``own``;
    False if none is left."""
    param_type = type(pytest.param(None))

    def uses(value, classes):
        if isinstance(value, param_type):
            value = value.values
        items = value if isinstance(value, (tuple, list)) else (value,)
        return any(item is cls or type(item) is cls for item in items for cls in classes)

    marks = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize":
            kwargs = dict(mark.kwargs)
            args = list(mark.args)
            argnames = args.pop(0) if args else kwargs.pop("argnames")
            argvalues = list(args.pop(0) if args else kwargs.pop("argvalues"))  # may be an iterator
            keep = [i for i, value in enumerate(argvalues) if uses(value, own) or not uses(value, rivals)]
            if not keep:
                return False
            ids = kwargs.get("ids")
            if ids is not None and not callable(ids):
                ids = list(ids)
                kwargs["ids"] = [ids[i] for i in keep]
            mark = pytest.mark.parametrize(argnames, [argvalues[i] for i in keep], *args, **kwargs).mark
        marks.append(mark)
    if hasattr(func, "pytestmark"):
        func.pytestmark = marks
    return True


def _import_failure(error):
    def test_module_import():
        raise error

    return test_module_import


# The reason of the running test if it is an expected failure, else None: set
# by the autouse fixture below at setup, read by the test's wrapper.
_running_expected_failure = None


def _expected_failure_fixture(expected_failures, strict):
    """An autouse fixture, a method of the test classes, marking the tests whose
    id matches a pattern of ``expected_failures`` as xfail (at setup, where the
    id is known); ``--runxfail`` runs them as plain tests."""
    table = [(id_matcher(pattern), reason) for pattern, reason in expected_failures.items()]

    @pytest.fixture(autouse=True)
    def _sklearn_suite_expected_failure(self, request):
        global _running_expected_failure
        reason = next((reason for matcher, reason in table if matcher.fullmatch(request.node.name)), None)
        if reason is not None and not request.config.option.runxfail:
            request.applymarker(pytest.mark.xfail(strict=strict, reason=reason))
            _running_expected_failure = reason
        try:
            yield
        finally:
            _running_expected_failure = None

    return _sklearn_suite_expected_failure


def _expecting(func):
    """``func``, turning its error into ``pytest.xfail(reason + the error's first
    line)`` when it runs as an expected failure.

    pytest formats the traceback of every failure, xfails included, and each
    frame in a test module costs a parse of the whole file (a quarter of a
    second for sklearn's 3000-line ``test_logistic.py``); the error's type and
    first line say enough for an expected failure, whose traceback is shown
    with ``--runxfail``.
    """

    @functools.wraps(func)
    def run(*args, **kwargs):
        reason = _running_expected_failure
        if reason is None:
            return func(*args, **kwargs)
        try:
            func(*args, **kwargs)
        except (unittest.SkipTest, pytest.xfail.Exception):  # sklearn's skips (array API namespaces), own xfails
            raise
        except (Exception, pytest.fail.Exception) as error:  # the xfail's reason; Failed: DID NOT RAISE/WARN
            lines = str(error).strip().splitlines()
            failure = f"{type(error).__name__}: {lines[0] if lines else ''}"
        else:
            return None  # an XPASS: the xfail mark makes it so
        pytest.xfail(f"{reason} [{failure}]")  # outside the except: no chained traceback to format

    return run


@dataclass(frozen=True)
class Run:
    """One run of a suite: ``name`` gives the ids (``Test<name>_<module>``) and
    the package; ``classes`` are the names of sklearn's classes replaced by
    fastlinear's of the same name; parametrisations using ``rivals`` (names of
    sklearn classes of the subpackage) and none of ``classes`` are dropped."""

    name: str
    classes: tuple
    rivals: tuple = ()


class Suite:
    """sklearn's ``sklearn/<subpackage>/tests/<sources>`` with fastlinear's
    classes, one temporary package per run.

    Parameters
    ----------
    subpackage : str
        ``"svm"``, ``"linear_model"``: where the tests and the replaced classes live.
    sources : tuple of str
        The test files of ``sklearn/<subpackage>/tests`` to copy.
    runs : tuple of Run
    expected_failures : dict
        ``{test id pattern: reason}``, see the module docstring.
    strict : bool
        Whether an expected failure that passes fails the run.
    """

    def __init__(self, subpackage, sources, runs, expected_failures, strict):
        self.subpackage = subpackage
        self.module = importlib.import_module(f"sklearn.{subpackage}")
        self.tests_dir = SKLEARN_ROOT / subpackage / "tests"
        self.sources = tuple(sources)
        self.runs = tuple(runs)
        self.expected_failures = dict(expected_failures)
        self.strict = strict

    @staticmethod
    def package_name(run):
        return f"_fastlinear_sklearn_suite_{run.name}"

    def replacements(self, run):
        """``{class name: fastlinear's class, or sklearn's where fastlinear has none}``."""
        return {name: getattr(fastlinear, name, None) or getattr(self.module, name) for name in run.classes}

    def _make_package(self, root, run):
        """A package holding the run's copies, with ``substitute(*objs)``: fastlinear's
        class for sklearn's, the proxy for the subpackage, the copy for a test module."""
        package = self.package_name(run)
        for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
            del sys.modules[name]
        folder = root / package
        folder.mkdir()
        (folder / "__init__.py").write_text(f'"""sklearn\'s {self.subpackage} tests, rebound to fastlinear."""\n')
        spec = importlib.util.spec_from_file_location(
            package, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)

        subpackage = self.module
        replacements = self.replacements(run)
        by_original = {id(getattr(subpackage, name)): new for name, new in replacements.items()}
        described = ", ".join(f"{name} is {new.__module__}.{name}" for name, new in replacements.items())
        proxy = types.ModuleType(subpackage.__name__, f"{subpackage.__name__}, except that {described}.")
        proxy.__getattr__ = lambda name: getattr(subpackage, name)
        proxy.__dir__ = lambda: sorted(set(dir(subpackage)))
        for name, new in replacements.items():
            setattr(proxy, name, new)
        tests_prefix = f"{subpackage.__name__}.tests."

        def substitute(*objs):
            return tuple(substitute_one(obj) for obj in objs)

        def substitute_one(obj):
            if obj is subpackage:
                return proxy
            if isinstance(obj, type) and id(obj) in by_original:
                return by_original[id(obj)]
            name = getattr(obj, "__name__", "")
            if isinstance(obj, types.ModuleType) and name.startswith(tests_prefix):
                stem = name.rsplit(".", 1)[1]
                if f"{stem}.py" in self.sources:
                    return importlib.import_module(f"{package}.{stem}")
            return obj

        module.substitute = substitute
        module.folder = folder
        return module

    def build_classes(self):
        """``{class name: test class}`` for every run and sklearn test module; the
        copies go to a temporary folder removed at exit."""
        root = Path(tempfile.mkdtemp(prefix=f"fastlinear-sklearn-{self.subpackage}-suite-"))
        atexit.register(shutil.rmtree, root, True)
        classes = {}
        expected = _expected_failure_fixture(self.expected_failures, self.strict)
        for run in self.runs:
            package = self._make_package(root, run)
            own = tuple(self.replacements(run).values())
            rivals = tuple(getattr(self.module, name) for name in run.rivals)
            missing = [name for name in run.classes if getattr(fastlinear, name, None) is None]
            run_marks = []
            if missing:
                run_marks.append(
                    pytest.mark.skip(
                        reason=f"fastlinear {fastlinear.__version__} has no {', '.join(missing)} yet; "
                        f"sklearn's {run.name} tests run once it exists"
                    )
                )
            for filename in self.sources:
                stem = filename[:-3]
                replaced = ", ".join(f"{name} = fastlinear.{name}" for name in run.classes)
                attrs = {"__doc__": f"sklearn/{self.subpackage}/tests/{filename}, {replaced}."}
                class_marks = list(run_marks)
                try:
                    source = (self.tests_dir / filename).read_text(encoding="utf-8")
                    names = selected_tests(source, run.classes)
                    if not names:
                        continue
                    copy = rebinding_source(source, package.__name__, self.subpackage)
                    (package.folder / filename).write_text(copy, encoding="utf-8")
                    with warnings.catch_warnings():
                        # sklearn's own markers (thread_unsafe, ...) are registered by its conftest only.
                        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
                        module = importlib.import_module(f"{package.__name__}.{stem}")
                except Exception as error:  # reported as a failing test, not a collection error
                    attrs["test_module_import"] = staticmethod(_import_failure(error))
                else:
                    module_marks = getattr(module, "pytestmark", [])
                    class_marks += module_marks if isinstance(module_marks, list) else [module_marks]
                    for name in names:
                        func = getattr(module, name)
                        if rivals and not _drop_rivals(func, own, rivals):
                            continue
                        attrs[name] = staticmethod(_expecting(func) if self.expected_failures else func)
                if self.expected_failures:
                    attrs["_sklearn_suite_expected_failure"] = expected
                attrs["pytestmark"] = class_marks
                classes[f"Test{run.name}_{stem}"] = type(f"Test{run.name}_{stem}", (), attrs)
        return classes

    def copies(self, run):
        """The imported copies of the run: ``{file name: module}``."""
        package = self.package_name(run)
        found = {filename: sys.modules.get(f"{package}.{filename[:-3]}") for filename in self.sources}
        return {filename: module for filename, module in found.items() if module is not None}


# -- sklearn's conftest fixtures ---------------------------------------------


def _global_random_seeds():
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = value.split("-")
        return list(range(int(start), int(stop) + 1))
    return [int(value)]


@pytest.fixture(params=_global_random_seeds())
def global_random_seed(request):
    """sklearn's seed fixture: 42, or ``$SKLEARN_TESTS_GLOBAL_RANDOM_SEED``."""
    return request.param


@pytest.fixture(
    params=[np.float64] + ([np.float32] if os.environ.get("SKLEARN_RUN_FLOAT32_TESTS", "0") != "0" else []),
    ids=lambda dtype: np.dtype(dtype).name,
)
def global_dtype(request):
    """sklearn's dtype fixture: float64, and float32 with ``$SKLEARN_RUN_FLOAT32_TESTS=1``."""
    return request.param
