"""`grade export classroom OUT`: the student template repository for GitHub Classroom, with its
autograding workflow (`.github/workflows/classroom.yml`, the shape Classroom itself generates: one
grading step per exercise, then Classroom's reporter). Hidden checks either stay out of it and are
fetched at grading time from a private repository holding the grading copy (`checks_repo`), or ship
in it (a course that accepts students reading them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from grader.authoring import export_templates
from grader.authoring.export import (Export, ExportError, export_student, export_student_and_grading_copy)
from grader.course import Course
from grader.spec import packages_of

TEMPLATES = Path(__file__).parent / "templates"
WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
CHECKS_PATH = ".torchgrade-checks"  # where the workflow puts the grading copy, inside the runner's checkout
TOKEN_SECRET = "TORCHGRADE_CHECKS_TOKEN"
REPO_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass
class Pins:
    """The PyTorch build a platform installs: by default the versions the course was proven with here."""

    torch: str
    torchvision: str
    python: str = "3.12"

    @classmethod
    def installed(cls) -> Pins:
        """The versions installed in this environment (read from package metadata, without importing torch)."""
        try:
            return cls(torch=_public(metadata.version("torch")), torchvision=_public(metadata.version("torchvision")))
        except metadata.PackageNotFoundError as exc:
            raise ExportError(f"{exc.name} is not installed here: pass --torch and --torchvision") from None


def _public(version: str) -> str:
    """`2.14.1+cu128` -> `2.14.1`: the CPU index names the same release `2.14.1+cpu`."""
    return version.split("+")[0]


def export_classroom(course: Course, out: Path, *, checks_repo: str | None, grading_out: Path | None, pins: Pins,
                     jobs: int = 4) -> Export:
    """The template repository in OUT with its workflow; with `checks_repo`, the grading copy in `grading_out`
    (to push to that private repository) and no hidden check in OUT."""
    if checks_repo is not None:
        if not REPO_PATTERN.match(checks_repo):
            raise ExportError(f"--checks-repo '{checks_repo}' is not OWNER/NAME of a GitHub repository")
        if grading_out is None:
            raise ExportError("--checks-repo needs --checks-out DIR: where to write the grading copy to push there")
        made = export_student_and_grading_copy(course, out, grading_out, jobs=jobs)
    else:
        made = export_student(course, out, with_hidden_checks=True, jobs=jobs)
    workflow = out / WORKFLOW
    workflow.parent.mkdir(parents=True)
    workflow.write_text(render_workflow(course, checks_repo, pins), encoding="utf-8")
    return made


def render_workflow(course: Course, checks_repo: str | None, pins: Pins) -> str:
    specs = course.load_all()
    steps = [{"id": f"exercise{spec.id:02d}", "number": spec.id, "title": f"{spec.id:02d} {spec.title}".replace('"', "'")}
             for spec in specs]  # step ids alphanumeric: the reporter reads <ID>_RESULTS
    step_minutes = max(5, max((_minutes(spec) for spec in specs), default=5))
    return export_templates(TEMPLATES / "classroom").get_template("classroom.yml.j2").render(
        packages=packages_of(specs),
        steps=steps, checks_repo=checks_repo, checks_path=CHECKS_PATH, token_secret=TOKEN_SECRET,
        torch=pins.torch, torchvision=pins.torchvision, python=pins.python, step_minutes=step_minutes,
        job_minutes=20 + step_minutes * len(steps))


def _minutes(spec) -> int:  # noqa: ANN001 - an ExerciseSpec
    """Generous minutes for one grading step: every check at its time limit, twice, and start-up."""
    if spec.kind == "quiz":
        return 2
    return 2 + int(spec.limits.time_s * 2 * (len(spec.checks) + 1) / 60)
