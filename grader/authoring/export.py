"""`grade export student OUT`: the repository a student receives.

It holds the exercises (starters, exercise pages, public checks and their probes), the glossary, the
grader, the JSON Schema the YAML files name, a README for students and `exercises/student-copy.yaml`
(the mark of a student copy). It holds no `solutions/`: no reference solution, no mutant, no
alternative, no quiz key, and no hidden check unless the instructor asks (`with_hidden_checks`, for
self-study courses). The exercises' YAML loses its `mutants:` and `alternatives:` sections.

Checks compare the student's code with the reference solution's on the same seeded inputs. In the
copy, the reference is replaced by its *recorded answers* (`checks/recorded/`): the export grades the
solution, the starter, every mutant and every alternative once, keeping every answer the reference
gave. A check that asks the reference something never recorded is reported as not judged (an error,
never a pass). Quiz questions with static answers are skipped in the copy (their key stays behind);
computed answers work as in the course.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import yaml

import grader
from grader.authoring import export_templates
from grader.course import Course
from grader.runner.sides import RESULT_SUFFIX
from grader.spec import KEY_FILE, RECORDED_FOLDER, STUDENT_COPY_FILE, ExerciseSpec, packages_of
from grader.yamlfile import load_yaml

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS_REMOVED = ("mutants", "alternatives")
SKIPPED_NAMES = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", ".progress.json*")


RECORDED_README = """# Recorded answers of the reference solution

