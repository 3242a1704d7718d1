"""A student's progress: the last score of each exercise and how many hints they have seen.
Kept in `exercises/.progress.json` (git ignores it) or the file TORCHGRADE_PROGRESS names. Every
change reads, changes and writes it under a lock (`grade watch` in one terminal, `grade hint` in
another and a notebook's check may all write at once): `fcntl.flock` on Linux and macOS,
`msvcrt.locking` on Windows, on a `.lock` file beside it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
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
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, ValueError):
            return cls()

    def save(self, path: Path) -> None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.write_text(json.dumps(self.model_dump(), indent=2), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a read-only course folder must not stop grading

    def of(self, name: str) -> ExerciseProgress:
        return self.exercises.setdefault(name, ExerciseProgress())

    def record(self, result: ExerciseResult) -> None:
        entry = self.of(result.exercise)
        entry.last_score, entry.max_score, entry.passed = result.score, result.max_score, result.passed


LOCK_WAIT_S = 5.0  # then the change is made unlocked: a lock left by a frozen process must not stop a student


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the progress file's lock (its `.lock` file) while the block runs; without one if the folder is
    read-only or the lock cannot be had within LOCK_WAIT_S."""
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        held = _lock(fd, time.monotonic() + LOCK_WAIT_S)
        try:
            yield
        finally:
            if held:
                _unlock(fd)
    finally:
        os.close(fd)


def _lock(fd: int, deadline: float) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


def update(course_root: Path, change: Callable[[Progress], None]) -> Progress:
    """Read the progress, `change` it and write it back, under the lock; the progress as written."""
    path = Progress.path_for(course_root)
    with locked(path):
        progress = Progress.load(path)
        change(progress)
        progress.save(path)
    return progress


def record_results(course_root: Path, results: list[ExerciseResult]) -> None:
    """Keep each result's score as the exercise's last (`grade exercise`, `grade all`, `grade quiz`)."""
    update(course_root, lambda progress: [progress.record(result) for result in results])


def next_hint(course_root: Path, exercise: str, hints: int) -> int:
    """How many of an exercise's `hints` to show now: one more than last time, at most all of them."""

    def one_more(progress: Progress) -> None:
        entry = progress.of(exercise)
        entry.hints_shown = min(entry.hints_shown + 1, hints)

    return update(course_root, one_more).of(exercise).hints_shown
