"""Package metadata in pyproject.toml: what an index page and ``pip show`` display."""
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@pytest.fixture(scope="module")
def pyproject():
    if not PYPROJECT.exists():
        pytest.skip(f"no {PYPROJECT} (tests run outside a checkout)")
    return tomllib.loads(PYPROJECT.read_text())


def test_authors_and_project_urls(pyproject):
    project = pyproject["project"]
    assert project["authors"] == [{"name": "fastlinear developers"}]
    urls = project["urls"]
    assert {"Documentation", "Source", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())


def test_python_classifiers_match_requires_python_and_the_wheels(pyproject):
    project = pyproject["project"]
    versions = sorted(
        (int(m.group(1)) for c in project["classifiers"]
         if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c))),
    )
    assert versions == list(range(10, 15))
    assert project["requires-python"] == f">=3.{versions[0]}"
    wheels = pyproject["tool"]["cibuildwheel"]["build"].split()
    assert {f"cp3{v}-*" for v in versions} <= set(wheels)
