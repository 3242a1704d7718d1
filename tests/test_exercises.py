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


MUTANTS = [pytest.param(spec, m, id=f"{spec.name}:{Path(m.file).stem}") for spec in CODE for m in spec.mutants]
ALTERNATIVES = [pytest.param(spec, a, id=f"{spec.name}:{Path(a.file).stem}") for spec in CODE for a in spec.alternatives]


def test_each_exercise_ships_its_mutants_and_alternatives():
    """Exercises 1-5 shipped with at least five mutants and two alternatives; from exercise 9 on, at least six
    and three (the course's rule since issue 23)."""
    for spec in CODE:
        mutants, alternatives = (5, 2) if spec.id <= 5 else (6, 3)
        assert len(spec.mutants) >= mutants and len(spec.alternatives) >= alternatives, spec.name
        assert {c for m in spec.mutants for c in m.fails}, spec.name


def _report(course_proof, spec) -> dict:
    report = course_proof.reports.get(spec.name)
    assert report is not None, f"grade validate said nothing of {spec.name}: {course_proof.ran.stderr[-3000:]}"
    return report


def _problems_of(report: dict, *names: str) -> list[str]:
    return [p for p in report["problems"] if any(name in p for name in names)]


# What follows asks `grade validate`, run once for the whole course (the `course_proof` fixture), what it
# found when it graded each submission: the same gradings `grade exercise --submission` would make, each in
# a grading process of its own, judged by the rules below (grader/authoring/validate.py, tested on a broken
# scaffold in tests/test_validate.py).

@pytest.mark.slow
@pytest.mark.parametrize("spec", CODE, ids=lambda s: s.name)
def test_starter_fails_and_the_verdicts_are_steady(course_proof, spec):
    report = _report(course_proof, spec)
    assert (report["solution"], report["starter"]) == ("passes", "fails"), report
    assert not _problems_of(report, "flaky", "more than half the time limit", "reference solution", "starter"), report


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "mutant"), MUTANTS)
def test_mutant_fails_the_checks_that_name_its_bug(course_proof, spec, mutant):
    """Each named check fails on its own (not "because of" another) and says why, no other check fails on its
    own, and no check ends in a grader error instead of a failure."""
    report = _report(course_proof, spec)
    assert not _problems_of(report, f"mutant {mutant.file} "), report["problems"]
    assert report["mutants"] == f"{len(spec.mutants)}/{len(spec.mutants)}", report


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "alternative"), ALTERNATIVES)
def test_alternative_solution_passes(course_proof, spec, alternative):
    report = _report(course_proof, spec)
    assert not _problems_of(report, f"alternative {alternative.file} "), report["problems"]


@pytest.mark.slow
def test_every_message_of_every_run_can_be_said_in_every_language(course_proof):
    reports = [_report(course_proof, spec) for spec in CODE]
    assert not [p for r in reports for p in r["problems"] if "a message that cannot be said" in p]


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
