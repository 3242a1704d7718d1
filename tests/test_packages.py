"""Packages beyond torch a course lets its students use (`packages:` in exercise.yaml): declared and
checked with the exercise, installed by every set-up the course hands out (the student README, the
Classroom workflow, Gradescope's setup.sh) without pulling another torch, preloaded where the student's
file imports them, and named in the message a student gets for an import the course does not provide."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.authoring.classroom import Pins, render_workflow
from grader.authoring.export import Export, student_readme
from grader.authoring.gradescope import render_scripts
from grader.course import Course
from conftest import run_in_words
from grader.runner.launch import from_package, preload_modules
from grader.runner.sandbox import ProbeOutcome
from grader.spec import requirement_name

ROOT = Path(__file__).resolve().parent.parent
COURSE = Course(ROOT)
PINS = Pins(torch="2.14.1", torchvision="0.29.1")


def test_the_shipped_course_allows_pandas_in_exercise_1_and_tqdm_in_exercise_3():
    assert COURSE.resolve("1").packages == ["pandas"] and COURSE.resolve("3").packages == ["tqdm"]
    assert COURSE.packages() == ["pandas", "tqdm"]
    assert requirement_name("Scikit_Learn[alldeps]>=1.4") == "scikit-learn"


def test_the_test_extra_installs_what_the_course_allows():
    """CI grades the real-world corpus, whose datasets read CSV files with pandas and loops show tqdm bars."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert {requirement_name(p) for p in COURSE.packages()} <= {requirement_name(e) for e in extras}


def test_every_set_up_installs_the_packages_with_torch_pinned():
    workflow = render_workflow(COURSE, None, PINS)
    assert "python -m pip install pandas tqdm torch==2.14.1 torchvision==0.29.1" in workflow
    setup = render_scripts(COURSE, PINS, "after_published")["setup.sh"]
    assert '"$ROOT/venv/bin/pip" install pandas tqdm torch==2.14.1 torchvision==0.29.1' in setup
    readme = student_readme(COURSE.load_all(), Export(out=ROOT))
    assert ".venv/bin/pip install pandas tqdm" in readme
    assert "`pandas`" in (ROOT / "exercises/01-dataset/README.md").read_text()  # the exercise's page says so


def test_an_allowed_package_imported_by_the_students_file_is_preloaded(tmp_path):
    staged = tmp_path / "submission"
    staged.mkdir()
    (staged / "dataset.py").write_text("import pandas as pd\nimport tqdm\n")
    preload = preload_modules(COURSE.resolve("1"), staged)
    assert "pandas" in preload and "tqdm" not in preload  # tqdm is exercise 3's, not exercise 1's
    assert from_package("pandas", ["pandas"]) and from_package("yaml", ["PyYAML"])  # by the installed distribution
    assert not from_package("pandas", ["tqdm"]) and not from_package("csv", ["pandas"])


def _missing(module: str, packages: list[str]) -> str:
    outcome = ProbeOutcome(status="error", duration=0.1, error={
        "kind": "exception", "during": "import", "type": "ModuleNotFoundError",
        "message": f"No module named '{module}'", "file": "dataset.py", "line": 1, "code": f"import {module}"})
    return run_in_words(outcome, None, {"time_s": 1, "memory_mb": 1, "processes": 1, "packages": packages})


def test_an_import_the_course_does_not_provide_says_how_a_course_allows_it():
    text = " ".join(_missing("sklearn", ["pandas"]).split())
    assert "torch, torchvision, pandas and the standard library" in text
    assert "lists it under `packages:` in the exercise's `exercise.yaml`" in text
    allowed = " ".join(_missing("pandas", ["pandas>=2"]).split())
    assert "This exercise allows `pandas`, but it is not installed where your code ran" in allowed


def test_a_package_that_is_not_a_requirement_is_refused_with_its_line(grade, tmp_path):
    shutil.copytree(ROOT / "glossary", tmp_path / "glossary")
    shutil.copytree(ROOT / "exercises" / "01-dataset", tmp_path / "exercises" / "01-dataset")
    shutil.copytree(ROOT / "solutions" / "01-dataset", tmp_path / "solutions" / "01-dataset")
    path = tmp_path / "exercises" / "01-dataset" / "exercise.yaml"
    text = path.read_text()
    line = text[: text.index("packages: [pandas]")].count("\n") + 1
    path.write_text(text.replace("packages: [pandas]", 'packages: ["pandas; rm -rf ~"]'))
    ran = grade("--course", str(tmp_path), "validate", "--static")
    assert ran.code == 2 and "Traceback" not in ran.stderr
    assert f"exercises/01-dataset/exercise.yaml:{line}:" in ran.stderr and "packages.0" in ran.stderr


@pytest.mark.parametrize("requirement", ["pandas", "tqdm>=4", "scikit-learn==1.5.0", "torchmetrics[image]<2,>=1"])
def test_requirements_a_course_may_write(requirement):
    from grader.spec import REQUIREMENT_PATTERN
    import re

    assert re.match(REQUIREMENT_PATTERN, requirement)
