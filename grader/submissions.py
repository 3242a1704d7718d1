"""From a submission to a result: one exercise (`grade exercise`), or every exercise of a course
(`grade all`), finding each exercise's files in the layouts students hand work in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.results import CourseResult, ExerciseResult
from grader.spec import ExerciseSpec


@dataclass
class GradingOptions:
    time_s: float | None = None
    memory_mb: int | None = None
    processes: int | None = None
    use_cache: bool = True
    debug: bool = False
    student: str | None = None  # quizzes: whose numbers


def grade_exercise(spec: ExerciseSpec, submission: Path | None, options: GradingOptions) -> ExerciseResult:
    """Grade one exercise or quiz: code in the grading process, a quiz's answers file here."""
    if spec.kind == "quiz":
        from grader.quiz.grading import grade_quiz, student_identity

        return grade_quiz(spec, submission, student_identity(options.student))
    from grader.runner.launch import grade

    return grade(spec, submission, time_s=options.time_s, memory_mb=options.memory_mb, processes=options.processes,
                 use_cache=options.use_cache, debug=options.debug)


def find_submission(spec: ExerciseSpec, root: Path) -> Path:
    """Where an exercise's files are in a handed-in folder: `exercises/NN-slug/` (a copy of the course
    repository, as GitHub Classroom and Gradescope's GitHub upload give it), `NN-slug/`, or the folder
    itself (files uploaded side by side; a quiz then needs its own folder, all answers files being
    called answers.yaml). A missing file is reported by the grading itself, naming what it expected."""
    for candidate in (root / "exercises" / spec.name, root / spec.name):
        if candidate.is_dir():
            return candidate
    if spec.kind == "quiz":
        return root / "exercises" / spec.name / spec.files[0]  # missing: the message names where it belongs
    return root  # the files side by side (or missing: the message names the file expected)


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
