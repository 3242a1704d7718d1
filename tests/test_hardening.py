"""Hostile and broken submissions (the hardening issue). Each test is an attack and its expected
result: the verdict, the message naming the limit that was hit, and nothing of the run left behind.

Runaway code runs in a real sandbox worker (as the grading process runs it); forged results go
through the whole pipeline (`grade exercise 3`), each attack grafted onto a known mistake (the
`no_zero_grad` mutant), and must never turn a failing check into a passing one.
"""

from __future__ import annotations

import os
import secrets
import socket
import textwrap
import time
from pathlib import Path

import pytest
import torch  # noqa: F401 - as in the grading process: torch is imported before the zygote is forked

from conftest import run_in_words
from grader.runner.sandbox import ProbeJob, Sandbox

ROOT = Path(__file__).resolve().parent.parent
PROBES = str(Path(__file__).with_name("sandbox_probes.py"))
MUTANT = ROOT / "solutions/03-training-loop/mutants/no_zero_grad.py"


def _comm_of_every_process() -> dict[int, str]:
    names = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                names[int(entry)] = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                pass
    return names


def _survivors(marker: str) -> list[int]:
    """Processes still named `marker` (the attack names its processes with prctl)."""
    time.sleep(0.2)
    return [pid for pid, name in _comm_of_every_process().items() if name == marker]


@pytest.fixture
def run_attack(tmp_path):
    """Run `run()` of the given student code in a sandbox worker; returns the outcome and the marker
    its processes carry."""
    sandbox = Sandbox(preload=[])
    count = 0

    def run(source: str, time_s: float = 5, processes: int = 64, prepare=None, cuda: bool = False, memory_mb: int = 512):
        nonlocal count
        count += 1
        marker = f"tg{secrets.token_hex(5)}"  # /proc/PID/comm keeps 15 characters
        code = tmp_path / f"code{count}"
        code.mkdir()
        if prepare:
            prepare(code)
        # prctl(PR_SET_NAME): /proc itself is read-only to student code
        prelude = f"import ctypes, os, sys, time\nMARK = {marker!r}\n" \
                  "def mark():\n    ctypes.CDLL(None).prctl(15, MARK.encode(), 0, 0, 0)\n"
        (code / "student.py").write_text(prelude + textwrap.dedent(source))
        work = tmp_path / f"work{count}"
        work.mkdir()
        job = ProbeJob(code_dir=str(code), module="student", probe_file=PROBES, probe_name="call_run", kwargs={},
                       time_s=time_s, memory_mb=memory_mb, work_dir=str(work), processes=processes, cuda=cuda)
        return sandbox.run(job), marker

    yield run
    sandbox.close()


def _explained(outcome) -> str:
    return run_in_words(outcome, "the check", {"time_s": 5, "memory_mb": 512, "processes": 64})


def test_a_fork_bomb_is_refused_and_ended(run_attack):
    outcome, marker = run_attack("""
        def run():
            mark()
            for _ in range(10):  # 2**10 processes if nothing stopped it
                try:
                    os.fork()
                except OSError:
                    print("fork refused", flush=True)
            time.sleep(1000)
    """)
    assert outcome.status == "timeout"
    assert "processes" in outcome.isolation
    if outcome.isolation["processes"].startswith("at most"):
        assert "fork refused" in outcome.output_tail  # shown in the feedback's last printed lines
    if "cgroup" in outcome.isolation["processes"]:  # a cgroup also counts what it refused
        assert outcome.error.get("processes_refused", 0) > 0
        assert "more processes or threads than the 64" in _explained(outcome)
    assert "still running after 5 seconds" in _explained(outcome)
    assert _survivors(marker) == []


def test_a_grandchild_escaping_with_setsid_is_ended(run_attack):
    outcome, marker = run_attack("""
        def run():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    mark()
                    time.sleep(1000)  # holds the worker's output file open, in a session of its own
                os._exit(0)
            time.sleep(0.5)
            return "done"
    """)
    assert outcome.status == "ok" and outcome.value == "done"
    assert _survivors(marker) == []


def test_sleeping_forever_hits_the_time_limit(run_attack):
    started = time.monotonic()
    outcome, _ = run_attack("def run():\n    time.sleep(10**6)\n", time_s=2)
    assert outcome.status == "timeout" and time.monotonic() - started < 10
    assert "still running after 2 seconds" in run_in_words(outcome, "the check", {"time_s": 2})


