"""Odd submissions that must become a result, never a crash (the hardening issue, classes 3 and 10).

Before a grading process starts, `grade` copies the student's files into a scratch folder and reads
their imports. A file Python cannot parse (expressions nested too deeply), a folder named like a
module, a symbolic link (dangling, to /dev/zero, to a classmate's file or the reference solution), a
named pipe, a huge file or too many files each become that submission's result, naming the file and
what to do; in `grade batch` they cost only their own student. A student folder whose name is not
valid UTF-8 is graded and written everywhere under one escaped id (`stu\\xff`).
"""

from __future__ import annotations

import ast
import csv
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from grader import batch as b

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions/03-training-loop/train.py"
MUTANT = ROOT / "solutions/03-training-loop/mutants/no_zero_grad.py"


def _graded_alone(session_env, submission: Path, timeout: float = 120, file_limit: int | None = None):
    """`grade exercise 3 --submission SUBMISSION --format json` as a student runs it. `file_limit` caps
    what the CLI may write to one file (a grader that reads /dev/zero then fails at once, not after
    filling the disk)."""
    def cap() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([sys.executable, "-m", "grader.cli", "exercise", "3", "--submission", str(submission),
                           "--format", "json", "--time-limit", "5"], cwd=ROOT, env=session_env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=cap)


def _assert_refused(ran, *words: str) -> dict:
    """A result (exit code 1, JSON on stdout, no traceback) whose message says each of `words`."""
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 1, ran.stderr
    result = json.loads(ran.stdout)
    assert result["checks"] and all(c["status"] == "error" and c["points"] == 0 for c in result["checks"])
    for word in words:
        assert word in result["message"], result["message"]
    # Nothing ran: the reason is the whole feedback, no check's tip about code that was never judged.
    assert all(c["message"] == result["message"] and not c["what_to_try"] and not c["why_it_matters"]
               for c in result["checks"])
    return result


def _folder(tmp_path: Path, train: str | None = None) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "train.py").write_text(SOLUTION.read_text() if train is None else train)
    return folder


# ----------------------------------------------------------------------------- class 3: grade exercise


def test_expressions_nested_too_deeply_for_python_are_a_result_not_a_crash(session_env, tmp_path):
    """`ast.parse` raises RecursionError or MemoryError on these (not SyntaxError): the CLI reading the
    imports must not crash on them, and the grading reports the file as code Python cannot run."""
    deep_sum = "x = 1" + "+1" * 200_000 + "\n"
    deep_minus = "y = " + "-" * 200_000 + "1\n"  # 200 KB: under the 1 MB cap, so it reaches the grading
    with pytest.raises(RecursionError):
        ast.parse(deep_sum)
    with pytest.raises(MemoryError):
        ast.parse(deep_minus)
    folder = _folder(tmp_path, SOLUTION.read_text() + "\n" + deep_sum)
    (folder / "deep.py").write_text(deep_minus)
    ran = _graded_alone(session_env, folder, timeout=300)
    assert "Traceback" not in ran.stderr, ran.stderr[-3000:]
    assert ran.returncode == 1, ran.stderr[-3000:]
    result = json.loads(ran.stdout)
    assert result["score"] == 0 and all(c["status"] != "passed" for c in result["checks"])
    assert "RecursionError" in result["message"] or "MemoryError" in result["message"], result["message"]


def _folder_named_like_a_module(folder: Path) -> None:
    (folder / "helpers.py").mkdir()


def _dangling_link(folder: Path) -> None:
    (folder / "helpers.py").symlink_to(folder / "gone.py")


def _named_pipe(folder: Path) -> None:
    os.mkfifo(folder / "helpers.py")


def _link_to_dev_zero(folder: Path) -> None:
    (folder / "helpers.py").symlink_to("/dev/zero")


def _link_to_the_reference_solution(folder: Path) -> None:
    (folder / "train.py").unlink()
    (folder / "train.py").symlink_to(SOLUTION)


