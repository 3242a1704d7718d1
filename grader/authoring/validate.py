"""`grade validate`: prove an exercise right before students see it, by grading what the exercise ships
with through the real pipeline. A code exercise: the reference solution passes every check (twice: a
check whose verdict changes between runs is flaky), the starter fails (twice), every mutant fails the
checks it names and no other (a check it also fails must say it follows from another check's problem;
a check that crashes on it is reported), every alternative passes, and no check
takes more than half the time limit. A quiz: every answer computes, for several students, and the empty
starter does not pass. All runs go into one queue served by warm grading processes (each run is its own
fresh child of one, as in `grade batch`); an exercise's time is the sum of its runs' durations."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.results import ExerciseResult
from grader.spec import ExerciseSpec
from grader.submissions import GradingOptions

QUIZ_STUDENTS = ("validate-1", "validate-2", "validate-3")


@dataclass
class Report:
    """One exercise's proof: a row of the table, and every problem found, in words."""

    exercise: str
    kind: str
    solution: str = "-"
    starter: str = "-"
    starter_earns: str = "-"  # the points a starter earns as shipped: what a student gets for doing nothing
    mutants: str = "-"
    beyond: str = "-"  # checks the mutants fail besides those that name their bugs
    alternatives: str = "-"
    slowest: str = "-"
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _not_passed(spec: ExerciseSpec, result: ExerciseResult) -> list[Any]:
    gpu_only = {c.id for c in spec.checks if c.gpu_only}
    return [c for c in result.checks if c.status != "passed" and not (c.status == "skipped" and c.id in gpu_only)]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def runs_to_prove(spec: ExerciseSpec) -> dict[str, Path]:
    """Everything a code exercise ships with, to grade: name -> the submission to grade."""
    runs: dict[str, Path] = {"solution-1": spec.solution_folder, "solution-2": spec.solution_folder,
                             "starter-1": spec.folder, "starter-2": spec.folder}
    runs.update({f"mutant:{m.file}": spec.solution_folder / m.file for m in spec.mutants})
    runs.update({f"alternative:{a.file}": spec.solution_folder / a.file for a in spec.alternatives})
    return runs


def judge_code(spec: ExerciseSpec, results: dict[str, ExerciseResult]) -> Report:
    """The report of a code exercise from the results of its runs (`runs_to_prove`)."""
    report = Report(spec.name, spec.kind, seconds=sum(r.duration for r in results.values()))
    solution = results["solution-1"]
    bad = _not_passed(spec, solution)
    report.solution = "passes" if not bad else f"FAILS {len(bad)}"
    for check in bad:
        report.problems.append(f"the reference solution does not pass '{check.id}' ({check.status}): {_short(check.message)}")

    starter = results["starter-1"]
    report.starter = "fails" if not starter.passed else "PASSES"
    report.starter_earns = f"{starter.score:g}/{starter.max_score:g}"
    if starter.passed:
        report.problems.append("the starter passes every check: a student would have nothing to do")

    for a, b, what in (("solution-1", "solution-2", "reference solution"), ("starter-1", "starter-2", "starter")):
        for first, second in zip(results[a].checks, results[b].checks):
            if first.status != second.status:
                report.problems.append(f"check '{first.id}' is flaky: {first.status} then {second.status} on the {what}")

    caught, following, own = 0, 0, 0
    for mutant in spec.mutants:
        result = results[f"mutant:{mutant.file}"]
        failed = {c.id for c in result.checks if c.status in ("failed", "error")}
        # One bug, one check: any other check it fails must say it follows from another check's problem.
        beyond = [c for c in result.checks if c.status in ("failed", "error") and c.id not in mutant.fails]
        following += sum(1 for c in beyond if c.because_of)
        for check in (c for c in beyond if not c.because_of):
            own += 1
            report.problems.append(f"mutant {mutant.file} ({mutant.description}) also fails '{check.id}', which does not "
                                   f"name its bug, as a problem of its own: {_short(check.message)}")
        errors = [c.id for c in result.checks if c.status == "error"]
        missed = [c for c in mutant.fails if c not in failed]
        # A check that names the bug must find it itself, not say it follows from another check's problem,
        # and say what it found.
        following_only = [c for c in result.checks if c.id in mutant.fails and c.id in failed and c.because_of]
        silent = [c.id for c in result.checks if c.id in mutant.fails and c.id in failed and not c.message.strip()]
        if result.passed:
            report.problems.append(f"mutant {mutant.file} ({mutant.description}) passes every check")
        elif missed:
            report.problems.append(f"mutant {mutant.file} ({mutant.description}) is not caught by {', '.join(missed)}"
                                   f"; it fails {', '.join(sorted(failed)) or 'nothing'} instead")
        elif following_only:
            report.problems.append(
                f"mutant {mutant.file} ({mutant.description}) fails " + ", ".join(
                    f"'{c.id}' only as following from '{c.because_of}'" for c in following_only)
                + ": the check that names its bug must catch it on its own")
        elif silent:
            report.problems.append(f"mutant {mutant.file} ({mutant.description}) fails {', '.join(silent)} with an "
                                   f"empty message: the student would not learn what was wrong")
        else:
            caught += 1
        for check_id in errors:
            report.problems.append(f"mutant {mutant.file} makes check '{check_id}' end in an error instead of a failure: "
                                   f"{_short(next(c.message for c in result.checks if c.id == check_id))}")
    report.mutants = f"{caught}/{len(spec.mutants)}"
    report.beyond = "none" if not (following or own) else \
        ", ".join([f"{own} OWN"] * bool(own) + [f"{following} because of"] * bool(following))

    passing = 0
    for alternative in spec.alternatives:
        not_passed = _not_passed(spec, results[f"alternative:{alternative.file}"])
        passing += not not_passed
        for check in not_passed:
            report.problems.append(f"alternative {alternative.file} ({alternative.description}) does not pass "
                                   f"'{check.id}': {_short(check.message)}")
    report.alternatives = f"{passing}/{len(spec.alternatives)}"
    for name, result in results.items():
        report.problems += unsaid(spec, name, result)

    # The time limit bounds each run of the student's code: compare the slowest run of each check with it.
    timings = [(min(c.slowest_probe for c in (results["solution-1"].check(cid), results["solution-2"].check(cid))), cid)
               for cid in (c.id for c in results["solution-1"].checks)]
    seconds, check_id = max(timings, default=(0.0, "-"))
    report.slowest = f"{check_id} {seconds:.2f}s"
    if seconds > spec.limits.time_s / 2:
        report.problems.append(f"check '{check_id}' ran the reference solution for {seconds:.1f} s, more than half the "
                               f"time limit ({spec.limits.time_s:g} s): students on slower machines would time out")
    return report


