"""From a submission to a result: one exercise (`grade exercise`), or every exercise of a course
(`grade all`), finding each exercise's files in the layouts students hand work in."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from grader.results import CourseResult, ExerciseResult, Said
from grader.spec import ExerciseSpec


@dataclass
class GradingOptions:
    time_s: float | None = None
    memory_mb: int | None = None
    processes: int | None = None
    use_cache: bool = True
    debug: bool = False
    student: str | None = None  # quizzes: whose numbers
    run_as_root: bool = False  # a root grader that cannot drop root runs student code anyway (else it refuses)
    private: tuple[str, ...] = ()  # folders student code sees only the way through (a batch's class folder)


def grade_exercise(spec: ExerciseSpec, submission: Path | None, options: GradingOptions) -> ExerciseResult:
    """Grade one exercise or quiz: code in the grading process, a quiz's answers file here."""
    if spec.kind == "quiz":
        from grader.quiz.grading import grade_quiz, student_identity

        problem = _answers_problem(spec, submission)
        if problem:
            from grader.runner.launch import error_result

            return error_result(spec, problem, time.monotonic())
        return grade_quiz(spec, submission, student_identity(options.student))
    from grader.runner.launch import grade

    return grade(spec, submission, time_s=options.time_s, memory_mb=options.memory_mb, processes=options.processes,
                 use_cache=options.use_cache, debug=options.debug, run_as_root=options.run_as_root)


def find_submission(spec: ExerciseSpec, root: Path) -> Path:
    """Where an exercise's files are in a handed-in folder: `exercises/NN-slug/` (a copy of the course
    repository, as GitHub Classroom and Gradescope's GitHub upload give it), `NN-slug/`, or the folder
    itself (files uploaded side by side; a quiz then needs its own folder, all answers files being
    called answers.yaml). A missing file is reported by the grading itself, naming what it expected.

    Symbolic links are never followed into another folder: where `root` itself, or a folder on the way
    to the exercise's files, is a link (a student folder linked to a classmate's, `exercises/` linked
    outside the class), that link is returned, and the grading refuses it by name. A folder that
    cannot be read is passed on too: the grading says so."""
    if os.path.islink(root):
        return root
    for parts in (("exercises", spec.name), (spec.name,)):
        candidate = root.joinpath(*parts)
        if os.path.isdir(candidate):  # never raises (an unreadable folder is not one)
            on_the_way = [root.joinpath(*parts[: n + 1]) for n in range(len(parts))]
            return next((step for step in on_the_way if os.path.islink(step)), candidate)
    if spec.kind == "quiz":
        return root / "exercises" / spec.name / spec.files[0]  # missing: the message names where it belongs
    return root  # the files side by side (or missing: the message names the file expected)


def _answers_problem(spec: ExerciseSpec, submission: Path | None) -> Said | None:
    """Why a quiz's answers are not read: the submission, or its answers file, is a symbolic link, a
    named pipe or a device, or a file over 1 MB (the rules `grade exercise` stages code by)."""
    from grader.quiz.grading import answers_path
    from grader.runner.launch import handed_in_problem

    if submission is not None and os.path.islink(submission):
        return handed_in_problem(submission)
    return handed_in_problem(answers_path(spec, submission))


def grade_course(specs: list[ExerciseSpec], root: Path | None, options: GradingOptions,
                 on_result=None) -> CourseResult:  # noqa: ANN001 - a callback taking each ExerciseResult
    """Grade every exercise in turn; one that cannot be graded costs only its own result."""
    results = []
    for spec in specs:
        submission = None if root is None else find_submission(spec, root)
        result = grade_exercise(spec, submission, options)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return CourseResult.from_results(results)
