"""Runs the student's code in spawned workers: where fork is unavailable (Windows) or unsafe (macOS,
where forking a process that has loaded torch and the system frameworks can crash), or on request
(`TORCHGRADE_WORKERS=spawn`, which is how Linux tests this backend).

A worker is a fresh Python (`python -P -m grader.runner.spawned MODULES...`) that imports torch once and
then serves the probes of one submission, one after another: the student's, or the reference's, never
both, and it ends with its grading. Before each probe it puts back what a fresh worker has (PyTorch's
and Python's random generators, grad mode, default dtype, warning filters, environment, working folder)
and imports the student's module afresh, so each probe sees what a forked worker sees. A spare is
spawned ahead, so a probe waits for torch's import only when no spare is ready.

Jobs go down the worker's stdin as `sandbox.send_message` frames; it answers on its stdout in frames of
an 8-byte length then the bytes (ready, then a report and a result per probe), which a thread of the
grading process reads, size-capped, holding at most two. A probe's report carries the random token its job
brought, written before student code runs: whatever student code wrote into the pipe during an earlier
probe is skipped, never read as this probe's answer (and a worker that wrote more than it was asked is
replaced). It prints into a temporary file the grading process made. As with fork, the judge validates
every result before using it and never opens a file in a worker's folder.
Limits are what the platform offers: rlimits on Linux and macOS, a Job Object on Windows
(`grader.runner.windows`); the process tree is ended through its process group or its job.
"""

from __future__ import annotations

import json
import math
import os
import queue
import secrets
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.runner import isolation
from grader.runner.sandbox import (
    CUDA_RUNTIME_MB, FILE_LIMIT_BYTES, MAX_RESULT_BYTES, OUTPUT_TAIL_CHARS, ProbeJob, ProbeOutcome, apply_payload,
    limit_gpu_memory, load_probe, read_exactly, receive_message, run_probe, scrub_environment, send_message,
    stay_root, virtual_size, write_error, write_result,
)

STARTUP_S = 120.0  # a worker importing torch on a slow laptop, with a second one doing the same
WINDOWS = os.name == "nt"
MACOS = sys.platform == "darwin"


# ----------------------------------------------------------------------------- grading process side


class SpawnSandbox:
    """The grading process's spawned workers, with the fork backend's `run`: one bound to each side of
    the grading (the student's, the reference's), and a spare spawned ahead (at the start, while the
    grading process loads pytest and the checks, and again after a worker is lost to a timeout or a crash)."""

    def __init__(self, preload: list[str]):
        self.pid = os.getpid()
        self.preload = [name for name in preload if name.replace(".", "").replace("_", "").isalnum()]
        self._bound: dict[tuple[Any, ...], _Worker] = {}
        isolation.become_subreaper()  # what a worker's children leave comes back here (Linux), and is ended
        self._spare: _Worker | None = _Worker(self.preload, cuda=False)

    def run(self, job: ProbeJob) -> ProbeOutcome:
        """Run `job` in the worker serving its side, or in a new one; `outcome.payload` keeps the bytes sent."""
        side = _side_of(job)
        worker = self._bound.get(side)
        if worker is not None and (not worker.alive or worker.unasked()):
            self._end(worker)
            worker = None
        if worker is None:
            worker = self._take(job)
            self._bound[side] = worker
        outcome = worker.run(job)
        if not worker.alive:  # it timed out or crashed: this side's next probe needs another, spawned now
            self._end(worker)
            self._spare = self._spare or _Worker(self.preload, cuda=False)
        return outcome

    def _take(self, job: ProbeJob) -> _Worker:
        """The spare, if it can serve `job` (a CPU probe); else a new worker. The spare is not replaced at
        once: a grading whose reference answers are cached needs one worker, and a spare importing torch
        beside it would only slow it down (measured in bench/backends.py)."""
        if job.cuda or self._spare is None:
            return _Worker(self.preload, cuda=job.cuda)
        taken, self._spare = self._spare, None
        return taken

    def _end(self, worker: _Worker) -> None:
        worker.end()
        self._bound = {side: w for side, w in self._bound.items() if w is not worker}
        live = {w.proc.pid for w in [*self._bound.values(), self._spare] if w is not None}
        isolation.end_orphans(keep=frozenset(live), foreign_only=True)

    def descriptors(self) -> set[int]:
        """No descriptor of this sandbox needs to survive into a child (workers are spawned by whoever runs)."""
        return set()

    def close(self) -> None:
        for worker in [*self._bound.values(), self._spare]:
            if worker is not None:
                worker.end()
        self._bound, self._spare = {}, None
        isolation.end_orphans(foreign_only=True)


