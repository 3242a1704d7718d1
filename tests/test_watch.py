"""`grade watch` grades again when the student saves (real file writes, real gradings): what changed since
the last grading, only the next failing check in full, and on to the next exercise when one passes; `grade`
alone shows the progress and the next exercise to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.course import Course
from grader.results import CheckResult, ExerciseResult
from grader.watch import Watch, changes, next_to_do, watched

ROOT = Path(__file__).resolve().parent.parent
SPECS = Course(ROOT).load_all()
SOLUTION = ROOT / "solutions" / "03-training-loop"


def _result(**statuses: str) -> ExerciseResult:
    checks = [CheckResult(id=i, title=i.upper(), status=s, points=1.0 if s == "passed" else 0.0, max_points=1.0)
              for i, s in statuses.items()]
    return ExerciseResult.from_checks(exercise="03-x", exercise_id=3, title="x", checks=checks, duration=0.0)


def test_what_changed_between_two_gradings():
    first = _result(a="failed", b="passed", c="failed")
    assert changes(None, first).first
    now = changes(first, _result(a="passed", b="failed", c="failed"))
    assert (now.first, now.fixed, now.broke) == (False, ["A"], ["B"])
    same = changes(first, first)
    assert (same.fixed, same.broke) == ([], [])


def test_the_next_exercise_is_the_first_not_passed_after_this_one():
    done = {"01-dataset", "02-forward", "04-device"}
    everything = {spec.name for spec in SPECS}
    assert next_to_do(SPECS, done).name == "03-training-loop"
    assert next_to_do(SPECS, done, after=SPECS[2]).name == "05-amp"
    assert next_to_do(SPECS, everything - {"02-forward"}, after=SPECS[4]).name == "02-forward"  # wraps round
    assert next_to_do(SPECS, everything) is None


def test_only_the_exercise_files_and_the_submission_wake_the_watch(tmp_path):
    spec = SPECS[2]
    folder, wanted = watched(spec, None)
    assert folder == spec.folder
    assert wanted(folder / "train.py") and wanted(folder / "train.ipynb") and wanted(folder / "helpers.py")
    assert not wanted(folder / "README.md") and not wanted(folder / ".progress.json")
    mine = tmp_path / "mine.py"
    mine.write_text("")
    folder, wanted = watched(spec, mine)
    assert folder == tmp_path and wanted(mine) and not wanted(tmp_path / "other.py")


def test_a_save_made_while_grading_is_graded_next(tmp_path):
    """The student saves while a grading runs (before the watcher listens): the watch grades again at once
    rather than waiting for a save that has already happened."""
    work = tmp_path / "train.py"
    work.write_text("first")
    graded: list[str] = []

    def grade(spec):  # noqa: ANN001, ANN202
        graded.append(work.read_text())
        if len(graded) == 1:
            work.write_text("second, saved while the first grading ran")
        return _result(a="failed")

    watch = Watch(SPECS, work, grade, say=lambda *_: None, waiting=lambda _spec: None, passed=set, max_runs=2)
    guard = threading.Timer(30, watch.stop.set)  # a watch that missed the save would wait forever
    guard.start()
    try:
        assert watch.run(SPECS[2]) == 2
    finally:
        guard.cancel()
    assert graded == ["first", "second, saved while the first grading ran"]


def _read_until(proc: subprocess.Popen, marker: str, seen: list[str], timeout: float = 180) -> None:
    """Read the watch's output until a line holding `marker` (a reader thread keeps `seen`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if any(marker in line for line in seen):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {marker!r} in the watch's output:\n{''.join(seen)}")


def _start(session_env: dict, *args: str, cwd: Path = ROOT, env: dict | None = None) -> tuple[subprocess.Popen, list]:
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**session_env, **(env or {})})
    seen: list[str] = []
    threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    return proc, seen


@pytest.mark.slow
def test_a_save_is_graded_again_and_says_what_changed(session_env, tmp_path):
    work = tmp_path / "train.py"
    shutil.copy(SOLUTION / "mutants" / "no_zero_grad.py", work)
    proc, seen = _start(session_env, "watch", "3", "--submission", str(work), "--max-runs", "2")
    try:
        _read_until(proc, "Watching", seen)
        first = "".join(seen)
        assert "FAIL   Each step uses only the current batch's gradients" in first and "What happened:" in first
        assert first.count("What happened:") == 1  # only the first failing check in full
        work.write_text((SOLUTION / "train.py").read_text())  # the student fixes it and saves
        assert proc.wait(timeout=180) == 0
    finally:
        proc.kill()
    second = "".join(seen)[len(first):]
    assert "Now passing: Each step uses only the current batch's gradients" in second
    assert "Score: 10/10" in second and "What happened:" not in second


@pytest.mark.slow
def test_a_passed_exercise_moves_the_watch_on_and_grade_alone_shows_the_next(session_env, tmp_path):
    course = tmp_path / "course"
    for part in ("exercises", "solutions", "glossary"):
        shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("__pycache__", ".progress.json"))
    shutil.copy(ROOT / "solutions" / "04-device" / "device.py", course / "exercises" / "04-device" / "device.py")
    progress = tmp_path / "progress.json"
    progress.write_text(json.dumps({"exercises": {name: {"last_score": 1.0, "max_score": 1.0, "passed": True}
                                                  for name in ("01-dataset", "02-forward", "03-training-loop")}}))
    env = {"TORCHGRADE_PROGRESS": str(progress)}
    alone = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course)], capture_output=True,
                           text=True, env={**session_env, **env}, timeout=120)
    assert alone.returncode == 0 and "last score" in alone.stdout
    assert "Next: exercise 4," in alone.stdout, alone.stdout
    proc, seen = _start(session_env, "--course", str(course), "watch", "--max-runs", "2", env=env)
    assert proc.wait(timeout=300) == 0, "".join(seen)
    said = "".join(seen)
    assert "Exercise 4 is done. On to exercise 5" in said
    assert said.index("Exercise 4:") < said.index("Exercise 5:")
    assert json.loads(progress.read_text())["exercises"]["04-device"]["passed"] is True
