"""The spawn worker backend (`grader.runner.spawned`, for Windows and macOS, or TORCHGRADE_WORKERS=spawn):
the same outcomes as the fork backend for the same probes (a value, a timeout, an exit, a crash, running
out of memory, printed output), each probe seeing a fresh worker's state though one process serves a
side's probes; the choice of backend per platform; the Windows Job Object calls (a stand-in kernel32) and
the limits recorded on Windows and macOS, which cannot run here."""

from __future__ import annotations

import ctypes
import json
import os
import sys
import time
from pathlib import Path

import pytest
import torch  # noqa: F401 - as in the grading process: torch is imported before the zygote is forked

from grader.runner import spawned, windows
from grader.runner.isolation import Isolation
from grader.runner.sandbox import BackendError, ProbeJob, Sandbox, make_sandbox, worker_backend
from grader.runner.spawned import SpawnSandbox

PROBES = str(Path(__file__).with_name("sandbox_probes.py"))
STUDENT = """import os, signal, sys, torch
IMPORTED = globals().get("IMPORTED", 0) + 1
print("imported")

def run(what):
    if what == "mess":  # PyTorch's global state changed during a probe, as careless code does
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        torch.manual_seed(1234)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.autograd.set_detect_anomaly(True)
        os.chdir("/")
        return "messed"
    if what == "loop":
        while True:
            pass
    if what == "exit":
        os._exit(3)
    if what == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "memory":
        return len(bytearray(4 * 1024 ** 3))
    if what == "print":
        print("hello from run")
        return 1
    if what == "chatty":  # frames of its own into every pipe it may write to: the worker's result pipe among them
        import stat, struct
        for fd in range(3, 64):
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode):
                    for _ in range(8):
                        os.write(fd, struct.pack("!Q", 1 << 20) + b"x" * (1 << 20))
            except OSError:
                pass
        return "chatted"
"""


@pytest.fixture
def code(tmp_path):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "student.py").write_text(STUDENT)
    return folder


def _job(tmp_path: Path, code: Path, name: str, n: int, time_s: float = 20, **kwargs) -> ProbeJob:
    work = tmp_path / f"work-{n}"
    work.mkdir()
    # As root, the spawn backend runs student code only when allowed (it cannot change user): allowed here.
    return ProbeJob(code_dir=str(code), module="student", probe_file=PROBES, probe_name=name, kwargs=kwargs,
                    time_s=time_s, memory_mb=512, work_dir=str(work), run_as_root=True)


def _outcomes(backend, tmp_path: Path, code: Path, steps: list[tuple[str, dict]]) -> list:
    box = backend(preload=[])
    try:
        return [box.run(_job(tmp_path / f"{backend.__name__}", code, name, n, **kwargs))
                for n, (name, kwargs) in enumerate(steps)]
    finally:
        box.close()


def _summary(outcome) -> tuple:
    error = {k: outcome.error.get(k) for k in ("kind", "exit_code", "signal")}
    return outcome.status, {k: v for k, v in error.items() if v is not None}


def test_each_probe_sees_a_fresh_workers_state_on_both_backends(tmp_path, code):
    """A probe that changes PyTorch's global state, then two that look: each finds what the fork
    backend's fresh worker finds, though one spawned process served them all."""
    steps = [("call_run_with", {"what": "mess"}), ("state", {}), ("state", {})]
    for backend in (Sandbox, SpawnSandbox):
        (tmp_path / backend.__name__).mkdir()
    fork = _outcomes(Sandbox, tmp_path, code, steps)
    spawn = _outcomes(SpawnSandbox, tmp_path, code, steps)
    assert [o.status for o in fork + spawn] == ["ok"] * 6, (fork, spawn)
    looked = [{k: v for k, v in o.value.items() if k not in ("pid", "cwd", "home")} for o in fork[1:] + spawn[1:]]
    assert looked[0] == looked[1] and looked[2] == looked[3]  # the same random numbers too: the generator put back
    # torch seeds its generator afresh in each process: forked workers share their zygote's, spawned ones their own
    assert [{**v, "rand": None} for v in looked[:2]] == [{**v, "rand": None} for v in looked[2:]]
    assert looked[0]["dtype"] == "torch.float32" and looked[0]["grad"] is True and looked[0]["imported"] == 1
    assert not looked[0]["deterministic"] and not looked[0]["anomaly"]
    assert [(o.value["cwd"], o.value["home"]) for o in spawn[1:]] == [("work-1", "work-1"), ("work-2", "work-2")]
    assert spawn[1].value["pid"] == spawn[2].value["pid"] != os.getpid()  # one worker served the side
    assert fork[1].value["pid"] != fork[2].value["pid"]
    assert spawn[1].isolation["worker"].startswith("spawn") and fork[1].isolation["worker"].startswith("fork")
    assert spawn[1].output_tail == "imported\n"  # printed since this probe began, not the earlier ones


