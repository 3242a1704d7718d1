"""The CLI's side of grading: copy the submission into a scratch folder, start the grading process
(`grader.runner.judge`), wait for it within a deadline and read back its result. Nothing here
imports torch, and whatever goes wrong becomes a result with a clear message, never a traceback.
"""

from __future__ import annotations

import ast
import errno
import functools
import importlib.metadata
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader import notebooks
from grader.checks import said
from grader.failures import FailureKind
from grader.results import CheckResult, ExerciseResult, Failure, Said
from grader.notebooks import Notebook
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
          save_answers_to: Path | None = None, processes: int | None = None, run_as_root: bool = False,
          made_from: Notebook | None = None) -> ExerciseResult:
    """Grade one submission (a file or a folder; default: the exercise's own working copy). `save_answers_to`
    keeps every answer of the reference solution there (for a student copy, `grade export student`); an
    exercise without a reference solution (a student copy) is graded against its recorded answers.
    `made_from`: the notebook (or kernel, `grader.kernel`) the submitted file was made from, whose cells
    the result then names."""
    started = time.monotonic()
    # A file still open when the grading ends (Windows will not delete one) is left, not a traceback.
    with tempfile.TemporaryDirectory(prefix="torchgrade-", ignore_cleanup_errors=True) as scratch:
        root = Path(scratch)
        staged = write_job(spec, submission, root, time_s=time_s, memory_mb=memory_mb, processes=processes,
                           use_cache=use_cache, debug=debug, save_answers_to=save_answers_to, run_as_root=run_as_root)
        if isinstance(staged, Said):
            return error_result(spec, staged, started)
        if made_from is not None:
            staged.notebook = made_from
        return _run_grading_process(spec, root, staged, started, debug)


@dataclass
class Job:
    """A grading staged in its scratch folder: the deadline of the whole grading, and the notebook the
    student's module was made from, if it was (the result's lines are then told as its cells')."""

    deadline: float
    notebook: Notebook | None = None


def write_job(spec: ExerciseSpec, submission: Path | None, root: Path, *, time_s: float | None = None,
              memory_mb: int | None = None, processes: int | None = None, use_cache: bool = True,
              debug: bool = False, save_answers_to: Path | None = None, run_as_root: bool = False,
              private: list[Path] | None = None) -> Said | Job:
    """Stage the submission in `root` and write the job file a grading process reads (`root/job.json`).
    `private`: folders student code must see only the way through (a batch's class folder). Returns the
    staged job, or a problem with the submission (a message of the grader's catalogue, `grader.handed-in.*`)."""
    time_s = time_s or spec.limits.time_s
    memory_mb = memory_mb or spec.limits.memory_mb
    processes = processes or spec.limits.processes
    staged = root / "submission"
    made = stage_submission(spec, submission, staged)
    if isinstance(made, Said):
        return made
    run_dir = root / "run"
    run_dir.mkdir()
    # A root grader's workers run as another user, who must read the code and enter the run folder
    # (whatever the umask); the folders around them stay closed (isolation.show_only).
    for path in (staged, *staged.iterdir(), run_dir):
        path.chmod(0o755 if path.is_dir() else 0o644)
    job = {
        "exercise": spec.name, "exercise_id": spec.id, "title": spec.title,
        "checks_folder": str(spec.checks_folder.resolve()),
        "solution_folder": str(spec.solution_folder.resolve()),
        "submission_folder": str(staged), "module": Path(spec.files[0]).stem,
        "time_s": time_s, "memory_mb": memory_mb, "processes": processes, "run_dir": str(run_dir),
        "packages": list(spec.packages), "run_as_root": run_as_root,
        "private": [str(p.resolve()) for p in private or []],
        "result_file": str(root / "result.json"),
        "cache_dir": str(cache_dir()) if use_cache else None, "debug": debug,
        "save_answers_to": str(save_answers_to.resolve()) if save_answers_to else None,
        "answers_from": None if spec.solution_folder.is_dir() else str(spec.recorded_folder.resolve()),
        "preload": preload_modules(spec, staged),
        "checks": [{**c.model_dump(), "test_name": c.test_name} for c in spec.checks],
    }
    (root / "job.json").write_text(json.dumps(job), encoding="utf-8")
    (root / "job.json").chmod(0o600)
    return Job(60 + time_s * (2 * len(spec.checks) + 2), made)


_RUNNING: set[int] = set()  # grading processes of this CLI process now running (grade validate runs several)
_RUNNING_LOCK = threading.Lock()


