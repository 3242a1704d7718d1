"""A student's progress: the last score of each exercise and how many hints they have seen.
Kept in `exercises/.progress.json` (git ignores it) or the file TORCHGRADE_PROGRESS names."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from grader.results import ExerciseResult


class ExerciseProgress(BaseModel):
    last_score: float | None = None
    max_score: float | None = None
    passed: bool = False
    hints_shown: int = 0


class Progress(BaseModel):
    exercises: dict[str, ExerciseProgress] = Field(default_factory=dict)

    @staticmethod
    def path_for(course_root: Path) -> Path:
        named = os.environ.get("TORCHGRADE_PROGRESS")
        return Path(named) if named else course_root / "exercises" / ".progress.json"

    @classmethod
    def load(cls, path: Path) -> Progress:
        """The saved progress; an unreadable file counts as none rather than stopping the student."""
        try:
            return cls.model_validate_json(path.read_text())
        except (OSError, ValidationError, ValueError):
            return cls()

    def save(self, path: Path) -> None:
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.model_dump(), indent=2))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only course folder must not stop grading

    def of(self, name: str) -> ExerciseProgress:
        return self.exercises.setdefault(name, ExerciseProgress())

    def record(self, result: ExerciseResult) -> None:
        entry = self.of(result.exercise)
        entry.last_score, entry.max_score, entry.passed = result.score, result.max_score, result.passed


def record_results(course_root: Path, results: list[ExerciseResult]) -> None:
    """Keep each result's score as the exercise's last (`grade exercise`, `grade all`, `grade quiz`)."""
    path = Progress.path_for(course_root)
    progress = Progress.load(path)
    for result in results:
        progress.record(result)
    progress.save(path)


def next_hint(course_root: Path, exercise: str, hints: int) -> int:
    """How many of an exercise's `hints` to show now: one more than last time, at most all of them."""
    path = Progress.path_for(course_root)
    progress = Progress.load(path)
    entry = progress.of(exercise)
    entry.hints_shown = min(entry.hints_shown + 1, hints)
    progress.save(path)
    return entry.hints_shown
