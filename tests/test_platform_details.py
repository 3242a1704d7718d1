"""What differs on a student's Windows or macOS laptop, tried here: files with CRLF line endings, a course
in a folder whose name has spaces, a console that cannot print Chinese by itself, and the progress file
written by several commands at once (locked with fcntl here, msvcrt on Windows: a stand-in)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

from grader import progress
from grader.progress import Progress

ROOT = Path(__file__).resolve().parent.parent


def test_a_submission_with_crlf_line_endings_is_graded_as_the_same_code(grade, tmp_path):
    submission = tmp_path / "train.py"
    text = (ROOT / "solutions" / "03-training-loop" / "train.py").read_text()
    submission.write_bytes(text.replace("\n", "\r\n").encode())
    result = grade("exercise", "3", "--submission", str(submission), "--format", "json").json()
    assert (result["passed"], result["score"]) == (True, result["max_score"]), result


def test_a_course_in_a_folder_with_spaces_in_its_name(grade, tmp_path):
    course = tmp_path / "My PyTorch course"
    for part in ("exercises/02-forward", "solutions/02-forward", "glossary"):
        shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    work = course / "my work" / "model.py"
    work.parent.mkdir()
    shutil.copy(course / "solutions" / "02-forward" / "model.py", work)
    ran = grade("--course", str(course), "exercise", "2", "--submission", str(work), "--format", "json")
    assert ran.json()["passed"] is True, ran.stderr
    ran = grade("--course", str(course), "exercise", "2", "--submission", str(course / "my work" / "missing.py"))
    assert ran.code == 2 and "My PyTorch course/my work/missing.py" in ran.stderr.replace(os.sep, "/")
    assert "Traceback" not in ran.stdout + ran.stderr


def test_chinese_prints_on_a_console_whose_encoding_cannot_hold_it(grade):
    ran = grade("glossary", "激活函数", "--lang", "zh", env={"PYTHONIOENCODING": "cp1252"})
    assert ran.code == 0 and "激活函数" in ran.stdout and "UnicodeEncodeError" not in ran.stderr


def test_commands_writing_progress_at_once_lose_nothing(tmp_path):
    """Four processes each record twenty exercises' scores in the same progress file at once."""
    path = tmp_path / "progress.json"
    script = ("import sys\nfrom pathlib import Path\nfrom grader.progress import update\n"
              "for n in range(20):\n"
              "    update(Path('.'), lambda p: p.of(f'{sys.argv[1]}-{n}').__setattr__('hints_shown', n))\n")
    env = {**os.environ, "TORCHGRADE_PROGRESS": str(path), "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, f"w{w}"], env=env) for w in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    saved = Progress.model_validate_json(path.read_text())
    assert sorted(saved.exercises) == sorted(f"w{w}-{n}" for w in range(4) for n in range(20))
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_on_windows_the_progress_lock_is_msvcrt_locking(tmp_path, monkeypatch):
    calls = []
    fake = types.SimpleNamespace(LK_NBLCK=2, LK_UNLCK=0, locking=lambda fd, mode, n: calls.append((mode, n)))
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` then fails, as on Windows
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setenv("TORCHGRADE_PROGRESS", str(tmp_path / "progress.json"))
    assert progress.next_hint(tmp_path, "03-training-loop", 3) == 1
    assert calls == [(2, 1), (0, 1)]
    assert json.loads((tmp_path / "progress.json").read_text())["exercises"]["03-training-loop"]["hints_shown"] == 1


def test_a_lock_never_had_still_lets_the_student_go_on(tmp_path, monkeypatch):
    def refuse(fd, mode, n):
        raise OSError("locked by another process")

    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setitem(sys.modules, "msvcrt", types.SimpleNamespace(LK_NBLCK=2, LK_UNLCK=0, locking=refuse))
    monkeypatch.setattr(progress, "LOCK_WAIT_S", 0.1)
    monkeypatch.setenv("TORCHGRADE_PROGRESS", str(tmp_path / "progress.json"))
    assert progress.next_hint(tmp_path, "03-training-loop", 3) == 1


def test_a_read_only_folder_keeps_no_progress_and_raises_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    monkeypatch.setenv("TORCHGRADE_PROGRESS", str(folder / "progress.json"))
    monkeypatch.setattr(os, "open", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "read-only")))
    monkeypatch.setattr(Path, "write_text", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "read-only")))
    assert progress.next_hint(tmp_path, "03-training-loop", 3) == 1


def test_without_process_groups_a_grading_process_is_still_stopped(monkeypatch):
    """Windows has no killpg: `grade` ends the grading process itself (its workers' Job Objects end theirs)."""
    from grader.runner import launch

    proc = launch.start(["timeit", "-n", "1000000000", "pass"], stdout=subprocess.DEVNULL)  # runs for minutes
    monkeypatch.delattr(os, "killpg")
    launch.stop(proc)
    assert proc.returncode is not None
