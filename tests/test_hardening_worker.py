"""Integrity, second round (issue 18): nothing a worker leaves behind is trusted. Each test is an attack
by a student who has read the grader's source, and the verdict it must get.

They use only what every version of the sandbox has (`Sandbox`, `ProbeJob`, the `grade` command), so
the same file run against the code before the fix shows what each attack got then (the closing note
of the issue lists both). The classes: the judge following links and FIFOs in the worker's folder (1),
payloads that inflate or do not match the result's schema (2), limits raised again (4), modules that
stand in for the grader's (5), a root grader that cannot drop root (6), inherited descriptors (7),
other students' files (8); plus attacks of our own (disk and memory filling, deep payloads, a
message that never ends, the grader's own folders).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
import torch  # noqa: F401 - as in the grading process: torch is imported before the zygote is forked

from conftest import run_in_words
from grader.runner import plugin
from grader.runner.sandbox import ProbeJob, Sandbox

ROOT = Path(__file__).resolve().parent.parent
PROBES = str(Path(__file__).with_name("sandbox_probes.py"))
MUTANT = ROOT / "solutions/03-training-loop/mutants/no_zero_grad.py"
SOLUTION = ROOT / "solutions/03-training-loop/train.py"
LIMITS = {"time_s": 10, "memory_mb": 256, "processes": 64}

# Finds the worker's result channel in any version: the old worker's result file name (in its job), else
# every descriptor that is not a standard stream. What it writes there is the attacker's payload.
SEND = """
import gc, os, struct
def send(data, old=None):
    job = next((o for o in gc.get_objects() if type(o).__name__ == "ProbeJob"), None)
    name = getattr(job, "result_name", None)
    if name:
        open(name, "wb").write(old if old is not None else data)
    else:
        for fd in range(3, 64):
            try:
                os.write(fd, struct.pack("!Q", len(data)) + data)
            except OSError:
                pass
    os._exit(0)