What a correct solution returned for the inputs the checks give it (one file per probe call, in the
grader's own plain-data format, which holds no code and is validated when read). Written by `grade
export student`; do not edit.
"""


STUDENT_GITIGNORE = """.venv/
__pycache__/
*.pyc
*.egg-info/
.pytest_cache/
# the student's own progress (last scores, hints shown) and its lock
exercises/.progress.json
exercises/.progress.json.lock
"""


GRADING_README = """# Grading copy (keep it private)

Every check of the course, hidden ones too, the reference solution's recorded answers and the quiz
keys: what grading needs, without any solution's code. Written by `grade export classroom` (or
`grade export gradescope`); a student's work is graded with it by

    grade exercise N --checks-from DIR      (or: grade all --checks-from DIR)

run in the student's repository. Keep it in a private repository: a student who can read it can read
the hidden checks and the quiz answers.
"""


class ExportError(ValueError):
    """The copy cannot be made: the destination is not empty, or the course is not ready."""


@dataclass
class Export:
    """What was written, for the command to report."""

    out: Path
    exercises: list[str] = field(default_factory=list)
    recorded: dict[str, int] = field(default_factory=dict)  # exercise -> answers recorded
    withheld: dict[str, list[str]] = field(default_factory=dict)  # exercise -> hidden check ids left out
    with_hidden_checks: bool = False
    notebooks: dict[str, str] = field(default_factory=dict)  # exercise -> its notebook, in place of its file

    def files(self) -> list[Path]:
        return sorted(p.relative_to(self.out) for p in self.out.rglob("*") if p.is_file())


def export_student(course: Course, out: Path, *, with_hidden_checks: bool = False, jobs: int = 4,
                   notebooks: bool = False, course_url: str | None = None) -> Export:
    """The student's repository: see the module's docstring. `notebooks`: each exercise of one file is a
    notebook in its folder instead (train.ipynb for train.py, answers.ipynb for a quiz's answers.yaml;
    `grader.authoring.notebooks`), its set-up cell cloning `course_url` on Colab."""
    specs = _ready(course, out)
    return _into(out, lambda: _with_notebooks(_write(course, specs, out, with_hidden_checks, jobs), notebooks,
                                              course_url))


def _with_notebooks(export: Export, notebooks: bool, course_url: str | None) -> Export:
    if not notebooks:
        return export
    from grader.authoring.notebooks import notebook_name, notebook_of, write

    copy = Course(export.out)
    specs = copy.load_all()
    for spec in specs:
        if len(spec.files) != 1:
            continue
        name = notebook_name(spec, beside=True)
        write(notebook_of(spec, course_url), spec.folder / name)
        (spec.folder / spec.files[0]).unlink()
        export.notebooks[spec.name] = name
    (export.out / "README.md").write_text(student_readme(specs, export), encoding="utf-8")
    Course(export.out).load_all()  # it must still load as a course, each notebook standing in for its file
    return export


def export_grading_copy(course: Course, out: Path, *, jobs: int = 4) -> Export:
    """What grading outside the course repository needs (a private instructor repository fetched by the
    Classroom workflow, the Gradescope autograder): a student copy with every check, hidden ones too,
    and the quiz keys, still without any solution's code. `grade --checks-from OUT` grades with it."""
    specs = _ready(course, out)
    return _into(out, lambda: _write_grading_copy(course, specs, out, jobs))


def export_student_and_grading_copy(course: Course, out: Path, grading_out: Path, *, jobs: int = 4) -> Export:
    """The student copy without the hidden checks, and the grading copy with them, the reference's
    answers recorded once for both."""
    specs = _ready(course, out)
    _ready(course, grading_out)
    _into(grading_out, lambda: _write_grading_copy(course, specs, grading_out, jobs))
    return _into(out, lambda: _write(course, specs, out, False, jobs, recordings=grading_out))


def _ready(course: Course, out: Path) -> list[ExerciseSpec]:
    if course.student_copy:
        raise ExportError(f"{course.root} is a student copy already (it has exercises/{STUDENT_COPY_FILE})")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty folder: choose a new folder")
    if out.resolve().is_relative_to(course.root.resolve()):
        raise ExportError(f"{out} is inside the course folder {course.root}: choose a folder outside it")
    return course.load_all()  # SpecError (every problem) stops the export before anything is written


def _into(out: Path, write: Callable[[], Export]) -> Export:
    out.mkdir(parents=True, exist_ok=True)
    try:
        return write()
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # never leave half a copy that looks whole
        raise


def _write_grading_copy(course: Course, specs: list[ExerciseSpec], out: Path, jobs: int) -> Export:
    export = _write(course, specs, out, True, jobs)
    for spec in specs:
        if spec.kind == "quiz" and spec.key_file.is_file():
            target = out / "solutions" / spec.name / KEY_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(spec.key_file, target)
    (out / "README.md").write_text(GRADING_README, encoding="utf-8")
    Course(out).load_all()
    return export


def _write(course: Course, specs: list[ExerciseSpec], out: Path, with_hidden_checks: bool, jobs: int,
           recordings: Path | None = None) -> Export:
    export = Export(out=out, with_hidden_checks=with_hidden_checks)
    package = Path(grader.__file__).resolve().parent
    shutil.copytree(package, out / "grader", ignore=SKIPPED_NAMES)
    if (package.parent / "pyproject.toml").is_file():
        shutil.copy2(package.parent / "pyproject.toml", out / "pyproject.toml")
    shutil.copytree(course.glossary_folder, out / "glossary", ignore=SKIPPED_NAMES)
    schema = course.root / "docs" / "exercise.schema.json"
    if schema.is_file():
        (out / "docs").mkdir()
        shutil.copy2(schema, out / "docs" / schema.name)
    for spec in specs:
        export.exercises.append(spec.name)
        withheld = [] if with_hidden_checks else [c.id for c in spec.checks if c.hidden]
        if withheld:
            export.withheld[spec.name] = withheld
        _copy_exercise(spec, out / "exercises" / spec.name, withheld)
    if recordings is None:
        _record_references([s for s in specs if s.kind == "code"], out, export, jobs)
    else:  # answers recorded already, for the grading copy
        for spec in specs:
            if spec.kind == "code":
                where = Path("exercises") / spec.name / "checks" / RECORDED_FOLDER
                shutil.copytree(recordings / where, out / where)
                export.recorded[spec.name] = len(list((out / where).glob("*" + RESULT_SUFFIX)))
    marker = {"exported": date.today().isoformat(), "hidden_checks": "included" if with_hidden_checks else "withheld",
              "withheld": export.withheld}
    (out / "exercises" / STUDENT_COPY_FILE).write_text(
        "# Made by `grade export student`: a student's copy of the course (no solutions, no answer keys).\n"
        + yaml.safe_dump(marker, sort_keys=False), encoding="utf-8")
    (out / "README.md").write_text(student_readme(specs, export), encoding="utf-8")
    (out / ".gitignore").write_text(STUDENT_GITIGNORE, encoding="utf-8")
    Course(out).load_all()  # the copy must load as a course: a SpecError here is a bug in the export
    return export


def _copy_exercise(spec: ExerciseSpec, target: Path, withheld: list[str]) -> None:
    shutil.copytree(spec.folder, target, ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".pytest_cache", RECORDED_FOLDER))
    yaml_file = target / "exercise.yaml"
    yaml_file.write_text(_strip_yaml(yaml_file, withheld), encoding="utf-8")
    if not withheld:
        return
    for words_file in target.glob("exercise.*.yaml"):  # a translation's words for the withheld checks
        words_file.write_text(_without_keys(words_file, [("checks", check_id) for check_id in withheld]), encoding="utf-8")
    checks = target / "checks"
    if checks.is_dir():
        names = {"test_" + check_id.replace("-", "_") for check_id in withheld}
        hidden_ids: set[str] = set()
        for test_file in sorted(checks.glob("test_*.py")):
            source = test_file.read_text(encoding="utf-8")
            hidden_ids |= _strings_in(source, names)
            test_file.write_text(_strip_tests(source, names), encoding="utf-8")
        kept = "".join(path.read_text(encoding="utf-8") for path in sorted(checks.glob("*.py")))
        only_hidden = [message_id for message_id in hidden_ids if message_id not in kept]
        for catalogue in checks.glob("messages*.yaml"):  # the messages only withheld checks say
            catalogue.write_text(_without_keys(catalogue, [(message_id,) for message_id in only_hidden]), encoding="utf-8")


def _strings_in(source: str, functions: set[str]) -> set[str]:
    """The string constants inside the top-level functions `functions` of a check file (message ids among them)."""
    return {node.value for function in ast.parse(source).body
            if isinstance(function, ast.FunctionDef) and function.name in functions
            for node in ast.walk(function) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _without_keys(path: Path, locations: list[tuple[str, ...]]) -> str:
    """The YAML file without the entries at `locations` (a mapping's key with its value, and the comment lines
    right above it), comments and layout otherwise kept (line ranges from the parser's positions)."""
    doc = load_yaml(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    drop: set[int] = set()  # 1-based line numbers
    for loc in locations:
        if loc not in doc.key_marks:
            continue
        start = doc.key_marks[loc][0]
        later = [line for other, (line, _) in doc.key_marks.items() if len(other) <= len(loc) and line > start]
        end = min(later) - 1 if later else len(lines)
        while end > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1  # blank lines and the next entry's comments stay
        while start > 1 and lines[start - 2].lstrip().startswith("#"):
            start -= 1
        drop.update(range(start, end + 1))
    return "".join(line for number, line in enumerate(lines, start=1) if number not in drop)


def _strip_yaml(path: Path, withheld: list[str]) -> str:
    """exercise.yaml without the mutants and alternatives sections and without the withheld checks,
    comments and layout otherwise kept (line ranges from the parser's positions)."""
    doc = load_yaml(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    top = sorted(line for loc, (line, _) in doc.key_marks.items() if len(loc) == 1)  # top-level keys
    drop: set[int] = set()  # 1-based line numbers

    def block_end(start: int) -> int:
        """The last line of the top-level block that starts on `start`."""
        later = [line for line in top if line > start]
        return (later[0] - 1) if later else len(lines)

    for key in SECTIONS_REMOVED:
        if (key,) in doc.key_marks:
            start = doc.key_marks[(key,)][0]
            while start > 1 and lines[start - 2].startswith("#"):  # its own comment lines above it
                start -= 1
            drop.update(range(start, block_end(doc.key_marks[(key,)][0]) + 1))
    checks = doc.data.get("checks") if isinstance(doc.data, dict) else None
    if withheld and isinstance(checks, list):
        starts = [doc.value_marks[("checks", i)][0] for i in range(len(checks))]
        end_of_checks = block_end(doc.key_marks[("checks",)][0])
        for index, check in enumerate(checks):
            if isinstance(check, dict) and check.get("id") in withheld:
                end = starts[index + 1] - 1 if index + 1 < len(starts) else end_of_checks
                drop.update(range(starts[index], end + 1))
    return "".join(line for number, line in enumerate(lines, start=1) if number not in drop)


def _strip_tests(source: str, names: set[str]) -> str:
    """The check file without the top-level test functions in `names` (decorators included)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno or node.lineno
            while end < len(lines) and not lines[end].strip():  # the blank lines after it
                end += 1
            drop.update(range(start, end + 1))
    return "".join(line for number, line in enumerate(lines, start=1) if number not in drop)


def _record_references(specs: list[ExerciseSpec], out: Path, export: Export, jobs: int) -> None:
    """Grade what each exercise ships with, keeping the reference's answers in the copy."""
    from grader.authoring.validate import runs_to_prove
    from grader.runner.warm import Grading, grade_many
    from grader.submissions import GradingOptions

    work = [(spec, name, path) for spec in specs for name, path in runs_to_prove(spec).items()
            if not name.endswith("-2")]  # one run each is enough to record
    targets = {spec.name: out / "exercises" / spec.name / "checks" / RECORDED_FOLDER for spec in specs}
    for target in targets.values():  # a file in it, so the folder survives git even when nothing is recorded
        target.mkdir(parents=True, exist_ok=True)
        (target / "README.md").write_text(RECORDED_README, encoding="utf-8")

    graded = grade_many([Grading(spec, path, save_answers_to=targets[spec.name]) for spec, _, path in work], jobs,
                        GradingOptions()).results()
    for (spec, name, _), result in zip(work, graded):
        if name.startswith("solution") and not result.passed:
            failing = ", ".join(c.id for c in result.checks if c.status not in ("passed", "skipped"))
            raise ExportError(f"{spec.name}: the reference solution does not pass ({failing}); "
                              f"run grade validate {spec.id} and fix the exercise before exporting")
    for spec in specs:
        export.recorded[spec.name] = len(list(targets[spec.name].glob("*" + RESULT_SUFFIX)))


def student_readme(specs: list[ExerciseSpec], export: Export) -> str:
    return export_templates(TEMPLATES / "student").get_template("README.md.j2").render(
        specs=specs, export=export, packages=packages_of(specs))