def test_allocating_without_end_hits_the_memory_limit(run_attack):
    outcome, _ = run_attack("""
        import torch
        def run():
            kept = []
            while True:
                kept.append(torch.ones(2**24))
    """)
    assert outcome.status == "error" and outcome.error["kind"] == "memory"
    assert "ran out of memory" in _explained(outcome) and "512 MiB" in _explained(outcome)


def test_a_cuda_probe_is_held_by_a_memory_cgroup_instead(run_attack):
    """A CUDA probe's address space cannot be capped, so its host memory is bounded by a cgroup; the
    mechanism runs here without a GPU (the probe only allocates on the CPU)."""
    harmless, _ = run_attack("def run():\n    return 1\n", cuda=True, memory_mb=256)
    if not harmless.isolation["memory"].startswith("at most"):  # nothing would stop the attack but the machine
        pytest.skip(f"no memory cgroup here: {harmless.isolation['memory']}")
    outcome, marker = run_attack("""
        import torch
        def run():
            mark()
            kept = []
            while True:
                kept.append(torch.ones(2**24))
    """, cuda=True, memory_mb=256, time_s=30)
    assert outcome.isolation["memory"] == "at most 3328 MiB of host memory (a memory cgroup)"
    assert outcome.status == "error" and outcome.error["kind"] == "memory", outcome
    assert "ran out of memory" in run_in_words(outcome, "the check", {"memory_mb": 256})
    assert _survivors(marker) == []


def test_an_enormous_file_hits_the_file_size_limit(run_attack, tmp_path):
    outcome, _ = run_attack("""
        def run():
            with open("big.bin", "wb") as f:
                for _ in range(400):
                    f.write(b"x" * 2**20)
    """)
    assert outcome.status == "error" and outcome.error["kind"] == "file-size"
    assert "wrote more than 72 MB to one file" in _explained(outcome)


def test_printing_hundreds_of_megabytes_hits_the_same_limit(run_attack):
    outcome, _ = run_attack("""
        def run():
            line = "x" * 1023
            for _ in range(300 * 1024):
                print(line)
    """)
    assert outcome.status == "error" and outcome.error["kind"] == "file-size"
    assert len(outcome.output_tail) <= 2000


def test_no_network_for_student_code(run_attack):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        outcome, _ = run_attack(f"""
            import socket
            def run():
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
                    return "connected"
                except OSError as exc:
                    return type(exc).__name__
        """)
        assert outcome.status == "ok"
        if outcome.isolation["network"].startswith("none"):
            assert outcome.value != "connected"
            with pytest.raises(BlockingIOError):
                server.accept()  # nothing ever reached the machine's own network
        else:
            pytest.skip(f"no network namespace on this machine: {outcome.isolation['network']}")
    finally:
        server.close()


def test_nothing_outside_the_run_folder_is_written(run_attack, tmp_path):
    outside = tmp_path / "open-to-all"
    outside.mkdir()
    outside.chmod(0o777)
    name = f"tg-{secrets.token_hex(6)}"
    targets = [str(outside / name), f"/tmp/{name}", f"/dev/shm/{name}"]
    try:
        outcome, _ = run_attack(f"""
        def run():
            written = []
            for path in {targets!r} + [os.path.join(os.path.dirname(__file__), "{name}"), "here.txt"]:
                try:
                    with open(path, "w") as f:
                        f.write("x")
                    written.append(path)
                except OSError:
                    pass
            return written
        """)
        left = [t for t in targets + [str(tmp_path / "code1" / name)] if Path(t).exists()]
    finally:
        for target in targets:  # on a machine where the attack succeeds, it leaves nothing either
            Path(target).unlink(missing_ok=True)
    assert outcome.status == "ok", outcome.error
    if not outcome.isolation["files"].startswith("read-only except") or "but for" in outcome.isolation["files"]:
        pytest.skip(f"no read-only view of the file system here: {outcome.isolation['files']}")
    # Its own folder, and a /dev/shm of its own that vanished with it; nothing on the machine.
    assert outcome.value == [f"/dev/shm/{name}", "here.txt"]
    assert left == []