def _side_of(job: ProbeJob) -> tuple[Any, ...]:
    """What a worker is bound to: one body of code, under one set of rules."""
    return (job.code_dir, job.module, job.cuda, job.trusted, job.run_as_root, job.memory_mb, job.processes,
            tuple(job.hide), tuple(job.private))


class _Worker:
    """One spawned worker, seen from the grading process."""

    def __init__(self, preload: list[str], cuda: bool):
        self.output = tempfile.TemporaryFile()  # its printed output; deleted once closed (no name on Windows either)
        env = {**os.environ, "PYTORCH_NVML_BASED_CUDA_CHECK": "1"}
        if not cuda:
            env["CUDA_VISIBLE_DEVICES"] = ""  # before torch is imported there: this worker never sees a GPU
        popen: dict[str, Any] = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if WINDOWS
                                 else {"start_new_session": True})  # Ctrl-C in the terminal does not reach it
        self.proc = subprocess.Popen([sys.executable, "-P", "-m", "grader.runner.spawned", *preload],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.output, env=env,
                                     **popen)
        self.job = None
        if WINDOWS:
            from grader.runner import windows

            try:
                self.job = windows.Job.around(self.proc.pid)
            except OSError:
                self.job = None  # ended the ordinary way; the record says its memory was not limited
        # At most a report and a result wait here: a worker that writes more waits on its pipe, so the grading
        # process never holds more than three frames of one worker (this two, and the one being read).
        self.frames: queue.Queue[bytes | tuple[str, int] | None] = queue.Queue(maxsize=2)
        self.reader = threading.Thread(target=_read_frames, args=(self.proc.stdout, self.frames), daemon=True)
        self.reader.start()
        self.ready = False
        self.alive = True
        self.served = 0  # probes sent to it
        self.facts: dict[str, str] = {}  # what its first report said, before any student code ran in it

    def run(self, job: ProbeJob) -> ProbeOutcome:
        """Send `job` once the worker is ready; its outcome, as the fork backend's `Sandbox.run` gives it."""
        if not self.ready:
            ready = self._next(time.monotonic() + STARTUP_S)
            if not isinstance(ready, bytes):
                self.alive = False
                tail = self._tail(0)
                raise RuntimeError(f"a spawned worker did not start: {tail[-500:]}")
            self.ready = True
        first = self.served == 0
        self.served += 1
        if first and self.job is not None:
            from grader.runner import windows

            try:  # what torch itself committed, plus the allowance (and room for the runtime, as the fork backend's cgroup)
                room = job.memory_mb + (CUDA_RUNTIME_MB if job.cuda else 0)  # the CUDA libraries, as on Linux
                self.job.limit(self.job.peak_memory() + room * 1024 * 1024, job.processes + 1)
            except windows.JobError:
                self.job = None
        offset = self._size()
        start = time.monotonic()
        job = replace(job, token=secrets.token_hex(16))
        try:
            send_message(self.proc.stdin, job.__dict__)
        except OSError:
            pass  # it is gone already: its exit says why
        deadline = start + job.time_s
        report = self._report(deadline, job.token)
        result = self._next(deadline) if isinstance(report, bytes) else report
        duration = time.monotonic() - start
        if first and isinstance(report, bytes):
            self.facts = _facts(report, memory_limited=self.job is not None)  # sent before any student code ran
        outcome = ProbeOutcome(status="ok", duration=duration, isolation=dict(self.facts))
        if isinstance(result, bytes):
            apply_payload(result, outcome)
            if outcome.status == "ok":
                outcome.payload = result
        elif isinstance(result, tuple):  # declared more than MAX_RESULT_BYTES
            self._kill()
            outcome.status, outcome.error = "error", {"kind": "too-large", "size": result[1]}
        elif self.proc.poll() is None:  # nothing whole by the deadline
            self._kill()
            outcome.status, outcome.error = "timeout", {"kind": "timeout", "limit_s": job.time_s}
        else:
            outcome.status, outcome.error = _exit_verdict(self.proc.returncode, job)
            self.alive = False
        outcome.output_tail = self._tail(offset)
        return outcome

    def _report(self, deadline: float, token: str) -> bytes | tuple[str, int] | None:
        """This probe's report: the first frame carrying its job's token (frames before it are what student
        code wrote during an earlier probe, skipped); or what ended the wait."""
        while isinstance(frame := self._next(deadline), bytes):
            try:
                report = json.loads(frame)
            except ValueError:
                continue
            if isinstance(report, dict) and report.get("token") == token:
                return frame
        return frame

    def _next(self, deadline: float) -> bytes | tuple[str, int] | None:
        """The next frame the worker sent; None at the deadline or once it has exited with nothing more."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                frame = self.frames.get(timeout=min(left, 0.02))
            except queue.Empty:
                if self.proc.poll() is not None:
                    # What it wrote before exiting is still coming (a child of its may hold the pipe open).
                    try:
                        frame = self.frames.get(timeout=0.2)
                    except queue.Empty:
                        return None
                else:
                    continue
            if frame is None:  # the pipe closed, so nothing more can come: it has exited, or will by the deadline
                try:
                    self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                return None
            return frame

    def unasked(self) -> bool:
        """Whether it sent a frame after its last probe's result (student code writing to its result pipe):
        such a worker is replaced, so that nothing it wrote is read as a later probe's answer."""
        return self.ready and not self.frames.empty()

    def _size(self) -> int:
        try:
            return os.fstat(self.output.fileno()).st_size
        except OSError:
            return 0

    def _tail(self, offset: int) -> str:
        """The last OUTPUT_TAIL_CHARS bytes printed since `offset`, read through this process's own handle
        without moving the offset the worker writes at (POSIX), or moving it back to the end (Windows)."""
        try:
            start = max(offset, self._size() - OUTPUT_TAIL_CHARS)
            if hasattr(os, "pread"):
                data = os.pread(self.output.fileno(), OUTPUT_TAIL_CHARS, start)
            else:
                self.output.seek(start)
                data = self.output.read(OUTPUT_TAIL_CHARS)
                self.output.seek(0, os.SEEK_END)
            return data.decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _kill(self) -> None:
        """End the worker and everything it started: its job (Windows), else its process group."""
        self.alive = False
        if self.job is not None:
            self.job.terminate()
        elif not WINDOWS:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()

    def end(self) -> None:
        """Ask it to stop (its stdin closes), end whatever is left of it, and let go of its files."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=0.5 if self.ready else 0.0)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        # The reader may be waiting to put a frame: take them until it has seen the end (or a process the
        # worker left, still holding the pipe, has had its chance: the orphans are ended after this).
        until = time.monotonic() + 2.0
        while self.reader.is_alive() and time.monotonic() < until:
            try:
                self.frames.get(timeout=0.05)
            except queue.Empty:
                pass
        if self.job is not None:
            self.job.close()
            self.job = None
        self.output.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _read_frames(stream: Any, frames: queue.Queue[bytes | tuple[str, int] | None]) -> None:
    """Frames from a worker's stdout into `frames`, each at most MAX_RESULT_BYTES (a longer one is
    announced as ("too-large", size) and reading stops); None once it ends."""
    try:
        while (head := read_exactly(stream, 8)) is not None:
            size = struct.unpack("!Q", head)[0]
            if size > MAX_RESULT_BYTES:
                frames.put(("too-large", size))
                return
            data = read_exactly(stream, size)
            if data is None:
                break
            frames.put(data)
    except (OSError, ValueError):
        pass
    frames.put(None)


def _facts(report: bytes, memory_limited: bool) -> dict[str, str]:
    try:
        facts = json.loads(report)
    except ValueError:
        return {}
    if not isinstance(facts, dict):
        return {}
    if WINDOWS and not memory_limited:
        facts["memory"] = "not limited (no Job Object could be made)"
    return {str(k): str(v) for k, v in facts.items() if k != "token"}


def _exit_verdict(returncode: int, job: ProbeJob) -> tuple[str, dict[str, Any]]:
    """How a worker that exited without a whole result ended, as the fork backend says it."""
    if returncode < 0:
        sig = -returncode
        kind = "cpu-time" if sig == getattr(signal, "SIGXCPU", None) else "signal"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return "crashed", {"kind": kind, "signal": name, "limit_s": job.time_s}
    if returncode != 0:
        return "exited", {"kind": "exit-code", "exit_code": returncode}
    return "exited", {"kind": "no-result"}


# ----------------------------------------------------------------------------- worker


class _FreshState:
    """What a fresh worker has before any student code, kept after torch's import and put back before
    each probe: a probe then sees what the fork backend's freshly forked worker sees."""

    def __init__(self) -> None:
        import random
        import warnings

        import torch

        self.torch_rng = torch.get_rng_state()
        self.random = random.getstate()
        numpy = sys.modules.get("numpy")
        self.numpy = numpy.random.get_state() if numpy is not None else None
        self.warnings = list(warnings.filters)
        self.dtype = torch.get_default_dtype()
        self.path = list(sys.path)
        self.modules = set(sys.modules)

    def restore(self, code_dir: str) -> None:
        """Put it back, and forget the student's modules (every one imported from `code_dir`)."""
        import importlib
        import random
        import warnings

        import torch

        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if name not in self.modules and isinstance(file, str) and _inside(file, code_dir):
                del sys.modules[name]
        importlib.invalidate_caches()
        sys.path[:] = self.path
        torch.set_rng_state(self.torch_rng)
        random.setstate(self.random)
        numpy = sys.modules.get("numpy")
        if numpy is not None and self.numpy is not None:
            numpy.random.set_state(self.numpy)
        warnings.filters[:] = self.warnings
        torch.set_grad_enabled(True)
        torch.set_default_dtype(self.dtype)
        torch.autograd.set_detect_anomaly(False)
        if torch.are_deterministic_algorithms_enabled() or torch.is_deterministic_algorithms_warn_only_enabled():
            torch.use_deterministic_algorithms(False)  # only when set: the call imports torch._inductor (3 s)
        torch.set_num_threads(1)