@pytest.mark.parametrize("what, status, error", [
    ("loop", "timeout", {"kind": "timeout"}),
    ("exit", "exited", {"kind": "exit-code", "exit_code": 3}),
    ("killed", "crashed", {"kind": "signal", "signal": "SIGKILL"}),
    ("memory", "error", {"kind": "memory"}),
])
def test_a_worker_that_fails_fails_the_same_way_and_the_next_probe_runs(tmp_path, code, what, status, error):
    steps = [("call_run_with", {"what": what}), ("call_run_with", {"what": "print"})]
    for backend in (Sandbox, SpawnSandbox):
        (tmp_path / backend.__name__).mkdir()
        first, then = _outcomes(backend, tmp_path, code, [(n, {**k, "time_s": 2} if i == 0 else k)
                                                           for i, (n, k) in enumerate(steps)])
        assert _summary(first) == (status, error), (backend, first)
        assert (then.status, then.value, then.output_tail) == ("ok", 1, "imported\nhello from run\n"), (backend, then)


@pytest.mark.parametrize("replaced", [True, False])
def test_what_student_code_writes_into_its_result_pipe_is_held_small_and_never_a_later_answer(
        tmp_path, code, monkeypatch, replaced):
    """Student code writing frames of its own into its worker's result pipe: the grading process holds two
    of them and the worker waits on its pipe; the side's next probe gets its own answer, from a new worker
    (the stray frames were seen), or from the same one skipping them (its report carries the job's token)."""
    if not replaced:
        monkeypatch.setattr(spawned._Worker, "unasked", lambda self: False)
    box = SpawnSandbox(preload=[])
    try:
        before = box.run(_job(tmp_path, code, "state", 0))
        chatty = box.run(_job(tmp_path, code, "call_run_with", 1, what="chatty", time_s=5))
        (worker,) = box._bound.values()
        until = time.monotonic() + 10
        while worker.frames.qsize() < 2 and time.monotonic() < until:
            time.sleep(0.05)
        held = worker.frames.qsize()
        time.sleep(0.2)
        waiting = worker.reader.is_alive() and worker.proc.poll() is None
        after = box.run(_job(tmp_path, code, "state", 2))
    finally:
        box.close()
    assert chatty.status == "error" and chatty.error["kind"] == "bad-result", chatty  # its own frame, refused
    assert held == 2 and waiting  # 8 MiB written: two frames held, the worker blocked on the rest
    assert before.status == after.status == "ok", after
    assert (after.value["pid"] != before.value["pid"]) is replaced
    assert replaced or after.value["rand"] == before.value["rand"]  # the same worker, its state put back


def test_the_student_and_the_reference_never_share_a_spawned_worker(tmp_path, code):
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "student.py").write_text(STUDENT)
    box = SpawnSandbox(preload=[])
    try:
        mine = box.run(_job(tmp_path, code, "state", 0))
        theirs = box.run(_job(tmp_path, reference, "state", 1))
        again = box.run(_job(tmp_path, code, "state", 2))
    finally:
        box.close()
    assert mine.value["pid"] == again.value["pid"] != theirs.value["pid"]


def test_the_backend_is_fork_on_linux_spawn_elsewhere_or_as_asked(monkeypatch):
    monkeypatch.delenv("TORCHGRADE_WORKERS", raising=False)
    for platform, expected in (("linux", "fork"), ("darwin", "spawn"), ("win32", "spawn")):
        monkeypatch.setattr(sys, "platform", platform)
        assert worker_backend() == expected
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("TORCHGRADE_WORKERS", " Spawn ")
    assert worker_backend() == "spawn"
    monkeypatch.setenv("TORCHGRADE_WORKERS", "threads")
    with pytest.raises(BackendError, match="TORCHGRADE_WORKERS=threads: use fork or spawn"):
        worker_backend()
    monkeypatch.setenv("TORCHGRADE_WORKERS", "fork")
    monkeypatch.delattr(os, "fork")
    with pytest.raises(BackendError, match="no fork"):
        worker_backend()
    monkeypatch.setenv("TORCHGRADE_WORKERS", "spawn")
    box = make_sandbox([])
    try:
        assert isinstance(box, SpawnSandbox)
    finally:
        box.close()


def test_grade_refuses_an_unknown_backend_with_a_sentence(grade):
    ran = grade("exercise", "3", env={"TORCHGRADE_WORKERS": "threads"})
    assert ran.code == 2 and "TORCHGRADE_WORKERS=threads" in ran.stderr and "Traceback" not in ran.stderr


