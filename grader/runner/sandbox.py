"""Runs the student's code in forked workers, never in the process that judges.

The grading process imports torch (no torch op yet) and forks a *zygote* that preloads the heavy
modules, freezes its heap and then only forks: one worker per probe, forked ahead of its probe and
waiting in its cgroup and namespaces (`_Spare`). A worker applies limits, imports the student's
module, runs one probe and sends plain data (`grader.runner.payload`, no pickle) down a pipe to the
zygote, which hands it to the grading process with the tail of the worker's printed output (kept in a
memory file the zygote made). The judge validates the payload before using it and never opens a file
in a worker's folder, so nothing the student's process does or leaves behind can run code in the judge,
point it at another file or exhaust it. CUDA is never initialised in the zygote.

This is the fork backend, Linux's default. Where fork is unavailable or unsafe (Windows, macOS, or
TORCHGRADE_WORKERS=spawn), `grader.runner.spawned` runs the workers with this module's jobs, results
and worker-side steps (`run_probe`); `make_sandbox` chooses.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import importlib.util
import itertools
import json
import math
import os
import re
import select
import signal
import stat
import struct
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grader.runner import isolation, payload

# Modules a worker would otherwise import on its own, paid once in the zygote instead.
# torch._dynamo is what the first optimizer in a process imports (about 1 s).
ALWAYS_PRELOAD = ["torch._dynamo"]
PRELOAD_IF_IMPORTED = {"torchvision", "numpy", "PIL"}
MAX_RESULT_BYTES = 64 * 1024 * 1024
MAX_OUTPUT_BYTES = 8 * 1024 * 1024
FILE_LIMIT_BYTES = MAX_RESULT_BYTES + MAX_OUTPUT_BYTES  # RLIMIT_FSIZE: any one file, the printed output too
OUTPUT_TAIL_CHARS = 2000
CUDA_RUNTIME_MB = 3072  # host memory a CUDA probe may use beyond its allowance: the CUDA libraries, mapped in
CPU_RUNTIME_MB = 1024  # and a CPU probe (its memory cgroup; RLIMIT_AS is the limit it meets first)
MEMORY_MARKERS = ("can't allocate memory", "DefaultCPUAllocator", "out of memory", "Cannot allocate memory")


@dataclass
class ProbeJob:
    """What a worker runs: `probe(module, **kwargs)` with `module` imported from `code_dir`."""

    code_dir: str
    module: str
    probe_file: str  # a path to a .py file, or an importable module name
    probe_name: str
    kwargs: dict[str, Any]
    time_s: float
    memory_mb: int
    work_dir: str
    cuda: bool = False  # the probe uses the GPU; every other worker sees none
    processes: int = 64  # processes and threads the student's code may run at once
    hide: list[str] = field(default_factory=list)  # folders student code must not read (after the probe loads)
    # Folders student code sees only the way through, to Python and its own files: the temporary folder
    # (other gradings' copies), a batch's class folder, the grader's home.
    private: list[str] = field(default_factory=list)
    trusted: bool = False  # the reference solution: it may run as root where no other user can be had
    run_as_root: bool = False  # the instructor allowed student code to stay root (`--run-as-root`)
    token: str = ""  # the spawn backend's: a random value this probe's report must carry


@dataclass
class ProbeOutcome:
    """How a worker ended. `value` is set when status is 'ok'; otherwise `error` says what happened."""

    status: str  # ok | error | timeout | exited | crashed
    duration: float
    value: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    output_tail: str = ""
    isolation: dict[str, str] = field(default_factory=dict)  # what was in force (grader.runner.isolation)
    payload: bytes = b""  # the bytes the worker sent, as received (when status is 'ok')


# ----------------------------------------------------------------------------- grading process side

WORKERS_ENV = "TORCHGRADE_WORKERS"
BACKENDS = ("fork", "spawn")


class BackendError(ValueError):
    """TORCHGRADE_WORKERS names no backend this system has."""


def worker_backend() -> str:
    """How workers are made: $TORCHGRADE_WORKERS if set (fork or spawn), else fork on Linux and spawn
    elsewhere (Windows has no fork; on macOS, forking a process that has loaded torch is unsafe)."""
    chosen = os.environ.get(WORKERS_ENV, "").strip().lower()
    if chosen not in ("", *BACKENDS):
        raise BackendError(f"{WORKERS_ENV}={chosen}: use fork or spawn")
    if chosen == "fork" and not hasattr(os, "fork"):
        raise BackendError(f"{WORKERS_ENV}=fork: this system has no fork; use spawn")
    return chosen or ("fork" if sys.platform.startswith("linux") else "spawn")


def make_sandbox(preload: list[str]) -> Any:
    """The grading process's sandbox for the backend `worker_backend` names: `Sandbox` or `SpawnSandbox`."""
    if worker_backend() == "spawn":
        from grader.runner.spawned import SpawnSandbox

        return SpawnSandbox(preload)
    return Sandbox(preload)


