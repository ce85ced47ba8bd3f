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

The mechanism is ``_sklearn_suite.Suite``, shared with
``test_sklearn_logistic_suite.py``.  ``global_random_seed`` follows sklearn's conftest: 42, or
``$SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` ("all", "N" or "N-M").
"""
import sys

import sklearn.svm

from _sklearn_suite import Run, Suite, global_dtype, global_random_seed  # noqa: F401 (fixtures)

SOURCES = ("test_svm.py", "test_sparse.py", "test_bounds.py")
RUNS = ("LinearSVC", "LinearSVR")

# Tests that check liblinear's own wording or internals, not the estimator's
# behaviour: test id pattern -> reason.  Strict xfails, so an entry fails
# (and should go) once the test passes.
LIBLINEAR_SPECIFIC = {
    "test_linear_svm_convergence_warnings[*]": (
        "matches liblinear's own warning text 'Liblinear failed to converge, increase the number of "
        "iterations.', where fastlinear names the estimator ('LinearSVC failed to converge, ...'); the n_iter_ "
        "checks after it (an int equal to max_iter=2) are covered in test_dropin.py and test_svr.py"
    ),
}

SUITE = Suite(
    "svm",
    SOURCES,
    [Run(name, (name,), rivals=tuple(other for other in RUNS if other != name)) for name in RUNS],
    LIBLINEAR_SPECIFIC,
    strict=True,
)
_CLASSES = SUITE.build_classes()
globals().update(_CLASSES)


# -- the mechanism itself ----------------------------------------------------


def test_substitution():
    """The copies see fastlinear's class, and only the run's class; sklearn is untouched."""
    assert _CLASSES, "no sklearn test selected"
    import sklearn.svm.tests.test_svm as original

    assert original.svm is sklearn.svm and original.LinearSVC is sklearn.svm.LinearSVC
    assert sklearn.svm.LinearSVC.__module__.startswith("sklearn.")
    for class_name in RUNS:
        run = next(run for run in SUITE.runs if run.name == class_name)
        package = sys.modules[SUITE.package_name(run)]
        other = RUNS[1 - RUNS.index(class_name)]
        expected = SUITE.replacements(run)[class_name]
        for module in SUITE.copies(run).values():
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
