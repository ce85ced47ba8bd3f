"""scikit-learn's own LinearSVC / LinearSVR tests, run on fastlinear's classes.

The installed scikit-learn ships its tests.  From ``sklearn/svm/tests`` (found
through ``sklearn.__file__``) this module takes ``test_svm.py``,
``test_sparse.py`` and ``test_bounds.py``, and for each of two runs (LinearSVC,
LinearSVR) writes a copy of them into a temporary package, where every
``from sklearn... import`` statement is followed, on the same line (so the line
numbers of a traceback are those of the installed file), by a rebinding of the
names it bound:

* ``svm`` (``from sklearn import svm``) becomes a proxy module: sklearn.svm,
  except that the run's class (``LinearSVC`` or ``LinearSVR``) is fastlinear's;
* ``LinearSVC`` / ``LinearSVR`` (``from sklearn.svm import ...``) becomes
  fastlinear's class, for the run's class only (the other stays sklearn's);
* ``test_svm`` (``from sklearn.svm.tests import test_svm``) becomes the copy.

sklearn itself is untouched: ``sklearn.svm.SVC`` and the rest stay sklearn's.

The copies are imported through the import system, so pytest rewrites their
asserts as it does for any test file.  A run selects the test functions whose
code (decorators, defaults, body, and the module-level helpers they call)
names its class; comments and strings do not count.  A parametrisation of a
selected test that uses the *other* class (and not this run's) is dropped.
Each selected function becomes a static method of a class
``Test<run>_<module>``, so the ids read, e.g.,
``test_sklearn_suite.py::TestLinearSVC_test_svm::test_linearsvc_parameters[42-True-l1-hinge]``.

``global_random_seed`` follows sklearn's conftest: 42, or
``$SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` ("all", "N" or "N-M").
"""
import ast
import atexit
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
import sklearn.svm

import fastlinear

SKLEARN_TESTS = Path(sklearn.__file__).resolve().parent / "svm" / "tests"
SOURCES = ("test_svm.py", "test_sparse.py", "test_bounds.py")
RUNS = ("LinearSVC", "LinearSVR")

# Tests that check liblinear's own wording or internals, not the estimator's
# behaviour: (file, test function) -> reason.  Strict xfails, so an entry fails
# (and should go) once the test passes.
LIBLINEAR_SPECIFIC = {
    ("test_svm.py", "test_linear_svm_convergence_warnings"): (
        "matches liblinear's own warning text 'Liblinear failed to converge, increase the number of "
        "iterations.', where fastlinear names the estimator ('LinearSVC failed to converge, ...'); the n_iter_ "
        "checks after it (an int equal to max_iter=2) are covered in test_dropin.py and test_svr.py"
    ),
}


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


def selected_tests(source, class_name):
    """Names of the module's test functions whose code names ``class_name``,
    directly or through module-level functions they refer to, in file order."""
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
            if class_name in named[current]:
                return True
            todo.extend(named[current] & funcs.keys())
        return False

    return [name for name in funcs if name.startswith("test") and reaches(name)]


# -- the substituted copies --------------------------------------------------


def _rebinding_source(source, package):
    """``source`` with ``; x, y, = <package>.substitute(x, y,)`` after each import
    from sklearn or sklearn.svm*, for the names ``x, y`` it binds (same line,
    same column)."""
    def svm_related(module):  # what can bind svm, LinearSVC, LinearSVR or test_svm
        return module == "sklearn" or module == "sklearn.svm" or module.startswith("sklearn.svm.")

    tree = ast.parse(source)
    inserts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or not svm_related(node.module or ""):
                continue
            bound = [alias.asname or alias.name for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Import):
            bound = [alias.asname for alias in node.names if alias.asname and svm_related(alias.name)]
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


def _fastlinear_class(class_name):
    return getattr(fastlinear, class_name, None)


def _make_package(root, class_name):
    """A package holding the run's copies, with ``substitute(*objs)``: fastlinear's
    class for sklearn's, the proxy for sklearn.svm, the copy for a test module."""
    package = f"_fastlinear_sklearn_suite_{class_name}"
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]
    folder = root / package
    folder.mkdir()
    (folder / "__init__.py").write_text('"""sklearn\'s SVM tests, rebound to fastlinear."""\n')
    spec = importlib.util.spec_from_file_location(
        package, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)

    original = getattr(sklearn.svm, class_name)
    replacement = _fastlinear_class(class_name) or original
    proxy = types.ModuleType(
        "sklearn.svm", f"sklearn.svm, except that {class_name} is {replacement.__module__}.{class_name}."
    )
    proxy.__getattr__ = lambda name: getattr(sklearn.svm, name)
    proxy.__dir__ = lambda: sorted(set(dir(sklearn.svm)))
    setattr(proxy, class_name, replacement)

    def substitute(*objs):
        return tuple(substitute_one(obj) for obj in objs)

    def substitute_one(obj):
        if obj is sklearn.svm:
            return proxy
        if obj is original:
            return replacement
        name = getattr(obj, "__name__", "")
        if isinstance(obj, types.ModuleType) and name.startswith("sklearn.svm.tests."):
            stem = name.rsplit(".", 1)[1]
            if f"{stem}.py" in SOURCES:
                return importlib.import_module(f"{package}.{stem}")
        return obj

    module.substitute = substitute
    module.folder = folder
    return module