class FakeKernel32:
    """kernel32's Job Object calls, recorded; each succeeds unless named in `failing`."""

    def __init__(self, failing: tuple[str, ...] = (), peak: int = 0):
        self.calls: list[tuple] = []
        self.failing, self.peak = failing, peak

    def _call(self, name: str, *args) -> int:
        self.calls.append((name, *args))
        return 0 if name in self.failing else 7

    def CreateJobObjectW(self, *args):  # noqa: N802 - Windows' own names
        return self._call("CreateJobObjectW")

    def OpenProcess(self, access, inherit, pid):  # noqa: N802
        return self._call("OpenProcess", access, pid)

    def AssignProcessToJobObject(self, job, process):  # noqa: N802
        return self._call("AssignProcessToJobObject", job, process)

    def SetInformationJobObject(self, job, kind, info, size):  # noqa: N802
        limits = ctypes.cast(info, ctypes.POINTER(windows.ExtendedLimits)).contents
        return self._call("SetInformationJobObject", kind, size, limits.BasicLimitInformation.LimitFlags,
                          limits.JobMemoryLimit, limits.BasicLimitInformation.ActiveProcessLimit)

    def QueryInformationJobObject(self, job, kind, info, size, returned):  # noqa: N802
        ctypes.cast(info, ctypes.POINTER(windows.ExtendedLimits)).contents.PeakJobMemoryUsed = self.peak
        return self._call("QueryInformationJobObject", kind)

    def TerminateJobObject(self, job, code):  # noqa: N802
        return self._call("TerminateJobObject", code)

    def CloseHandle(self, handle):  # noqa: N802
        return self._call("CloseHandle", handle)


def test_a_windows_job_holds_the_worker_kills_on_close_and_caps_memory_and_processes():
    api = FakeKernel32(peak=300 * 2 ** 20)
    job = windows.Job.around(4242, api)
    kill_on_close = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | windows.JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
    size = ctypes.sizeof(windows.ExtendedLimits)
    assert size == (144 if ctypes.sizeof(ctypes.c_void_p) == 8 else 112)  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    assert api.calls == [("CreateJobObjectW",), ("SetInformationJobObject", 9, size, kill_on_close, 0, 0),
                         ("OpenProcess", windows.PROCESS_SET_QUOTA | windows.PROCESS_TERMINATE, 4242),
                         ("AssignProcessToJobObject", 7, 7), ("CloseHandle", 7)]
    api.calls.clear()
    job.limit(job.peak_memory() + 512 * 2 ** 20, 65)
    flags = kill_on_close | windows.JOB_OBJECT_LIMIT_JOB_MEMORY | windows.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
    assert api.calls == [("QueryInformationJobObject", 9), ("SetInformationJobObject", 9, size, flags, 812 * 2 ** 20, 65)]
    api.calls.clear()
    job.terminate()
    job.close()
    job.close()
    assert api.calls == [("TerminateJobObject", windows.KILLED_EXIT_CODE), ("CloseHandle", 7)]


@pytest.mark.parametrize("failing", ["CreateJobObjectW", "OpenProcess", "AssignProcessToJobObject"])
def test_a_windows_job_that_cannot_be_made_says_so_and_leaks_no_handle(failing):
    api = FakeKernel32(failing=(failing,))
    with pytest.raises(windows.JobError, match=failing):
        windows.Job.around(4242, api)
    opened = sum(1 for call in api.calls if call[0] in ("CreateJobObjectW", "OpenProcess") and failing != call[0])
    assert sum(1 for call in api.calls if call[0] == "CloseHandle") == opened


def _limits_on(monkeypatch, platform: str, job: ProbeJob) -> tuple[Isolation, str, list]:
    """What a spawned worker records and sets on `platform`, computed here (setrlimit recorded, not called)."""
    import resource

    monkeypatch.setattr(spawned, "WINDOWS", platform == "win32")
    monkeypatch.setattr(spawned, "MACOS", platform == "darwin")
    monkeypatch.setattr(sys, "platform", platform)
    set_limits: list = []
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: set_limits.append(which))
    monkeypatch.setattr(os, "geteuid", lambda: 501)
    monkeypatch.setattr(spawned.isolation, "limit_processes", lambda in_group, n: f"at most {n} more (RLIMIT_NPROC)")
    facts = Isolation()
    refusal = spawned._limit(job, facts)
    return facts, refusal, set_limits


