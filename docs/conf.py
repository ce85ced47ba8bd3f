"""Sphinx configuration of the fastlinear documentation.

Build with ``make -C docs html`` (warnings are errors).  The build needs no
network: intersphinx links to NumPy, SciPy and scikit-learn are made only
when ``FASTLINEAR_DOCS_INTERSPHINX=1`` is set (they fetch the inventories).
"""
import contextlib
import io
import os
import re
from pathlib import Path

import fastlinear

HERE = Path(__file__).resolve().parent

# -- Project ------------------------------------------------------------------
project = "fastlinear"
author = "the fastlinear developers"
copyright = "the fastlinear developers"
release = fastlinear.__version__
version = re.sub(r"(\.dev\d*|rc\d*|a\d*|b\d*)$", "", release)

# -- General ------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# autodoc / autosummary / numpydoc
autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- Optional intersphinx (off by default: the build stays offline) -----------
if os.environ.get("FASTLINEAR_DOCS_INTERSPHINX", "0") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fastlinear {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "backreferences_dir": "api/generated/backreferences",
    "doc_module": ("fastlinear",),
    "download_all_examples": False,
    "write_computation_times": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "abort_on_example_error": False,
    # A class without an example simply has no mini-gallery.
    "log_level": {"backreference_missing": "debug"},
}


# -- The command line: `fastlinear ... --help`, generated at build time ---------
CLI_HELP = {
    "fastlinear": ["--help"],
    "fastlinear-train": ["train", "--help"],
    "fastlinear-predict": ["predict", "--help"],
    "fastlinear-demo": ["demo", "--help"],
}


def write_cli_help(app):
    """Run the ``fastlinear`` command's help screens into ``_generated/cli/*.txt``."""
    from fastlinear.cli import main

    out_dir = HERE / "_generated" / "cli"
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"  # argparse wraps to the terminal width
    try:
        for name, argv in CLI_HELP.items():
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = main(argv)
            if code != 0:
                raise RuntimeError(f"fastlinear {' '.join(argv)} exited with {code}")
            text = f"$ fastlinear {' '.join(argv)}\n{buffer.getvalue()}"
            path = out_dir / f"{name}.txt"
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


# -- Every public name must be in the API reference ------------------------------
PUBLIC_MODULES = ("fastlinear", "fastlinear.model_selection", "fastlinear.datasets", "fastlinear.dask")


def check_api_coverage(app):
    """Warn (an error under -W) about a public name missing from api/index.rst."""
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", (HERE / "api" / "index.rst").read_text(), re.M))
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if not name.startswith("_") and name not in listed:
                logger.warning(f"{module_name}.{name} is public but missing from docs/api/index.rst")


# -- Docstrings inherited from scikit-learn --------------------------------------
# Methods such as ``score`` come from scikit-learn's mixins, whose docstrings
# cross-reference scikit-learn's own user guide; keep the words, drop the link.
_REF = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`>]*>)?`")


def plain_sklearn_refs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn"):
        lines[:] = [_REF.sub(lambda m: m.group(1), line) for line in lines]


# scikit-learn's metadata-routing plumbing, present on every estimator.
_SKIPPED = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def skip_routing_methods(app, what, name, obj, skip, options):
    if _SKIPPED.match(name):
        return True
    return None


def setup(app):
    app.connect("builder-inited", write_cli_help)
    app.connect("builder-inited", check_api_coverage)
    app.connect("autodoc-process-docstring", plain_sklearn_refs, priority=400)
    app.connect("autodoc-skip-member", skip_routing_methods)
