"""The two sides a check compares: `student` and `reference`. Each runs probes in the sandbox on its
own code; results are memoised for the run, and the reference's are cached on disk across runs."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

from grader.checks import plain
from grader.failures import FailureKind
from grader.results import Explained, Failure, Run
from grader.runner import payload
from grader.runner.sandbox import ProbeJob, ProbeOutcome, Sandbox, load_payload_file

RESULT_SUFFIX = ".result"  # a cached or recorded answer: `grader.runner.payload`'s format, never a pickle

IMPORT_PROBE = ("grader.runner.sides", "import_only")


class StudentCodeFailed(Exception):
    """The student's code could not finish a probe: it raised, exited, hung or ran out of memory."""

    def __init__(self, outcome: ProbeOutcome):
        super().__init__(outcome.status)
        self.outcome = outcome


class ReferenceNotRecorded(Exception):
    """A student copy (no solutions/) has no recorded reference answer for this probe call."""

    def __init__(self, name: str, kwargs: dict[str, Any]):
        super().__init__(f"no recorded reference result for {name}({kwargs})")
        self.name = name
        self.kwargs = kwargs


class ReferenceFailed(Exception):
    """The reference solution failed a probe: the exercise is broken, not the student's code."""

    def __init__(self, outcome: ProbeOutcome):
        super().__init__(f"reference solution failed: {outcome.status} {outcome.error}")
        self.outcome = outcome


def run_failure(outcome: ProbeOutcome) -> Failure:
    """A run that did not finish, as the facts a result keeps: how it ended, the error record, the end of
    what it printed, and the error catalogue's entry that recognised what was raised (`grader.explain`)."""
    from grader.explain import recognise, summary

    error = _kept(outcome.error or {})
    kind = error.get("kind")
    if kind not in FailureKind.__members__.values():
        kind = {"timeout": FailureKind.TIMEOUT, "crashed": FailureKind.SIGNAL}.get(outcome.status, FailureKind.NO_RESULT)
    found = recognise(outcome.error or {})
    explained = Explained(id=found[0].id, facts=plain(found[1])) if found else None
    # Running out of memory and unwritten code (NotImplementedError) have explanations of their own; any
    # other exception the catalogue does not know is counted as not explained yet.
    raised = bool(error.get("type")) and (kind == FailureKind.EXCEPTION or explained is not None)
    run = Run(status=outcome.status, error=plain(error), output=outcome.output_tail[-MAX_KEPT_MESSAGE:], explained=explained,
              summary=summary(error) if raised else "")
    return Failure(kind=FailureKind(kind), run=run, during_import=error.get("during") == "import")


# What of an error record a result keeps, and how much of each text (and of the printed output's end): more than
# any view shows, far less than a worker may send (the frames, used only to recognise the error here, stay out).
KEPT_FIELDS = ("kind", "during", "type", "message", "exit_code", "limit_mb", "limit_s", "file", "line", "column", "code",
               "function", "worker", "signal", "size", "processes_refused", "process_limit")
MAX_KEPT_MESSAGE, MAX_KEPT_FACT = 4_000, 1_000


def _kept(error: dict[str, Any]) -> dict[str, Any]:
    kept = {key: error[key] for key in KEPT_FIELDS if key in error}
    for key, value in kept.items():
        if isinstance(value, str):
            kept[key] = value[:MAX_KEPT_MESSAGE if key == "message" else MAX_KEPT_FACT]
    return kept


def import_only(module: Any) -> list[str]:
    """The built-in probe that only imports the file; returns its public names."""
    return sorted(name for name in vars(module) if not name.startswith("_"))