class Sandbox:
    """The grading process's handle on the zygote: send a job, wait for its outcome."""

    def __init__(self, preload: list[str], huge_pages: bool = False):
        if huge_pages:
            # torch's memory in huge pages before the zygote is forked, so that the zygote shares them (were
            # it collapsed only there, the zygote would hold a private copy: about 300 MiB more); a warm
            # process's fork of each job is then cheaper too. The zygote collapses what it preloads after.
            isolation.collapse_into_huge_pages()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the zygote
            os.close(req_w)
            os.close(resp_r)
            try:
                _zygote_main(req_r, resp_w, preload, huge_pages)
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(resp_w)
        self.pid = pid
        self._requests = os.fdopen(req_w, "wb", buffering=0)
        self._responses = os.fdopen(resp_r, "rb", buffering=0)

    def run(self, job: ProbeJob) -> ProbeOutcome:
        """Run `job`; `outcome.payload` keeps the bytes the worker sent (the reference's cache stores them)."""
        send_message(self._requests, job.__dict__)
        reply = receive_message(self._responses)
        data = read_exactly(self._responses, int(reply.get("payload_size", 0))) if reply is not None else None
        if reply is None or data is None:
            raise RuntimeError("the grader's worker server stopped unexpectedly")
        outcome = ProbeOutcome(status=reply["status"], duration=reply["duration"], error=reply.get("error", {}),
                               output_tail=reply.get("output_tail", ""), isolation=reply.get("isolation", {}))
        if outcome.status == "ok":
            apply_payload(data, outcome)
            outcome.payload = data
        return outcome

    def descriptors(self) -> set[int]:
        """The descriptors this handle uses (a warm grading process's job child keeps only these)."""
        return {self._requests.fileno(), self._responses.fileno()}

    def close(self) -> None:
        try:
            self._requests.close()
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass


def apply_payload(data: bytes, outcome: ProbeOutcome) -> None:
    """What a worker sent, validated (`payload.decode`): its value, or its error; anything else is the
    student's failed result, saying what was wrong with it."""
    if len(data) > MAX_RESULT_BYTES:
        outcome.status, outcome.error = "error", {"kind": "too-large", "size": len(data)}
        return
    try:
        message = payload.decode(data)
    except payload.PayloadError as exc:
        outcome.status, outcome.error = "error", {"kind": "bad-result", "message": str(exc)}
        return
    if "error" in message:
        outcome.status, outcome.error = "error", message["error"]
    else:
        outcome.value = message["value"]


