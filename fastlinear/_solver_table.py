"""LIBLINEAR's solvers as fastlinear offers them: one table.

Each row is one LIBLINEAR solver type: the name a model file gives it
(``solver_type``), its ``-s`` number, the problem it solves (loss, penalty,
primal or dual), the fastlinear estimator and parameters that solve it, and
what the stopping tolerance bounds.  The model files' solver types, the CLI's
``-s`` options, its usage text and errors, the solver type of a fitted
estimator (:func:`solver_type_of`), and which ``dual`` an estimator's
loss and penalty allow, with scikit-learn's errors for the rest
(:func:`forms_for`), are all read from it; where both forms exist,
``dual="auto"`` picks between them by the data
(``fastlinear._solvers.prefer_primal``).
"""
from dataclasses import dataclass, field

__all__ = ["SOLVERS", "Solver", "by_number", "by_type", "forms_for", "offered", "solver_type_of",
           "switch_lines", "tol_lines", "usage_lines"]


@dataclass(frozen=True)
class Solver:
    """One row of the table.

    Attributes
    ----------
    type_name : str
        LIBLINEAR's name, as in a model file's ``solver_type`` line.
    number : int
        LIBLINEAR's ``-s`` number.
    description : str
        LIBLINEAR's one-line description (the CLI's usage text).
    estimator : str or None
        The fastlinear estimator that solves it (``"LinearSVC"``,
        ``"LinearSVR"`` or ``"LogisticRegression"``); None when fastlinear
        does not offer the solver.
    loss, penalty : str
        The problem: scikit-learn's loss and penalty names.
    form : {"primal", "dual", "joint"}
        What the solver iterates on ("joint": Crammer and Singer's single
        multiclass dual).
    params : dict
        The estimator's parameters that select the solver.
    tol_bounds : str
        What the stopping tolerance bounds.
    kernel : str or None
        fastlinear's solver for the row (the name ``solver_`` reports and
        ``fastlinear._solvers.solve`` runs).
    switch_to : int or None
        For a dual row that LIBLINEAR's ``train`` (2.42 and later) hands
        over to a primal row when its passes run out: that row's ``-s``
        number (``fastlinear train`` does the same).
    switch_tol_factor : float
        The primal row's tolerance after such a switch, relative to the
        dual's (LIBLINEAR's: the dual's, read as a primal one, is loose).
    """

    type_name: str
    number: int
    description: str
    estimator: object
    loss: str
    penalty: str
    form: str
    params: dict = field(default_factory=dict)
    tol_bounds: str = ""
    kernel: object = None
    switch_to: object = None
    switch_tol_factor: float = 1.0

    @property
    def regression(self):
        return self.estimator == "LinearSVR"


_PG = "the spread (max - min) of the dual's projected gradient"
_NEWTON = "the gradient's norm relative to its norm at w = 0 (times min(#pos, #neg) / n)"
_L1_FIRST = ("the minimum-norm subgradient's 1-norm relative to the first pass's "
             "(times min(#pos, #neg) / n)")