def _huge_file(folder: Path) -> None:
    (folder / "train.py").write_text(SOLUTION.read_text() + ("# padding " + "x" * 90 + "\n") * 20_000)  # 2 MB


def _too_many_files(folder: Path) -> None:
    for i in range(201):
        (folder / f"module_{i:03d}.py").write_text("")


@pytest.mark.parametrize(("prepare", "words"), [
    (_folder_named_like_a_module, ["helpers.py", "is a folder"]),
    (_dangling_link, ["helpers.py", "symbolic link"]),
    (_named_pipe, ["helpers.py", "named pipe"]),
    (_link_to_dev_zero, ["helpers.py", "symbolic link", "/dev/zero"]),
    (_link_to_the_reference_solution, ["train.py", "symbolic link"]),
    (_huge_file, ["train.py", "at most 1 MB"]),
    (_too_many_files, ["202 .py files", "at most 200"]),
], ids=["folder-named-helpers.py", "dangling-link", "named-pipe", "link-to-dev-zero", "link-to-the-solution",
        "huge-file", "too-many-files"])
def test_odd_entries_in_a_submission_are_refused_by_name(session_env, tmp_path, prepare, words):
    """Each is refused in the CLI before any grading starts: nothing followed, read or copied."""
    folder = _folder(tmp_path)
    prepare(folder)
    ran = _graded_alone(session_env, folder, timeout=60, file_limit=64 << 20)
    _assert_refused(ran, *words)


def test_a_symlinked_file_handed_in_is_refused_naming_it(session_env, tmp_path):
    link = tmp_path / "mine.py"
    link.symlink_to(SOLUTION)
    _assert_refused(_graded_alone(session_env, link, timeout=60), str(link), "symbolic link", "copy")


def test_grade_all_refuses_a_link_in_the_handed_in_folder(grade, tmp_path):
    """`grade all --submissions` stages every exercise as `grade exercise` does."""
    folder = tmp_path / "handed-in"
    (folder / "exercises").mkdir(parents=True)
    (folder / "exercises" / "03-training-loop").symlink_to(SOLUTION.parent)
    ran = grade("all", "3", "--submissions", str(folder), "--format", "json", timeout=120)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.code == 1, ran.stderr
    (result,) = ran.json()["results"]
    assert "03-training-loop" in result["message"] and "symbolic link" in result["message"]


# ----------------------------------------------------------------------------- class 3: grade batch


def _class_with_odd_submissions(folder: Path) -> Path:
    """Two honest students (right: 10 points; one mistake: 7) among odd and hostile ones."""
    for student, source in {"alice": SOLUTION, "bob": MUTANT, "oscar": SOLUTION}.items():
        (folder / student).mkdir(parents=True)
        (folder / student / "train.py").write_text(source.read_text())
    (folder / "oscar" / "helpers.py").mkdir()  # crashed the whole batch
    (folder / "mallory").mkdir()
    (folder / "mallory" / "train.py").symlink_to("../alice/train.py")  # a classmate's work
    (folder / "peggy").mkdir()
    (folder / "peggy" / "train.py").symlink_to(SOLUTION)  # the reference solution, outside the class
    (folder / "eve").symlink_to("alice")  # a student folder that is a classmate's
    (folder / "trudy" / "exercises").mkdir(parents=True)
    (folder / "trudy" / "exercises" / "03-training-loop").symlink_to(folder / "alice")
    os.mkfifo(folder / "pipe")  # strange entries in the class folder: not students, no crash
    (folder / "ghost").symlink_to(folder / "nobody")
    return folder


