"""Grading a quiz, on the CLI's side (no torch here): find whose quiz it is, have the child process
compute that student's answer key (`grader.quiz.key`), read the answers file, and turn each question
into a CheckResult of the same result model code exercises use. A malformed answer costs only its
own question; an unreadable answers file is an error result naming the file and line.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.checks import said
from grader.failures import FailureKind
from grader.quiz.answers import AnswerError, choice_credit, is_blank, is_right, parse, shown
from grader.quiz.key import WITHHELD
from grader.quiz.questions import LETTERS, Question, Variant, render, variant
from grader.results import CheckResult, ExerciseResult, Failure, Said, SaidError
from grader.spec import ExerciseSpec
from grader import notebooks
from grader.yamlfile import Problem, SpecError, YamlDoc, load_yaml, load_yaml_text

KEY_TIMEOUT_S = 120


class QuizError(SaidError):
    """The quiz could not be graded at all (its key could not be computed): `said` (`quiz.key.*`) says why."""

    PREFIX = "quiz.key."


def student_identity(explicit: str | None = None) -> str:
    """Whose variant: --student, else the GitHub user in Actions, else TORCHGRADE_STUDENT, else the login."""
    for candidate in (explicit, os.environ.get("GITHUB_ACTOR"), os.environ.get("TORCHGRADE_STUDENT")):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "student"


def variants(spec: ExerciseSpec, student: str) -> list[Variant]:
    return [variant(q, student, spec.name) for q in spec.questions]


def static_key(spec: ExerciseSpec) -> dict[str, Any]:
    if not any(not q.computed for q in spec.questions):
        return {}
    if not spec.key_file.is_file():  # a student copy (the loader allows it nowhere else)
        return {WITHHELD: True}
    doc = load_yaml(spec.key_file)  # checked by the spec loader; SpecError if it broke since
    return doc.data if isinstance(doc.data, dict) else {}


def compute_key(spec: ExerciseSpec, student: str) -> dict[str, Any]:
    """{question id: {"answer": ...} or {"error": ...}}, computed in a child process that imports torch."""
    return compute_keys(spec, [student])[student]


def compute_keys(spec: ExerciseSpec, students: list[str]) -> dict[str, dict[str, Any]]:
    """The keys of several students at once (one child process: torch is imported once)."""
    with tempfile.TemporaryDirectory(prefix="torchgrade-quiz-") as scratch:
        job_path, out = Path(scratch) / "job.json", Path(scratch) / "key.json"
        job = {"quiz": spec.name, "students": students, "out": str(out), "static": static_key(spec),
               "questions": [q.model_dump(mode="json") for q in spec.questions]}
        job_path.write_text(json.dumps(job), encoding="utf-8")
        from grader.runner import launch

        proc = launch.start(["grader.quiz.key", str(job_path)], {"PYTHONDONTWRITEBYTECODE": "1", "CUDA_VISIBLE_DEVICES": ""},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, stderr = proc.communicate(timeout=KEY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise QuizError("timeout", seconds=KEY_TIMEOUT_S) from None
        finally:
            launch.stop(proc)
        if not out.is_file():
            raise QuizError("crashed", code=proc.returncode, output=stderr.decode(errors="replace")[-1500:])
        return json.loads(out.read_text(encoding="utf-8"))


def read_answers(path: Path, shown_as: str) -> dict[str, Any]:
    """The answers file as {question id: raw answer}; SpecError (with line and column) if unreadable. A
    notebook (`grade export notebooks`) is read from its answer cells, `%%answers` (`grader.notebooks`)."""
    if path.suffix == notebooks.SUFFIX:
        return _notebook_answers(path, shown_as)
    return _answers_in(load_yaml(path, shown_as, aliases=False))


def _answers_in(doc: YamlDoc) -> dict[str, Any]:
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise SpecError([doc.problem((), "the answers file should list `question-id: answer` lines")])
    return {str(k): v for k, v in doc.data.items()}


def answers_from_cells(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """The answers of a notebook's answer cells, `(the cell in words, its YAML)` in order: a question
    answered again later (a cell run again in a kernel) keeps its later answer; SpecError names the cell."""
    answers: dict[str, Any] = {}
    problems = []
    for where, text in cells:
        try:
            answers.update(_answers_in(load_yaml_text(text, where, aliases=False)))
        except SpecError as exc:
            problems += exc.problems
    if problems:
        raise SpecError(problems)
    return answers


def _notebook_answers(path: Path, shown_as: str) -> dict[str, Any]:
    from grader.runner.launch import read_regular

    data = read_regular(path, notebooks.MAX_NOTEBOOK_BYTES)
    if isinstance(data, Said):
        raise SpecError([Problem(shown_as, 1, 1, "cannot read the notebook")])
    try:
        cells = notebooks.answer_cells(notebooks.sources_of(notebooks.code_cells(data, shown_as)))
    except notebooks.NotebookError as exc:
        raise SpecError([Problem(shown_as, 1, 1, f"not a notebook Jupyter can read ({exc.said.params.get('reason', '')})")]) from None
    if not cells:
        raise SpecError([Problem(shown_as, 1, 1, f"no answer cells: an answer cell starts with {notebooks.ANSWERS_MAGIC}")])
    return answers_from_cells([(f"{shown_as}, cell {number}", text) for number, text in cells])


def judge(question: Question, text: Variant, raw: Any, key_entry: dict[str, Any], *, reveal: bool = False) -> CheckResult:
    """One question's result: passed, failed (wrong, blank or malformed: only this question; a multiple-choice
    answer may earn part of the points) or error (the question's own answer code is broken). A question that
    did not pass records its facts (`Failure`); the view says them (`launch.in_words`)."""
    base = {"id": question.id, "title": question.title, "max_points": question.points, "concepts": question.concepts}
    if key_entry.get("withheld"):
        return CheckResult(**base, status="skipped", points=0.0,
                           failure=Failure(kind=FailureKind.SKIPPED, said=Said(id="quiz.withheld")))
    if "error" in key_entry:
        return CheckResult(**base, status="error", points=0.0, failure=Failure(
            kind=FailureKind.REFERENCE_FAILED, said=Said(id="quiz.key-failed", params={"error": key_entry["error"]})))
    answer_with = Said(id="quiz.answer-with", params={"form": said(f"quiz.form.{question.type}")})
    if is_blank(raw):
        return CheckResult(**base, status="failed", points=0.0, failure=Failure(
            kind=FailureKind.VERDICT, said=Said(id="quiz.blank"), what_to_try=answer_with))
    try:
        given = parse(question.type, raw, len(question.options))
    except AnswerError as exc:
        return CheckResult(**base, status="failed", points=0.0, failure=Failure(
            kind=FailureKind.VERDICT, said=Said(id="quiz.unreadable", params={"problem": _said(exc.said)}),
            what_to_try=answer_with))
    key = key_entry["answer"]
    if is_right(question.type, given, key, question.tolerance, question.rel_tolerance, question.significant_digits):
        return CheckResult(**base, status="passed", points=question.points)
    points = round(question.points * choice_credit(given, key), 2) if question.type == "multiple" else 0.0
    facts: dict[str, Any] = {"given": shown(question.type, given), "points": points, "max_points": question.points,
                             "multiple": question.type == "multiple", "options": []}
    if question.type in ("single", "multiple"):  # what each wrongly picked option says about itself
        picked = [given] if question.type == "single" else [g for g in given if g not in key]
        for letter in picked:
            explained = render(question.options[LETTERS.index(letter)].explanation, text.params)
            if explained:
                facts["options"].append({"letter": letter, "said": explained})
    if reveal:
        facts["answer"] = shown(question.type, key)
    return CheckResult(**base, status="failed", points=points, why_it_matters=text.explanation, failure=Failure(
        kind=FailureKind.VERDICT, said=Said(id="quiz.wrong", params=facts), what_to_try=_how_marked(question)))


def _said(message: Said) -> dict[str, Any]:
    return said(message.id, **message.params)


def _how_marked(question: Question) -> Said | None:
    """How this question is marked, when a student who got it wrong may not know."""
    if question.type == "multiple":
        return Said(id="quiz.how-marked.multiple")
    if question.significant_digits is not None:
        return Said(id="quiz.how-marked.significant-digits", params={"digits": question.significant_digits})
    return None


def result_of(spec: ExerciseSpec, checks: list[CheckResult], started: float) -> ExerciseResult:
    return ExerciseResult.from_checks(exercise=spec.name, exercise_id=spec.id, title=spec.title, checks=checks,
                                      duration=time.monotonic() - started, kind="quiz")


def answers_path(spec: ExerciseSpec, submission: Path | None) -> Path:
    """The answers handed in: a file given, else in the folder (default: the quiz's own) its answers.yaml,
    else a quiz notebook there (answers.ipynb, or the folder's only notebook: `grade export student
    --notebooks` ships one), else answers.yaml, which is then missing."""
    folder = spec.folder if submission is None else submission
    if submission is not None and not submission.is_dir():
        return submission
    wanted = folder / spec.files[0]
    if os.path.lexists(wanted):
        return wanted
    chosen, _ = notebooks.chosen_in(folder, spec.files[0])
    return wanted if chosen is None else folder / chosen


def grade_quiz(spec: ExerciseSpec, submission: Path | None, student: str) -> ExerciseResult:
    """Grade an answers file (default: the student's exercises/NN-slug/answers.yaml); a file that cannot be
    read puts every question in error for that one reason (`launch.error_result`)."""
    from grader.runner.launch import error_result

    started = time.monotonic()
    path = answers_path(spec, submission)
    if not path.is_file():
        return error_result(spec, Said(id="quiz.no-answers-file", params={
            "path": str(path), "folder": spec.name, "id": spec.id}), started)
    try:
        answers = read_answers(path, str(path))
    except SpecError as exc:
        return error_result(spec, Said(id="quiz.answers-unreadable", params={"problem": str(exc)}), started)
    return grade_answers(spec, answers, student, started)


def grade_answers(spec: ExerciseSpec, answers: dict[str, Any], student: str, started: float) -> ExerciseResult:
    """Grade answers read already ({question id: raw answer}: a file's, a notebook's answer cells')."""
    from grader.runner.launch import error_result, in_words

    try:
        key = compute_key(spec, student)
    except QuizError as exc:
        return error_result(spec, Said(id="quiz.no-key", params={"problem": _said(exc.said)}), started)
    texts = {v.id: v for v in variants(spec, student)}
    checks = [judge(q, texts[q.id], answers.get(q.id), key[q.id]) for q in spec.questions]
    return in_words(result_of(spec, checks, started), spec)


def unknown_answers(spec: ExerciseSpec, submission: Path | None) -> list[str]:
    """Ids in the answers file that are no question of the quiz (a typo loses that answer: say so)."""
    from grader.runner.launch import handed_in_problem

    path = answers_path(spec, submission)
    if handed_in_problem(path):  # a link, a FIFO, a device: grading says so; never read it here
        return []
    try:
        answers = read_answers(path, str(path))
    except (SpecError, OSError):
        return []
    ids = {q.id for q in spec.questions}
    return [k for k in answers if k not in ids]
