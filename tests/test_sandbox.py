"""The sandboxed worker a probe runs in: a CPU probe never sees a GPU (so hard-coded CUDA fails the
same way on every machine) and has its address space capped; a CUDA probe keeps the GPUs and is not
capped by address space (initialising CUDA maps ~17 GiB of virtual memory)."""

from __future__ import annotations

from pathlib import Path

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