@pytest.mark.slow
def test_a_batch_grades_the_good_submissions_and_gives_the_odd_ones_a_result(grade, tmp_path):
    students = _class_with_odd_submissions(tmp_path / "class")
    out = tmp_path / "grades.csv"
    ran = grade("batch", str(students), "3", "--workers", "2", "--out", str(out), "--time-limit", "5", timeout=600)
    assert ran.code == 0, ran.stderr
    assert "Traceback" not in ran.stderr, ran.stderr
    rows = {r["student"]: r["03-training-loop"] for r in csv.DictReader(out.open())}
    assert rows == {"alice": "10", "bob": "7", "oscar": "0", "mallory": "0", "peggy": "0", "eve": "0", "trudy": "0"}
    messages = {r.student: r.result.message for r in b.Journal(b.Journal.path_for(out)).read()}
    assert "helpers.py" in messages["oscar"] and "is a folder" in messages["oscar"]
    assert "train.py" in messages["mallory"] and "symbolic link" in messages["mallory"]
    assert "train.py" in messages["peggy"] and "symbolic link" in messages["peggy"]
    assert "eve" in messages["eve"] and "symbolic link" in messages["eve"]
    assert "03-training-loop" in messages["trudy"] and "symbolic link" in messages["trudy"]
    assert not messages["alice"] and not messages["bob"]


# ----------------------------------------------------------------------------- class 10: names not UTF-8


def test_a_student_folder_named_in_bytes_that_are_not_utf8_is_written_everywhere_escaped(grade, tmp_path):
    """b'stu\\xff' is graded and known as `stu\\xff` (the undecodable byte written as \\xNN) in the
    journal, grades.csv, grades.json and its report's file name; --resume finds it graded."""
    students = tmp_path / "class"
    students.mkdir()
    folder = os.path.join(os.fsencode(students), b"stu\xff")
    os.mkdir(folder)
    with open(os.path.join(folder, b"train.py"), "wb") as f:
        f.write(SOLUTION.read_bytes())
    quiz = os.path.join(folder, b"06-tensors")
    os.mkdir(quiz)
    with open(os.path.join(quiz, b"answers.yaml"), "wb") as f:
        f.write((ROOT / "exercises/06-tensors/answers.yaml").read_bytes())
    os.mkdir(os.path.join(os.fsencode(students), b"bad\xfe"))  # hands in nothing: messages name the folder
    out = tmp_path / "grades.csv"
    reports = tmp_path / "reports"
    ran = grade("batch", str(students), "3", "6", "--workers", "2", "--out", str(out), "--reports", str(reports),
                timeout=600)
    assert ran.code == 0, ran.stderr
    escaped = "stu\\xff"
    rows = {row["student"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {"bad\\xfe", escaped} and rows[escaped]["03-training-loop"] == "10", rows
    journal = b.Journal.path_for(out)
    records = b.Journal(journal).read()
    assert {r.student for r in records} == {"bad\\xfe", escaped}
    assert "\\ud" not in journal.read_text(encoding="utf-8")  # valid UTF-8, no lone surrogate escaped in JSON
    (nothing,) = [r.result for r in records if r.student == "bad\\xfe" and r.result.exercise == "03-training-loop"]
    assert "No file train.py" in nothing.message and "bad\\xfe" in nothing.message, nothing.message
    assert sorted(os.listdir(reports)) == ["bad\\xfe.md", escaped + ".md"]
    assert "No file train.py in" in (reports / "bad\\xfe.md").read_text(encoding="utf-8")
    # --resume: the journal's id maps to the folder, so nothing is graded again.
    resumed = grade("batch", str(students), "3", "6", "--out", str(out), "--resume", timeout=300)
    assert resumed.code == 0, resumed.stderr
    assert "[1/" not in resumed.stderr
    assert len(b.Journal(journal).read()) == 4
    merged = grade("merge", str(journal), "--out", str(tmp_path / "merged.json"))
    assert merged.code == 0, merged.stderr
    data = json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))
    assert [s["student"] for s in data["students"]] == ["bad\\xfe", escaped]


