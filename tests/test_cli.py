"""The `grade` command as a student meets it: exit codes (0 passed, 1 failed or could not run,
2 usage or a broken definition), output formats, hints, and a CLI process that never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "03-training-loop"


def test_help_and_list_answer_without_importing_torch():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from grader.cli import main\n"
        "for args in (['--help'], ['list'], ['list', '--format', 'json'], ['glossary', 'gradient'], ['validate', '--static']):\n"
        "    result = CliRunner().invoke(main, args, catch_exceptions=False)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_list_json_has_number_slug_kind_title_and_last_score(grade):
    rows = grade("list", "--format", "json").json()
    assert [r["folder"] for r in rows][:3] == ["01-dataset", "02-forward", "03-training-loop"]
    assert {"id", "slug", "kind", "title", "max_score", "last"} <= set(rows[0])
    assert rows[2]["kind"] == "code"


def test_unknown_exercise_is_a_usage_error(grade):
    ran = grade("exercise", "42")
    assert ran.code == 2
    assert "there is no exercise '42'" in ran.stderr and "03-training-loop" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_missing_submission_is_a_usage_error(grade, tmp_path):
    ran = grade("exercise", "3", "--submission", str(tmp_path / "nope.py"))
    assert ran.code == 2
    assert "nope.py" in ran.stderr and "does not exist" in ran.stderr


def test_folder_without_the_student_file_is_a_clear_failure(grade, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    ran = grade("exercise", "3", "--submission", str(tmp_path), "--format", "json")
    result = ran.json()
    assert ran.code == 1 and result["status"] == "error"
    assert "No file train.py" in result["message"]
    assert all(c["status"] == "error" for c in result["checks"])


@pytest.mark.slow
def test_exercise_by_number_folder_or_slug_and_exit_codes(grade):
    for ref in ("3", "03-training-loop", "training-loop"):
        ran = grade("exercise", ref, "--submission", str(SOLUTION / "train.py"), "--format", "json")
        assert ran.code == 0, ran.stderr
        assert ran.json()["exercise"] == "03-training-loop"
    failing = grade("exercise", "3", "--submission", str(SOLUTION / "mutants" / "no_zero_grad.py"))
    assert failing.code == 1


@pytest.mark.slow
def test_text_report_is_plain_when_piped_and_explains_with_the_glossary(grade):
    ran = grade("exercise", "3")  # the shipped starter, as a student first runs it
    assert ran.code == 1
    assert "\x1b[" not in ran.stdout  # no colour codes when piped
    assert "FAIL" in ran.stdout and "Score: " in ran.stdout
    assert "What happened:" in ran.stdout and "What to try:" in ran.stdout
    assert "optimizer.zero_grad()" in ran.stdout
    assert "Gradient: " in ran.stdout  # the glossary term with its one-line summary
    assert "test_training_loop" not in ran.stdout  # the hidden checks' source is never shown


@pytest.mark.slow
def test_markdown_links_into_the_glossary_page_and_output_file(grade, tmp_path):
    out = tmp_path / "report.md"
    ran = grade("exercise", "3", "--format", "markdown", "--output", str(out))
    assert ran.code == 1
    assert ran.stdout == ""
    text = out.read_text()
    assert text.startswith("# Exercise 3: Train and evaluate a model")
    assert "[Gradient](glossary/README.md#gradient)" in text
    anchors = (ROOT / "glossary" / "README.md").read_text()
    assert '<a id="gradient"></a>' in anchors


@pytest.mark.slow
def test_json_is_the_only_thing_on_stdout(grade):
    ran = grade("exercise", "3", "--format", "json")
    result = json.loads(ran.stdout)
    assert set(result) == {"exercise", "exercise_id", "kind", "title", "score", "max_score", "passed", "status", "duration",
                           "message", "failure", "checks", "limits", "language", "isolation", "notes"}
    assert {"id", "title", "status", "points", "max_points", "message", "failure", "concepts"} <= set(result["checks"][0])
    assert result["language"] == "en" and result["checks"][0]["failure"]["kind"] == "verdict"


def test_hints_come_one_more_at_a_time(grade, tmp_path):
    env = {"TORCHGRADE_PROGRESS": str(tmp_path / "progress.json")}
    first = grade("hint", "3", env=env)
    assert first.code == 0 and "Hint 1 of 4" in first.stdout and "Hint 2" not in first.stdout
    second = grade("hint", "training-loop", env=env)
    assert "Hint 1 of 4" in second.stdout and "Hint 2 of 4" in second.stdout


def test_glossary_term_and_index(grade):
    term = grade("glossary", "zero_grad")
    assert term.code == 0 and "optimizer.zero_grad()" in term.stdout
    index = grade("glossary")
    assert index.code == 0 and "backpropagation" in index.stdout
    missing = grade("glossary", "gradiant")
    assert missing.code == 2 and "gradient" in missing.stderr


def test_course_not_found_is_a_usage_error(grade, tmp_path):
    ran = grade("--course", str(tmp_path), "list")
    assert ran.code == 2 and "not a course folder" in ran.stderr
