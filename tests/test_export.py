"""`grade export student OUT`: the copy holds no line of any reference solution, mutant or alternative,
no quiz key and no hidden check (unless asked), and the grader inside it grades: the starter fails, the
reference solution passes against the recorded answers, a mutant fails the check that names it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.authoring.export import _strip_tests, _strip_yaml

ROOT = Path(__file__).resolve().parent.parent
TEXT = {".py", ".yaml", ".yml", ".md", ".json", ".toml", ".txt", ".j2", ".csv"}


def _lines(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}


def _public_lines() -> set[str]:
    """Every line the course publishes on purpose: exercises (starters, checks, definitions), glossary,
    grader, docs. Common idioms (`model.eval()`, `from pathlib import Path`) are among them."""
    lines: set[str] = set()
    for folder in ("exercises", "glossary", "grader", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in TEXT and "__pycache__" not in path.parts:
                lines |= {line for line in _lines(path) if "mutants/" not in line and "alternatives/" not in line}
    return lines


def _secret_lines() -> dict[str, set[str]]:
    """Per file under solutions/: its lines found nowhere in what the course publishes (blank lines and
    lines of a few characters such as `return x` say nothing and are left out)."""
    public = _public_lines()
    secrets = {}
    for path in sorted((ROOT / "solutions").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts:
            secrets[str(path.relative_to(ROOT))] = {line for line in _lines(path) - public if len(line) >= 12}
    return secrets


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory, grade) -> Path:
    out = tmp_path_factory.mktemp("export") / "course"
    ran = grade("export", "student", str(out), "--jobs", "2", timeout=1800)
    assert ran.code == 0, ran.stderr + ran.stdout
    assert "Wrote" in ran.stdout and "02-forward, " in ran.stdout
    return out


def _grade_in(copy: Path, grade, *args: str):
    """The copy's own grader (its grader/ first on the path), run in the copy."""
    return grade(*args, cwd=copy, env={"PYTHONPATH": str(copy)})


@pytest.mark.slow
def test_the_copy_holds_no_solution_mutant_alternative_or_key(student_copy):
    assert not (student_copy / "solutions").exists()
    names = {p.name for p in student_copy.rglob("*")}
    assert "key.yaml" not in names and "mutants" not in names and "alternatives" not in names
    assert sorted(p.name for p in student_copy.iterdir()) == [".gitignore", "README.md", "docs", "exercises", "glossary",
                                                             "grader", "pyproject.toml"]
    secrets = _secret_lines()
    assert sum(len(v) for v in secrets.values()) > 100  # the comparison below has something to find
    exported = [p for p in student_copy.rglob("*") if p.is_file() and p.suffix in TEXT]
    for path in exported:
        lines = _lines(path)
        for source, secret in secrets.items():
            leaked = sorted(lines & secret)
            assert not leaked, f"{path.relative_to(student_copy)} holds lines of {source}: {leaked[:3]}"
    for exercise in (ROOT / "exercises").glob("*/exercise.yaml"):  # starters as the students get them
        for starter in exercise.parent.glob("*.py"):
            assert (student_copy / starter.relative_to(ROOT)).read_bytes() == starter.read_bytes()
    for yaml_file in (student_copy / "exercises").glob("*/exercise.yaml"):
        data = yaml.safe_load(yaml_file.read_text())
        assert "mutants" not in data and "alternatives" not in data
        original = yaml.safe_load((ROOT / "exercises" / yaml_file.parent.name / "exercise.yaml").read_text())
        assert data == {k: v for k, v in original.items() if k not in ("mutants", "alternatives")}


@pytest.mark.slow
def test_grade_runs_in_the_copy(student_copy, grade):
    which = _grade_in(student_copy, grade, "--version")
    assert which.code == 0
    starter = _grade_in(student_copy, grade, "exercise", "3", "--format", "json")
    result = starter.json()
    assert starter.code == 1 and not result["passed"]
    assert {c["status"] for c in result["checks"]} <= {"passed", "failed"}  # judged, nothing left unjudged

    work = student_copy / "exercises" / "03-training-loop" / "train.py"
    shutil.copy(ROOT / "solutions" / "03-training-loop" / "train.py", work)
    solved = _grade_in(student_copy, grade, "exercise", "3", "--format", "json")
    assert solved.code == 0 and solved.json()["score"] == solved.json()["max_score"] == 10

    shutil.copy(ROOT / "solutions" / "03-training-loop" / "mutants" / "no_zero_grad.py", work)
    mutant = _grade_in(student_copy, grade, "exercise", "3", "--format", "json").json()
    failed = {c["id"] for c in mutant["checks"] if c["status"] == "failed"}
    assert "fresh-gradients" in failed

    shutil.copy(ROOT / "solutions" / "02-forward" / "model.py", student_copy / "exercises" / "02-forward" / "model.py")
    forward = _grade_in(student_copy, grade, "exercise", "2", "--format", "json")
    assert forward.code == 0, forward.stdout  # its checks asked the recorded reference and got answers


