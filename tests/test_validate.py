"""`grade new` and `grade validate`, on a scaffolded exercise broken on purpose in each way validation
must catch: each failure kind shows its exact message and exits 1; the scaffold itself validates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture
def course(tmp_path: Path, grade) -> Path:
    """An empty course (the shipped glossary, no exercises) with `grade new exercise demo` in it."""
    shutil.copytree(ROOT / "glossary", tmp_path / "glossary")
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions").mkdir()
    ran = grade("--course", str(tmp_path), "new", "exercise", "demo")
    assert ran.code == 0, ran.stderr
    return tmp_path


def _validate(grade, course: Path, *args: str):
    ran = grade("--course", str(course), "validate", "--jobs", "2", *args)  # the cores CI has: each job a warm process importing torch
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr
    return ran


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_new_exercise_and_quiz_validate_out_of_the_box(grade, course):
    quiz = grade("--course", str(course), "new", "quiz", "shapes")
    assert quiz.code == 0 and "exercises/02-shapes/answers.yaml" in quiz.stdout
    ran = _validate(grade, course)
    assert ran.code == 0, ran.stdout
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["exercise", "solution", "starter", "starter", "earns", "mutants", "caught", "other", "checks", "failed",
                                "alternatives", "slowest", "check", "time"]
    assert lines[1].split()[:7] == ["01-demo", "passes", "fails", "0/3", "2/2", "none", "1/1"]
    assert lines[2].split()[:5] == ["02-shapes", "answers", "compute", "fails", "0/2"]
    assert "All 2 exercises proven." in ran.stdout
    again = grade("--course", str(course), "new", "exercise", "demo")
    assert again.code == 2 and "exercise 'demo' exists already: exercises/01-demo/" in again.stderr


def test_a_failing_reference_solution(grade, course):
    # Checks that compare with the reference cannot see the reference's own bug (it agrees with itself):
    # a check of a property (the input unchanged) does, and so does the correct alternative.
    _replace(course / "solutions/01-demo/demo.py", "return x * factor", "return x.mul_(factor)")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- the reference solution does not pass 'input-unchanged' (failed): scale changed the tensor it was given"
            in ran.stdout)


def test_a_wrong_reference_is_exposed_by_the_alternative(grade, course):
    _replace(course / "solutions/01-demo/demo.py", "return x * factor", "return x + factor")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert "- alternative alternatives/torch_mul.py (torch.mul) does not pass 'scales-values'" in ran.stdout


def test_a_starter_that_passes(grade, course):
    shutil.copy(course / "solutions/01-demo/demo.py", course / "exercises/01-demo/demo.py")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1 and "- the starter passes every check: a student would have nothing to do" in ran.stdout


def test_a_mutant_that_passes(grade, course):
    shutil.copy(course / "solutions/01-demo/demo.py", course / "solutions/01-demo/mutants/adds_factor.py")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert "- mutant mutants/adds_factor.py (adds the factor instead of multiplying) passes every check" in ran.stdout
    assert "1/2" in ran.stdout.splitlines()[1]


def test_a_mutant_caught_only_by_other_checks(grade, course):
    _replace(course / "exercises/01-demo/exercise.yaml", "fails: [scales-values]", "fails: [input-unchanged]")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- mutant mutants/adds_factor.py (adds the factor instead of multiplying) is not caught by input-unchanged; "
            "it fails scales-values instead") in ran.stdout


def test_a_mutant_that_fails_a_check_that_does_not_name_its_bug(grade, course):
    """One bug, one check: a mutant failing another check on its own is a problem; failing it "because of"
    the check that names the bug is not, and the table counts both."""
    _replace(course / "solutions/01-demo/mutants/adds_factor.py", "return x + factor", "return x.add_(factor)")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- mutant mutants/adds_factor.py (adds the factor instead of multiplying) also fails 'input-unchanged', "
            "which does not name its bug, as a problem of its own: scale changed the tensor it was given") in ran.stdout
    assert "1 OWN" in ran.stdout.splitlines()[1]
    checks = course / "exercises/01-demo/checks/test_demo.py"
    _replace(checks, '"input-unchanged.changed")', '"input-unchanged.changed", because_of="scales-values")')
    ran = _validate(grade, course, "demo")
    assert ran.code == 0, ran.stdout
    assert "1 because of" in ran.stdout.splitlines()[1]
    # A check the mutant names must catch it on its own, not only as following from another's problem.
    _replace(course / "exercises/01-demo/exercise.yaml", "fails: [scales-values]", "fails: [scales-values, input-unchanged]")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- mutant mutants/adds_factor.py (adds the factor instead of multiplying) fails 'input-unchanged' only as "
            "following from 'scales-values': the check that names its bug must catch it on its own") in ran.stdout


def test_a_mutant_caught_without_a_word(grade, course):
    """A named check that fails with an empty message has not told the student anything: not caught."""
    _replace(course / "exercises/01-demo/checks/messages.yaml", 'input-unchanged.changed: "scale changed',
             'input-unchanged.changed: ""\nunused: "scale changed')
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- mutant mutants/in_place.py (multiplies in place (x.mul_(factor))) fails input-unchanged with an empty "
            "message: the student would not learn what was wrong") in ran.stdout


def test_a_flaky_check(grade, course, tmp_path):
    counter = tmp_path / "runs"
    _replace(course / "exercises/01-demo/checks/test_demo.py", "def test_input_unchanged(student):\n",
             "def test_input_unchanged(student):\n"
             f"    from pathlib import Path\n    runs = Path({str(counter)!r})\n"
             "    runs.write_text(str(int(runs.read_text()) + 1 if runs.exists() else 1))\n"
             "    expect(int(runs.read_text()) % 2 == 1, 'input-unchanged.changed')\n")
    ran = grade("--course", str(course), "validate", "--jobs", "1", "demo")  # one at a time: runs alternate
    assert ran.code == 1
    assert "- check 'input-unchanged' is flaky: passed then failed on the reference solution" in ran.stdout


def test_a_check_too_slow_for_its_time_limit(grade, course):
    _replace(course / "exercises/01-demo/exercise.yaml", "time_s: 10", "time_s: 2")
    _replace(course / "exercises/01-demo/checks/probes.py", "    before = x.clone()\n",
             "    before = x.clone()\n    import time\n    time.sleep(1.2)\n")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert "- check 'scales-values' ran the reference solution for 1." in ran.stdout
    assert "more than half the time limit (2 s): students on slower machines would time out" in ran.stdout


def test_a_quiz_question_whose_answer_does_not_compute(grade, course):
    assert grade("--course", str(course), "new", "quiz", "shapes").code == 0
    _replace(course / "exercises/02-shapes/exercise.yaml", "answer = torch.zeros(a, b).numel()",
             "answer = torch.zeros(a, b).numel() / 0")
    ran = _validate(grade, course, "shapes")
    assert ran.code == 1
    assert "- question 'zeros-numel': its answer could not be computed: ZeroDivisionError: division by zero" in ran.stdout


def test_a_message_that_cannot_be_said(grade, course):
    """A message id the catalogue lacks is found in the checks' source before anything runs; a placeholder
    the check gives no value is found in the failures of the runs (here: the in-place mutant's)."""
    checks = course / "exercises/01-demo/checks/test_demo.py"
    _replace(checks, '"input-unchanged.changed")', '"input-unchanged.was-changed")')
    ran = _validate(grade, course, "demo")
    assert ran.code == 2
    assert "exercises/01-demo/checks/test_demo.py:27:38: no message 'input-unchanged.was-changed' in " \
           "exercises/01-demo/checks/messages.yaml" in ran.stderr
    _replace(checks, '"input-unchanged.was-changed")', '"input-unchanged.changed")')
    _replace(course / "exercises/01-demo/checks/messages.yaml", "now holds the scaled values too.",
             "now holds {{ what }}.")
    ran = _validate(grade, course, "demo")
    assert ran.code == 1
    assert ("- mutant:mutants/in_place.py: check 'input-unchanged' failed with a message that cannot be said in en: "
            "message 'input-unchanged.changed': 'what' is undefined") in ran.stdout


def test_definition_problems_stop_before_grading(grade, course):
    _replace(course / "exercises/01-demo/exercise.yaml", "concepts: [tensor]", "concepts: [tensr]")
    ran = _validate(grade, course)
    assert ran.code == 2 and "unknown glossary concept 'tensr'" in ran.stderr and "exercise  solution" not in ran.stdout


def test_every_shipped_exercise_is_proven(course_proof):
    """What CI proves of the course itself: `grade validate` over every shipped exercise and quiz (run once
    per session, `course_proof`; tests/test_exercises.py asks what it found of each submission)."""
    from grader.course import Course

    ran = course_proof.ran
    assert ran.code == 0, ran.stdout[-5000:] + ran.stderr[-3000:]
    assert set(course_proof.reports) == {s.name for s in Course(ROOT).load_all()}
    assert all(r["ok"] and not r["problems"] for r in course_proof.reports.values())


def _graded_in_process(course: Path) -> tuple[list, list]:
    """`validate` of the scaffold called here, with every warm process it starts and every run it grades
    listed."""
    from grader.authoring import validate as proving
    from grader.course import Course

    spec = Course(course).resolve("demo")
    return spec, proving.runs_to_prove(spec)


def test_runs_share_warm_processes_and_one_left_unfit_is_replaced(course, monkeypatch):
    """The runs go to a few warm grading processes (each run a fresh child of one), not a process each; a
    run after which a process cannot take the next job (it timed out) gets that process replaced, and the
    proof is the same."""
    from grader.authoring.validate import validate
    from grader.runner import warm

    started, graded = [], []
    real_start, real_grade = warm.WarmGrader.__init__, warm.grade_warm

    def start(self, log_dir, number):
        started.append(number)
        real_start(self, log_dir, number)

    def grade_one(process, spec, submission, options, save_answers_to=None):
        result, healthy = real_grade(process, spec, submission, options, save_answers_to)
        graded.append(submission)
        return result, healthy and len(graded) != 2  # the second run leaves its process unfit

    monkeypatch.setattr(warm.WarmGrader, "__init__", start)
    monkeypatch.setattr(warm, "grade_warm", grade_one)
    spec, runs = _graded_in_process(course)
    [report] = validate([spec], jobs=1)
    assert report.ok, report.problems
    assert len(graded) == len(runs) == 7 and started == [0, 0]  # one process, replaced once


def test_without_fork_each_run_is_a_one_off_grading_process(course, monkeypatch):
    from grader.authoring.validate import validate
    from grader.runner import launch, warm

    graded = []
    real = launch.grade

    def grade_one(spec, submission, **options):
        graded.append(submission)
        return real(spec, submission, **options)

    monkeypatch.setattr(warm, "WARM_PROCESSES", False)
    monkeypatch.setattr(warm, "WarmGrader", None)  # never started
    monkeypatch.setattr(launch, "grade", grade_one)
    spec, runs = _graded_in_process(course)
    [report] = validate([spec], jobs=2)
    assert report.ok, report.problems
    assert sorted(map(str, graded)) == sorted(map(str, runs.values()))