def unsaid(spec: ExerciseSpec, run: str, result: ExerciseResult) -> list[str]:
    """The failures of a run whose words cannot be said in some language: a message id that no catalogue
    has, a placeholder the check gave no value or a translation uses wrongly (a student would read "could
    not be shown" in their place)."""
    from grader.languages import LANGUAGES
    from grader.render.words import MessageError, Messages

    problems = []
    for language in LANGUAGES:
        messages = Messages(spec.checks_folder, language)
        for check in result.checks:
            for said in (check.failure.said, check.failure.what_to_try) if check.failure else ():
                for part in ("message", "what_to_try") if said is not None else ():
                    try:
                        messages.say(said, part)
                    except MessageError as exc:
                        problems.append(f"{run}: check '{check.id}' failed with a message that cannot be said "
                                        f"in {language}: {exc}")
    return sorted(set(problems))


def validate_quiz(spec: ExerciseSpec) -> Report:
    from grader.quiz.grading import QuizError, compute_keys, grade_quiz

    started = time.monotonic()
    report = Report(spec.name, spec.kind)
    try:
        keys = compute_keys(spec, list(QUIZ_STUDENTS))
    except QuizError as exc:
        report.solution = "FAILS"
        report.problems.append(f"the answers could not be computed: {exc}")
        return report
    broken = sorted({qid for key in keys.values() for qid, entry in key.items() if "error" in entry})
    for qid in broken:
        entry = next(key[qid] for key in keys.values() if "error" in key[qid])
        report.problems.append(f"question '{qid}': its answer could not be computed: {entry['error']}")
    report.solution = "answers compute" if not broken else f"FAILS {len(broken)}"
    starter = grade_quiz(spec, None, QUIZ_STUDENTS[0])
    report.starter = "fails" if not starter.passed else "PASSES"
    report.starter_earns = f"{starter.score:g}/{starter.max_score:g}"
    if starter.passed:
        report.problems.append("the starter answers file passes: it must not hold the answers")
    report.seconds = time.monotonic() - started
    return report


def validate(specs: list[ExerciseSpec], jobs: int, run_as_root: bool = False) -> list[Report]:
    """Every run of every code exercise, `jobs` at a time in warm grading processes (`grader.runner.warm`),
    while the quizzes' answers compute here. `run_as_root`: as `grade exercise --run-as-root`."""
    from grader.runner.warm import Grading, grade_many

    runs = [(spec, name, path) for spec in specs if spec.kind == "code" for name, path in runs_to_prove(spec).items()]
    results: dict[str, dict[str, ExerciseResult]] = {spec.name: {} for spec in specs}
    graded = grade_many([Grading(spec, path) for spec, _, path in runs], jobs, GradingOptions(run_as_root=run_as_root))
    reports = {spec.name: validate_quiz(spec) for spec in specs if spec.kind == "quiz"}
    for (spec, name, _), result in zip(runs, graded.results()):
        results[spec.name][name] = result
    for spec in specs:
        if spec.kind == "code":
            reports[spec.name] = judge_code(spec, results[spec.name])
    return [reports[spec.name] for spec in specs]