def _drop_other_class(func, own, other):
    """Drop the parametrisations that use ``other`` but not ``own``; False if none is left."""
    param_type = type(pytest.param(None))

    def uses(value, cls):
        if isinstance(value, param_type):
            value = value.values
        items = value if isinstance(value, (tuple, list)) else (value,)
        return any(item is cls or type(item) is cls for item in items)

    marks = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize":
            kwargs = dict(mark.kwargs)
            args = list(mark.args)
            argnames = args.pop(0) if args else kwargs.pop("argnames")
            argvalues = list(args.pop(0) if args else kwargs.pop("argvalues"))  # may be an iterator
            keep = [i for i, value in enumerate(argvalues) if uses(value, own) or not uses(value, other)]
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


def _build_classes(root):
    """``{class name: test class}`` for every run and sklearn test module."""
    classes = {}
    for class_name in RUNS:
        package = _make_package(root, class_name)
        (own,) = package.substitute(getattr(sklearn.svm, class_name))
        other = getattr(sklearn.svm, RUNS[1 - RUNS.index(class_name)])
        replacement = _fastlinear_class(class_name)
        class_marks = []
        if replacement is None:
            class_marks.append(
                pytest.mark.skip(
                    reason=f"fastlinear {fastlinear.__version__} has no {class_name} yet; "
                    f"sklearn's {class_name} tests run once fastlinear.{class_name} exists"
                )
            )
        for filename in SOURCES:
            stem = filename[:-3]
            attrs = {"__doc__": f"sklearn/svm/tests/{filename}, {class_name} = fastlinear.{class_name}."}
            try:
                source = (SKLEARN_TESTS / filename).read_text(encoding="utf-8")
                names = selected_tests(source, class_name)
                if not names:
                    continue
                (package.folder / filename).write_text(_rebinding_source(source, package.__name__), encoding="utf-8")
                with warnings.catch_warnings():
                    # sklearn's own markers (thread_unsafe, ...) are registered by its conftest only.
                    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
                    module = importlib.import_module(f"{package.__name__}.{stem}")
            except Exception as error:  # reported as a failing test, not a collection error
                attrs["test_module_import"] = staticmethod(_import_failure(error))
            else:
                for name in names:
                    func = getattr(module, name)
                    if not _drop_other_class(func, own, other):
                        continue
                    reason = LIBLINEAR_SPECIFIC.get((filename, name))
                    if reason:
                        func = pytest.mark.xfail(strict=True, reason=reason)(func)
                    attrs[name] = staticmethod(func)
            attrs["pytestmark"] = class_marks
            classes[f"Test{class_name}_{stem}"] = type(f"Test{class_name}_{stem}", (), attrs)
    return classes


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


_ROOT = Path(tempfile.mkdtemp(prefix="fastlinear-sklearn-suite-"))
atexit.register(shutil.rmtree, _ROOT, True)
_CLASSES = _build_classes(_ROOT)
globals().update(_CLASSES)


# -- the mechanism itself ----------------------------------------------------


def test_substitution():
    """The copies see fastlinear's class, and only the run's class; sklearn is untouched."""
    assert _CLASSES, "no sklearn test selected"
    import sklearn.svm.tests.test_svm as original

    assert original.svm is sklearn.svm and original.LinearSVC is sklearn.svm.LinearSVC
    assert sklearn.svm.LinearSVC.__module__.startswith("sklearn.")
    for class_name in RUNS:
        package = sys.modules[f"_fastlinear_sklearn_suite_{class_name}"]
        other = RUNS[1 - RUNS.index(class_name)]
        expected = _fastlinear_class(class_name) or getattr(sklearn.svm, class_name)
        for filename in SOURCES:
            module = sys.modules.get(f"{package.__name__}.{filename[:-3]}")
            if module is None:
                continue
            for namespace in (module, getattr(module, "svm", None)):
                if namespace is None:
                    continue
                if hasattr(namespace, class_name):
                    assert getattr(namespace, class_name) is expected
                if hasattr(namespace, other):
                    assert getattr(namespace, other) is getattr(sklearn.svm, other)
                if hasattr(namespace, "SVC"):
                    assert namespace.SVC is sklearn.svm.SVC
            if hasattr(module, "test_svm"):
                assert module.test_svm is sys.modules[f"{package.__name__}.test_svm"]