def _a_file_only_root_may_read(code: Path) -> None:
    (code / "root-only.txt").write_text("secret")
    (code / "root-only.txt").chmod(0o600)


def test_a_root_grader_runs_student_code_as_a_user_of_its_own(run_attack, tmp_path):
    """What root could do and an unused user id cannot: undo the isolation, raise its own process
    limit, signal the grader, read root's files, open disk devices, write kernel settings."""
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here: student code runs as the grader's own user")
    outcome, _ = run_attack("""
        import ctypes, glob, stat
        libc = ctypes.CDLL(None, use_errno=True)
        def checked(rc):
            if rc != 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        def own_cgroup():
            line = next(l for l in open("/proc/self/cgroup") if ":pids:" in l or l.startswith("0::"))
            base = "/sys/fs/cgroup/pids" if ":pids:" in line else "/sys/fs/cgroup"
            return base + line.strip().split(":", 2)[2] + "/pids.max"
        def a_block_device():
            return next(p for p in glob.glob("/dev/*") if stat.S_ISBLK(os.stat(p).st_mode))
        ATTEMPTS = {
            "read a file only root may read": lambda: open(os.path.join(os.path.dirname(__file__), "root-only.txt")).read(),
            "raise its own process limit": lambda: open(own_cgroup(), "w").write("max"),
            "signal the process that started it": lambda: os.kill(os.getppid(), 0),
            "read another process's environment": lambda: open("/proc/1/environ").read(),
            "become root again": lambda: os.setuid(0),
            "uncover a hidden folder": lambda: checked(libc.umount2(b"/dev/shm", 2)),
            "open a disk": lambda: open(a_block_device(), "rb").close(),
            "write a kernel setting": lambda: open("/proc/sys/kernel/pid_max", "w").write(open("/proc/sys/kernel/pid_max").read()),
        }
        def run():
            results = {}
            for what, attempt in ATTEMPTS.items():
                try:
                    attempt()
                    results[what] = "DONE"
                except (OSError, StopIteration) as exc:
                    results[what] = "refused: " + type(exc).__name__
            return results
    """, prepare=_a_file_only_root_may_read)
    assert outcome.status == "ok", outcome.error
    assert outcome.isolation["user"].startswith("an unused user id"), outcome.isolation
    assert all(v.startswith("refused") for v in outcome.value.values()), outcome.value


def test_the_grader_ends_what_a_dead_grading_process_left_behind(tmp_path):
    """The outer net (the CLI's side): a subreaper gets the orphans of a grading process that died
    before cleaning up, including a grandchild in a session of its own, and ends them; a process the
    grader started itself, in its own session, is left alone (`grade validate` runs quiz keys beside)."""
    marker = f"tg{secrets.token_hex(5)}"
    script = tmp_path / "outer.py"
    script.write_text(textwrap.dedent(f"""
        import os, subprocess, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from grader.runner import isolation
        assert isolation.become_subreaper()
        own = subprocess.Popen(["sleep", "30"])  # a child of its own session: another thread waits for it
        if os.fork() == 0:              # a grading process that dies without cleaning up
            if os.fork() == 0:
                os.setsid()
                open("/proc/self/comm", "w").write({marker!r})
                time.sleep(1000)
            os._exit(0)
        time.sleep(0.5)
        ended = isolation.end_orphans(foreign_only=True)
        assert own.poll() is None, "a child of the grader's own session was killed"
        own.kill()
        print(ended)
    """))
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert ended.returncode == 0, ended.stderr
    assert int(ended.stdout) >= 1
    assert _survivors(marker) == []


# ----------------------------------------------------------------------------- forged results