_SVR_DUAL = "the 1-norm of the dual's projected gradient relative to the first pass's"
SOLVERS = (
    Solver("L2R_LR", 0, "L2-regularized logistic regression (primal)", "LogisticRegression",
           "log_loss", "l2", "primal", dict(solver="liblinear", dual=False), _NEWTON,
           kernel="newton"),
    Solver("L2R_L2LOSS_SVC_DUAL", 1, "L2-regularized L2-loss support vector classification (dual)",
           "LinearSVC", "squared_hinge", "l2", "dual", dict(loss="squared_hinge", dual=True), _PG,
           kernel="dual_cd", switch_to=2, switch_tol_factor=0.1),
    Solver("L2R_L2LOSS_SVC", 2, "L2-regularized L2-loss support vector classification (primal)",
           "LinearSVC", "squared_hinge", "l2", "primal", dict(loss="squared_hinge", dual=False),
           _NEWTON, kernel="newton"),
    Solver("L2R_L1LOSS_SVC_DUAL", 3, "L2-regularized L1-loss support vector classification (dual)",
           "LinearSVC", "hinge", "l2", "dual", dict(loss="hinge", dual=True), _PG, kernel="dual_cd"),
    Solver("MCSVM_CS", 4, "support vector classification by Crammer and Singer", "LinearSVC",
           "hinge", "l2", "joint", dict(multi_class="crammer_singer"),
           "the largest spread of a sample's projected gradients", kernel="crammer_singer"),
    Solver("L1R_L2LOSS_SVC", 5, "L1-regularized L2-loss support vector classification",
           "LinearSVC", "squared_hinge", "l1", "primal",
           dict(penalty="l1", loss="squared_hinge", dual=False),
           _L1_FIRST, kernel="l1_cd"),
    Solver("L1R_LR", 6, "L1-regularized logistic regression", "LogisticRegression", "log_loss",
           "l1", "primal", dict(solver="liblinear", dual=False, l1_ratio=1.0), _L1_FIRST,
           kernel="glmnet"),
    Solver("L2R_LR_DUAL", 7, "L2-regularized logistic regression (dual)", "LogisticRegression",
           "log_loss", "l2", "dual", dict(solver="liblinear", dual=True),
           "the largest derivative of a pass's one-variable subproblems",
           kernel="logistic_dual_cd", switch_to=0, switch_tol_factor=0.1),
    Solver("L2R_L2LOSS_SVR", 11, "L2-regularized L2-loss support vector regression (primal)",
           "LinearSVR", "squared_epsilon_insensitive", "l2", "primal",
           dict(loss="squared_epsilon_insensitive", dual=False),
           "the gradient's norm relative to its norm at w = 0", kernel="newton"),
    Solver("L2R_L2LOSS_SVR_DUAL", 12, "L2-regularized L2-loss support vector regression (dual)",
           "LinearSVR", "squared_epsilon_insensitive", "l2", "dual",
           dict(loss="squared_epsilon_insensitive", dual=True), _SVR_DUAL, kernel="dual_cd",
           switch_to=11, switch_tol_factor=0.001),
    Solver("L2R_L1LOSS_SVR_DUAL", 13, "L2-regularized L1-loss support vector regression (dual)",
           "LinearSVR", "epsilon_insensitive", "l2", "dual",
           dict(loss="epsilon_insensitive", dual=True), _SVR_DUAL, kernel="dual_cd"),
    Solver("ONECLASS_SVM", 21, "one-class support vector machine (dual)", None, "hinge", "l2",
           "dual"),
)


#: A loss as scikit-learn's liblinear errors name it.
_LOSS_WORD = {"log_loss": "logistic_regression"}


def forms_for(estimator, loss, penalty, dual):
    """The rows that solve ``loss`` with ``penalty`` in the form ``dual`` asks for.

    Parameters
    ----------
    estimator : {"LinearSVC", "LinearSVR", "LogisticRegression"}
    loss, penalty : str
        The problem, in scikit-learn's names (as the table's rows).
    dual : bool or "auto"
        ``True``: the dual row, ``False``: the primal one, ``"auto"``:
        every row of the problem.

    Returns
    -------
    dict
        ``{form: Solver}``, one or two entries (``"primal"``, ``"dual"``).

    Raises
    ------
    ValueError
        scikit-learn's liblinear error, when no row solves the problem or
        none in the asked form.
    """
    rows = {s.form: s for s in offered()
            if (s.estimator, s.loss, s.penalty) == (estimator, loss, penalty) and s.form != "joint"}
    word = _LOSS_WORD.get(loss, loss)
    form = "dual" if dual is True else "primal" if dual is False else None
    if rows and form is None:
        return rows
    if form in rows:
        return {form: rows[form]}
    if not rows:
        reason = f"The combination of penalty={penalty!r} and loss={word!r} is not supported"
    else:
        reason = (f"The combination of penalty={penalty!r} and loss={word!r} are not supported "
                  f"when dual={dual}")
    shown = True if form is None else dual
    raise ValueError(f"Unsupported set of arguments: {reason}, Parameters: penalty={penalty!r}, "
                     f"loss={word!r}, dual={shown!r}")


def by_type(type_name):
    """The offered row named ``type_name``, or None."""
    return next((s for s in SOLVERS if s.type_name == type_name and s.estimator), None)


def by_number(number):
    """The offered row with ``-s number``, or None."""
    return next((s for s in SOLVERS if s.number == number and s.estimator), None)