def _inside(file: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(file), os.path.realpath(folder)]) == os.path.realpath(folder)
    except ValueError:  # another drive (Windows)
        return False


def main(preload: list[str]) -> int:
    """A spawned worker: import torch and `preload`, say it is ready, then serve jobs until stdin ends."""
    jobs = os.fdopen(os.dup(0), "rb", buffering=0)
    results = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # both streams into the file the grading process gave it as stderr
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grading process decides when to stop
    sys.dont_write_bytecode = True

    import importlib

    import torch

    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module is the probe's problem, reported there
            pass
    torch.set_num_threads(1)
    fresh = _FreshState()
    write_result(results, b'{"ready": true}')
    serving = _Serving()
    home = os.getcwd()
    while (message := receive_message(jobs)) is not None:
        serving.answer(ProbeJob(**message), fresh, results)
        # Out of the probe's folder, so that the grading process can remove it (Windows keeps a process's
        # working folder from being deleted).
        os.chdir(home)
    return 0


class _Serving:
    """A worker's state across its probes: its limits and record (set at the first), the probes it loaded."""

    def __init__(self) -> None:
        self.facts: isolation.Isolation | None = None
        self.refusal = ""
        self.probes: dict[str, Any] = {}

    def answer(self, job: ProbeJob, fresh: _FreshState, results: int) -> None:
        work = Path(job.work_dir)
        os.chdir(work)
        scrub_environment(work, cuda=job.cuda)
        fresh.restore(job.code_dir)
        sys.argv = [str(Path(job.code_dir) / f"{job.module}.py")]
        first = self.facts is None
        if first:
            self.facts = isolation.Isolation(
                worker="spawn: a Python process of its own that imported torch, serving this submission's probes "
                       "one after another (its module imported afresh for each)")
            self.refusal = _limit(job, self.facts)
        _limit_cpu(job.time_s)
        # The probe module is loaded before the student's folder is on the path (a `pytest.py` there must not
        # stand in for the real one); the first is loaded before any student code has run in this process.
        try:
            probe = load_probe(job.probe_file, job.probe_name, self.probes)
        except Exception:  # noqa: BLE001 - the exercise's own probe is broken: a grader error
            _report(results, self.facts, job.token)
            write_error(results, {"kind": "grader", "type": "ProbeLoadError", "message": traceback.format_exc()[-2000:]})
            return
        if first and job.cuda:
            limit_gpu_memory(job.memory_mb, self.facts)
        _report(results, self.facts, job.token)  # before any of this probe's student code
        if self.refusal:
            write_error(results, {"kind": "unsafe", "type": "RefusedAsRoot", "message": self.refusal})
            return
        run_probe(job, probe, results)
        import gc

        gc.collect()  # what the probe left goes before the next one counts against the memory limit


