"""The sandboxed worker a probe runs in: a CPU probe never sees a GPU (so hard-coded CUDA fails the
same way on every machine) and has its address space capped; a CUDA probe keeps the GPUs and is not
capped by address space (initialising CUDA maps ~17 GiB of virtual memory)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401 - as in the grading process: torch is imported before the zygote is forked

from grader.runner.sandbox import ProbeJob, Sandbox

PROBES = str(Path(__file__).with_name("sandbox_probes.py"))


def test_cpu_probes_see_no_gpu_and_cuda_probes_keep_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    code = tmp_path / "code"
    code.mkdir()
    (code / "student.py").write_text("VALUE = 1\n")
    sandbox = Sandbox(preload=[])
    try:
        seen = {}
        for cuda in (False, True):
            work = tmp_path / f"work-{cuda}"
            work.mkdir()
            job = ProbeJob(code_dir=str(code), module="student", probe_file=PROBES, probe_name="environment",
                           kwargs={}, time_s=20, memory_mb=512, work_dir=str(work), cuda=cuda)
            outcome = sandbox.run(job)
            assert outcome.status == "ok", outcome
            seen[cuda] = outcome.value
    finally:
        sandbox.close()
    assert seen[False] == {"cuda_visible_devices": "", "address_space_limited": True}
    assert seen[True] == {"cuda_visible_devices": "3", "address_space_limited": False}


def test_the_graders_processes_are_named(tmp_path):
    """`ps -o comm` tells a worker (tg-worker) from the zygote it was forked from (tg-zygote)."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "student.py").write_text("VALUE = 1\n")
    work = tmp_path / "work"
    work.mkdir()
    sandbox = Sandbox(preload=[])
    try:
        job = ProbeJob(code_dir=str(code), module="student", probe_file=PROBES, probe_name="process_names",
                       kwargs={}, time_s=20, memory_mb=512, work_dir=str(work), cuda=False)
        outcome = sandbox.run(job)
    finally:
        sandbox.close()
    assert outcome.status == "ok", outcome
    if Path("/proc/self/comm").exists():
        assert outcome.value == ["tg-worker", "tg-zygote"]


def test_the_check_helpers_that_probes_import_never_load_the_test_framework():
    """Probes import the check helpers (`grader.checks.*`) in each worker, whose zygote was forked before
    pytest was imported: none of them may bring pytest in, which cost every probe its import (about 0.2 s)
    and put the test framework in student code's reach. Asked of a fresh interpreter, as a worker has it."""
    helpers = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "grader" / "checks").glob("*.py"))
    assert {"compare", "data", "devices", "observe", "spies"} <= set(helpers)
    script = ("import sys\n" + "".join(f"import grader.checks.{name}\n" for name in helpers if name != "__init__")
              + "print(sorted(n for n in sys.modules if n == 'pytest' or n.startswith('_pytest')))")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"


def _thp_mode() -> str:
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "none"
    return text[text.index("[") + 1:text.index("]")] if "[" in text else "none"


@pytest.mark.parametrize("asked", [True, False], ids=["huge-pages", "kept-small"])
def test_a_warm_processs_zygote_holds_its_memory_in_huge_pages_and_its_workers_still_compute(tmp_path, monkeypatch,
                                                                                            asked):
    """A warm process's sandbox (huge_pages=True) collapses torch's memory into huge pages before it forks
    the zygote and the zygote's own after preloading, where the kernel can (THP in "madvise" or "always"
    mode, Linux 6.1+); workers forked from it run as before. TORCHGRADE_HUGE_PAGES=0 keeps 4 KiB pages."""
    if not asked:
        monkeypatch.setenv("TORCHGRADE_HUGE_PAGES", "0")
    code = tmp_path / "code"
    code.mkdir()
    (code / "student.py").write_text("VALUE = 1\n")
    sandbox = Sandbox(preload=["torchvision"], huge_pages=True)
    try:
        sums = []
        for number in range(2):  # the import-check job, answered before preloading; then a preloaded one
            work = tmp_path / f"work-{number}"
            work.mkdir()
            outcome = sandbox.run(ProbeJob(code_dir=str(code), module="student", probe_file=PROBES,
                                           probe_name="torch_sum", kwargs={}, time_s=30, memory_mb=1024,
                                           work_dir=str(work), cuda=False))
            assert outcome.status == "ok", outcome
            sums.append(outcome.value)
        huge_kib, inherited_kib = _huge_kib(sandbox.pid), _huge_kib(os.getpid())
    finally:
        sandbox.close()
    assert sums == [499500, 499500]
    kernel = tuple(int(part) for part in re.findall(r"\d+", platform.release())[:2])
    if _thp_mode() == "madvise" and kernel >= (6, 1):
        # Kept small, the zygote has no huge page but those it shares with this process (which an earlier
        # sandbox made here may have collapsed).
        assert (huge_kib > 100 * 1024) if asked else (huge_kib <= inherited_kib), (huge_kib, inherited_kib)


def _huge_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    raise AssertionError("no AnonHugePages line")


def test_a_probe_can_set_up_an_environment_before_the_student_module_is_imported(tmp_path):
    """`before_import`: what the module computes at import time sees the simulated environment, anew in
    each probe (each worker imports the module afresh); a broken set-up is the grader's error."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "student.py").write_text("import os\nFLAG = os.environ.get('TORCHGRADE_TEST_FLAG')\n")
    sandbox = Sandbox(preload=[])
    try:
        outcomes = []
        for number, (name, kwargs) in enumerate([("seen_at_import", {"value": "a"}), ("seen_at_import", {"value": "b"}),
                                                 ("broken_setup", {})]):
            work = tmp_path / f"work-{number}"
            work.mkdir()
            outcomes.append(sandbox.run(ProbeJob(code_dir=str(code), module="student", probe_file=PROBES,
                                                 probe_name=name, kwargs=kwargs, time_s=20, memory_mb=512,
                                                 work_dir=str(work))))
    finally:
        sandbox.close()
    assert [o.value for o in outcomes[:2]] == [{"at_import": "a", "now": "a"}, {"at_import": "b", "now": "b"}]
    assert outcomes[2].status == "error" and outcomes[2].error["kind"] == "grader"
    assert "broken set-up" in outcomes[2].error["message"]
