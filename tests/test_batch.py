"""`grade batch` and `grade merge`: a class graded in warm processes, every result journaled as it
comes, resumed after an interruption, split into shards and merged, with the same verdicts as
`grade exercise` on each submission alone."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from grader import batch as b
from grader.render import render_batch_summary
from grader.failures import FailureKind
from grader.results import CheckResult, ExerciseResult, Explained, Failure, Run, Said

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions/03-training-loop/train.py"
MUTANT = ROOT / "solutions/03-training-loop/mutants/no_zero_grad.py"


def _result(exercise: str, statuses: list[str], message: str = "", messages: list[str] | None = None) -> ExerciseResult:
    """A result with its words: a failed check with a message says it under the id `zero-grad` when the
    message is about zero_grad (however worded), else under its first line."""
    def failure(text: str) -> Failure | None:
        if not text:
            return None
        return Failure(kind=FailureKind.VERDICT, said=Said(id="zero-grad" if "zero_grad" in text else text.splitlines()[0]))

    checks = [CheckResult(id=f"c{i}", title=f"check {i}", status=s, points=1.0 if s == "passed" else 0.0, max_points=1.0,
                          message=(messages or [""] * len(statuses))[i], failure=failure((messages or [""] * len(statuses))[i]))
              for i, s in enumerate(statuses)]
    return ExerciseResult.from_checks(exercise=exercise, exercise_id=int(exercise[:2]), title=exercise, checks=checks,
                                      duration=0.1, message=message)


# ----------------------------------------------------------------------------- the parts, without grading


def test_shards_split_the_class_into_disjoint_parts_that_cover_it():
    students = [f"student{i:03d}" for i in range(200)]
    shards = [[s for s in students if b.in_shard(s, (i, 4))] for i in range(1, 5)]
    assert sorted(s for shard in shards for s in shard) == students
    assert all(20 < len(shard) < 80 for shard in shards)  # a hash spreads them, roughly evenly
    assert shards[0] == [s for s in students if b.in_shard(s, (1, 4))]  # the same answer every time
    with pytest.raises(click.BadParameter):
        b.parse_shard("5/4")
    with pytest.raises(click.BadParameter):
        b.parse_shard("two")


def test_the_journal_keeps_whole_records_and_drops_a_line_cut_short(tmp_path):
    journal = b.Journal(tmp_path / "grades.records.jsonl")
    journal.append(b.Record("alice", _result("03-training-loop", ["passed", "failed"])))
    journal.append(b.Record("bob", _result("03-training-loop", ["passed", "passed"])))
    with open(journal.path, "ab") as f:
        f.write(b'{"student": "carol", "result": {"exer')  # killed mid-write
    records = journal.read()
    assert [r.student for r in records] == ["alice", "bob"]
    journal.append(b.Record("carol", _result("03-training-loop", ["failed", "failed"])))
    assert [r.student for r in journal.read()] == ["alice", "bob", "carol"]  # the next record on a line of its own


def test_a_journal_edited_into_nonsense_is_named_with_its_line(tmp_path):
    path = tmp_path / "grades.records.jsonl"
    path.write_text(b.Record("alice", _result("03-training-loop", ["passed"])).to_line() + '{"student": 1}\n')
    with pytest.raises(b.BatchError, match=r"grades.records.jsonl:2: not a result record"):
        b.Journal(path).read()


def test_gradebook_and_statistics(tmp_path):
    records = [
        b.Record("alice", _result("03-training-loop", ["passed", "passed"])),
        b.Record("bob", _result("03-training-loop", ["passed", "failed"], messages=["", "Forgot zero_grad.\nmore"])),
        b.Record("carol", _result("03-training-loop", ["error", "error"], message="train.py has a syntax error",
                                  messages=["train.py has a syntax error"] * 2)),
        b.Record("dave", _result("03-training-loop", ["passed", "failed"], messages=["", "Never called zero_grad."])),
        b.Record("alice", _result("06-tensors", ["passed"])),
        b.Record("bob", _result("03-training-loop", ["passed", "failed"], messages=["", "Forgot zero_grad."])),  # a regrade
    ]
    b.write_gradebook(tmp_path / "grades.csv", records, ["03-training-loop", "06-tensors"])
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert rows[0] == {"student": "alice", "03-training-loop": "2", "06-tensors": "1", "total": "3", "max": "3"}
    assert rows[1] == {"student": "bob", "03-training-loop": "1", "06-tensors": "", "total": "1", "max": "2"}
    stats = {s["check"]: s for s in b.statistics(records) if s["exercise"] == "03-training-loop"}
    assert stats["c0"]["pass_rate"] == 0.75 and stats["c1"]["pass_rate"] == 0.25
    # The syntax error is counted against the exercise, not repeated as every check's reason; the same
    # message id counts as one reason, whatever its words (shown by the first seen).
    assert stats["c1"]["common_failures"] == [{"message": "Forgot zero_grad.", "id": "zero-grad", "count": 2}]
    b.write_gradebook(tmp_path / "grades.json", records, ["03-training-loop", "06-tensors"])
    data = json.loads((tmp_path / "grades.json").read_text())
    assert [r["student"] for r in data["students"]] == ["alice", "bob", "carol", "dave"]
    assert data["statistics"][0]["exercise"] == "03-training-loop"
    summary = b.summary(records, ["03-training-loop"])
    assert summary["exercises"][0]["not_run"] == [{"message": "train.py has a syntax error", "count": 1}]


def test_errors_students_hit_are_counted_and_the_unexplained_ones_listed(tmp_path):
    def raised(summary_text: str, entry: str = "") -> ExerciseResult:
        result = _result("02-forward", ["failed", "failed"])
        for check in result.checks:  # the same error in both checks counts once for the student
            check.failure = Failure(kind=FailureKind.EXCEPTION, run=Run(
                status="error", error={"type": summary_text.split(":")[0]}, summary=summary_text,
                explained=Explained(id=entry) if entry else None))
        return result

    shapes = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"
    records = [b.Record("alice", raised(shapes, "matmul-shapes")), b.Record("bob", raised(shapes, "matmul-shapes")),
               b.Record("carol", raised("KeyError: '…'")), b.Record("dave", raised("KeyError: '…'")),
               b.Record("erin", raised("ZeroDivisionError: division by zero")),
               b.Record("frank", _result("02-forward", ["passed", "passed"]))]
    errors = b.error_statistics(records)
    assert errors["explained"] == [{"entry": "matmul-shapes", "count": 2}]
    assert errors["unexplained"] == [{"error": "KeyError: '…'", "count": 2},
                                     {"error": "ZeroDivisionError: division by zero", "count": 1}]
    assert errors["unexplained_total"] == 3
    text = render_batch_summary(b.summary(records, ["02-forward"]), color=False)
    assert "2 × matmul-shapes (explained)" in text
    assert "Not explained yet (3; candidates for grader/explain/catalogue.yaml):" in text and "2 × KeyError: '…'" in text
    b.write_gradebook(tmp_path / "grades.json", records, ["02-forward"])
    assert json.loads((tmp_path / "grades.json").read_text())["errors"] == errors


# ----------------------------------------------------------------------------- a real class


HANGS = "import time\n\ndef train_one_epoch(*args, **kwargs):\n    while True:\n        time.sleep(1)\n"


def _class(folder: Path) -> Path:
    """Five students on exercise 3 and quiz 6: right, one mistake, a syntax error, code that never
    ends, and a student who handed in nothing for exercise 3."""
    for student, source in {"alice": SOLUTION.read_text(), "bob": MUTANT.read_text(), "carol": "def train(:\n",
                            "dave": SOLUTION.read_text() + "\n" + HANGS, "erin": None}.items():
        (folder / student).mkdir(parents=True)
        if source is not None:
            (folder / student / "train.py").write_text(source)
    (folder / "erin" / "notes.txt").write_text("forgot")
    quiz = folder / "alice" / "06-tensors"
    quiz.mkdir()
    (quiz / "answers.yaml").write_text((ROOT / "exercises/06-tensors/answers.yaml").read_text())
    return folder


def _gradebook(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


@pytest.mark.slow
def test_a_class_is_graded_resumed_sharded_and_merged(grade, tmp_path):
    students = _class(tmp_path / "class")
    out = tmp_path / "full" / "grades.csv"
    ran = grade("batch", str(students), "3", "6", "--workers", "2", "--out", str(out), "--time-limit", "3",
                "--reports", str(tmp_path / "reports"), timeout=900)
    assert ran.code == 0, ran.stderr
    rows = {r["student"]: r for r in _gradebook(out)}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin"}
    assert rows["alice"]["03-training-loop"] == "10"
    assert rows["carol"]["03-training-loop"] == "0"
    assert rows["erin"]["03-training-loop"] == "0"  # nothing handed in: a result saying so, not a crash
    journal = b.Journal(b.Journal.path_for(out)).read()
    assert len(journal) == 10  # 5 students x 2 exercises, each recorded once
    by_key = {(r.student, r.result.exercise): r.result for r in journal}
    assert any("still running after 3 seconds" in c.message for c in by_key[("dave", "03-training-loop")].checks)
    assert "No file train.py" in by_key[("erin", "03-training-loop")].message
    assert "[10/10]" in ran.stderr  # plain progress lines when not on a terminal
    assert "Class summary: 5 students, 10 results" in ran.stdout
    assert (tmp_path / "reports" / "bob.md").is_file()

    # The same verdicts as grading each submission alone.
    for student in ("alice", "bob", "dave"):
        alone = grade("exercise", "3", "--submission", str(students / student / "train.py"), "--format", "json",
                      "--time-limit", "3").json()
        batched = by_key[(student, "03-training-loop")]
        assert [(c["id"], c["status"], c["points"]) for c in alone["checks"]] == \
               [(c.id, c.status, c.points) for c in batched.checks], student

    # Half the journal lost (a batch killed half-way): --resume grades only what is missing.
    path = b.Journal.path_for(out)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]) + lines[5][:40])
    refused = grade("batch", str(students), "3", "6", "--out", str(out))
    assert refused.code == 1 and "--resume" in refused.stderr
    resumed = grade("batch", str(students), "3", "6", "--workers", "2", "--out", str(out), "--time-limit", "3",
                    "--resume", timeout=900)
    assert resumed.code == 0, resumed.stderr
    assert "[5/5]" in resumed.stderr and "[6/" not in resumed.stderr
    assert {r["student"]: r for r in _gradebook(out)} == rows

    # Two shards on two "machines", merged: the same gradebook.
    for i in (1, 2):
        shard = grade("batch", str(students), "3", "6", "--workers", "2", "--shard", f"{i}/2", "--time-limit", "3",
                      "--out", str(tmp_path / f"shard{i}" / "grades.csv"), timeout=900)
        assert shard.code == 0, shard.stderr
    merged = grade("merge", str(tmp_path / "shard1" / "grades.records.jsonl"),
                   str(tmp_path / "shard2" / "grades.records.jsonl"), "--out", str(tmp_path / "merged.csv"))
    assert merged.code == 0, merged.stderr
    assert {r["student"]: r for r in _gradebook(tmp_path / "merged.csv")} == rows


@pytest.mark.slow
def test_ctrl_c_keeps_what_was_graded_and_resume_finishes_it(session_env, tmp_path):
    students = tmp_path / "class"
    for i in range(6):
        (students / f"s{i}").mkdir(parents=True)
        (students / f"s{i}" / "train.py").write_text((SOLUTION if i % 2 else MUTANT).read_text())
    out = tmp_path / "grades.csv"
    command = [sys.executable, "-m", "grader.cli", "batch", str(students), "3", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=ROOT, env=session_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "[2/6]" not in seen:
        line = proc.stderr.readline()
        assert line, f"the batch ended early: {seen}"
        seen += line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err
    kept = b.Journal(b.Journal.path_for(out)).read()
    assert 2 <= len(kept) < 6
    finished = subprocess.run(command + ["--resume"], cwd=ROOT, env=session_env, capture_output=True, text=True,
                              timeout=600)
    assert finished.returncode == 0, finished.stderr
    rows = _gradebook(out)
    assert [r["03-training-loop"] for r in rows] == ["7", "10", "7", "10", "7", "10"]
    assert len(b.Journal(b.Journal.path_for(out)).read()) == 6  # nothing graded twice


@pytest.mark.slow
def test_warm_processes_keep_the_checks_out_of_student_memory(grade, tmp_path):
    """The warm process imports pytest once; its zygote is forked before that, so a worker scanning its
    heap still finds no test framework, no check and no job."""
    from tests.test_hardening import ATTACKS

    student = tmp_path / "class" / "mallory"
    student.mkdir(parents=True)
    student.joinpath("train.py").write_text(MUTANT.read_text() + "\n" + textwrap.dedent(
        ATTACKS["scans_its_memory_for_the_checks_and_the_reference"]))
    ran = grade("batch", str(tmp_path / "class"), "3", "--workers", "1", "--out", str(tmp_path / "grades.json"),
                "--reports", str(tmp_path / "reports"), timeout=600)
    assert ran.code == 0, ran.stderr
    report = (tmp_path / "reports" / "mallory.md").read_text()
    assert "FOUND" not in report, report
    assert json.loads((tmp_path / "grades.json").read_text())["students"][0]["03-training-loop"] == 7


def test_no_students_is_a_clear_message(grade, tmp_path):
    (tmp_path / "empty").mkdir()
    ran = grade("batch", str(tmp_path / "empty"), "3", "--out", str(tmp_path / "grades.csv"))
    assert ran.code == 1
    assert "No student folders in" in ran.stderr and "Traceback" not in ran.stderr