def load_payload_file(path: Path, outcome: ProbeOutcome) -> None:
    """A payload kept in a file (the reference's cache, a student copy's recorded answers): opened without
    following a link or blocking on a FIFO, a regular file of at most MAX_RESULT_BYTES, then validated."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        outcome.status, outcome.error = "error", {"kind": "bad-result", "message": f"{path.name}: {exc.strerror}"}
        return
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RESULT_BYTES:
            outcome.status, outcome.error = "error", {"kind": "bad-result", "message": f"{path.name}: not a result file"}
            return
        data = f.read(MAX_RESULT_BYTES + 1)
    apply_payload(data, outcome)


def send_message(stream: Any, message: dict[str, Any]) -> None:
    """Send one JSON message: a 4-byte length, then the bytes (jobs to workers, replies from the zygote)."""
    data = json.dumps(message).encode()
    _write_all(stream.fileno(), struct.pack("!I", len(data)) + data)


def receive_message(stream: Any) -> dict[str, Any] | None:
    """The next message `send_message` sent, or None once the stream has ended."""
    header = read_exactly(stream, 4)
    if header is None:
        return None
    body = read_exactly(stream, struct.unpack("!I", header)[0])
    return None if body is None else json.loads(body)


def read_exactly(stream: Any, n: int) -> bytes | None:
    """`n` bytes from `stream`, or None if it ends before."""
    chunks, remaining = [], n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- zygote


def _zygote_main(req_fd: int, resp_fd: int, preload: list[str], huge_pages: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grading process decides when to stop
    global _SUBREAPER
    _SUBREAPER = isolation.become_subreaper()
    isolation.name_process("tg-zygote")
    # Nothing the grading process had open reaches a worker (a warm process's reply pipe, say).
    isolation.close_descriptors(keep={0, 1, 2, req_fd, resp_fd})
    requests = os.fdopen(req_fd, "rb", buffering=0)
    responses = os.fdopen(resp_fd, "wb", buffering=0)
    # The first job (the import check) needs only torch: answer it before preloading, so the grading
    # process starts pytest while the heavy modules load here.
    first = receive_message(requests)
    if first is not None:
        _answer(responses, ProbeJob(**first), None)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module is the worker's problem, reported there
            pass
    gc.collect()
    gc.freeze()  # forked workers then skip walking the inherited heap (~420 ms -> ~30 ms a fork)
    if huge_pages:  # a warm process's zygote, forking for many gradings: fork() and exit then copy and
        isolation.collapse_into_huge_pages()  # free far fewer page-table entries (10 ms of CPU, not 22)
    # From here on the next worker is forked ahead, while the judge looks at the last result.
    spare = _Spare() if first is not None else None
    while first is not None and (message := receive_message(requests)) is not None:
        _answer(responses, ProbeJob(**message), spare)
        spare = _Spare()
    if spare is not None:
        spare.discard()


def _answer(responses: Any, job: ProbeJob, spare: _Spare | None) -> None:
    """Run `job` in the spare worker (or a fresh one, if it does not fit), answer, then clean up. The
    answer is a JSON reply, then the "payload_size" bytes of the worker's result, as sent."""
    if spare is None or not spare.fits(job):
        if spare is not None:
            spare.discard()
        spare = _Spare(cuda=job.cuda, memory_mb=job.memory_mb)
    reply, clean_up = spare.run(job)
    data = reply.pop("payload", b"")
    send_message(responses, {**reply, "payload_size": len(data)})
    _write_all(responses.fileno(), data)
    clean_up()


