"""The grading process: `python -m grader.runner.judge JOB.json` (`grade batch` keeps warm ones,
`grader.runner.pool`, that run the same `run_job`).

It is the only judge. It imports torch, forks the sandbox's zygote before any torch op (workers
fork from there), imports the submission once to catch syntax and import errors, then runs the
hidden checks with pytest and writes the result model as JSON to the file the job names.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.results import CheckResult, DeviceRun, ExerciseResult


def main(job_path: str) -> int:
    started = time.monotonic()
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"  # a CUDA query must not initialise CUDA before forks
    sys.dont_write_bytecode = True  # nothing is written into the course's folders

    from grader.runner import isolation
    from grader.runner.sandbox import make_sandbox, worker_backend

    isolation.name_process("tg-grading")
    preload = json.loads(Path(job_path).read_text(encoding="utf-8"))["preload"]
    # Spawned workers import torch themselves: the first starts before this process imports it, beside it.
    sandbox = make_sandbox(preload) if worker_backend() == "spawn" else None

    import torch  # noqa: F401 - imported once here; the zygote and every forked worker inherit it

    # The zygote is forked before the job (where the checks and the reference solution live) is in
    # memory, and long before pytest loads the checks: a worker scanning its heap finds none of them.
    sandbox = sandbox or make_sandbox(preload)
    try:
        return run_job(job_path, sandbox, started)
    finally:
        sandbox.close()


def run_job(job_path: str, sandbox: Any, started: float) -> int:
    """Grade the job in `job_path` with the sandbox's workers and write its result where it says (a
    one-off grading process, or a child of a warm one in `grader.runner.pool`)."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    Path(job_path).unlink()  # where the checks and the solution live: not left for student code to read
    result = _grade(job, sandbox, started)
    tmp = Path(job["result_file"] + ".tmp")
    tmp.write_text(result.model_dump_json(), encoding="utf-8")
    os.replace(tmp, job["result_file"])
    return 0


def _grade(job: dict[str, Any], sandbox: Any, started: float) -> ExerciseResult:
    from grader.runner import plugin
    from grader.runner.sides import Side, run_failure

    run_dir = Path(job["run_dir"])
    # What the student's code may use: its limits, and the packages the exercise allows beyond torch.
    limits = {"time_s": job["time_s"], "memory_mb": job["memory_mb"], "processes": job["processes"],
              "packages": job.get("packages", [])}
    cache = Path(job["cache_dir"]) if job.get("cache_dir") else None
    # What student code must not read: every exercise's checks (hidden ones, recorded answers), the
    # solutions and quiz keys, the reference's cached answers. Its own files were copied elsewhere.
    secret = [str(Path(job["checks_folder"]).parent.parent), str(Path(job["solution_folder"]).parent),
              job.get("cache_dir"), job.get("save_answers_to")]
    # And what it sees only the way through (to Python and its own copy): the temporary folder, where every
    # grading stages its copy, this grading's own folder, the grader's home, a batch's class folder.
    private = [tempfile.gettempdir(), str(run_dir.parent), str(Path.home()), *job.get("private", [])]
    student = Side("student", Path(job["submission_folder"]), job["module"], sandbox, run_dir,
                   job["time_s"], job["memory_mb"], processes=job["processes"], hide=[f for f in secret if f],
                   private=private, run_as_root=bool(job.get("run_as_root")))
    record, recorded = job.get("save_answers_to"), job.get("answers_from")
    reference = Side("reference", Path(job["solution_folder"]), job["module"], sandbox, run_dir,
                     job["time_s"], job["memory_mb"], cache_dir=cache, save_answers_to=Path(record) if record else None,
                     answers_from=Path(recorded) if recorded else None, processes=job["processes"])

    loaded = student.try_import()
    if loaded.status != "ok":
        failure = run_failure(loaded)
        concepts = list(entry.concepts) if (entry := plugin.explained_entry(failure)) else []
        checks = [_check_result(c, "error", failure, concepts=concepts, **plugin.location(loaded)) for c in job["checks"]]
        return _result(job, checks, started, limits, failure, student.isolation)

    outcomes = _run_pytest(job, student, reference, limits)
    causes = failure_causes({c["id"]: o for c, o in zip(job["checks"], outcomes)})
    checks = [_check_result(c, o.status, o.failure, o.duration, o.devices, o.slowest_probe, o.file, o.line, o.concepts,
                            causes.get(c["id"], ""))
              for c, o in zip(job["checks"], outcomes)]
    return _result(job, checks, started, limits, isolation=student.isolation)