"""


@pytest.fixture
def run_worker(tmp_path):
    """Run `run()` of the given student code in a real sandbox worker; returns the outcome."""
    sandbox = Sandbox(preload=[])
    count = 0

    def run(source: str, prepare=None, probe: str = "call_run", **job_fields):
        nonlocal count
        count += 1
        code, work = tmp_path / f"code{count}", tmp_path / f"work{count}"
        code.mkdir()
        work.mkdir()
        (code / "student.py").write_text("import os, sys, time\n" + textwrap.dedent(source))
        if prepare:
            prepare(code)
        known = {f.name for f in dataclasses.fields(ProbeJob)}
        fields = {"time_s": LIMITS["time_s"], "memory_mb": LIMITS["memory_mb"], **job_fields}
        job = ProbeJob(code_dir=str(code), module="student", probe_file=PROBES, probe_name=probe, kwargs={},
                       work_dir=str(work), **{k: v for k, v in fields.items() if k in known})
        return sandbox.run(job)

    yield run
    sandbox.close()


def _in_a_thread(call, timeout: float = 60):
    """`call()`, or None if it did not return within `timeout` (a judge that hangs fails the test)."""
    box = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else None


# ----------------------------------------------------------------------------- 1. links and FIFOs


def test_a_link_left_for_the_printed_output_shows_nothing_of_the_judge(run_worker):
    """The old judge read `output.txt` in the worker's folder by name: a link there put the judge's own
    environment (or the reference solution) in the feedback."""
    outcome = run_worker("""
        def run():
            print("hello from the student", flush=True)
            for name in ["output.txt"] + os.listdir("."):
                try:
                    os.unlink(name)
                except OSError:
                    pass
                os.symlink("/proc/self/environ", name)
            return "done"
    """)
    assert outcome.status == "ok" and outcome.value == "done", outcome.error
    assert "PATH=" not in outcome.output_tail
    assert "hello from the student" in outcome.output_tail


def test_a_fifo_left_for_the_printed_output_does_not_hang_the_judge(run_worker):
    outcome = _in_a_thread(lambda: run_worker("""
        def run():
            print("printed", flush=True)
            try:
                os.unlink("output.txt")
            except OSError:
                pass
            os.mkfifo("output.txt")
            return "done"
    """))
    assert outcome is not None, "the judge hung on a FIFO the student's code left"
    assert outcome.status == "ok" and outcome.value == "done"
    assert "printed" in outcome.output_tail


# ----------------------------------------------------------------------------- 2. payloads


def _zip_bomb(code: Path) -> None:
    """A 1 MB `torch.save` file whose one storage inflates to 1 GiB (a deflated entry of zeros)."""
    import io

    buf = io.BytesIO()
    torch.save({"value": torch.zeros(4)}, buf)
    small = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    numel = 2**28
    with zipfile.ZipFile(code / "bomb.pt", "w") as bomb:
        for name in small.namelist():
            data = small.read(name)
            if name.endswith("data.pkl"):
                at = data.index(b"K\x04", data.index(b"cpu"))  # the storage's declared size, 4
                data = data[:at] + b"J" + numel.to_bytes(4, "little") + data[at + 2:]
            if name.endswith("/data/0"):
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with bomb.open(info, "w", force_zip64=True) as entry:
                    for _ in range(64):
                        entry.write(bytes(numel * 4 // 64))
            else:
                bomb.writestr(name, data)


def test_a_payload_that_inflates_is_refused_before_anything_is_allocated(run_worker):
    outcome = run_worker(SEND + textwrap.dedent("""
        def run():
            send(open(os.path.join(os.path.dirname(__file__), "bomb.pt"), "rb").read())
    """), prepare=_zip_bomb)
    assert outcome.status == "error", "a 1 GiB tensor came back from a 1 MB file"
    assert outcome.error["kind"] == "bad-result"
    assert "could not read back" in run_in_words(outcome, "the check", LIMITS)


def _forged_error_record(code: Path) -> None:
    """An error record whose `line` is not a number and whose message holds a lone surrogate."""
    forged = {"error": {"kind": "exception", "type": "RuntimeError", "message": "caf\udce9", "file": "student.py",
                        "line": "not a number", "code": "x = 1"}}
    buf = __import__("io").BytesIO()
    torch.save(forged, buf)
    (code / "old.pt").write_bytes(buf.getvalue())
    try:
        from grader.runner import payload

        (code / "new.bin").write_bytes(payload.encode(forged))
    except ImportError:  # the code before the fix has no such format
        (code / "new.bin").write_bytes(b"")


def test_an_error_record_that_breaks_the_schema_becomes_the_students_failed_result(run_worker):
    outcome = run_worker(SEND + textwrap.dedent("""
        def run():
            here = os.path.dirname(__file__)
            send(open(os.path.join(here, "new.bin"), "rb").read(), old=open(os.path.join(here, "old.pt"), "rb").read())
    """), prepare=_forged_error_record)
    assert outcome.status == "error"
    assert outcome.error["kind"] == "bad-result", outcome.error
    assert "line" in outcome.error["message"]
    plugin.location(outcome)  # the report hook's reading of it does not raise
    json.dumps(outcome.error).encode("utf-8")


@pytest.mark.parametrize("shape", ["deep", "huge-declared", "tensor-lies"])
def test_payloads_that_lie_about_their_size_or_nest_without_end_are_refused(run_worker, shape):
    """Attacks of our own on the payload format itself."""
    outcome = run_worker(SEND + textwrap.dedent(f"""
        import json, struct
        MAGIC = b"TGPAYLOAD1\\n"
        def run():
            shape = {shape!r}
            if shape == "deep":
                header = b'{{"value": ' + b"[" * 100000 + b"]" * 100000 + b"}}"
                data = MAGIC + struct.pack("!Q", len(header)) + header
            elif shape == "tensor-lies":
                header = json.dumps({{"value": {{"T": ["float32", [10**6, 10**6], 0, 16]}}}}).encode()
                data = MAGIC + struct.pack("!Q", len(header)) + header + bytes(16)
            else:
                for fd in range(3, 64):  # a length of 2**62 bytes, and nothing after it
                    try:
                        os.write(fd, struct.pack("!Q", 2**62))
                    except OSError:
                        pass
                time.sleep(0.5)
                os._exit(0)
            send(data)
    """))
    assert outcome.status in ("error", "exited"), outcome.value
    assert outcome.error["kind"] in ("bad-result", "too-large", "no-result")


# ----------------------------------------------------------------------------- 4. limits


def test_limits_cannot_be_raised_again(run_worker):
    outcome = run_worker("""
        import resource
        def run():
            raised = {}
            for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_NPROC"):
                limit = getattr(resource, name)
                soft, hard = resource.getrlimit(limit)
                try:
                    resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                    raised[name] = "to infinity"
                except (ValueError, OSError):
                    try:
                        resource.setrlimit(limit, (hard, hard))
                        raised[name] = "to the hard limit" if hard > soft + 1 else "refused"
                    except (ValueError, OSError):
                        raised[name] = "refused"
            try:
                block = bytearray(1024 * 1024 * 1024)  # 1 GiB, four times the allowance
                raised["allocated 1 GiB"] = len(block)
            except MemoryError:
                pass
            return raised
    """)
    assert outcome.status == "ok", outcome.error
    assert outcome.value == {"RLIMIT_AS": "refused", "RLIMIT_FSIZE": "refused", "RLIMIT_CPU": "refused",
                             "RLIMIT_NPROC": "refused"}, outcome.value


def test_many_files_in_its_folder_fill_no_disk(run_worker, tmp_path):
    """Our own: RLIMIT_FSIZE caps one file, not many; the worker's folder is a memory filesystem of the
    allowance's size, so 12 files of 60 MB stop at about 256 MB and nothing is left on the disk."""
    outcome = run_worker("""
        def run():
            written = 0
            for i in range(12):
                try:
                    with open(f"fill{i}.bin", "wb") as f:
                        for _ in range(60):
                            f.write(bytes(1024 * 1024))
                            written += 1
                except OSError:
                    break
            return written
    """)
    if "memory filesystem" not in outcome.isolation.get("files", ""):
        pytest.skip(f"the worker's folder is on the disk here: {outcome.isolation.get('files')}")
    assert outcome.status == "ok", outcome.error
    assert outcome.value <= LIMITS["memory_mb"] + 1, f"{outcome.value} MB written"
    assert not any(tmp_path.glob("work*/fill*")), "the files reached the disk"