class _Spare:
    """A worker forked before its job: already in its cgroup and its namespaces, waiting on a pipe. A
    probe then waits neither for fork() (about 12 ms from this zygote) nor for entering a cgroup and
    namespaces (about 7 ms); and once the worker has sent its whole result, the answer goes out before
    its exit is torn down (about 11 ms), the clean-up after.

    What the worker prints goes to a memory file made here (no name in any folder, so student code
    cannot swap it for a link), and its result comes down a pipe: the zygote reads both from its own
    descriptors, size-capped, and never opens anything in the worker's folder."""

    def __init__(self, cuda: bool = False, memory_mb: int = 0):
        self.cuda, self.memory_mb = cuda, memory_mb
        vsize = virtual_size()
        # A CUDA probe's address space cannot be capped (CUDA maps ~17 GiB of it), so its memory cgroup
        # is what bounds it: the allowance plus room for the CUDA libraries it loads. A CPU probe's group
        # (set to its job's allowance in `run`) also counts its tmpfs and /dev/shm, which RLIMIT_AS does not.
        memory = (memory_mb + (CUDA_RUNTIME_MB if cuda else CPU_RUNTIME_MB)) * 1024 * 1024
        self.group = isolation.ProcessGroup.make(isolation.group_name(os.getppid(), next(_WORKER_NUMBERS)), 64, memory)
        self.output = _output_file()
        job_r, self.job_w = os.pipe()
        self.report_r, report_w = os.pipe()  # the worker says what isolation it got, before any student code
        self.result_r, result_w = os.pipe()  # and sends its result
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                isolation.close_descriptors(keep={0, 1, 2, job_r, report_w, result_w, self.output})
                isolation.name_process("tg-worker")
                code = _worker_main(job_r, self.output, vsize, self.group, report_w, result_w)
            except BaseException:  # noqa: BLE001 - a failure of the grader's own set-up, kept for the log
                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:  # noqa: BLE001
                        pass
                os._exit(code)
        for fd in (job_r, report_w, result_w):
            os.close(fd)
        self.pid = pid

    def fits(self, job: ProbeJob) -> bool:
        return not job.cuda and not self.cuda

    def run(self, job: ProbeJob) -> tuple[dict[str, Any], Callable[[], None]]:
        """Send the job; the reply (its "payload_size" bytes follow it), and what to do once it is sent."""
        self.group.set_max(job.processes)
        if not job.cuda:
            self.group.set_memory((job.memory_mb + CPU_RUNTIME_MB) * 1024 * 1024)
        start = time.monotonic()
        data = json.dumps(job.__dict__).encode()
        try:
            with os.fdopen(self.job_w, "wb", buffering=0) as jobs:
                jobs.write(struct.pack("!I", len(data)) + data)
        except OSError:
            pass  # the worker is gone already: its exit status says why
        result = _Result(self.result_r)
        status = _wait(self.pid, start + job.time_s, result)
        duration = time.monotonic() - start
        facts = _read_report(self.report_r)
        tail = _tail(self.output)
        if result.complete:
            # Its result is here; its exit, and the end of anything it left, come after the answer.
            def finish() -> None:
                if _wait(self.pid, time.monotonic() + 1.0) is None:
                    _kill_group(self.pid)
                    os.waitpid(self.pid, 0)
                self._end()

            return {"status": "ok", "duration": duration, "isolation": facts, "output_tail": tail,
                    "payload": result.payload()}, finish
        reply = None
        if result.too_large:
            _kill_group(self.pid)
            os.waitpid(self.pid, 0)
            reply = {"status": "error", "error": {"kind": "too-large", "size": result.declared}}
        elif status is None:
            _kill_group(self.pid)
            _, status = os.waitpid(self.pid, 0)
            reply = {"status": "timeout", "error": {"kind": "timeout", "limit_s": job.time_s}}
        refused, memory_kills = self.group.refusals(), self.group.memory_kills()
        self._end()
        if reply is None:
            reply = _verdict(status, job)
            if reply["status"] == "ok":  # it exited cleanly without sending a whole result
                reply = {"status": "exited", "error": {"kind": "no-result"}}
        if memory_kills and reply["status"] != "ok":  # the kernel ended it at the memory cgroup's limit
            reply = {"status": "error", "error": {"kind": "memory", "type": "MemoryError", "message": "killed at the memory limit"}}
        if refused and reply["status"] != "ok":  # say which limit was hit along the way
            reply["error"] = {**reply.get("error", {}), "processes_refused": refused, "process_limit": job.processes}
        return {**reply, "duration": duration, "isolation": facts, "output_tail": tail}, lambda: None

    def _end(self) -> None:
        """Anything the student's code left running goes too: its process group, everything in its
        cgroup, and every orphan handed back to this subreaper (a grandchild that called setsid())."""
        _kill_group(self.pid)
        self.group.end()
        isolation.end_orphans()
        for fd in (self.result_r, self.output):
            os.close(fd)

    def discard(self) -> None:
        """End a spare that will not be used (its job pipe closes: it exits without running anything)."""
        os.close(self.job_w)  # never sent: `run` closes it otherwise
        if _wait(self.pid, time.monotonic() + 1.0) is None:
            _kill_group(self.pid)
            os.waitpid(self.pid, 0)
        os.close(self.report_r)
        self._end()