def failure_causes(outcomes: dict[str, Any]) -> dict[str, str]:
    """For each failure that says it may follow from other checks' problems, the first of them that failed:
    failures of their own first, then those whose cause is known, so that every chain ends at a failure of
    its own. A failure none of whose candidates failed is its own."""
    failed = {cid: o for cid, o in outcomes.items() if o.status in ("failed", "error")}
    known = {cid for cid, o in failed.items() if not o.because_of}
    causes: dict[str, str] = {}
    while True:
        found = {cid: next((c for c in o.because_of if c in known and c != cid), "") for cid, o in failed.items()
                 if cid not in known}
        found = {cid: cause for cid, cause in found.items() if cause}
        if not found:
            return causes
        causes.update(found)
        known |= set(found)


def _run_pytest(job: dict[str, Any], student: Any, reference: Any, limits: dict[str, Any]) -> list[Any]:
    import pytest

    from grader.runner import plugin

    titles = {c["test_name"]: c["title"] for c in job["checks"]}
    state = plugin.GradingState(student, reference, titles, limits, debug=job.get("debug", False))
    pytest.main(pytest_args(job["checks_folder"], Path(job["run_dir"]), job.get("debug", False)),
                plugins=[plugin, plugin.InstallState(state)])
    return [plugin.roll_up(state.outcomes.get(c["test_name"], [])) for c in job["checks"]]


# pytest's own plugins the checks never use: each costs time at every start (about 30 ms together).
UNUSED_PYTEST_PLUGINS = ("cacheprovider", "stepwise", "doctest", "junitxml", "pastebin", "legacypath", "debugging",
                         "faulthandler", "unraisableexception", "threadexception")


def pytest_args(checks_folder: str, run_dir: Path, debug: bool) -> list[str]:
    ini = run_dir / "pytest.ini"
    ini.write_text("[pytest]\n")
    return [
        checks_folder, "-c", str(ini), "--rootdir", checks_folder, "-q", "--assert=plain",
        "-W", "ignore::DeprecationWarning", *[a for name in UNUSED_PYTEST_PLUGINS for a in ("-p", f"no:{name}")],
        # Verdicts travel through the plugin; pytest's own report only goes to the log, in full with --debug.
        "--tb=" + ("long" if debug else "no"),
    ]


def warm_up_pytest() -> None:
    """Run pytest once on a trivial test, output discarded: its first session imports and caches much
    (about 100 ms), which a warm process's every job then inherits."""
    import tempfile

    import pytest

    with tempfile.TemporaryDirectory(prefix="torchgrade-warm-") as scratch:
        folder = Path(scratch)
        (folder / "test_warm_up.py").write_text("def test_warm_up():\n    assert True\n")
        saved = os.dup(1), os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            os.dup2(null, 2)
            pytest.main(pytest_args(str(folder), folder, debug=False))
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, null):
                os.close(fd)
        sys.modules.pop("test_warm_up", None)


def _check_result(check: dict[str, Any], status: str, failure: Any = None, duration: float = 0.0,
                  devices: list[tuple[str, str]] | None = None, slowest_probe: float = 0.0, file: str = "", line: int = 0,
                  concepts: list[str] | None = None, because_of: str = "") -> CheckResult:
    """One check's result as facts: no words but the check's title (the views say the rest, `grader.render.words`)."""
    failed = status in ("failed", "error")
    return CheckResult(
        id=check["id"], title=check["title"], status=status,  # type: ignore[arg-type]
        points=check["points"] if status == "passed" else 0.0, max_points=check["points"],
        failure=failure if status != "passed" else None,
        # The check's own concepts, then those of the PyTorch error that made it fail (if it was explained).
        concepts=list(dict.fromkeys(check["concepts"] + (concepts or []) * failed)),
        hidden=check["hidden"], duration=round(duration, 3), slowest_probe=round(slowest_probe, 3),
        devices=[DeviceRun(device=d, status=s) for d, s in devices or []],  # type: ignore[arg-type]
        file=file if failed else "", line=line if failed else 0, because_of=because_of if failed else "",
    )


def _result(job: dict[str, Any], checks: list[CheckResult], started: float, limits: dict[str, Any],
            failure: Any = None, isolation: dict[str, str] | None = None) -> ExerciseResult:
    return ExerciseResult.from_checks(
        exercise=job["exercise"], exercise_id=job["exercise_id"], title=job["title"], checks=checks,
        duration=time.monotonic() - started, failure=failure, isolation=isolation, limits=limits,
    )


if __name__ == "__main__":
    code = main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the result is on disk; skip tearing down torch's interpreter state (~0.5 s)
