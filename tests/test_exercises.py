"""Every shipped exercise proves itself in both directions, through the real `grade` command:
the reference solution passes every check, the starter fails, each known mistake (mutant) fails
the checks it names, and each correct solution in another style (alternative) passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog import Course
from grader.render import render_exercise_page

ROOT = Path(__file__).resolve().parent.parent
SPECS = Course(ROOT).load_all()


def _failed(result: dict) -> set[str]:
    return {c["id"] for c in result["checks"] if c["status"] in ("failed", "error")}


def test_exercise_pages_are_up_to_date():
    for spec in SPECS:
        page = spec.folder / "README.md"
        assert page.is_file() and page.read_text(encoding="utf-8") == render_exercise_page(spec), (
            f"{page} is stale: run `grade show {spec.id} > exercises/{spec.name}/README.md`")


def test_the_course_ships_exercises_one_to_three():
    assert [s.name for s in SPECS][:3] == ["01-dataset", "02-forward", "03-training-loop"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_reference_solution_passes_every_check(grade, spec):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder), "--format", "json")
    result = ran.json()
    assert [c["id"] for c in result["checks"] if c["status"] != "passed"] == [], result
    assert (result["passed"], result["status"], result["score"], ran.code) == (True, "passed", spec.max_score, 0)


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_starter_fails(grade, spec):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.folder), "--format", "json")
    result = ran.json()
    assert (result["passed"], ran.code) == (False, 1)
    assert result["score"] < spec.max_score


MUTANTS = [pytest.param(spec, m, id=f"{spec.name}:{Path(m.file).stem}") for spec in SPECS for m in spec.mutants]
ALTERNATIVES = [pytest.param(spec, a, id=f"{spec.name}:{Path(a.file).stem}") for spec in SPECS for a in spec.alternatives]


def test_each_exercise_ships_at_least_five_mutants_and_an_alternative():
    for spec in SPECS:
        assert len(spec.mutants) >= 5, spec.name
        assert spec.alternatives, spec.name
        assert {c for m in spec.mutants for c in m.fails}, spec.name


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "mutant"), MUTANTS)
def test_mutant_fails_the_checks_that_name_its_bug(grade, spec, mutant):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder / mutant.file), "--format", "json")
    result = ran.json()
    missed = set(mutant.fails) - _failed(result)
    assert not missed, f"{mutant.file} ({mutant.description}) was not caught by {sorted(missed)}: {result}"
    assert not [c for c in result["checks"] if c["status"] == "error"], result  # a mistake is 'failed', not a grader error
    for check in result["checks"]:
        if check["id"] in mutant.fails:
            assert check["message"].strip(), check
    assert (result["passed"], ran.code) == (False, 1)


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "alternative"), ALTERNATIVES)
def test_alternative_solution_passes(grade, spec, alternative):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder / alternative.file), "--format", "json")
    result = ran.json()
    assert [c["id"] for c in result["checks"] if c["status"] != "passed"] == [], result
    assert ran.code == 0


@pytest.mark.slow
def test_starter_feedback_names_the_concepts_of_each_bug(grade):
    """Exercise 3's starter has four bugs; each failed check links its glossary concepts."""
    result = grade("exercise", "3", "--format", "json").json()
    failed = {c["id"]: c for c in result["checks"] if c["status"] == "failed"}
    assert set(failed) == {"fresh-gradients", "epoch-loss", "train-mode", "eval-mode", "no-grad-in-eval"}
    assert {"gradient", "optimizer", "iteration"} <= set(failed["fresh-gradients"]["concepts"])
    assert "computation-graph" in failed["epoch-loss"]["concepts"]
    for check in failed.values():
        assert check["message"] and check["why_it_matters"] and check["what_to_try"]
