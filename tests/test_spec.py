"""Exercise definitions: every problem in a file is reported as `path:line:col: message`, all of
them at once, with exit code 2 and never a traceback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from grader.course import Course
from grader.yamlfile import SpecError

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "03-training-loop"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A copy of the shipped course holding exercise 3 only, to break on purpose."""
    shutil.copytree(ROOT / "glossary", tmp_path / "glossary")
    shutil.copytree(ROOT / "exercises" / EXERCISE, tmp_path / "exercises" / EXERCISE)
    shutil.copytree(ROOT / "solutions" / EXERCISE, tmp_path / "solutions" / EXERCISE)
    return tmp_path


def _yaml(course: Path) -> Path:
    return course / "exercises" / EXERCISE / "exercise.yaml"


def _edit(course: Path, old: str, new: str) -> int:
    """Replace the first `old` in exercise.yaml; return the (1-based) line where it was."""
    path = _yaml(course)
    text = path.read_text()
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


def _validate(grade, course: Path):
    ran = grade("--course", str(course), "validate", "--static")
    assert "Traceback" not in ran.stderr + ran.stdout
    return ran


def test_shipped_course_validates(grade):
    ran = grade("validate", "--static")
    assert ran.code == 0, ran.stderr
    assert "03-training-loop" in ran.stdout


def test_yaml_syntax_error_names_file_line_and_column(grade, course):
    line = _edit(course, "title: Train and evaluate a model", "title: [Train and evaluate")
    ran = _validate(grade, course)
    assert ran.code == 2
    assert re.search(rf"exercises/{EXERCISE}/exercise\.yaml:{line + 1}:\d+: YAML syntax error: .* starts at line {line}, "
                     "column 8", ran.stderr), ran.stderr


def test_every_problem_is_reported_at_once(grade, course):
    unknown = _edit(course, "summary: Fix", "colour: blue\nsummary: Fix")
    concept = _edit(course, "concepts: [gradient, optimizer, iteration, zero-grad]",
                    "concepts: [gradient, optimiser, iteration, zero-grad]")
    points = _edit(course, "points: 2", "points: -2")
    untested = _edit(course, "  - id: optimizer-steps", "  - id: optimizer-stepz")
    ran = _validate(grade, course)
    shown = f"exercises/{EXERCISE}/exercise.yaml"
    assert ran.code == 2
    assert f"{shown}:{unknown}:1: unknown key 'colour'" in ran.stderr
    assert f"{shown}:{concept}:" in ran.stderr and "unknown glossary concept 'optimiser'" in ran.stderr
    assert re.search(rf"{shown}:{points}:\d+: checks\.1\.points: Input should be greater than 0", ran.stderr), ran.stderr
    assert f"{shown}:{untested}:" in ran.stderr and "check 'optimizer-stepz' has no test" in ran.stderr
    assert "test test_optimizer_steps() is not declared in exercise.yaml" in ran.stderr
    assert "'optimizer-steps' is not the id of a check in this file" in ran.stderr  # the mutants naming it
    assert "7 problems" in ran.stderr


def test_missing_field_and_duplicate_ids(grade, course):
    _edit(course, "summary: Fix a training loop and an evaluation loop that run but quietly compute the wrong thing.\n", "")
    dup = _edit(course, "  - id: epoch-loss", "  - id: fresh-gradients")
    ran = _validate(grade, course)
    assert ran.code == 2
    assert "missing required key 'summary' in the top level" in ran.stderr
    assert f":{dup}:9: duplicate check id 'fresh-gradients'" in ran.stderr


def test_duplicate_yaml_key_and_missing_mutant_file(grade, course):
    line = _edit(course, "slug: training-loop", "slug: training-loop\nslug: training-loop")
    _edit(course, "mutants/no_step.py", "mutants/no_such_file.py")
    ran = _validate(grade, course)
    assert ran.code == 2
    assert f"exercise.yaml:{line + 1}:1: duplicate key 'slug'" in ran.stderr
    assert "mutant file solutions/03-training-loop/mutants/no_such_file.py does not exist" in ran.stderr