def grading_env() -> dict[str, str]:
    """The environment of a grading process: no pytest plugins of the machine's, the grader importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a third-party plugin must not reorder or alter checks
    # Files are UTF-8 unless said otherwise, as on Linux: a Windows machine's ANSI code page would make a CSV
    # the student's code reads, or a Chinese check's message, read differently there (Python's UTF-8 mode).
    env["PYTHONUTF8"] = "1"
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def start(command: list[str], extra_env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[bytes]:
    """Start a child process of the grader (a grading process, one-off or warm, or a quiz's key) in a session
    of its own, known as running: a sweep for leftovers in another thread never takes it for one. The only
    way this CLI process starts a child; `stop` ends it and all it left."""
    isolation.become_subreaper()  # whatever a grading leaves behind comes back here, and is ended
    with _RUNNING_LOCK:
        # -P: the working folder (a scratch folder, a batch's logs) is not on the path, so nothing there
        # can stand in for a module the grader imports.
        proc = subprocess.Popen([sys.executable, "-P", "-m", *command], env={**grading_env(), **(extra_env or {})},
                                start_new_session=True, **popen)
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


def _run_grading_process(spec: ExerciseSpec, root: Path, job: Job, started: float, debug: bool) -> ExerciseResult:
    deadline = job.deadline
    log_path = root / "grading.log"
    with open(log_path, "wb") as log:
        proc = start(["grader.runner.judge", str(root / "job.json")],
                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        try:
            proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return error_result(spec, took_too_long(deadline), started)
        finally:
            stop(proc)
    return read_result(spec, root, proc.returncode, started, debug, job.notebook)


def took_too_long(deadline: float) -> Said:
    return Said(id="grader.took-too-long", params={"seconds": deadline})


def read_result(spec: ExerciseSpec, root: Path, returncode: int | None, started: float, debug: bool,
                notebook: Notebook | None = None) -> ExerciseResult:
    """The result a grading process wrote in `root`, or one saying the grader failed (never a traceback);
    its lines told as the cells of `notebook` when the student's module was made from one."""
    result_file = root / "result.json"
    try:
        result = ExerciseResult.model_validate_json(result_file.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        try:
            log_tail = (root / "grading.log").read_text(errors="replace")[-3000:]
        except OSError:
            log_tail = ""
        detail = f"{type(exc).__name__}: {exc}\n{log_tail}" if debug else ""
        return error_result(spec, Said(id="grader.no-result", params={"code": returncode, "detail": detail}), started)
    return in_words(notebook.relocate(result) if notebook is not None else result, spec)


def in_words(result: ExerciseResult, spec: ExerciseSpec) -> ExerciseResult:
    """A result the grading process wrote (facts) with its messages said, from the exercise's catalogue, in
    the language of `spec`'s texts."""
    from grader.render.words import fill

    return fill(result, {c.id: c for c in spec.checks}, spec.checks_folder, spec.language)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child and its session (POSIX); on Windows the child itself, whose workers' Job Objects then
    end them (grader.runner.windows: they kill their processes when the grading process's handles close)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


MAX_FILE_BYTES = 1_000_000  # one file handed in (1 MB; the reference solutions are a few KB)
MAX_FILES = 200  # .py files handed in for one exercise


def stage_submission(spec: ExerciseSpec, submission: Path | None, dest: Path) -> Said | Notebook | None:
    """Copy the student's file(s) to `dest` under the names the checks import; a problem, the notebook the
    module was made from (a `.ipynb` handed in for the exercise's one file: `grader.notebooks`), or None.

    Only regular files are copied: the exercise's files and every other .py file beside them (the
    modules they import). Each is opened without following a symbolic link (O_NOFOLLOW, O_NONBLOCK) and
    copied only if, once open, it is a regular file of at most 1 MB (MAX_FILE_BYTES); at most 200 .py
    files (MAX_FILES). A symbolic link (dangling, to /dev/zero, to a classmate's file or the reference
    solution), a named pipe or a folder named like a module is refused, naming it: nothing is followed,
    read from a device or left to crash the CLI, and the submission gets a result that says what to do."""
    dest.mkdir(parents=True)
    source = submission or spec.folder
    expected = ", ".join(spec.files)
    try:
        problem = _stage(spec, source, dest, expected)
    except OSError as exc:  # a disk that is full, a folder that changed while it was read
        problem = _problem("not-copied", path=exc.filename or source, reason=exc.strerror or str(exc))
    return problem


def escape_undecodable(text: str) -> str:
    """`text` with the bytes of a path that are not valid UTF-8 (`os.fsdecode` makes them lone surrogates,
    which no JSON, CSV or UTF-8 file can hold) written `\\xNN`, as Python's backslashreplace writes them:
    the folder b'stu\\xff' is named `stu\\xff`. Valid text is returned as it is."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no path gives (text edited by hand): `\\udNNN`
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _problem(reason: str, /, **params: Any) -> Said:
    """A problem with what was handed in: message `grader.handed-in.<reason>`, its paths named the way the
    student's terminal names them (`escape_undecodable`)."""
    return Said(id=f"grader.handed-in.{reason}", params={
        key: escape_undecodable(os.fsdecode(value)) if isinstance(value, (Path, str, bytes)) else value
        for key, value in params.items()})


def _stage(spec: ExerciseSpec, source: Path, dest: Path, expected: str) -> Said | Notebook | None:
    kind = _kind_of(source)
    if kind == "symbolic link":
        return _not_copied(source, kind)
    if kind == "file":
        if len(spec.files) == 1 and source.suffix == notebooks.SUFFIX:
            return _from_notebook(source, dest / spec.files[0])
        if len(spec.files) == 1:
            return _copy_regular(source, dest / spec.files[0])
        if source.name not in spec.files:
            return _problem("not-its-file", path=source, expected=expected)
        problem = _copy_regular(source, dest / source.name)
        if problem:
            return problem
        source = source.parent
    elif kind is None:
        return _problem("missing", path=source, expected=expected)
    elif kind != "folder":
        return _not_copied(source, kind)
    try:
        names = sorted(entry.name for entry in os.scandir(source)
                       if entry.name.endswith(".py") or entry.name in spec.files)
    except OSError as exc:
        return _problem("folder-unreadable", path=source, reason=exc.strerror)
    python_files = sum(name.endswith(".py") for name in names)
    if python_files > MAX_FILES:
        return _problem("too-many-files", path=source, count=python_files, most=MAX_FILES, expected=expected)
    missing = [name for name in spec.files if name not in names and not (dest / name).is_file()]
    made = None
    if len(spec.files) == 1 and missing:
        made = _notebook_in(spec, source, dest, expected)
        if made is not None:
            if isinstance(made, Said):
                return made
            missing = []
    if missing:
        return _problem("no-such-file", path=source, names=", ".join(missing), expected=expected)
    for name in names:
        if not (dest / name).exists():
            problem = _copy_regular(source / name, dest / name)
            if problem:
                return problem
    return made


def _notebook_in(spec: ExerciseSpec, folder: Path, dest: Path, expected: str) -> Said | Notebook | None:
    """The exercise's file made from a notebook in `folder` when the file itself is not there: the notebook
    named after it (train.ipynb for train.py), else the only notebook; None when there is none."""
    module = spec.files[0]
    chosen, found = notebooks.chosen_in(folder, module)
    if chosen is not None:
        return _from_notebook(folder / chosen, dest / module)
    if found:
        return _problem("notebooks-to-choose", path=folder, expected=expected, names=", ".join(found),
                        wanted=notebooks.named_after(module))
    return None


def _from_notebook(path: Path, target: Path) -> Said | Notebook:
    """Read a notebook handed in (as a file is copied: no link followed, at most MAX_NOTEBOOK_BYTES) and
    write the module made from its code cells to `target`."""
    data = read_regular(path, notebooks.MAX_NOTEBOOK_BYTES)
    if isinstance(data, Said):
        return data
    try:
        made = notebooks.read(data, escape_undecodable(path.name), target.name)
    except notebooks.NotebookError as exc:
        return _problem(exc.said.id.removeprefix("grader.handed-in."), **{**exc.said.params, "path": path})
    target.write_text(made.source, encoding="utf-8")
    return made


def _kind_of(path: Path) -> str | None:
    """What `path` itself is (a symbolic link is not followed), in words; None if nothing is there."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError:  # an unreadable folder on the way: opening it says why
        return "file"
    return _kind(mode)


def _kind(mode: int) -> str:
    kinds = {stat.S_ISREG: "file", stat.S_ISDIR: "folder", stat.S_ISLNK: "symbolic link", stat.S_ISFIFO: "named pipe",
             stat.S_ISSOCK: "socket", stat.S_ISCHR: "device", stat.S_ISBLK: "device"}
    return next((name for test, name in kinds.items() if test(mode)), "special file")


def _not_copied(path: Path, kind: str) -> Said:
    """Why `path` (not a regular file) is not graded, and what to do."""
    if kind == "symbolic link":
        try:
            target = os.readlink(path)
        except OSError:
            target = ""
        return _problem("link", path=path, target=target)
    if kind == "folder":
        return _problem("folder-named-py", path=path)
    return _problem("special", path=path, kind=said(f"grader.file-kind.{kind.replace(' ', '-')}"))


def _copy_regular(path: Path, target: Path) -> Said | None:
    """Copy one regular file of at most MAX_FILE_BYTES; a problem, or None."""
    data = read_regular(path, MAX_FILE_BYTES)
    if isinstance(data, Said):
        return data
    target.write_bytes(data)
    return None


def read_regular(path: Path, most: int) -> bytes | Said:
    """The bytes of one regular file of at most `most` bytes, or a problem. Opened without following a
    link and without waiting on a pipe, then checked by fstat: what is read is what was checked, even if
    the entry is swapped for a link in between."""
    kind = _kind_of(path)
    if kind != "file":
        return _not_copied(path, kind) if kind else _problem("disappeared", path=path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (EMLINK on FreeBSD)
            return _not_copied(path, "symbolic link")
        return _problem("unreadable", path=path, reason=exc.strerror)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return _not_copied(path, _kind(info.st_mode))
        data = f.read(most + 1)
    if info.st_size > most or len(data) > most:
        return _too_big(path, max(info.st_size, len(data)), most)
    return data


def _too_big(path: Path, size: int, most: int = MAX_FILE_BYTES) -> Said:
    shown = -(-size // 100_000) / 10  # in MB, rounded up: never "1.0 MB" for a file over the 1 MB cap
    reason = "notebook-too-big" if path.suffix == notebooks.SUFFIX else "too-big"
    return _problem(reason, path=path, mb=shown, most_mb=most // 1_000_000)


def handed_in_problem(path: Path) -> Said | None:
    """Why `path`, handed in, is not read (a symbolic link, a named pipe or a device, a file over
    MAX_FILE_BYTES), in words; None for a regular file, a folder or nothing there (the caller says
    what is missing). The rules of `stage_submission`, for what is read here rather than staged (a
    quiz's answers file, or a quiz notebook, at most MAX_NOTEBOOK_BYTES)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    kind = _kind(info.st_mode)
    most = notebooks.MAX_NOTEBOOK_BYTES if path.suffix == notebooks.SUFFIX else MAX_FILE_BYTES
    if kind == "file":
        problem = _too_big(path, info.st_size, most) if info.st_size > most else None
    else:
        problem = None if kind == "folder" else _not_copied(path, kind)
    return problem


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
            source = path.read_bytes()
        except OSError:
            continue
        for node in _top_level_imports(source):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                if top not in wanted and (top in PRELOAD_IF_IMPORTED or from_package(top, spec.packages)):
                    wanted.append(top)
    return wanted


_IMPORT_LINE = re.compile(r"(?:import|from)\b")
_MAX_IMPORT_CHARS = 10_000  # one import statement (a longer one is not read: it only costs a preload)


def _top_level_imports(source: bytes) -> list[ast.stmt]:
    """The import statements at the top level of a file (lines starting with `import` or `from`, with
    their continuation lines), each parsed on its own. The file is never parsed as a whole here: a file
    nested too deeply for Python (`ast.parse` raises RecursionError or MemoryError, not SyntaxError)
    or a huge one costs this process no more than its import lines; the grading reports such code."""
    lines = source.decode("utf-8", "replace").splitlines()
    found: list[ast.stmt] = []
    number = 0
    while number < len(lines):
        statement = lines[number]
        number += 1
        if not _IMPORT_LINE.match(statement):
            continue
        while number < len(lines) and len(statement) <= _MAX_IMPORT_CHARS and (
                statement.endswith("\\") or statement.count("(") > statement.count(")")):
            statement += "\n" + lines[number]
            number += 1
        if len(statement) > _MAX_IMPORT_CHARS:
            continue
        try:
            found.extend(ast.parse(statement).body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # not an import after all (a line of a string, say): nothing to preload
    return found


def failure_kind(message: Said) -> FailureKind:
    """The kind of a whole submission's failure, from the message that says it."""
    if message.id.startswith("grader.handed-in.") or message.id in ("quiz.no-answers-file", "quiz.answers-unreadable"):
        return FailureKind.HANDED_IN
    return FailureKind.TIMEOUT if message.id == "grader.took-too-long" else FailureKind.INTERNAL


def error_result(spec: ExerciseSpec, message: Said, started: float) -> ExerciseResult:
    """A result for a submission (code or a quiz's answers) that could not be graded at all (`message`: why,
    as the grader's catalogue says it): every check or question is an error, the reason said once, in the
    exercise's language."""
    failure = Failure(kind=failure_kind(message), said=message, during_import=True)
    checks = [
        CheckResult(id=item.id, title=item.title, status="error", points=0.0, max_points=item.points,
                    failure=failure, concepts=item.concepts, hidden=getattr(item, "hidden", False))
        for item in (spec.questions if spec.kind == "quiz" else spec.checks)
    ]
    return in_words(ExerciseResult.from_checks(exercise=spec.name, exercise_id=spec.id, title=spec.title,
                                               checks=checks, duration=time.monotonic() - started, kind=spec.kind,
                                               failure=failure), spec)