def _output_file() -> int:
    """A file with no name for a worker's printed output: a memory file (Linux), else an unlinked
    temporary file. RLIMIT_FSIZE caps it as any file; its pages count against the worker's memory."""
    try:
        return os.memfd_create("tg-output", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        import tempfile

        with tempfile.TemporaryFile() as f:
            return os.dup(f.fileno())


def _tail(fd: int) -> str:
    """The last OUTPUT_TAIL_CHARS bytes printed, read through the zygote's own descriptor."""
    try:
        size = os.fstat(fd).st_size
        return os.pread(fd, OUTPUT_TAIL_CHARS, max(0, size - OUTPUT_TAIL_CHARS)).decode("utf-8", "replace")
    except OSError:
        return ""


class _Result:
    """A worker's result as it comes down its pipe: an 8-byte length, then that many bytes. Reading
    stops at MAX_RESULT_BYTES (`too_large`); nothing here parses what was sent."""

    def __init__(self, fd: int):
        self.fd = fd
        self.chunks: list[bytes] = []
        self.received = 0
        self.declared: int | None = None
        self.complete = self.too_large = self.closed = False

    def read(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.chunks.append(chunk)
        self.received += len(chunk)
        if self.declared is None and self.received >= 8:
            head = b"".join(self.chunks)
            self.declared = struct.unpack("!Q", head[:8])[0]
            self.chunks = [head]
            if self.declared > MAX_RESULT_BYTES:
                self.too_large = True
        if self.declared is not None and self.received >= 8 + self.declared:
            self.complete = True

    def payload(self) -> bytes:
        return b"".join(self.chunks)[8:8 + (self.declared or 0)]


def _wait(pid: int, deadline: float, result: _Result | None = None) -> int | None:
    """The worker's wait status once it exits, or None once its whole result has come (or is too large),
    or at the deadline. Reading the result as it comes keeps the pipe from filling. A pidfd wakes us
    the moment it exits (Linux); elsewhere, polling with growing pauses."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    delay = 0.0005
    try:
        while True:
            while result is not None and not result.closed and select.select([result.fd], [], [], 0)[0]:
                result.read()
                if result.complete or result.too_large:
                    return None
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                # What it wrote before exiting is still in the pipe (a child of its may hold the pipe open:
                # never wait on it).
                while (result is not None and not result.closed and not result.complete and not result.too_large
                       and select.select([result.fd], [], [], 0)[0]):
                    result.read()
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            watched = [fd for fd in (pidfd, result.fd if result is not None and not result.closed else None)
                       if fd is not None]
            if pidfd is not None:
                select.select(watched, [], [], left)
            else:
                select.select(watched, [], [], min(delay, left))
                delay = min(delay * 2, 0.02)
    finally:
        if pidfd is not None:
            os.close(pidfd)


_WORKER_NUMBERS = itertools.count(1)
_SUBREAPER = False  # set in the zygote: whether orphans of its workers come back to it


def _verdict(status: int, job: ProbeJob) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        kind = "cpu-time" if sig == signal.SIGXCPU else "signal"
        return {"status": "crashed", "error": {"kind": kind, "signal": signal.Signals(sig).name, "limit_s": job.time_s}}
    code = os.WEXITSTATUS(status)
    if code != 0:
        return {"status": "exited", "error": {"kind": "exit-code", "exit_code": code}}
    return {"status": "ok"}


def _read_report(fd: int) -> dict[str, str]:
    try:
        with os.fdopen(fd, "rb") as report:
            data = report.read(4096)
        facts = json.loads(data) if data else {}
        return {str(k): str(v) for k, v in facts.items()} if isinstance(facts, dict) else {}
    except (OSError, ValueError):
        return {}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def virtual_size() -> int:
    """This process's address space now (Linux), which RLIMIT_AS counts; 0 where it cannot be read."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


# ----------------------------------------------------------------------------- worker


def _worker_main(job_fd: int, output_fd: int, vsize: int, group: isolation.ProcessGroup, report_fd: int,
                 result_fd: int) -> int:
    in_group = group.enter()
    facts = isolation.Isolation(worker="fork: a process forked for each probe from a zygote that imported torch")
    mounts = isolation.enter_namespaces(facts)
    os.setsid()
    with os.fdopen(job_fd, "rb", buffering=0) as jobs:  # ready before the job: here it arrives
        message = receive_message(jobs)
    if message is None:
        return 71  # discarded unused
    job = ProbeJob(**message)
    facts.processes = isolation.limit_processes(in_group, job.processes)
    if not job.cuda:
        facts.memory = f"at most {job.memory_mb} MiB more than PyTorch itself (RLIMIT_AS)"
        if group.memory is not None:
            facts.memory += f", {job.memory_mb + CPU_RUNTIME_MB} MiB in all with its files in memory (a memory cgroup)"
    elif group.memory is not None:
        facts.memory = f"at most {job.memory_mb + CUDA_RUNTIME_MB} MiB of host memory (a memory cgroup)"
    else:
        facts.memory = "host memory not limited (no memory cgroup could be made; CUDA rules out RLIMIT_AS)"
    facts.leftovers = "killed: " + ", ".join(
        ["its cgroup"] * (group.path is not None) + ["orphans handed to the grader (subreaper)"] * _SUBREAPER
        + ["its process group"])
    work = Path(job.work_dir)
    os.chdir(work)
    _redirect_output(output_fd)
    _apply_limits(job, vsize)
    scrub_environment(work, cuda=job.cuda)

    import torch

    torch.set_num_threads(1)
    sys.dont_write_bytecode = True
    sys.argv = [str(Path(job.code_dir) / f"{job.module}.py")]

    # The probe module is imported before the student's, and before the student's folder is on the
    # path (a `pytest.py` or `secrets.py` there must not stand in for the real one), so it holds the
    # real torch functions.
    try:
        probe = load_probe(job.probe_file, job.probe_name)
    except Exception:  # noqa: BLE001 - the exercise's own probe is broken: a grader error
        os.close(report_fd)
        return write_error(result_fd, {"kind": "grader", "type": "ProbeLoadError",
                                        "message": traceback.format_exc()[-2000:]})
    # With the probe loaded, what the student must not read goes out of sight, everything else becomes
    # read-only and a root grader's worker becomes a user of its own; then the report, last thing
    # before any student code runs.
    if job.cuda:
        limit_gpu_memory(job.memory_mb, facts)
    refusal = _confine(job, work, mounts, facts)
    os.write(report_fd, json.dumps(facts.as_dict()).encode())
    os.close(report_fd)
    if refusal:
        return write_error(result_fd, {"kind": "unsafe", "type": "RefusedAsRoot", "message": refusal})
    return run_probe(job, probe, result_fd)


def run_probe(job: ProbeJob, probe: Callable[..., Any], result_fd: int) -> int:
    """In a worker whose limits and confinement are in place: import the student's module (its folder on
    the path only now: the student's module and its own helpers come from there), run the probe on it and
    send its plain data, or what went wrong, down `result_fd` (a forked worker's, or a spawned one's)."""
    if job.code_dir not in sys.path:
        sys.path.insert(0, job.code_dir)
    # A probe may simulate an environment (a GPU that is there, or not) from before the student's module
    # is imported, so that what the module computes at import time sees it too.
    environment = contextlib.ExitStack()
    setup = getattr(probe, "before_import", None)
    try:
        if setup is not None:
            environment.enter_context(setup(**job.kwargs))
    except Exception:  # noqa: BLE001 - the exercise's own set-up is broken: a grader error
        return write_error(result_fd, {"kind": "grader", "type": "ProbeSetupError",
                                       "message": traceback.format_exc()[-2000:]})
    with environment:
        try:
            module = importlib.import_module(job.module)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are the student's too
            return write_error(result_fd, describe_exception(exc, job.code_dir, during="import"))
        try:
            value = probe(module, **job.kwargs)
        except BaseException as exc:  # noqa: BLE001
            return write_error(result_fd, describe_exception(exc, job.code_dir, during="probe"))
    try:
        data = payload.encode({"value": to_plain(value)})
    except (TypeError, ValueError, RecursionError) as exc:
        return write_error(result_fd, {"kind": "grader", "type": type(exc).__name__,
                                       "message": f"probe {job.probe_name} returned {str(exc)[:500]}"})
    write_result(result_fd, data)
    return 0


def limit_gpu_memory(memory_mb: int, facts: isolation.Isolation) -> None:
    """A CUDA probe may hold the exercise's allowance of GPU memory through PyTorch's allocator (which
    then raises torch.OutOfMemoryError, explained as running out of memory). Initialises CUDA, here in
    the worker that is about to use it."""
    import torch

    try:
        if torch.cuda.is_available():
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, memory_mb * 1024 * 1024 / total), 0)
            facts.memory += f"; at most {memory_mb} MiB of GPU memory (PyTorch's allocator)"
    except RuntimeError as exc:  # CUDA unusable here: the probe itself will say so
        facts.memory += f"; GPU memory not limited ({str(exc)[:200]})"


