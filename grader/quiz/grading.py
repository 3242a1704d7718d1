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

from grader.quiz.answers import AnswerError, choice_credit, is_blank, is_right, parse, shown
from grader.quiz.key import WITHHELD
from grader.quiz.questions import ANSWER_FORMS, LETTERS, Question, Variant, render, variant
from grader.results import CheckResult, ExerciseResult
from grader.spec import ExerciseSpec
from grader.yamlfile import SpecError, load_yaml

KEY_TIMEOUT_S = 120


class QuizError(Exception):
    """The quiz could not be graded at all (its key could not be computed)."""


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
        job_path.write_text(json.dumps(job))
        from grader.runner import launch

        proc = launch.start(["grader.quiz.key", str(job_path)], {"PYTHONDONTWRITEBYTECODE": "1", "CUDA_VISIBLE_DEVICES": ""},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, stderr = proc.communicate(timeout=KEY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise QuizError(f"computing the answers took longer than {KEY_TIMEOUT_S} s") from None
        finally:
            launch.stop(proc)
        if not out.is_file():
            raise QuizError(f"the grader's child process failed (exit code {proc.returncode}): "
                            f"{stderr.decode(errors='replace')[-1500:]}")
        return json.loads(out.read_text())


def read_answers(path: Path, shown_as: str) -> dict[str, Any]:
    """The answers file as {question id: raw answer}; SpecError (with line and column) if unreadable."""
    doc = load_yaml(path, shown_as)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise SpecError([doc.problem((), "the answers file should list `question-id: answer` lines")])
    return {str(k): v for k, v in doc.data.items()}


def judge(question: Question, text: Variant, raw: Any, key_entry: dict[str, Any], *, reveal: bool = False) -> CheckResult:
    """One question's result: passed, failed (wrong, blank or malformed: only this question; a multiple-choice
    answer may earn part of the points) or error (the question's own answer code is broken)."""
    base = {"id": question.id, "title": question.title, "max_points": question.points, "concepts": question.concepts}
    if key_entry.get("withheld"):
        return CheckResult(**base, status="skipped", points=0.0,
                           message="This question's answer is kept by your instructor, so this copy of the course "
                                   "cannot check it: it is graded when your work is collected. Your answer is kept as "
                                   "it is.")
    if "error" in key_entry:
        return CheckResult(**base, status="error", points=0.0,
                           message="This question's answer could not be computed, so your answer could not be judged "
                                   "(a problem with the quiz, not with you; tell your instructor): " + key_entry["error"])
    if is_blank(raw):
        return CheckResult(**base, status="failed", points=0.0, message="No answer yet.",
                           what_to_try=f"Answer with {ANSWER_FORMS[question.type]}.")
    try:
        given = parse(question.type, raw, len(question.options))
    except AnswerError as exc:
        return CheckResult(**base, status="failed", points=0.0, message=f"It could not be read: {exc}.",
                           what_to_try=f"Answer with {ANSWER_FORMS[question.type]}.")
    key = key_entry["answer"]
    if is_right(question.type, given, key, question.tolerance, question.rel_tolerance, question.significant_digits):
        return CheckResult(**base, status="passed", points=question.points)
    points = round(question.points * choice_credit(given, key), 2) if question.type == "multiple" else 0.0
    if points:
        message = f"You answered {shown(question.type, given)}, which earns {points:g} of {_points(question.points)}."
    else:
        message = f"You answered {shown(question.type, given)}, which is not right."
    if question.type in ("single", "multiple"):  # what each wrongly picked option says about itself
        picked = [given] if question.type == "single" else [g for g in given if g not in key]
        for letter in picked:
            said = render(question.options[LETTERS.index(letter)].explanation, text.params)
            if said:
                message += f" ({letter}) {said}" if question.type == "multiple" else f" {said}"
    if reveal:
        message += f" The answer is {shown(question.type, key)}."
    return CheckResult(**base, status="failed", points=points, message=message, why_it_matters=text.explanation,
                       what_to_try=_what_to_try(question))


def _points(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def _what_to_try(question: Question) -> str:
    """How this question is marked, when a student who got it wrong may not know."""
    if question.type == "multiple":
        return ("Pick every right option and no other: each right option you pick earns a share of the points, "
                "each wrong one takes a share away (never below 0).")
    if question.significant_digits is not None:
        return (f"Your answer is rounded to {question.significant_digits} significant digits and compared with the "
                f"right value rounded the same way: write at least {question.significant_digits} significant "
                f"digits, rounded rather than cut off (to 4 digits, 0.0123456 is 0.01235).")
    return ""


def result_of(spec: ExerciseSpec, checks: list[CheckResult], started: float, message: str = "") -> ExerciseResult:
    return ExerciseResult.from_checks(exercise=spec.name, exercise_id=spec.id, title=spec.title, checks=checks,
                                      duration=time.monotonic() - started, message=message, kind="quiz")


def error_result(spec: ExerciseSpec, message: str, started: float) -> ExerciseResult:
    checks = [CheckResult(id=q.id, title=q.title, status="error", points=0.0, max_points=q.points, message=message,
                          concepts=q.concepts) for q in spec.questions]
    return result_of(spec, checks, started, message)


def answers_path(spec: ExerciseSpec, submission: Path | None) -> Path:
    if submission is None:
        return spec.folder / "answers.yaml"
    return submission / "answers.yaml" if submission.is_dir() else submission


def grade_quiz(spec: ExerciseSpec, submission: Path | None, student: str) -> ExerciseResult:
    """Grade an answers file (default: the student's exercises/NN-slug/answers.yaml)."""
    started = time.monotonic()
    path = answers_path(spec, submission)
    if not path.is_file():
        return error_result(spec, f"There is no answers file at {path}. Answer the questions in "
                                  f"exercises/{spec.name}/answers.yaml, or run `grade quiz {spec.id}`.", started)
    try:
        answers = read_answers(path, str(path))
    except SpecError as exc:
        return error_result(spec, f"Your answers file could not be read: {exc}. Fix that line and grade again.",
                            started)
    try:
        key = compute_key(spec, student)
    except QuizError as exc:
        return error_result(spec, f"The quiz could not be graded: {exc}", started)
    texts = {v.id: v for v in variants(spec, student)}
    checks = [judge(q, texts[q.id], answers.get(q.id), key[q.id]) for q in spec.questions]
    return result_of(spec, checks, started)


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
