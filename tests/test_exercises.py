"""Every shipped exercise proves itself in both directions, through the real `grade` command:
the reference solution passes every check, the starter fails, each known mistake (mutant) fails
the checks it names, and each correct solution in another style (alternative) passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from grader.render import render_exercise_page
from conftest import has_gpu

ROOT = Path(__file__).resolve().parent.parent
SPECS = Course(ROOT).load_all()
CODE = [s for s in SPECS if s.kind == "code"]  # quizzes are proven in test_quiz.py


def _failed(result: dict) -> set[str]:
    return {c["id"] for c in result["checks"] if c["status"] in ("failed", "error")}


def test_exercise_pages_are_up_to_date():
    for spec in SPECS:
        page = spec.folder / "README.md"
        assert page.is_file() and page.read_text(encoding="utf-8") == render_exercise_page(spec), (
            f"{page} is stale: run `grade show {spec.id} > exercises/{spec.name}/README.md`")


def test_the_course_ships_exercises_one_to_five():
    assert [s.name for s in SPECS][:5] == ["01-dataset", "02-forward", "03-training-loop", "04-device", "05-amp"]


def _not_passed(spec, result: dict) -> list[str]:
    """Checks that did not pass, except GPU-only checks skipped on a machine without a GPU."""
    gpu_only = {c.id for c in spec.checks if c.gpu_only}
    return [c["id"] for c in result["checks"]
            if c["status"] != "passed" and not (c["status"] == "skipped" and c["id"] in gpu_only and not has_gpu())]


@pytest.mark.slow
@pytest.mark.parametrize("spec", CODE, ids=lambda s: s.name)
def test_reference_solution_passes_every_check(grade, spec):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder), "--format", "json")
    result = ran.json()
    assert _not_passed(spec, result) == [], result
    skipped = sum(c.points for c in spec.checks if c.gpu_only and not has_gpu())
    assert (result["passed"], result["status"], ran.code) == (True, "passed", 0)
    assert result["score"] == result["max_score"] == spec.max_score - skipped
    for check in result["checks"]:  # each device it ran on passed; cuda is skipped only without a GPU
        for run in check["devices"]:
            assert run["status"] == "passed" or (run["device"] == "cuda" and not has_gpu()), check


@pytest.mark.slow
@pytest.mark.parametrize("spec", CODE, ids=lambda s: s.name)
def test_starter_fails(grade, spec):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.folder), "--format", "json")
    result = ran.json()
    assert (result["passed"], ran.code) == (False, 1)
    assert result["score"] < spec.max_score


MUTANTS = [pytest.param(spec, m, id=f"{spec.name}:{Path(m.file).stem}") for spec in CODE for m in spec.mutants]
ALTERNATIVES = [pytest.param(spec, a, id=f"{spec.name}:{Path(a.file).stem}") for spec in CODE for a in spec.alternatives]


def test_each_exercise_ships_at_least_five_mutants_and_an_alternative():
    for spec in CODE:
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
    # One bug, one check: any other check it fails says it follows from another check's problem.
    beyond = [c["id"] for c in result["checks"] if c["status"] in ("failed", "error") and c["id"] not in mutant.fails
              and not c["because_of"]]
    assert not beyond, f"{mutant.file} ({mutant.description}) also fails {beyond} on their own: {result}"
    assert not [c for c in result["checks"] if c["status"] == "error"], result  # a mistake is 'failed', not a grader error
    for check in result["checks"]:
        if check["id"] in mutant.fails:
            assert check["message"].strip() and not check["because_of"], check
    assert (result["passed"], ran.code) == (False, 1)


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "alternative"), ALTERNATIVES)
def test_alternative_solution_passes(grade, spec, alternative):
    ran = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder / alternative.file), "--format", "json")
    result = ran.json()
    assert _not_passed(spec, result) == [], result
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


@pytest.mark.slow
def test_without_a_gpu_gpu_checks_are_skipped_never_passed(grade):
    """On a CPU-only machine exercise 5's reference gets full marks for what could run; the GPU-only check
    and every cuda run are reported as skipped, with no points, and say so in the text view."""
    if has_gpu():
        pytest.skip("this machine has a GPU")
    result = grade("exercise", "5", "--submission", "solutions/05-amp", "--format", "json").json()
    checks = {c["id"]: c for c in result["checks"]}
    assert checks["amp-saves-memory"]["status"] == "skipped" and checks["amp-saves-memory"]["points"] == 0
    assert checks["amp-saves-memory"]["devices"] == [{"device": "cuda", "status": "skipped"}]
    assert {"device": "cuda", "status": "skipped"} in checks["scaler-step"]["devices"]
    assert {"device": "cpu", "status": "passed"} in checks["scaler-step"]["devices"]
    text = grade("exercise", "5", "--submission", "solutions/05-amp").stdout
    assert "SKIP" in text and "cuda: skipped" in text and "No GPU here" in text


@pytest.mark.slow
def test_device_checks_name_the_device_and_explain_the_idea(grade):
    """Exercise 4's starter (hard-coded .cuda()) fails on the stand-in GPU, with feedback that explains why
    `.to()` must be assigned and links the device concepts."""
    result = grade("exercise", "4", "--format", "json").json()
    failed = {c["id"]: c for c in result["checks"] if c["status"] == "failed"}
    assert set(failed) == {c.id for c in CODE[3].checks}
    assert "meta device standing in for a GPU" in failed["inputs-on-device"]["message"]
    assert ".cuda()" in failed["inputs-on-device"]["message"]
    assert "does not move the tensor you call it on" in " ".join(failed["inputs-on-device"]["why_it_matters"].split())
    assert {"device", "tensor"} <= set(failed["inputs-on-device"]["concepts"])
    assert {"device", "cuda"} <= set(failed["get-device"]["concepts"])


@pytest.mark.slow
@pytest.mark.cuda
@pytest.mark.parametrize("spec", [s for s in CODE if s.name in ("04-device", "05-amp")], ids=lambda s: s.name)
def test_on_a_gpu_device_checks_run_on_cuda(grade, spec):
    """With a GPU, every device check of exercises 4 and 5 runs on cuda too, and the GPU-only check runs."""
    result = grade("exercise", str(spec.id), "--submission", str(spec.solution_folder), "--format", "json").json()
    ran_on_cuda = [c["id"] for c in result["checks"] if {"device": "cuda", "status": "passed"} in c["devices"]]
    assert len(ran_on_cuda) >= len(spec.checks) - 1, result
    assert result["passed"] and result["max_score"] == spec.max_score