# ----------------------------------------------------------------------------- 5. shadowing


def _shadow_colorsys(code: Path) -> None:
    (code / "colorsys.py").write_text(textwrap.dedent(f"""
        import os
        open({str(code / "ran-before-confinement")!r}, "w").write(str(os.geteuid()))
    """))


def test_a_module_beside_the_students_file_cannot_stand_in_for_one_the_probe_imports(run_worker, tmp_path):
    """`tests/sandbox_probes.py` imports colorsys at the top: a colorsys.py beside the student's file ran,
    before confinement and as the grader's user, when the student's folder came first on the path."""
    outcome = run_worker("def run():\n    return 1\n", prepare=_shadow_colorsys, probe="real_colorsys")
    assert outcome.status == "ok", outcome.error
    assert outcome.value is True  # the probe got the standard library's colorsys
    assert not (tmp_path / "code1" / "ran-before-confinement").exists()


# ----------------------------------------------------------------------------- 6. root


def _unreadable_code(code: Path) -> None:
    code.chmod(0o700)  # only root may enter: another user could not import the student's code
    (code / "root-only.txt").write_text("secret")
    (code / "root-only.txt").chmod(0o600)


def test_a_root_grader_that_cannot_drop_root_refuses_to_run_student_code(run_worker):
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here")
    source = """
        def run():
            try:
                return open(os.path.join(os.path.dirname(__file__), "root-only.txt")).read()
            except OSError:
                return "refused"
    """
    outcome = run_worker(source, prepare=_unreadable_code)
    assert outcome.status == "error", f"student code ran as root and read {outcome.value!r}"
    assert outcome.error["kind"] == "unsafe"
    assert "student code was not run" in outcome.isolation["user"]
    message = run_in_words(outcome, "the check", LIMITS)
    assert "did not run your code" in message and "--run-as-root" in message
    allowed = run_worker(source, prepare=_unreadable_code, run_as_root=True)
    assert allowed.status == "ok" and allowed.value == "secret"  # what the instructor asked for, and recorded
    assert allowed.isolation["user"].startswith("root, as --run-as-root allowed")