def _confine(job: ProbeJob, work: Path, mounts: bool, facts: isolation.Isolation) -> str:
    """The worker's file system and user, in this order: open the way to what it needs (as root, through
    folders only root may enter) and show only that way through the private folders, hide the secrets,
    make the rest read-only, then (as root) give up root. Returns why student code must not run here
    ("" when it may): a root grader that cannot become another user refuses, unless the job is the
    reference's or the instructor allowed it (`run_as_root`)."""
    root = os.geteuid() == 0
    writable = os.path.realpath(work)
    needed = [p for p in sys.path if p and os.path.exists(p)] + [sys.executable, job.code_dir]
    if mounts:
        isolation.show_only(needed + [writable], [] if job.trusted else job.private, closed=root, facts=facts)
    if job.hide and mounts:
        isolation.hide(job.hide, facts)
    elif not job.hide:
        facts.secrets = "nothing to hide (the reference solution's own run)"
    if mounts:
        isolation.read_only_but(writable, job.memory_mb, facts)
    if not root:
        return ""
    closed = isolation.readable_by_others(needed)
    if not mounts:
        reason = "no mount namespace, so the way to Python could not be opened to another user"
    elif closed:
        reason = f"{closed[0]} is not readable by other users; make it so to run student code as one"
    else:
        reason = isolation.drop_root(writable, job.processes, facts)
    return stay_root(job, reason, facts) if reason else ""