def test_the_escaped_id_maps_back_to_its_folder(tmp_path):
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"stu\xff"))
    (tmp_path / "alice").mkdir()
    assert b.find_students(tmp_path) == ["alice", "stu\\xff"]
    assert os.fsencode(b.student_folder(tmp_path, "stu\\xff")) == os.path.join(os.fsencode(tmp_path), b"stu\xff")
    assert b.student_folder(tmp_path, "alice") == tmp_path / "alice"
    # Records of a journal written before the escaping (the raw name, a lone surrogate) get the same id.
    assert b.student_id(os.fsdecode(b"stu\xff")) == "stu\\xff"
    assert b.student_id("alice") == "alice"


def test_every_view_escapes_records_that_were_not(tmp_path):
    """A journal written before names were escaped (its student and messages hold lone surrogates,
    escaped in JSON as \\udcff) is read back under today's ids; records built by hand are written too."""
    from grader.results import CheckResult, ExerciseResult

    raw_name = os.fsdecode(b"stu\xff")
    check = CheckResult(id="c0", title="check 0", status="error", points=0.0, max_points=1.0, message="m")
    result = ExerciseResult.from_checks(exercise="03-training-loop", exercise_id=3, title="t", checks=[check],
                                        duration=0.1, message="x")
    data = json.loads(result.model_dump_json())
    data["message"] = data["checks"][0]["message"] = f"No file train.py in /class/{raw_name}"
    journal = b.Journal(tmp_path / "grades.records.jsonl")
    journal.path.write_text(json.dumps({"student": raw_name, "result": data}) + "\n")
    (record,) = journal.read()
    assert record.student == "stu\\xff"
    assert record.result.message.startswith("No file train.py in /class/stu")  # escaped, or U+FFFD (results.py)
    record.result.message.encode("utf-8")
    by_hand = [b.Record(raw_name, ExerciseResult.model_validate(data))]
    journal.append(by_hand[0])
    assert "\\ud" not in journal.path.read_text(encoding="utf-8").splitlines()[1]
    b.write_gradebook(tmp_path / "grades.csv", by_hand, ["03-training-loop"])
    assert "stu\\xff,0," in (tmp_path / "grades.csv").read_text(encoding="utf-8")
    b.write_gradebook(tmp_path / "grades.json", by_hand, ["03-training-loop"])
    assert "\\ud" not in (tmp_path / "grades.json").read_text(encoding="utf-8")
    assert b.write_reports(tmp_path / "reports", by_hand, "markdown", None) == 1
    assert os.listdir(tmp_path / "reports") == ["stu\\xff.md"]


def test_report_names_are_file_names_and_colliding_folders_are_named(tmp_path, capsys):
    long_id = b.student_id(os.fsdecode(b"\xff" * 250))  # 1000 characters: no file system takes that
    assert len(long_id) == 1000 and len(b._report_name(long_id, ".html").encode()) <= 255
    assert b._report_name(long_id, ".md") != b._report_name(long_id[:-4], ".md")
    assert b._report_name("../../etc/x", ".md") == ".._.._etc_x.md" and b._report_name("..", ".md") == "_...md"
    # A folder literally named `stu\xff` and one named in the byte 0xff: one id, so the second is named and skipped.
    (tmp_path / "stu\\xff").mkdir()
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"stu\xff"))
    assert b.find_students(tmp_path) == ["stu\\xff"]
    assert b.student_folder(tmp_path, "stu\\xff") == tmp_path / "stu\\xff"
    assert "not valid UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("odd", ["fifo", "zero"])
def test_a_quiz_answers_file_that_is_a_fifo_or_a_device_link_neither_hangs_nor_is_read(grade, tmp_path, odd):
    """`grade exercise 6` looks for answers ids it does not know before grading: it read a FIFO for ever."""
    folder = tmp_path / "handed-in"
    folder.mkdir()
    if odd == "fifo":
        os.mkfifo(folder / "answers.yaml")
    else:
        (folder / "answers.yaml").symlink_to("/dev/zero")
    ran = grade("exercise", "6", "--submission", str(folder), "--format", "json", timeout=60)
    assert "Traceback" not in ran.stderr
    assert ran.json()["score"] == 0