# ----------------------------------------------------------------------------- 7. descriptors


def test_a_worker_inherits_no_descriptor_it_does_not_need(run_worker, tmp_path):
    secret = tmp_path / "judge-secret.txt"
    secret.write_text("the judge's")
    held = os.open(secret, os.O_RDONLY)  # open in the judge before its zygote is forked: like a log or a pipe
    try:
        sandbox_outcome = run_worker("""
            def run():
                found = {}
                for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
                    try:
                        found[fd] = os.readlink(f"/proc/self/fd/{fd}")
                    except OSError:
                        pass
                return found
        """)
    finally:
        os.close(held)
    assert sandbox_outcome.status == "ok", sandbox_outcome.error
    extra = {fd: target for fd, target in sandbox_outcome.value.items() if fd > 2}
    assert not any("judge-secret" in target for target in extra.values())
    assert len(extra) <= 2 and all(t.startswith("pipe:") or "/proc/" in t for t in extra.values()), extra


# ----------------------------------------------------------------------------- ours: the grader's folders


def test_the_graders_own_folders_show_only_the_way_through(run_worker, tmp_path):
    """Our own: the temporary folder (other gradings stage their copies there) and the folders around the
    worker's show only the way to Python and the worker's own files."""
    neighbour = tmp_path / "another-grading" / "submission"
    neighbour.mkdir(parents=True)
    (neighbour / "train.py").write_text("# a classmate's work\n")
    outcome = run_worker(f"""
        def run():
            seen = {{}}
            for path in [{str(neighbour / "train.py")!r}]:
                try:
                    seen[path] = open(path).read()
                except OSError as exc:
                    seen[path] = type(exc).__name__
            return seen
    """, private=[str(tmp_path)])
    if "private" not in {f.name for f in dataclasses.fields(ProbeJob)}:
        assert "a classmate's work" not in str(outcome.value)  # the code before the fix: fails here
    if not outcome.isolation.get("others", "").startswith("hidden"):
        pytest.skip(f"no mount namespace here: {outcome.isolation.get('others')}")
    assert outcome.status == "ok", outcome.error
    assert outcome.value[str(neighbour / "train.py")] in ("FileNotFoundError", "PermissionError"), outcome.value


def test_a_message_that_never_ends_is_ended_by_the_time_limit(run_worker):
    """Our own: an exception whose __str__ loops forever (the worker describes it after the probe)."""
    outcome = _in_a_thread(lambda: run_worker("""
        class Endless(Exception):
            def __str__(self):
                while True:
                    pass
        def run():
            raise Endless()
    """, time_s=2))
    assert outcome is not None and outcome.status in ("timeout", "crashed")


# ----------------------------------------------------------------------------- through the whole pipeline


@pytest.mark.slow
def test_a_lone_surrogate_in_an_exception_message_is_reported_not_crashed_on(grade, tmp_path):
    submission = tmp_path / "train.py"
    submission.write_text(MUTANT.read_text() + textwrap.dedent("""
        def train_one_epoch(*args, **kwargs):
            raise RuntimeError("caf\\udce9 went wrong")
    """))
    ran = grade("exercise", "3", "--submission", str(submission), "--format", "json")
    result = ran.json()
    fresh = next(c for c in result["checks"] if c["id"] == "fresh-gradients")
    assert fresh["status"] == "failed", fresh
    assert "went wrong" in fresh["message"]


def _pytest_standing_in(course: Path, marker: Path) -> str:
    """A `pytest.py` beside exercise 4's starter: the checks' helpers import pytest in the worker."""
    return textwrap.dedent(f"""
        import glob, os, shutil, sys
        open({str(marker)!r}, "w").write("ran as " + str(os.geteuid()))
        for staged in glob.glob(os.path.join(sys.path[0], "device.py")):
            try:
                shutil.copyfile({str(course / "solutions/04-device/device.py")!r}, staged)
            except OSError:
                pass
    """)