def offered():
    """The rows fastlinear offers, in LIBLINEAR's order."""
    return [s for s in SOLVERS if s.estimator]


def usage_lines():
    """The ``-s`` part of ``fastlinear train -h``: LIBLINEAR's list, offered rows only."""
    lines = []
    for title, regression in (("for classification", False), ("for regression", True)):
        lines.append(f"   {title}:")
        lines += [f"    {s.number:2d} -- {s.description}"
                  for s in offered() if s.regression == regression]
    return "\n".join(lines)


def tol_lines():
    """What ``-e`` bounds, solver by solver (the CLI's usage text)."""
    groups = {}
    for s in offered():
        groups.setdefault(s.tol_bounds, []).append(s.number)
    return "\n".join(f"     -s {', '.join(map(str, numbers))}: {bounds}"
                     for bounds, numbers in groups.items())


def switch_lines(after):
    """The dual rows that hand over to a primal row (the CLI's usage text)."""
    rows = [s for s in offered() if s.switch_to is not None]
    return "\n".join(
        [f"     after {after} passes short of -e, these dual solvers continue with a primal",
         f"     one from there, as LIBLINEAR 2.42+ (not with --max-iter <= {after}):"]
        + [f"       -s {s.number} -> -s {s.switch_to}, -e x {s.switch_tol_factor:g}" for s in rows])


def solver_type_of(estimator):
    """The row of a fitted (or configured) estimator, fastlinear's or scikit-learn's.

    A logistic regression is ``L2R_LR_DUAL`` when liblinear's dual solver
    fitted it (``solver="liblinear", dual=True``; fastlinear's ``solver_ ==
    "liblinear-dual"``), ``L1R_LR`` when its penalty has an L1 share
    (``l1_ratio > 0``, whatever solver fitted it), and ``L2R_LR`` otherwise:
    a model fitted by another
    solver (lbfgs, Newton, ...) is saved as ``L2R_LR``, whose weights and
    intercept predict the same labels.  Its probabilities are the same for
    two classes (``sigma(w.x)``); for three or more classes LIBLINEAR's are
    one-vs-rest normalised (``sigma(d_k) / sum_j sigma(d_j)``), not the
    softmax of a multinomial model.

    Raises
    ------
    ValueError
        If no row solves the estimator's problem.
    """
    name = type(estimator).__name__
    fitted_by = getattr(estimator, "solver_", "")
    if name in ("LogisticRegression", "LogisticRegressionCV"):
        kind, loss = "LogisticRegression", "log_loss"
        from .logistic import _penalty_l1_ratio

        # Any L1 share is saved as liblinear's L1 type (-s 6): the weights
        # predict the same, whichever solver fitted them.
        l1 = fitted_by in ("liblinear-l1", "glmnet") or _penalty_l1_ratio(estimator) > 0
        penalty = "l1" if l1 else "l2"
        dual = fitted_by == "liblinear-dual" or (
            getattr(estimator, "solver", None) == "liblinear" and getattr(estimator, "dual", False) is True)
        form = "dual" if dual else "primal"
    elif name == "LinearSVR":
        kind, loss, penalty = "LinearSVR", getattr(estimator, "loss", None), "l2"
        primal = fitted_by == "newton" or getattr(estimator, "dual", True) is False
        form = "primal" if primal else "dual"
    else:
        kind, loss = "LinearSVC", getattr(estimator, "loss", None)
        penalty = getattr(estimator, "penalty", "l2")
        primal = fitted_by in ("newton", "l1_cd") or getattr(estimator, "dual", True) is False
        form = "primal" if primal or penalty == "l1" else "dual"
        if getattr(estimator, "multi_class", "ovr") == "crammer_singer":
            return by_type("MCSVM_CS")
    rows = [s for s in offered() if (s.estimator, s.loss, s.penalty) == (kind, loss, penalty)]
    for row in rows:
        if row.form == form:
            return row
    if rows and kind == "LinearSVR":
        return rows[0]  # the epsilon-insensitive loss has its dual solver only
    raise ValueError(
        f"No LIBLINEAR solver type for a {name} with loss={loss!r}, penalty={penalty!r}"
        f" ({form}); fastlinear's model files hold "
        + ", ".join(f"{s.type_name} (-s {s.number})" for s in offered()) + "."
    )