def recording_key(where: str, name: str, kwargs: dict[str, Any]) -> str:
    """What a recorded reference answer depends on in a student copy: the probe (its file's contents,
    so an edited probe is never answered from an old recording), its name and its arguments. Not the
    solution (absent there) and not the torch version (the checks' tolerances absorb that)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([name, kwargs], sort_keys=True, default=str).encode())
    digest.update(Path(where).read_bytes() if where.endswith(".py") else where.encode())
    return digest.hexdigest()[:32]


class Side:
    """One body of code (the submission or the reference solution) that probes run against."""

    def __init__(self, name: str, code_dir: Path, module: str, sandbox: Sandbox, run_dir: Path,
                 time_s: float, memory_mb: int, cache_dir: Path | None = None,
                 save_answers_to: Path | None = None, answers_from: Path | None = None, processes: int = 64,
                 hide: list[str] | None = None, private: list[str] | None = None, run_as_root: bool = False):
        """`save_answers_to`: also save every outcome there under its recording key (`grade export student`).
        `answers_from`: run nothing; answer from the outcomes saved there (a student copy, where the
        reference solution is absent)."""
        self.name = name
        self._save_answers_to = save_answers_to
        self._answers_from = answers_from
        self.code_dir = code_dir
        self.module = module
        self._sandbox = sandbox
        self._run_dir = run_dir
        self._time_s = time_s
        self._memory_mb = memory_mb
        self._processes = processes
        self._hide = list(hide or [])  # folders this side's code must not read
        self._private = list(private or [])  # and folders it sees only the way through
        self._run_as_root = run_as_root
        self.isolation: dict[str, str] = {}  # what protected the student's code (from its workers)
        self._cache_dir = cache_dir
        self._memo: dict[str, ProbeOutcome] = {}
        self._jobs = 0
        self.durations: list[float] = []  # seconds of each probe this side actually ran, in order

    @property
    def is_student(self) -> bool:
        return self.name == "student"

    def run(self, probe: Callable[..., Any], /, **kwargs: Any) -> Any:
        """Run `probe(module, **kwargs)` in a worker and return its plain data (a fresh copy). A probe
        given `device="cuda"` runs in a worker that sees the GPU; every other worker sees none."""
        # The grader's own probes are imported by name; an exercise's are loaded from their file.
        module = probe.__module__
        where = module if module.startswith("grader.") else str(Path(probe.__code__.co_filename).resolve())
        outcome = self.outcome(where, probe.__qualname__, kwargs)
        if outcome.status != "ok":
            raise (StudentCodeFailed if self.is_student else ReferenceFailed)(outcome)
        return copy.deepcopy(outcome.value)

    def try_import(self) -> ProbeOutcome:
        """Import the code once, before any check: a syntax or import error then explains every check."""
        return self.outcome(*IMPORT_PROBE, {})

    def outcome(self, where: str, name: str, kwargs: dict[str, Any]) -> ProbeOutcome:
        key = json.dumps([where, name, kwargs], sort_keys=True, default=str)
        if key not in self._memo:
            if self._answers_from is not None:
                self._memo[key] = self._recorded(where, name, kwargs)
            else:
                self._memo[key] = self._cached(where, name, kwargs) or self._execute(where, name, kwargs)
                if self._save_answers_to is not None and self._memo[key].status == "ok":
                    self._record(where, name, kwargs, self._memo[key])
        return self._memo[key]

    def _record(self, where: str, name: str, kwargs: dict[str, Any], outcome: ProbeOutcome) -> None:
        self._save_answers_to.mkdir(parents=True, exist_ok=True)
        _keep(self._save_answers_to / f"{recording_key(where, name, kwargs)}{RESULT_SUFFIX}",
              outcome.payload or payload.encode({"value": outcome.value}))

    def _recorded(self, where: str, name: str, kwargs: dict[str, Any]) -> ProbeOutcome:
        path = self._answers_from / f"{recording_key(where, name, kwargs)}{RESULT_SUFFIX}"
        if not path.is_file():
            raise ReferenceNotRecorded(name, kwargs)
        outcome = ProbeOutcome(status="ok", duration=0.0)
        load_payload_file(path, outcome)
        return outcome

    def _execute(self, where: str, name: str, kwargs: dict[str, Any]) -> ProbeOutcome:
        self._jobs += 1
        # Unguessable names, and nothing left behind: a later worker finds no earlier answer to copy.
        work = self._run_dir / f"{self.name}-{self._jobs:03d}-{secrets.token_hex(8)}"
        work.mkdir(parents=True, mode=0o700)
        job = ProbeJob(code_dir=str(self.code_dir), module=self.module, probe_file=where, probe_name=name,
                       kwargs=kwargs, time_s=self._time_s, memory_mb=self._memory_mb, work_dir=str(work),
                       cuda=str(kwargs.get("device", "")).startswith("cuda"), processes=self._processes,
                       hide=self._hide, private=self._private, trusted=not self.is_student,
                       run_as_root=self._run_as_root)
        try:
            outcome = self._sandbox.run(job)
            self.durations.append(outcome.duration)
            if outcome.isolation and self.is_student:
                self.isolation = outcome.isolation
            if outcome.status == "ok" and self._cache_dir is not None:
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                _keep(self._cache_dir / f"{self._cache_key(where, name, kwargs)}{RESULT_SUFFIX}", outcome.payload)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return outcome

    def _cached(self, where: str, name: str, kwargs: dict[str, Any]) -> ProbeOutcome | None:
        if self._cache_dir is None:
            return None
        path = self._cache_dir / f"{self._cache_key(where, name, kwargs)}{RESULT_SUFFIX}"
        if not path.is_file():
            return None
        outcome = ProbeOutcome(status="ok", duration=0.0)
        load_payload_file(path, outcome)
        return outcome if outcome.status == "ok" else None

    def _cache_key(self, where: str, name: str, kwargs: dict[str, Any]) -> str:
        """Everything the reference's answer depends on: its code, the probe, the helpers, torch."""
        import torch

        digest = hashlib.sha256()
        digest.update(json.dumps([name, kwargs, torch.__version__, sys.version_info[:2]], sort_keys=True, default=str).encode())
        sources = sorted(self.code_dir.glob("*.py"))
        sources += sorted((Path(__file__).resolve().parent.parent / "checks").glob("*.py"))
        if where.endswith(".py"):
            sources.append(Path(where))
        for path in sources:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:32]


def _keep(target: Path, data: bytes) -> None:
    """Write an answer atomically (several gradings may keep the same one at once)."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