@pytest.mark.slow
def test_a_module_named_pytest_beside_the_starter_gets_no_points(grade, tmp_path):
    marker = tmp_path / "marker"
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "device.py").write_text((ROOT / "exercises/04-device/device.py").read_text())
    (folder / "pytest.py").write_text(_pytest_standing_in(ROOT, marker))
    starter = grade("exercise", "4", "--submission", str(ROOT / "exercises/04-device/device.py"), "--format", "json").json()
    result = grade("exercise", "4", "--submission", str(folder), "--format", "json").json()
    assert result["score"] <= starter["score"], (result["score"], starter["score"])
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_grade_batch_keeps_every_student_to_their_own_work(grade, tmp_path):
    """One class, graded one after another: first a student whose code sends "done" down every descriptor
    (class 7: the next student's job must not take it for its answer); two correct students;
    one that finds the class folder on `grade batch`'s command line and runs a classmate's file (class
    8); as root, every worker of every student runs as a user of its own (class 6)."""
    klass = tmp_path / "class"
    for name in ("aaron", "alice", "bob", "eve"):
        (klass / name).mkdir(parents=True)
    (klass / "alice" / "train.py").write_text(SOLUTION.read_text())
    (klass / "bob" / "train.py").write_text(SOLUTION.read_text())
    (klass / "aaron" / "train.py").write_text(MUTANT.read_text() + textwrap.dedent("""
        import os, threading, time
        def _flood():
            for _ in range(50):
                for fd in range(3, 256):
                    try:
                        os.write(fd, b"done 0\\n")
                    except OSError:
                        pass
                time.sleep(0.01)
        _flood()
    """))
    (klass / "eve" / "train.py").write_text(MUTANT.read_text() + textwrap.dedent("""
        import glob, os
        def _classmates():
            folders = []
            for cmdline in glob.glob("/proc/*/cmdline"):
                try:
                    args = open(cmdline, "rb").read().split(b"\\0")
                except OSError:
                    continue
                if b"batch" in args:
                    folders.append(os.fsdecode(args[args.index(b"batch") + 1]))
            return [p for f in folders for p in glob.glob(os.path.join(f, "*", "train.py"))] + \\
                glob.glob("/tmp/torchgrade-*/submission/train.py")
        for _path in _classmates():
            try:
                _source = open(_path).read()
            except OSError:
                continue
            if "zero_grad" in _source and "_classmates" not in _source:
                exec(compile(_source, _path, "exec"), globals())
                break
    """))
    out = tmp_path / "grades.json"
    ran = grade("batch", str(klass), "3", "--out", str(out), "--workers", "1", cwd=tmp_path, timeout=600)
    assert ran.code in (0, 1), ran.stderr
    records = [json.loads(line) for line in (tmp_path / "grades.records.jsonl").read_text().splitlines()]
    results = {r["student"]: r["result"] for r in records}
    assert results["alice"]["score"] == results["alice"]["max_score"], results["alice"]["message"]
    assert results["bob"]["score"] == results["bob"]["max_score"], results["bob"]["message"]
    fresh = {name: next(c for c in results[name]["checks"] if c["id"] == "fresh-gradients") for name in ("aaron", "eve")}
    assert fresh["aaron"]["status"] in ("failed", "error") and results["aaron"]["score"] == 0, fresh["aaron"]
    assert fresh["eve"]["status"] == "failed", "eve ran a classmate's code"
    if os.geteuid() == 0:
        users = {name: r["isolation"].get("user", "") for name, r in results.items()}
        assert all(u.startswith("an unused user id") for u in users.values()), users


def test_the_grading_process_does_not_take_modules_from_its_working_folder(tmp_path):
    """`python -P`: a grading process started in a folder holding a `json.py` still gets the real one."""
    (tmp_path / "json.py").write_text("raise SystemExit('the working folder stood in for json')\n")
    from grader.runner import launch

    proc = launch.start(["json.tool", "--help"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    launch.stop(proc)
    assert b"stood in" not in out + err


def test_a_memory_file_is_what_the_worker_prints_into(run_worker):
    """Fds 1 and 2 of a worker are a file with no name in any folder (nothing to replace by a link)."""
    outcome = run_worker("""
        def run():
            return [os.readlink(f"/proc/self/fd/{fd}") for fd in (1, 2)]
    """)
    assert outcome.status == "ok"
    assert all("memfd:" in t or "(deleted)" in t for t in outcome.value), outcome.value