def stay_root(job: ProbeJob, reason: str, facts: isolation.Isolation) -> str:
    """A root worker that could not become another user (`reason`): it runs the job as root if the job is the
    reference's or the instructor allowed it, recorded; otherwise why student code must not run ("" when it may)."""
    if job.trusted or job.run_as_root:
        facts.user = f"root, as {'the reference solution may run' if job.trusted else '--run-as-root allowed'} ({reason})"
        return ""
    facts.user = f"root ({reason}): student code was not run"
    return (f"The grader runs as root here and could not run your code as a user without privileges ({reason}), "
            "so it did not run your code at all. This is not a problem with your code: tell your instructor, who "
            "can fix the cause (or, on a machine only they use, allow it with --run-as-root).")


def load_probe(where: str, name: str, loaded: dict[str, Any] | None = None) -> Callable[..., Any]:
    """`where` is a probe file's path (an exercise's checks/probes.py) or an importable module name.
    `loaded`: the probe files a spawned worker loaded already (it serves several probes), by path."""
    if where.endswith(".py"):
        module = (loaded or {}).get(where)
        if module is None:
            spec = importlib.util.spec_from_file_location(f"_torchgrade_probes_{Path(where).stem}", where)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load probes from {where}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            if loaded is not None:
                loaded[where] = module
    else:
        module = importlib.import_module(where)
    target: Any = module
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _redirect_output(out: int) -> None:
    """Standard input from /dev/null; printed output (both streams) into the zygote's memory file `out`."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
    # Python-level streams too: whatever started the grader (pytest's capture, say) may have pointed
    # sys.stdout somewhere other than descriptor 1.
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


def _apply_limits(job: ProbeJob, vsize: int) -> None:
    import resource  # POSIX only: imported where a worker applies limits, so that the student's side imports on Windows

    def cap(limit: int, value: int, grace: int = 0) -> None:
        # The hard limit too (only root may raise it again): a soft limit alone, student code can lift.
        try:
            _, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)))
        except (ValueError, OSError):
            pass

    # Address space: what torch already maps (about 3.5 GiB of virtual size here) plus the allowance.
    # Not for a CUDA probe: initialising CUDA maps ~17 GiB of virtual memory on an H100; its memory
    # cgroup (host) and PyTorch's allocator (GPU, `_limit_gpu_memory`) bound it instead.
    if not job.cuda:
        cap(resource.RLIMIT_AS, vsize + job.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_CPU, math.ceil(job.time_s) + 1, grace=1)  # SIGXCPU at the soft limit, SIGKILL a second on
    cap(resource.RLIMIT_FSIZE, FILE_LIMIT_BYTES)
    cap(resource.RLIMIT_CORE, 0)


# What Windows itself needs in a process's environment (DLLs are found through SYSTEMROOT and PATH).
WINDOWS_ENVIRONMENT = ("SYSTEMROOT", "WINDIR", "PATHEXT", "COMSPEC", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE")


def scrub_environment(work: Path, cuda: bool) -> None:
    """The student's code sees only what Python and PyTorch need, with its home and temporary folder
    its own work folder; a CPU probe sees no GPU."""
    names = ("PATH", "LANG", "LC_ALL", "PYTORCH_NVML_BASED_CUDA_CHECK") + (("CUDA_VISIBLE_DEVICES",) if cuda else ())
    names += WINDOWS_ENVIRONMENT if os.name == "nt" else ()
    keep = {k: os.environ[k] for k in names if k in os.environ}
    os.environ.clear()
    os.environ.update(keep, HOME=str(work), TMPDIR=str(work), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    if os.name == "nt":
        os.environ.update(TEMP=str(work), TMP=str(work), USERPROFILE=str(work))
    if not cuda:
        # CUDA is not initialised yet in this fresh worker, so this hides every GPU from it: a CPU probe
        # behaves the same on a machine with a GPU as on one without (a hard-coded .cuda() fails on both).
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import tempfile

    tempfile.tempdir = str(work)


def write_error(result_fd: int, error: dict[str, Any]) -> int:
    """Send what went wrong instead of a value; the worker's exit code (0: it did send a result)."""
    write_result(result_fd, payload.encode({"error": error}))
    return 0