def test_grading_a_broken_exercise_exits_2_without_traceback(grade, course):
    _edit(course, "points: 3", "points: three")
    ran = grade("--course", str(course), "exercise", "3")
    assert ran.code == 2
    assert "points" in ran.stderr and "Traceback" not in ran.stderr


def test_loader_collects_problems_without_importing_torch(course):
    (_yaml(course)).write_text("id: 3\nslug: training-loop\nchecks: 7\n")
    with pytest.raises(SpecError) as caught:
        Course(course).load_all()
    messages = [p.message for p in caught.value.problems]
    assert any("missing required key 'title'" in m for m in messages)
    assert any("checks" in m for m in messages)
    assert all(p.line >= 1 for p in caught.value.problems)


QUIZ = "06-tensors"


@pytest.fixture
def quiz_course(tmp_path: Path) -> Path:
    """A copy of the shipped course holding quiz 6 only, to break on purpose."""
    shutil.copytree(ROOT / "glossary", tmp_path / "glossary")
    shutil.copytree(ROOT / "exercises" / QUIZ, tmp_path / "exercises" / QUIZ)
    shutil.copytree(ROOT / "solutions" / QUIZ, tmp_path / "solutions" / QUIZ)
    return tmp_path


def _edit_quiz(course: Path, old: str, new: str, file: str = "exercise.yaml") -> int:
    path = course / ("solutions" if file == "key.yaml" else "exercises") / QUIZ / file
    text = path.read_text()
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


def test_quiz_problems_are_all_reported_with_their_lines(grade, quiz_course):
    concept = _edit_quiz(quiz_course, "concepts: [broadcasting, shape]", "concepts: [broadcastin, shape]")
    options = _edit_quiz(quiz_course, "    type: single\n", "    type: single\n    tolerance: -1\n")
    key = _edit_quiz(quiz_course, "item-many: false", "item-many: false\nnot-a-question: 3", file="key.yaml")
    ran = _validate(grade, quiz_course)
    assert ran.code == 2
    assert f"exercises/{QUIZ}/exercise.yaml:{concept}:" in ran.stderr and "unknown glossary concept 'broadcastin'" in ran.stderr
    assert f"exercises/{QUIZ}/exercise.yaml:{options + 1}:" in ran.stderr and "tolerance" in ran.stderr
    assert f"solutions/{QUIZ}/key.yaml:{key + 1}:1: 'not-a-question' is not a question of this quiz" in ran.stderr


def test_a_static_question_needs_its_key(grade, quiz_course):
    (quiz_course / "solutions" / QUIZ / "key.yaml").write_text("broadcast-fails: b\n")
    ran = _validate(grade, quiz_course)
    assert ran.code == 2 and "question 'item-many' has no 'answer' code and no entry in" in ran.stderr


def test_parameters_need_answer_code(grade, quiz_course):
    _edit_quiz(quiz_course, "    answer: |\n      answer = torch.randn(a, b, c).shape\n", "")
    ran = _validate(grade, quiz_course)
    assert ran.code == 2 and "a question with parameters needs 'answer' code" in ran.stderr


def test_the_json_schema_for_editors_is_current_and_referenced():
    """docs/exercise.schema.json is generated from the models the loader uses (`grade schema`), and every
    shipped exercise.yaml points editors at it."""
    import json

    from grader.spec import json_schema

    committed = json.loads((ROOT / "docs" / "exercise.schema.json").read_text())
    assert committed == json_schema(), "stale: run `grade schema > docs/exercise.schema.json`"
    assert {"checks", "questions", "kind"} <= set(committed["properties"])
    assert "folder" not in committed["properties"]
    for path in sorted((ROOT / "exercises").glob("*/exercise.yaml")):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../docs/exercise.schema.json\n"), path