ATTACKS = {
    "patches_pytest_torch_builtins_and_probes": """
        import builtins, sys, unittest
        import torch
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        unittest.TestCase.assertEqual = lambda *a, **k: None
        builtins.all = lambda *a, **k: True
        try:
            import pytest
            pytest.approx = lambda expected, *a, **k: expected
        except ImportError:
            pass
        for name, module in list(sys.modules.items()):
            if name.startswith("grader") or "probes" in name:
                for attribute, value in list(vars(module).items()):
                    if callable(value) and not attribute.startswith("__"):
                        try:
                            setattr(module, attribute, lambda *a, **k: {"fresh": True})
                        except (AttributeError, TypeError):
                            pass
    """,
    "exits_zero_from_atexit_and_sys_exit": """
        import atexit, os, sys
        atexit.register(lambda: os._exit(0))
        _real = train_one_epoch
        def train_one_epoch(*args, **kwargs):
            _real(*args, **kwargs)
            sys.exit(0)
    """,
    "writes_result_like_files_everywhere": """
        import json, os, glob
        import torch
        _real = train_one_epoch
        def train_one_epoch(*args, **kwargs):
            fake = {"value": 0.1}
            for folder in [".", "..", "../..", "../../..", os.environ.get("TMPDIR", "."), "/tmp"]:
                for name in ["result.pt", "result.json", "result.pt.tmp"]:
                    try:
                        path = os.path.join(folder, name)
                        if name.endswith(".json"):
                            open(path, "w").write(json.dumps({"score": 10, "passed": True, "status": "passed"}))
                        else:
                            torch.save(fake, path)
                    except OSError:
                        pass
            print('{"status": "passed", "score": 10, "max_score": 10}')
            os._exit(0)
    """,
    "sends_a_pickle_down_every_descriptor": """
        import os, pickle
        class Pwn:
            def __reduce__(self):
                return (os.system, ("touch {pwned}",))
        PAYLOAD = pickle.dumps({"value": Pwn()})
        for fd in range(0, 256):
            try:
                os.write(fd, PAYLOAD)
            except OSError:
                pass
    """,
    "reads_the_solution_the_checks_and_the_cached_answers": """
        import os, sys
        _real = train_one_epoch
        def train_one_epoch(*args, **kwargs):
            probes = next(m for n, m in sys.modules.items() if "probes" in n and getattr(m, "__file__", None))
            checks = os.path.dirname(probes.__file__)
            course = os.path.dirname(os.path.dirname(os.path.dirname(checks)))
            read = []
            for path in [os.path.join(course, "solutions", "03-training-loop", "train.py"),
                         os.path.join(checks, "test_training_loop.py"), os.path.join("..", "..", "job.json")]:
                try:
                    read.append(path + ": " + open(path).read(40))
                except OSError:
                    pass
            for folder in ["{cache}", os.path.join(course, "solutions")]:
                try:
                    if os.listdir(folder):
                        read.append(folder)
                except OSError:
                    pass
            if read:
                raise RuntimeError("LEAKED " + " | ".join(read))
            return _real(*args, **kwargs)
    """,
    "scans_its_memory_for_the_checks_and_the_reference": """
        import gc, types
        _found = sorted({repr(o)[:80] for o in gc.get_objects()
                         if (isinstance(o, dict) and ("solution_folder" in o or "checks_folder" in o))
                         or (isinstance(o, types.FunctionType) and o.__name__.startswith("test_fresh"))
                         or (isinstance(o, types.ModuleType) and o.__name__.startswith(("test_", "_pytest")))})
        if _found:
            raise RuntimeError("FOUND " + " | ".join(_found))
    """,
}


@pytest.mark.slow
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_attack_turns_a_failing_submission_into_a_passing_one(grade, session_env, tmp_path, attack):
    pwned = tmp_path / "pwned"
    session_cache = session_env["TORCHGRADE_CACHE_DIR"]  # filled by the baseline's reference runs
    attack_code = textwrap.dedent(ATTACKS[attack]).replace("{pwned}", str(pwned))
    code = MUTANT.read_text() + "\n" + attack_code.replace("{cache}", session_cache)
    baseline = grade("exercise", "3", "--submission", str(MUTANT), "--format", "json").json()
    submission = tmp_path / "train.py"
    submission.write_text(code)
    ran = grade("exercise", "3", "--submission", str(submission), "--format", "json")
    result = ran.json()
    assert ran.code == 1 and not result["passed"]
    fresh = next(c for c in result["checks"] if c["id"] == "fresh-gradients")
    assert fresh["status"] in ("failed", "error"), fresh
    assert result["score"] <= baseline["score"]
    assert "FOUND" not in ran.stdout and "LEAKED" not in ran.stdout
    assert not pwned.exists()  # the pickle was never loaded
    assert set(result["isolation"]) == {"worker", "processes", "network", "secrets", "leftovers", "memory", "files", "user", "others"}  # on any machine
