"""`grade watch [N]`: grade again each time the student saves (the habit rustlings made popular).

Each grading shows the checks' marks, what changed since the last run (checks now passing, checks no
longer passing) and only the first failing check in full: one thing to fix at a time. When an exercise
passes, the watch moves on to the next one not yet passed (in the student's own copy; with --submission it
keeps watching that file). Saves are noticed with `watchfiles` (inotify on Linux), a burst of them graded
once. A save made while a grading runs, or before the watcher is listening, is not lost: the watched files'
size and modification time are noted when a grading starts, and compared again once the watcher is
listening and every second after that (which also covers folders where inotify says nothing, such as some
network and container mounts). Nothing here imports torch: each grading runs in the grading process, as
`grade exercise` does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable

from grader.notebooks import SUFFIX as NOTEBOOK, named_after
from grader.results import ExerciseResult
from grader.spec import ExerciseSpec

DEBOUNCE_MS = 400  # an editor's save is often several writes: one grading for them
RECHECK_MS = 1000  # how often the files are compared with their state at the last grading, whatever inotify says


@dataclass
class Changes:
    """How a grading differs from the one before it, by check title."""

    first: bool = True
    fixed: list[str] = field(default_factory=list)
    broke: list[str] = field(default_factory=list)


def changes(before: ExerciseResult | None, after: ExerciseResult) -> Changes:
    if before is None:
        return Changes()
    was = {c.id: c.status for c in before.checks}
    return Changes(first=False,
                   fixed=[c.title for c in after.checks if c.status == "passed" and was.get(c.id) != "passed"],
                   broke=[c.title for c in after.checks if c.status != "passed" and was.get(c.id) == "passed"])


def next_to_do(specs: list[ExerciseSpec], passed: Collection[str],
               after: ExerciseSpec | None = None) -> ExerciseSpec | None:
    """The first exercise whose name is not in `passed` (after `after`, then from the start), or None."""
    order = specs if after is None else [*specs[specs.index(after) + 1:], *specs[:specs.index(after)]]
    return next((spec for spec in order if spec.name not in passed), None)


def watched(spec: ExerciseSpec, submission: Path | None) -> tuple[Path, Callable[[Path], bool]]:
    """The folder to watch, and which saved files in it mean "grade again"."""
    if submission is not None and not submission.is_dir():
        target = submission.resolve()
        return target.parent, lambda path: path.resolve() == target
    folder = submission or spec.folder
    names = {*spec.files, *(named_after(f) for f in spec.files)}
    return folder, lambda path: path.name in names or path.suffix in (".py", NOTEBOOK) and path.parent == folder


Stamp = dict[str, tuple[int, int]]


def stamp(folder: Path, wanted: Callable[[Path], bool]) -> Stamp:
    """The size and modification time of every wanted file in `folder` (a deleted file drops out)."""
    found: Stamp = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return found
    for path in entries:
        try:
            if wanted(path) and path.is_file():
                info = path.stat()
                found[path.name] = (info.st_mtime_ns, info.st_size)
        except OSError:
            continue
    return found


def saves(folder: Path, wanted: Callable[[Path], bool], stop: threading.Event,
          since: Stamp | None = None) -> Iterable[None]:
    """One item each time a wanted file in `folder` is written (a burst of writes counts once). With
    `since` (a `stamp` taken before), a file already changed since then counts as a save as soon as the
    watcher listens, and the files are compared with it again every RECHECK_MS."""
    import watchfiles

    for batch in watchfiles.watch(folder, stop_event=stop, debounce=DEBOUNCE_MS, recursive=False,
                                  watch_filter=lambda _change, path: wanted(Path(path)), raise_interrupt=False,
                                  rust_timeout=RECHECK_MS, yield_on_timeout=True):
        now = stamp(folder, wanted) if since is not None else None
        if batch or now != since:
            since = now
            yield None


@dataclass
class Watch:
    """The loop: grade, say, wait for a save. `grade(spec)` grades and records; `say(result, changes, next)`
    prints; `waiting(spec)` is said before each wait; `passed()` reads the exercises passed so far."""

    specs: list[ExerciseSpec]
    submission: Path | None
    grade: Callable[[ExerciseSpec], ExerciseResult]
    say: Callable[[ExerciseResult, Changes, ExerciseSpec | None], None]
    waiting: Callable[[ExerciseSpec], None]
    passed: Callable[[], Collection[str]]
    stop: threading.Event = field(default_factory=threading.Event)
    max_runs: int | None = None  # for tests: stop after this many gradings

    def run(self, spec: ExerciseSpec) -> int:
        """Watch from `spec`; the number of gradings when stopped."""
        runs, before = 0, None
        while not self.stop.is_set():
            folder, wanted = watched(spec, self.submission)
            before_grading = stamp(folder, wanted)  # a save while grading is graded next
            result = self.grade(spec)
            runs += 1
            following = None
            if result.passed and self.submission is None:
                following = next_to_do(self.specs, self.passed(), after=spec)
            self.say(result, changes(before, result), following)
            if self.max_runs is not None and runs >= self.max_runs:
                break
            if result.passed and self.submission is None:
                if following is None:
                    break  # every exercise passed
                spec, before = following, None
                continue
            before = result
            self.waiting(spec)
            if next(iter(saves(folder, wanted, self.stop, before_grading)), "stopped") == "stopped":
                break
        return runs
