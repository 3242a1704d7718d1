"""The CLI's side of grading: copy the submission into a scratch folder, start the grading process
(`grader.runner.grading`), wait for it within a deadline and read back its result. Nothing here
imports torch, and whatever goes wrong becomes a result with a clear message, never a traceback.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader.results import CheckResult, ExerciseResult
from grader.runner import isolation
from grader.runner.sandbox import ALWAYS_PRELOAD, PRELOAD_IF_IMPORTED
from grader.spec import ExerciseSpec, requirement_name



def cache_dir() -> Path:
    """Where the reference solution's probe results are kept between runs."""
    if os.environ.get("TORCHGRADE_CACHE_DIR"):
        return Path(os.environ["TORCHGRADE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "torchgrade" / "reference"


def grade(spec: ExerciseSpec, submission: Path | None = None, *, time_s: float | None = None,
          memory_mb: int | None = None, use_cache: bool = True, debug: bool = False,
          record_dir: Path | None = None, processes: int | None = None) -> ExerciseResult:
    """Grade one submission (a file or a folder; default: the exercise's own working copy). `record_dir`
    keeps every answer of the reference solution there (for a student copy, `grade export student`); an
    exercise without a reference solution (a student copy) is graded against its recorded answers."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torchgrade-") as scratch:
        root = Path(scratch)
        staged = write_job(spec, submission, root, time_s=time_s, memory_mb=memory_mb, processes=processes,
                           use_cache=use_cache, debug=debug, record_dir=record_dir)
        if isinstance(staged, str):
            return error_result(spec, staged, started)
        return _run_grading_process(spec, root, staged, started, debug)


def write_job(spec: ExerciseSpec, submission: Path | None, root: Path, *, time_s: float | None = None,
              memory_mb: int | None = None, processes: int | None = None, use_cache: bool = True,
              debug: bool = False, record_dir: Path | None = None) -> str | float:
    """Stage the submission in `root` and write the job file a grading process reads (`root/job.json`).
    Returns the deadline for the whole grading in seconds, or a problem with the submission in words."""
    time_s = time_s or spec.limits.time_s
    memory_mb = memory_mb or spec.limits.memory_mb
    processes = processes or spec.limits.processes
    staged = root / "submission"
    problem = stage_submission(spec, submission, staged)
    if problem:
        return problem
    run_dir = root / "run"
    run_dir.mkdir()
    # A root grader's workers run as another user, who must read the code and enter the run folder
    # (whatever the umask); the folders around them stay closed (isolation.open_the_way).
    for path in (staged, *staged.iterdir(), run_dir):
        path.chmod(0o755 if path.is_dir() else 0o644)
    job = {
        "exercise": spec.name, "exercise_id": spec.id, "title": spec.title,
        "checks_folder": str(spec.checks_folder.resolve()),
        "solution_folder": str(spec.solution_folder.resolve()),
        "submission_folder": str(staged), "module": Path(spec.files[0]).stem,
        "time_s": time_s, "memory_mb": memory_mb, "processes": processes, "run_dir": str(run_dir),
        "packages": list(spec.packages),
        "result_file": str(root / "result.json"),
        "cache_dir": str(cache_dir()) if use_cache else None, "debug": debug,
        "record_dir": str(record_dir.resolve()) if record_dir else None,
        "recorded_dir": None if spec.solution_folder.is_dir() else str(spec.recorded_folder.resolve()),
        "preload": preload_modules(spec, staged),
        "checks": [{**c.model_dump(), "test_name": c.test_name} for c in spec.checks],
    }
    (root / "job.json").write_text(json.dumps(job))
    (root / "job.json").chmod(0o600)
    return 60 + time_s * (2 * len(spec.checks) + 2)


_RUNNING: set[int] = set()  # grading processes of this CLI process now running (grade validate runs several)
_RUNNING_LOCK = threading.Lock()


def grading_env() -> dict[str, str]:
    """The environment of a grading process: no pytest plugins of the machine's, the grader importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a third-party plugin must not reorder or alter checks
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def start(command: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start a grading process (one-off or warm) in a session of its own, known as running: a sweep for
    leftovers in another thread never takes it for one."""
    isolation.become_subreaper()  # whatever a grading leaves behind comes back here, and is ended
    with _RUNNING_LOCK:
        proc = subprocess.Popen([sys.executable, "-m", *command], env=grading_env(), start_new_session=True, **popen)
        _RUNNING.add(proc.pid)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a grading process, everything in its session, and whatever it left: its workers' cgroups
    and the orphans handed back to this process."""
    _kill(proc)
    isolation.end_groups(proc.pid)
    with _RUNNING_LOCK:
        _RUNNING.discard(proc.pid)
        # Leftovers of a grading run are in sessions of their own (the grading process's, a worker's);
        # children this process started itself in its own session are not touched.
        isolation.end_orphans(keep=frozenset(_RUNNING), foreign_only=True)


def _run_grading_process(spec: ExerciseSpec, root: Path, deadline: float, started: float, debug: bool) -> ExerciseResult:
    log_path = root / "grading.log"
    with open(log_path, "wb") as log:
        proc = start(["grader.runner.grading", str(root / "job.json")],
                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        try:
            proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return error_result(spec, took_too_long(deadline), started)
        finally:
            stop(proc)
    return read_result(spec, root, proc.returncode, started, debug)


def took_too_long(deadline: float) -> str:
    return (f"Grading took longer than {deadline:g} seconds in total and was stopped. "
            "Look for code that runs far longer than the exercise needs.")


def read_result(spec: ExerciseSpec, root: Path, returncode: int | None, started: float, debug: bool) -> ExerciseResult:
    """The result a grading process wrote in `root`, or one saying the grader failed (never a traceback)."""
    result_file = root / "result.json"
    try:
        return ExerciseResult.model_validate_json(result_file.read_text())
    except (OSError, ValidationError) as exc:
        try:
            log_tail = (root / "grading.log").read_text(errors="replace")[-3000:]
        except OSError:
            log_tail = ""
        message = (f"The grader itself failed (exit code {returncode}) before it could report a result. "
                   "This is not a problem with your code; tell your instructor.")
        if debug:
            message += f"\n\n{type(exc).__name__}: {exc}\n{log_tail}"
        return error_result(spec, message, started)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def stage_submission(spec: ExerciseSpec, submission: Path | None, dest: Path) -> str | None:
    """Copy the student's file(s) to `dest` under the names the checks import; a problem, or None."""
    dest.mkdir(parents=True)
    source = submission or spec.folder
    expected = ", ".join(spec.files)
    if source.is_file():
        if len(spec.files) == 1:
            shutil.copyfile(source, dest / spec.files[0])
            return None
        if source.name not in spec.files:
            return f"{source} is not one of this exercise's files ({expected}). Pass the folder that holds them."
        shutil.copyfile(source, dest / source.name)
        source = source.parent
    elif not source.is_dir():
        return f"{source} does not exist. Pass the file you wrote ({expected}) or the folder holding it."
    missing = [name for name in spec.files if not (source / name).is_file() and not (dest / name).is_file()]
    if missing:
        return (f"No file {', '.join(missing)} in {source}. This exercise grades {expected}: "
                "put your work in a file with exactly that name, or pass it with --submission.")
    for path in source.glob("*.py"):
        if not (dest / path.name).exists():
            shutil.copyfile(path, dest / path.name)
    return None


def from_package(module: str, requirements: list[str]) -> bool:
    """Whether top-level `module` belongs to one of the packages an exercise allows (`packages:`): `pandas`
    to pandas, and, where installed, `yaml` to PyYAML. Only a name that is not a package's own asks the
    installed distributions (about 150 ms), and never for the standard library or torch."""
    wanted = {requirement_name(r) for r in requirements}
    if not wanted or module in sys.stdlib_module_names or module == "torch":
        return False
    return requirement_name(module) in wanted or any(
        requirement_name(dist) in wanted for dist in _distributions().get(module, []))


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def preload_modules(spec: ExerciseSpec, staged: Path) -> list[str]:
    """Heavy modules the student's files or the probes import at the top, and the exercise allows or the
    grader always has: the zygote imports them once, so no worker pays for them again."""
    wanted = list(ALWAYS_PRELOAD)
    for path in [*staged.glob("*.py"), spec.checks_folder / "probes.py"]:
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top not in wanted and (top in PRELOAD_IF_IMPORTED or from_package(top, spec.packages)):
                    wanted.append(top)
    return wanted


def error_result(spec: ExerciseSpec, message: str, started: float) -> ExerciseResult:
    """A result for a submission that could not be graded at all: every check is an error."""
    checks = [
        CheckResult(id=c.id, title=c.title, status="error", points=0.0, max_points=c.points, message=message,
                    concepts=c.concepts, hidden=c.hidden)
        for c in spec.checks
    ]
    return ExerciseResult.from_checks(exercise=spec.name, exercise_id=spec.id, title=spec.title, checks=checks,
                                      duration=time.monotonic() - started, message=message)