def _report(results: int, facts: isolation.Isolation, token: str) -> None:
    """What the worker's limits are, with the job's token: the frame the grading process waits for."""
    write_result(results, json.dumps({**facts.as_dict(), "token": token}).encode())


def _limit(job: ProbeJob, facts: isolation.Isolation) -> str:
    """The limits this platform offers a spawned worker, set once before its first probe, and recorded;
    returns why student code must not run here ("" when it may)."""
    facts.network = "shared with the machine (the spawn backend has no namespaces)"
    facts.secrets = "readable by student code (the spawn backend has no mount namespace)"
    facts.others = "readable wherever the grader's user may read (the spawn backend has no mount namespace)"
    facts.files = "writable wherever the grader's user may write (the spawn backend has no mount namespace)"
    if WINDOWS:
        facts.processes = f"at most {job.processes} (a Job Object)"
        facts.memory = f"at most {job.memory_mb} MiB more than PyTorch itself (a Job Object)"
        facts.leftovers = "killed: its Job Object"
        return ""
    import resource  # POSIX only

    def cap(limit: int, value: int) -> None:
        try:
            _, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass

    facts.processes = isolation.limit_processes(False, job.processes)
    if job.cuda:
        facts.memory = "host memory not limited (CUDA rules out RLIMIT_AS)"
    elif MACOS:
        facts.memory = "not limited (macOS does not enforce RLIMIT_AS or RLIMIT_RSS)"
    else:
        cap(resource.RLIMIT_AS, virtual_size() + job.memory_mb * 1024 * 1024)
        facts.memory = f"at most {job.memory_mb} MiB more than PyTorch itself (RLIMIT_AS)"
    cap(resource.RLIMIT_FSIZE, FILE_LIMIT_BYTES)
    cap(resource.RLIMIT_CORE, 0)
    subreaper = sys.platform.startswith("linux")
    facts.leftovers = "killed: " + ", ".join(["orphans handed to the grader (subreaper)"] * subreaper + ["its process group"])
    if os.geteuid() != 0:
        return ""
    return stay_root(job, "the spawn backend has no namespaces in which to run it as another user", facts)


def _limit_cpu(time_s: float) -> None:
    """CPU time for this probe: SIGXCPU once it has used `time_s` + 1 s more than its earlier probes. The
    soft limit only (a later probe needs it raised again), so the wall-clock limit is what binds."""
    if WINDOWS:
        return
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = math.ceil(used.ru_utime + used.ru_stime)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = spent + math.ceil(time_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except (ValueError, OSError):
        pass


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
