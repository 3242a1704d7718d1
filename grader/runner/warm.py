"""Warm grading processes, seen from the CLI side: `grade batch` and `grade validate` send each code
grading to one (`grader.runner.pool`, which imports torch, pytest and the grader once and forks a child
per job running the same `judge.run_job` as a one-off grading process) instead of starting a fresh
grading process that spends seconds on imports. The job is staged exactly as `grade exercise` stages it,
and read back with the same validation (`launch.read_result`). `grade_many` runs a list of gradings this
way, a few at a time (`grade validate`, `grade export`); `grade batch` drives its own workers.
"""

from __future__ import annotations

import os
import queue
import secrets
import select
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.results import ExerciseResult, Said
from grader.runner import launch
from grader.spec import ExerciseSpec
from grader.submissions import GradingOptions


# Warm grading processes fork a child per job, and talk over pipes watched with select(): POSIX only. On
# Windows each submission gets a one-off grading process, as `grade exercise` does.
WARM_PROCESSES = hasattr(os, "fork")


class WarmGrader:
    """One warm grading process (`grader.runner.pool`) and the pipe its answers come back on."""

    def __init__(self, log_dir: Path, number: int):
        reply_r, reply_w = os.pipe()
        self._log = open(log_dir / f"warm-{number}.log", "wb")
        try:
            self.proc = launch.start(["grader.runner.pool", str(reply_w)], stdin=subprocess.PIPE, stdout=self._log,
                                     stderr=subprocess.STDOUT, pass_fds=(reply_w,), cwd=log_dir)
        finally:
            os.close(reply_w)
        self._replies = reply_r
        self._buffer = b""
        self._stopped = False

    def grade(self, job_path: Path, deadline: float) -> int | None:
        """Send one job; its exit code, or None if no answer came within `deadline` seconds (the
        process is then stopped: the caller starts another)."""
        token = secrets.token_hex(16)  # an answer must carry it: nothing else can say "done" for this job
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"{job_path} {token}\n".encode())
            self.proc.stdin.flush()
        except OSError:
            return None
        end = time.monotonic() + deadline
        while (line := self._read_line(end - time.monotonic())) is not None:
            word, _, rest = line.partition(" ")
            answered, _, code = rest.partition(" ")
            if word == "done" and answered == token and code.lstrip("-").isdigit():
                return int(code)
        return None

    def _read_line(self, timeout: float) -> str | None:
        end = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                return None
            chunk = os.read(self._replies, 4096)
            if not chunk:
                return None  # the process died
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        launch.stop(self.proc)
        os.close(self._replies)
        self._log.close()


def grade_warm(warm: WarmGrader, spec: ExerciseSpec, submission: Path, options: GradingOptions,
               save_answers_to: Path | None = None) -> tuple[ExerciseResult, bool]:
    """One code exercise in a warm process, staged as `grade exercise` stages it (`save_answers_to`: as
    `launch.grade`'s). Returns the result and whether the process can take the next job."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torchgrade-") as scratch:
        root = Path(scratch)
        staged = launch.write_job(spec, submission, root, time_s=options.time_s, memory_mb=options.memory_mb,
                                  processes=options.processes, use_cache=options.use_cache, debug=options.debug,
                                  run_as_root=options.run_as_root, private=[Path(p) for p in options.private],
                                  save_answers_to=save_answers_to)
        if isinstance(staged, Said):
            return launch.error_result(spec, staged, started), True
        code = warm.grade(root / "job.json", staged.deadline)
        if code is None:
            return launch.error_result(spec, launch.took_too_long(staged.deadline), started), False
        return launch.read_result(spec, root, code, started, options.debug, staged.notebook), True


def grader_failed(spec: ExerciseSpec, exc: BaseException | None, debug: bool) -> ExerciseResult:
    """The result of a submission the grader itself failed on (a bug of ours; `exc` None: its grading was
    stopped before it ended): said plainly, the others going on; the details with --debug."""
    detail = ""
    if debug and exc is not None:
        import traceback

        detail = "".join(traceback.format_exception(exc))
    message = Said(id="grader.failed-on-submission", params={"type": type(exc).__name__ if exc else "stopped",
                                                             "detail": detail})
    return launch.error_result(spec, message, time.monotonic())


@dataclass
class Grading:
    """One grading for `grade_many`: a submission of a code exercise, and where to keep the reference
    solution's answers if they are to be kept (a student copy's recordings)."""

    spec: ExerciseSpec
    submission: Path
    save_answers_to: Path | None = None


def grade_many(gradings: list[Grading], jobs: int, options: GradingOptions) -> Gradings:
    """Start grading `gradings` in the background (`Gradings`); `.results()` waits for them."""
    return Gradings(gradings, jobs, options)


class Gradings:
    """Gradings running in the background, `jobs` at a time, each worker thread with a warm process of its
    own, started when first needed and replaced when a grading leaves it unable to take the next (where
    there is no fork, each grading is a one-off grading process). `results()` waits and gives them in the
    order of `gradings`; a grading the grader itself failed on gets a result saying so, never a traceback."""

    def __init__(self, gradings: list[Grading], jobs: int, options: GradingOptions):
        self._results: list[ExerciseResult | None] = [None] * len(gradings)
        self._pending: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._gradings, self._options = gradings, options
        for number in range(len(gradings)):
            self._pending.put(number)
        workers = max(1, min(jobs, len(gradings)))
        for _ in range(workers):
            self._pending.put(None)
        self._logs = tempfile.TemporaryDirectory(prefix="torchgrade-warm-")
        self._threads = [threading.Thread(target=self._serve, args=(n,), daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def results(self) -> list[ExerciseResult]:
        for thread in self._threads:
            thread.join()
        self._logs.cleanup()
        return [result or grader_failed(grading.spec, None, self._options.debug)
                for result, grading in zip(self._results, self._gradings)]

    def _serve(self, number: int) -> None:
        warm: WarmGrader | None = None
        try:
            while (index := self._pending.get()) is not None:
                grading = self._gradings[index]
                try:
                    if not WARM_PROCESSES:
                        o = self._options
                        result, healthy = launch.grade(grading.spec, grading.submission, time_s=o.time_s,
                                                       memory_mb=o.memory_mb, processes=o.processes,
                                                       use_cache=o.use_cache, debug=o.debug, run_as_root=o.run_as_root,
                                                       save_answers_to=grading.save_answers_to), True
                    else:
                        warm = warm or WarmGrader(Path(self._logs.name), number)
                        result, healthy = grade_warm(warm, grading.spec, grading.submission, self._options,
                                                     grading.save_answers_to)
                except Exception as exc:  # noqa: BLE001 - a bug of ours costs this grading its result, no more
                    result, healthy = grader_failed(grading.spec, exc, self._options.debug), False
                if not healthy and warm is not None:
                    warm.stop()
                    warm = None
                self._results[index] = result
        finally:
            if warm is not None:
                warm.stop()