@pytest.mark.slow
def test_the_copy_grades_with_its_own_grader_and_withholds_static_quiz_answers(student_copy, grade):
    import subprocess
    import sys

    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=student_copy,
                           env={"PYTHONPATH": str(student_copy), "PATH": "/usr/bin:/bin"}, capture_output=True,
                           text=True)
    assert where.stdout.strip() == str(student_copy / "grader" / "__init__.py")
    quiz = _grade_in(student_copy, grade, "exercise", "6", "--format", "json", "--student", "ada").json()
    skipped = [c for c in quiz["checks"] if c["status"] == "skipped"]
    assert skipped and all("kept by your instructor" in c["message"] for c in skipped)
    assert quiz["max_score"] == sum(c["max_points"] for c in quiz["checks"] if c["status"] != "skipped")
    listing = _grade_in(student_copy, grade, "list", "--format", "json")
    from grader.course import Course

    shipped = [spec.id for spec in Course(ROOT).load_all()]
    assert listing.code == 0 and [row["id"] for row in listing.json()] == shipped and len(shipped) >= 12


@pytest.fixture
def scaffold(tmp_path: Path, grade) -> Path:
    """A course with `grade new exercise demo`, whose check input-unchanged is hidden."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "glossary", course / "glossary")
    (course / "exercises").mkdir()
    (course / "solutions").mkdir()
    assert grade("--course", str(course), "new", "exercise", "demo").code == 0
    spec = course / "exercises" / "01-demo" / "exercise.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("    title: scale leaves its input unchanged\n",
                                 "    title: scale leaves its input unchanged\n    hidden: true\n"))
    (spec.parent / "exercise.zh.yaml").write_text(
        "title: 缩放\nchecks:\n  # 公开的检查\n  scales-values:\n    title: scale 缩放每个值\n"
        "  input-unchanged:\n    title: scale 不改变它的输入\n    why_it_matters: 原地修改会改变调用者的张量。\n")
    (spec.parent / "checks" / "messages.zh.yaml").write_text(
        'raised: "scale {{ error }}。"\ninput-unchanged.changed: "scale 改变了传给它的张量。"\n')
    return course


@pytest.mark.slow
def test_hidden_checks_stay_out_unless_asked(scaffold, grade, tmp_path):
    out = tmp_path / "without"
    ran = grade("--course", str(scaffold), "export", "student", str(out))
    assert ran.code == 0, ran.stderr
    assert "01-demo, 1 recorded reference answer, 1 hidden checks left out" in ran.stdout
    exported = out / "exercises" / "01-demo"
    assert "input-unchanged" not in (exported / "exercise.yaml").read_text()
    checks = (exported / "checks" / "test_demo.py").read_text()
    assert "def test_input_unchanged" not in checks and "def test_scales_values" in checks
    for catalogue in ("messages.yaml", "messages.zh.yaml"):  # the words only the hidden check says stay out too
        words = (exported / "checks" / catalogue).read_text()
        assert "input-unchanged.changed" not in words and "raised:" in words
    translation = (exported / "exercise.zh.yaml").read_text()
    assert "input-unchanged" not in translation and "不改变" not in translation
    assert "# 公开的检查\n  scales-values:\n    title: scale 缩放每个值\n" in translation
    assert "withheld:\n  01-demo:\n  - input-unchanged" in (out / "exercises" / "student-copy.yaml").read_text()
    assert "Some checks are hidden from this copy (01-demo: 1)" in (out / "README.md").read_text()
    result = _grade_in(out, grade, "exercise", "1", "--format", "json").json()
    assert [c["id"] for c in result["checks"]] == ["scales-values"]
    assert result["checks"][0]["status"] == "failed"  # the starter, judged against the recorded answer

    full = tmp_path / "with"
    assert grade("--course", str(scaffold), "export", "student", str(full), "--with-hidden-checks").code == 0
    assert "def test_input_unchanged" in (full / "exercises" / "01-demo" / "checks" / "test_demo.py").read_text()
    shutil.copy(scaffold / "solutions" / "01-demo" / "demo.py", full / "exercises" / "01-demo" / "demo.py")
    solved = _grade_in(full, grade, "exercise", "1", "--format", "json")
    assert solved.code == 0 and [c["status"] for c in solved.json()["checks"]] == ["passed", "passed"]


@pytest.mark.slow
def test_a_copy_with_notebooks_is_graded_from_them(scaffold, grade, tmp_path):
    """`--notebooks`: each exercise is a notebook in its folder instead of its file, the copy loads, and `grade
    exercise 1` there grades the notebook: the starter fails, the solution pasted into its cell passes."""
    out = tmp_path / "copy"
    ran = grade("--course", str(scaffold), "export", "student", str(out), "--notebooks",
                "--course-url", "https://github.com/example/course.git")
    assert ran.code == 0, ran.stderr
    assert "as demo.ipynb" in ran.stdout
    folder = out / "exercises" / "01-demo"
    assert (folder / "demo.ipynb").is_file() and not (folder / "demo.py").exists()
    assert "`exercises/01-demo/demo.ipynb`" in (out / "README.md").read_text() and "## In a notebook" in (out / "README.md").read_text()
    starter = _grade_in(out, grade, "exercise", "1", "--format", "json").json()
    assert starter["checks"][0]["status"] == "failed" and starter["notes"]
    book = nbformat.read(folder / "demo.ipynb", as_version=4)
    cell = next(c for c in book.cells if "starter" in c.metadata.get("tags", []))
    cell.source = (scaffold / "solutions" / "01-demo" / "demo.py").read_text()
    nbformat.write(book, folder / "demo.ipynb")
    solved = _grade_in(out, grade, "exercise", "1", "--format", "json")
    assert solved.code == 0, solved.stdout
    assert "`grader.check(1)`" not in solved.json()["notes"][0]["text"]  # the grader's own cells are not said
    again = _grade_in(out, grade, "export", "notebooks", str(tmp_path / "again"))
    assert again.code == 0 and "01-demo left out: its starter is a notebook already" in again.stderr
    busy = _grade_in(out, grade, "export", "notebooks", str(folder))
    assert busy.code == 2 and "holds notebooks already (demo.ipynb)" in busy.stderr


@pytest.mark.slow
def test_refusals_name_the_problem_and_write_nothing(scaffold, grade, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    ran = grade("--course", str(scaffold), "export", "student", str(busy))
    assert ran.code == 2 and "exists and is not an empty folder" in ran.stderr
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    inside = grade("--course", str(scaffold), "export", "student", str(scaffold / "copy"))
    assert inside.code == 2 and "is inside the course folder" in inside.stderr and not (scaffold / "copy").exists()
    (scaffold / "solutions" / "01-demo" / "demo.py").write_text("def scale(x, factor):\n    return x.mul_(factor)\n")
    broken = grade("--course", str(scaffold), "export", "student", str(tmp_path / "out"))
    assert broken.code == 2 and "the reference solution does not pass (input-unchanged)" in broken.stderr
    assert not (tmp_path / "out").exists()
    assert "Traceback" not in ran.stderr + inside.stderr + broken.stderr


# ----------------------------------------------------------------------------- the two rewriters


def test_yaml_sections_and_withheld_checks_are_cut_with_comments_kept(tmp_path):
    path = tmp_path / "exercise.yaml"
    path.write_text(
        "# the header stays\nid: 1\nchecks:\n  - id: a\n    points: 1   # a comment stays\n\n"
        "  - id: b\n    points: 2\n    hidden: true\n\n  - id: c\n    points: 3\n"
        "hints:\n  - one\n# about the mistakes\nmutants:\n  - {file: m.py, fails: [a]}\n"
        "alternatives:\n  - {file: alt.py}\nlimits: {time_s: 5}\n")
    text = _strip_yaml(path, ["b"])
    assert "# the header stays" in text and "# a comment stays" in text and "about the mistakes" not in text
    data = yaml.safe_load(text)
    assert [c["id"] for c in data["checks"]] == ["a", "c"]
    assert data["hints"] == ["one"] and data["limits"] == {"time_s": 5}
    assert "mutants" not in data and "alternatives" not in data
    assert [c["id"] for c in yaml.safe_load(_strip_yaml(path, ["c"]))["checks"]] == ["a", "b"]


def test_test_functions_are_cut_with_their_decorators():
    source = ("import pytest\n\n\ndef helper():\n    return 1\n\n\n@pytest.mark.cuda\n@pytest.mark.slow\n"
              "def test_hidden(student):\n    assert helper()\n\n\ndef test_public(student):\n    pass\n")
    stripped = _strip_tests(source, {"test_hidden"})
    assert "test_hidden" not in stripped and "mark.cuda" not in stripped
    assert "def helper" in stripped and "def test_public" in stripped
    compile(stripped, "checks.py", "exec")