def write_result(result_fd: int, data: bytes) -> None:
    """Send a result down the worker's pipe: its length, then the bytes. What it printed is flushed first:
    the zygote reads the output's tail the moment the result is whole."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the student's code may have replaced or closed it
            pass
    try:
        _write_all(result_fd, struct.pack("!Q", len(data)) + data)
    except OSError:
        pass  # the zygote stopped listening (the deadline, or student code closed the pipe): it says why


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def to_plain(value: Any) -> Any:
    """Plain data only (what `torch.load(weights_only=True)` accepts); tensors detached on the CPU."""
    import torch

    if value is None or isinstance(value, (bool, int, float, str, complex)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().as_subclass(torch.Tensor).to("cpu").clone()
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, (list, tuple)):
        items = [to_plain(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"a dict key of type {type(key).__name__}")
            out[key] = to_plain(item)
        return out
    raise TypeError(f"a value of type {type(value).__name__}, which is not plain data")


def describe_exception(exc: BaseException, code_dir: str, during: str) -> dict[str, Any]:
    """The facts a beginner needs: what was raised, and the line of *their* file it came from."""
    full = _safe_str(exc)
    info: dict[str, Any] = {"kind": "exception", "during": during, "type": type(exc).__name__, "message": full[:2000]}
    if isinstance(exc, SystemExit):
        info.update(kind="exit", exit_code=str(exc.code))
    elif isinstance(exc, KeyboardInterrupt):
        info.update(kind="exit", exit_code="KeyboardInterrupt")
    elif isinstance(exc, MemoryError) or any(m in info["message"] for m in MEMORY_MARKERS):
        info["kind"] = "memory"
    elif isinstance(exc, NotImplementedError):
        info["kind"] = "not-implemented"
    elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:  # RLIMIT_FSIZE: a file or the output too big
        info.update(kind="file-size", limit_mb=FILE_LIMIT_BYTES // (1024 * 1024))
    elif (isinstance(exc, OSError) and exc.errno == errno.EAGAIN) or "can't start new thread" in info["message"]:
        info["kind"] = "process-limit"  # fork() or a new thread refused: the process limit
    if isinstance(exc, SyntaxError) and _inside(exc.filename, code_dir):
        info.update(kind="syntax", file=Path(exc.filename or "").name, line=exc.lineno or 0,
                    column=exc.offset or 0, code=(exc.text or "").rstrip("\n"), message=exc.msg)
        return info
    every = traceback.extract_tb(exc.__traceback__)
    info["origin"] = [f.name for f in every[-3:]]  # the functions it was raised in (torch's, say)
    frames = [f for f in every if _inside(f.filename, code_dir)]
    inner = _worker_error(full, code_dir)
    if inner is not None:  # a DataLoader worker's error: the real one, with the student's line in the worker
        info.update(inner)
    if frames and not info.get("file"):
        last = frames[-1]
        info.update(file=Path(last.filename).name, line=last.lineno or 0, function=last.name, code=(last.line or "").strip())
        info["frames"] = [
            {"file": Path(f.filename).name, "line": f.lineno or 0, "function": f.name, "code": (f.line or "").strip()}
            for f in frames[-5:]
        ]
    return info


_WORKER_ERROR = re.compile(r"^Caught (?P<type>\w+) in (?P<worker>DataLoader worker process \d+)\.\n"
                           r"Original Traceback \(most recent call last\):\n(?P<trace>.*)$", re.DOTALL)
_TRACE_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)\n(?:    (?P<code>.*)\n)?',
                          re.MULTILINE)


def _worker_error(message: str, code_dir: str) -> dict[str, Any] | None:
    """The error a DataLoader worker process raised, which the main process re-raises as "Caught X in
    DataLoader worker process N" with the worker's traceback as text: its type, its own message, the
    functions it was raised in, and the last line of the student's file in that traceback."""
    found = _WORKER_ERROR.match(message)
    if found is None:
        return None
    trace = found["trace"]
    frames = list(_TRACE_FRAME.finditer(trace))
    # The exception's own message follows the last frame (and its ^^^ markers), after "Type: ".
    tail = trace[frames[-1].end():] if frames else trace
    lines = [line for line in tail.splitlines() if line.strip() and not set(line.strip()) <= set("^~ ")]
    text = "\n".join(lines)
    prefix = found["type"] + ": "
    inner_message = text[text.index(prefix) + len(prefix):] if prefix in text else text
    inner: dict[str, Any] = {"type": found["type"], "message": inner_message.strip()[:2000], "worker": found["worker"],
                             "origin": [f["function"] for f in frames[-3:]]}
    mine = [f for f in frames if _inside(f["path"], code_dir)]
    if mine:
        last = mine[-1]
        inner.update(file=Path(last["path"]).name, line=int(last["line"]), function=last["function"],
                     code=(last["code"] or "").strip())
    return inner


def _inside(filename: str | None, folder: str) -> bool:
    if not filename:
        return False
    try:
        return Path(filename).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError):
        return False


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a student's exception class may break __str__
        return f"<{type(exc).__name__} whose message could not be read>"