def test_what_a_spawned_worker_records_on_windows_and_macos(monkeypatch, tmp_path, code):
    import resource

    job = _job(tmp_path, code, "state", 0)
    facts, refusal, set_limits = _limits_on(monkeypatch, "win32", job)
    assert (refusal, set_limits) == ("", [])
    assert facts.memory == "at most 512 MiB more than PyTorch itself (a Job Object)"
    assert facts.processes == "at most 64 (a Job Object)" and facts.leftovers == "killed: its Job Object"
    assert "no namespaces" in facts.network and "no mount namespace" in facts.secrets
    facts, refusal, set_limits = _limits_on(monkeypatch, "darwin", job)
    assert refusal == "" and resource.RLIMIT_AS not in set_limits and resource.RLIMIT_FSIZE in set_limits
    assert facts.memory == "not limited (macOS does not enforce RLIMIT_AS or RLIMIT_RSS)"
    assert facts.leftovers == "killed: its process group"
    facts, refusal, set_limits = _limits_on(monkeypatch, "linux", job)
    assert resource.RLIMIT_AS in set_limits and facts.memory.endswith("(RLIMIT_AS)")
    assert facts.leftovers == "killed: orphans handed to the grader (subreaper), its process group"


def test_a_spawned_worker_run_as_root_refuses_student_code_unless_allowed(monkeypatch, tmp_path, code):
    import resource

    monkeypatch.setattr(resource, "setrlimit", lambda which, value: None)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(spawned.isolation, "limit_processes", lambda in_group, n: "not limited")
    job = _job(tmp_path, code, "state", 0)
    job.run_as_root = False
    facts = Isolation()
    assert "did not run your code" in spawned._limit(job, facts) and facts.user.endswith("student code was not run")
    job.trusted = True
    assert spawned._limit(job, Isolation()) == ""


def _two_students(folder: Path) -> Path:
    root = Path(__file__).resolve().parent.parent / "solutions" / "03-training-loop"
    for student, source in (("alice", root / "train.py"), ("bob", root / "mutants" / "no_zero_grad.py")):
        (folder / student).mkdir(parents=True)
        (folder / student / "train.py").write_text(source.read_text())
    return folder


def test_a_batch_with_the_spawn_backend_gives_the_fork_backends_verdicts(grade, tmp_path):
    """`grade batch`'s warm processes, each job's child spawning its own workers."""
    students = _two_students(tmp_path / "class")
    books = {}
    for backend in ("fork", "spawn"):
        out = tmp_path / backend / "grades.csv"
        ran = grade("batch", str(students), "3", "--workers", "1", "--out", str(out), env={"TORCHGRADE_WORKERS": backend},
                    timeout=600)
        assert ran.code == 0, ran.stderr
        journal = [json.loads(line) for line in out.with_name("grades.records.jsonl").read_text().splitlines()]
        books[backend] = {r["student"]: [(c["id"], c["status"]) for c in r["result"]["checks"]] for r in journal}
        assert {r["result"]["isolation"]["worker"].split(":")[0] for r in journal} == {backend}
    assert books["fork"] == books["spawn"] and books["fork"]["alice"] != books["fork"]["bob"]


def test_without_fork_a_batch_grades_each_submission_in_a_one_off_process(tmp_path, monkeypatch):
    from grader import batch
    from grader.course import Course
    from grader.submissions import GradingOptions

    monkeypatch.setattr(batch, "WARM_PROCESSES", False)
    monkeypatch.setattr(batch, "WarmGrader", None)  # never started
    monkeypatch.setenv("TORCHGRADE_CACHE_DIR", str(tmp_path / "cache"))
    students = _two_students(tmp_path / "class")
    spec = Course(Path(__file__).resolve().parent.parent).resolve("3")
    graded = batch.grade_class(students, [spec], GradingOptions(), out=tmp_path / "grades.csv", workers=1)
    scores = {r.student: r.result.score for r in graded.records}
    assert scores["alice"] == spec.max_score and scores["bob"] < spec.max_score


def test_kernel32s_functions_are_declared_with_pointer_sized_handles(monkeypatch):
    import types
    from ctypes import wintypes

    functions = {}
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error: types.SimpleNamespace(**functions),
                        raising=False)
    for name in ("CreateJobObjectW", "OpenProcess", "AssignProcessToJobObject", "SetInformationJobObject",
                 "QueryInformationJobObject", "TerminateJobObject", "CloseHandle"):
        functions[name] = types.SimpleNamespace()
    api = windows.kernel32()
    assert api.CreateJobObjectW.restype is api.OpenProcess.restype is wintypes.HANDLE
    assert ctypes.sizeof(wintypes.HANDLE) == ctypes.sizeof(ctypes.c_void_p)
    assert api.SetInformationJobObject.argtypes[2]._type_ is windows.ExtendedLimits
