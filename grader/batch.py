"""`grade batch DIR`: a whole class at once. DIR holds one folder per student (the folder's name is
the student's id), each with that student's files in any layout `grade all` reads.

Each (student, exercise) is a task. Code exercises go to warm grading processes
(`grader.runner.pool`), one per worker, which import torch and the grader once; quizzes are graded
here. Every result is appended to a journal (`grades.records.jsonl` beside `grades.csv`) the moment it
is known, so an interrupted batch loses nothing and `--resume` grades only what is missing. The
gradebook, the class statistics and the per-student reports are views of the journal; `grade merge`
builds them from the journals of several shards.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

from grader.results import CourseResult, ExerciseResult
from grader.runner import launch
from grader.runner.warm import WARM_PROCESSES, WarmGrader, grade_warm, grader_failed
from grader.spec import ExerciseSpec
from grader.submissions import GradingOptions, find_submission, grade_exercise



class BatchError(click.ClickException):
    """A batch cannot start (a journal from another run, no students): what is wrong and what to do."""


class BatchInterrupted(click.ClickException):
    """Ctrl-C: what was graded is kept; the message says how to go on."""

    exit_code = 130


@dataclass
class Task:
    student: str
    spec: ExerciseSpec

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.spec.name


# ----------------------------------------------------------------------------- students and shards


def find_students(root: Path) -> list[str]:
    """The ids of every student folder in `root` (hidden folders and loose files skipped), sorted. An id
    is the folder's name, escaped where it is not valid UTF-8 (`student_id`). A symbolic link to a
    folder is a student too, never followed: each of their results says the folder is a link (so a
    student whose folder links to a classmate's is in the gradebook, with 0 and the reason). Anything
    else (a named pipe, a dangling link, an entry that cannot be read) is skipped like a loose file."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as exc:
        raise BatchError(f"Cannot read the class folder {student_id(str(root))}: {exc.strerror}. Make it readable "
                         "(chmod u+rx) and run again.") from None
    ids: dict[str, str] = {}
    for entry in entries:
        try:
            is_folder = entry.is_dir()  # follows a link: a linked folder is graded, and refused, by name
        except OSError:
            is_folder = False
        if not is_folder or entry.name.startswith((".", "_")):
            continue
        sid = student_id(entry.name)
        if sid in ids or (sid != entry.name and os.path.lexists(root / sid)):
            click.echo(f"warning: skipped the folder {sid} in {student_id(str(root))}: its name is not valid UTF-8, "
                       f"and written as {sid} it is the name of another student's folder. Rename it.", err=True)
            continue
        ids[sid] = entry.name
    return sorted(ids)


def student_id(name: str) -> str:
    """A student's id for their folder's name: the name itself, except that bytes which are not valid
    UTF-8 are written `\\xNN` (Python's backslashreplace). The folder b'stu\\xff' (`os.fsdecode` makes
    the byte a lone surrogate, which no CSV, JSON or UTF-8 report can hold) is the student `stu\\xff` in
    the journal, grades.csv, grades.json and its report (`stu\\xff.md`); `student_folder` finds the folder
    again from it. Messages naming such a folder name it the same way (`launch.escape_undecodable`)."""
    return launch.escape_undecodable(name)


def student_folder(root: Path, student: str) -> Path:
    """The folder of the student `student` (an id from `find_students`) in `root`: the folder of that
    name, or the one whose name is not valid UTF-8 and escapes to it."""
    folder = root / student
    if os.path.lexists(folder):
        return folder
    try:
        return next((root / entry.name for entry in os.scandir(root) if student_id(entry.name) == student), folder)
    except OSError:
        return folder


def _escaped_result(result: ExerciseResult) -> ExerciseResult:
    """`result` with any text that is not valid UTF-8 (a message naming a student's folder) escaped as
    `student_id` escapes a name: what the journal, gradebooks and reports can hold."""
    def escape(value: Any) -> Any:
        if isinstance(value, str):
            return launch.escape_undecodable(value)
        if isinstance(value, list):
            return [escape(v) for v in value]
        if isinstance(value, dict):
            return {escape(k): escape(v) for k, v in value.items()}
        return value

    try:
        result.model_dump_json()
        return result
    except ValueError:  # pydantic's serialization error: a lone surrogate somewhere
        return ExerciseResult.model_validate(escape(result.model_dump(mode="python")))


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1 <= I <= N) into (I, N)."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not I/N (for example 2/8)") from None
    if not 1 <= i <= n:
        raise click.BadParameter(f"{text!r}: I must be between 1 and N")
    return i, n


def in_shard(student: str, shard: tuple[int, int]) -> bool:
    """Whether `student` belongs to shard I of N: decided by the id alone (a stable hash), so every
    machine agrees without talking to the others, and a student added later moves nobody."""
    i, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % n == i - 1


# ----------------------------------------------------------------------------- the journal


@dataclass
class Record:
    student: str
    result: ExerciseResult

    def to_line(self) -> str:
        return json.dumps({"student": self.student, "result": json.loads(self.result.model_dump_json())}) + "\n"


class Journal:
    """Append-only: one line per (student, exercise) result, flushed and synced as it is written."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    @staticmethod
    def path_for(out: Path) -> Path:
        return out.with_name(out.stem + ".records.jsonl")

    def read(self) -> list[Record]:
        """Every complete record (a line cut short by a kill is dropped, and cut off the file, so the
        next record starts on a line of its own)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
        records = []
        for number, line in enumerate(complete.decode("utf-8", "replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                result = ExerciseResult.model_validate(raw["result"])
                if "\\ud" in line:  # a journal written before names were escaped: the same ids as now
                    result = _escaped_result(result)
                records.append(Record(student=student_id(str(raw["student"])), result=result))
            except (ValueError, KeyError, TypeError) as exc:
                raise BatchError(f"{self.path}:{number}: not a result record ({type(exc).__name__}). "
                                 "Was the file edited by hand? Remove that line and run again.") from None
        return records

    def replace_with(self, records: list[Record]) -> None:
        """Write `records` as the whole journal, atomically (`grade merge`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(r.to_line() for r in records), encoding="utf-8")
        os.replace(tmp, self.path)

    def append(self, record: Record) -> None:
        """Write one record, its student and text escaped where they are not valid UTF-8 (`student_id`)."""
        line = Record(student_id(record.student), _escaped_result(record.result)).to_line().encode()
        with self._lock, open(self.path, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())


def latest(records: list[Record]) -> dict[tuple[str, str], Record]:
    """One record per (student, exercise): the last one written wins (a regrade appended later)."""
    return {(r.student, r.result.exercise): r for r in records}


# ----------------------------------------------------------------------------- warm grading processes


# ----------------------------------------------------------------------------- running a batch


@dataclass
class BatchRun:
    """What `run_batch` needs besides the tasks."""

    root: Path
    options: GradingOptions
    workers: int
    journal: Journal
    on_result: Callable[[Record], None] = lambda record: None
    stop: threading.Event = field(default_factory=threading.Event)
    warm: set[WarmGrader] = field(default_factory=set)  # running now, for `halt`
    lock: threading.Lock = field(default_factory=threading.Lock)

    def halt(self) -> None:
        """Stop at once (Ctrl-C): no new task starts, and the warm processes are ended, so a task under
        way ends too (unrecorded)."""
        self.stop.set()
        with self.lock:
            for warm in list(self.warm):
                warm.stop()


def run_batch(tasks: list[Task], run: BatchRun) -> None:
    """Grade every task with `run.workers` workers; each result goes to the journal as it comes. A
    submission that crashes, hangs or runs out of memory costs only its own result. Setting `run.stop`
    (Ctrl-C) ends the warm processes; what was not finished is not recorded."""
    pending: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
    for task in tasks:
        pending.put(task)
    workers = max(1, min(run.workers, len(tasks)))
    for _ in range(workers):
        pending.put(None)
    errors: list[BaseException] = []
    with tempfile.TemporaryDirectory(prefix="torchgrade-batch-") as logs:
        threads = [threading.Thread(target=_work, args=(pending, run, Path(logs), n, errors), daemon=True)
                   for n in range(workers)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # short waits, so Ctrl-C reaches the main thread
        except KeyboardInterrupt:
            run.halt()
            for thread in threads:
                thread.join()
            raise
    if errors:
        raise errors[0]


def _work(pending: queue.SimpleQueue[Task | None], run: BatchRun, logs: Path, number: int,
          errors: list[BaseException]) -> None:
    warm: WarmGrader | None = None
    try:
        while (task := pending.get()) is not None and not run.stop.is_set():
            one_off = task.spec.kind == "quiz" or not WARM_PROCESSES
            if not one_off and warm is None:
                with run.lock:
                    if run.stop.is_set():
                        break
                    warm = WarmGrader(logs, number)
                    run.warm.add(warm)
            try:
                submission = find_submission(task.spec, student_folder(run.root, task.student))
                if one_off:  # a quiz (its key is computed once per batch), or a system without fork
                    options = GradingOptions(**{**run.options.__dict__, "student": task.student})
                    result, healthy = grade_exercise(task.spec, submission, options), True
                else:
                    assert warm is not None
                    result, healthy = grade_warm(warm, task.spec, submission, run.options)
            except Exception as exc:  # noqa: BLE001 - whatever one submission does to the grader costs only its result
                result, healthy = grader_failed(task.spec, exc, run.options.debug), one_off
            if not healthy and warm is not None:
                warm.stop()
                with run.lock:
                    run.warm.discard(warm)
                warm = None
            if run.stop.is_set():
                break  # a result cut short by Ctrl-C is not the submission's: not recorded
            record = Record(task.student, _escaped_result(result))
            run.journal.append(record)
            run.on_result(record)
    except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
        errors.append(exc)
        run.stop.set()
    finally:
        if warm is not None:
            warm.stop()
            with run.lock:
                run.warm.discard(warm)


# ----------------------------------------------------------------------------- gradebook and statistics


@dataclass
class Graded:
    """What `grade_class` leaves: every record of the journal (earlier runs' too), how many this run graded,
    and how long it took."""

    records: list[Record]
    graded_now: int
    seconds: float


def grade_class(folder: Path, specs: list[ExerciseSpec], options: GradingOptions, *, out: Path,
                workers: int | None = None, resume: bool = False, shard: str | None = None) -> Graded:
    """`grade batch`: every student folder of `folder` (or one shard of them) times every exercise of `specs`,
    each result kept in the journal beside the gradebook `out` the moment it is known; with `resume`, only
    what the journal lacks. BatchError (nothing to grade, an earlier journal, a journal that cannot be
    written) and BatchInterrupted say what is kept and how to go on."""
    students = find_students(folder)
    if shard:
        students = [s for s in students if in_shard(s, parse_shard(shard))]
    if not students:
        raise BatchError(f"No student folders in {folder}{' for shard ' + shard if shard else ''}. Put each "
                         "student's files in a folder named after them: DIR/alice/train.py, DIR/bob/...")
    journal = Journal(Journal.path_for(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"Cannot make the folder {out.parent} for the gradebook: {exc.strerror}.") from None
    earlier = journal.read()
    if earlier and not resume:
        raise BatchError(f"{journal.path} already holds {len(earlier)} results of an earlier batch. Pass --resume "
                         "to grade only what is missing, or move the file away to start over.")
    have = set(latest(earlier))
    tasks = [Task(s, spec) for s in students for spec in specs if (s, spec.name) not in have]
    display = Display(len(tasks), sys.stderr.isatty())
    # Student code sees the class folder and the gradebook's only the way through: nobody reads another's work.
    options.private = (str(folder.resolve()), str(out.resolve().parent))
    run = BatchRun(root=folder, options=options, workers=workers or os.cpu_count() or 1, journal=journal,
                   on_result=display.record)
    started = time.monotonic()
    try:
        run_batch(tasks, run)
    except OSError as exc:  # the journal could not be written (disk full, say): stop, keeping what is there
        raise BatchError(f"Cannot write {exc.filename or journal.path}: {exc.strerror}. The results written "
                         f"before are kept in {journal.path}; fix this and run again with --resume.") from None
    except KeyboardInterrupt:
        raise BatchInterrupted(f"Interrupted: {display.done} results of this run are kept in {journal.path}. "
                               "Run the same command with --resume to grade the rest.") from None
    finally:
        display.close()
    return Graded(journal.read(), display.done, time.monotonic() - started)


def gradebook(records: list[Record], exercises: list[str]) -> list[dict[str, Any]]:
    """One row per student: points per exercise (empty where not graded), total and maximum."""
    by_student: dict[str, dict[str, ExerciseResult]] = {}
    for (student, exercise), record in sorted(latest(records).items()):
        by_student.setdefault(student, {})[exercise] = record.result
    rows = []
    for student, results in by_student.items():
        row: dict[str, Any] = {"student": student}
        for name in exercises:
            row[name] = results[name].score if name in results else None
        counted = [results[name] for name in exercises if name in results]
        row["total"] = round(sum(r.score for r in counted), 6)
        row["max"] = round(sum(r.max_score for r in counted), 6)
        rows.append(row)
    return rows


def statistics(records: list[Record], top: int = 3) -> list[dict[str, Any]]:
    """Per exercise and check: how many were graded, the pass rate, and the most common reasons for
    failing (grouped by their facts: the message id, or the error catalogue's entry; each shown by the first
    line of one of its messages)."""
    checks: dict[tuple[str, str], dict[str, Any]] = {}
    for record in latest(records).values():
        for check in record.result.checks:
            entry = checks.setdefault((record.result.exercise, check.id), {
                "exercise": record.result.exercise, "check": check.id, "title": check.title,
                "graded": 0, "passed": 0, "skipped": 0, "failures": Counter(), "examples": {}})
            if check.status == "skipped":
                entry["skipped"] += 1
                continue
            entry["graded"] += 1
            if check.status == "passed":
                entry["passed"] += 1
            elif not record.result.message:  # a whole submission that could not run is counted once, per exercise
                key = failure_key(check)
                entry["failures"][key] += 1
                entry["examples"].setdefault(key, _first_line(check.message) or check.status)
    out = []
    for (_, _), entry in sorted(checks.items()):
        failures, examples = entry.pop("failures"), entry.pop("examples")
        entry["pass_rate"] = round(entry["passed"] / entry["graded"], 4) if entry["graded"] else None
        entry["common_failures"] = [{"message": examples[k], "id": k, "count": c} for k, c in failures.most_common(top)]
        out.append(entry)
    return out


def error_statistics(records: list[Record], top: int = 5) -> dict[str, Any]:
    """The errors students' code raised, counted once per student and exercise: those the catalogue of
    PyTorch errors explained (by entry), and the most common it could not explain yet, the ones worth
    adding to `grader/explain/catalogue.yaml`."""
    explained: Counter[str] = Counter()
    unexplained: Counter[str] = Counter()
    for record in latest(records).values():
        runs = [c.failure.run for c in record.result.checks if c.failure and c.failure.run and c.failure.run.summary]
        raised = {run.summary: run.explained.id if run.explained else "" for run in runs}
        for text, entry in raised.items():
            if entry:
                explained[entry] += 1
            else:
                unexplained[text] += 1
    return {"explained": [{"entry": e, "count": c} for e, c in explained.most_common(top)],
            "unexplained": [{"error": e, "count": c} for e, c in unexplained.most_common(top)],
            "unexplained_total": sum(unexplained.values())}


def failure_key(check: Any) -> str:
    """What a failure is, for counting alike ones together: its message id, or for a run of the student's
    code that did not finish, the error catalogue's entry (else what was raised, else how it ended). (A
    verdict that tells of an error the probe caught counts by its message id; `error_statistics` counts
    the error.)"""
    failure = check.failure
    if failure is None:
        return check.status
    if failure.run is not None and failure.said is None:
        run = failure.run
        return run.explained.id if run.explained else run.summary or str(failure.kind)
    return failure.said.id if failure.said else str(failure.kind)


def _first_line(message: str) -> str:
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    return line if len(line) <= 160 else line[:157] + "..."


def write_gradebook(out: Path, records: list[Record], exercises: list[str]) -> None:
    """`grades.csv` (one row per student) or `grades.json` (rows, exercises and class statistics), in
    UTF-8: a student's id and any text that is not valid UTF-8 escaped as in the journal (`student_id`)."""
    records = _escaped_records(records)
    rows = gradebook(records, exercises)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix.lower() == ".json":
        tmp.write_text(json.dumps({"exercises": exercises, "students": rows,
                                   "statistics": statistics(records), "errors": error_statistics(records)},
                                  indent=2) + "\n", encoding="utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["student", *exercises, "total", "max"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else f"{v:g}" if isinstance(v, float) else _cell(v)) for k, v in row.items()})
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, out)


def _escaped_records(records: list[Record]) -> list[Record]:
    """`records` with ids and text escaped where they are not valid UTF-8 (records built by hand, or read
    from a journal written before names were escaped), so every view names a student as the journal does."""
    return [Record(student_id(r.student), _escaped_result(r.result)) for r in records]


def _report_name(student: str, suffix: str) -> str:
    """The file name of `student`'s report: their id, as in the gradebook (`stu\\xff.md`). An id from a
    journal edited by hand may hold what no file name can: `/` and NUL become `_`, a name of dots only
    gets a `_` in front. An id too long for a file name (escaped bytes take four characters each) is
    cut, with a hash of the whole id, so two long ids still get two reports."""
    name = student.replace("/", "_").replace("\0", "_")
    if not name.strip("."):
        name = f"_{name}"
    if len((name + suffix).encode("utf-8")) > 255:
        digest = hashlib.sha256(student.encode("utf-8")).hexdigest()[:12]
        name = name.encode("utf-8")[:200].decode("utf-8", "ignore") + "-" + digest
    return name + suffix


def write_reports(folder: Path, records: list[Record], fmt: str, glossary: Any) -> int:
    """One feedback report per student (`STUDENT.md` or `.html`): every exercise of theirs, as `grade
    all` shows it. The file is named by the student's id, as in the gradebook (`_report_name`)."""
    from grader.render import render_result

    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[ExerciseResult]] = {}
    for (student, _), record in sorted(latest(_escaped_records(records)).items()):
        by_student.setdefault(student, []).append(record.result)
    suffix = ".html" if fmt == "html" else ".md"
    for student, results in by_student.items():
        text = render_result(CourseResult.from_results(results), fmt, glossary, color=False)
        (folder / _report_name(student, suffix)).write_text(launch.escape_undecodable(text), encoding="utf-8")
    return len(by_student)


def finish(records: list[Record], exercises: list[str], out: Path, reports: Path | None, report_format: str,
           glossary: Any, graded_now: int | None, seconds: float, color: bool) -> str:
    """The end of a batch (or a merge): the gradebook, the reports if asked, and the class summary's text."""
    from grader.render import render_batch_summary

    write_gradebook(out, records, exercises)
    if reports is not None:
        write_reports(reports, records, "html" if report_format == "html" else "markdown", glossary)
    return render_batch_summary(summary(records, exercises, graded_now, seconds), color)


def summary(records: list[Record], exercises: list[str], graded_now: int | None = None,
            seconds: float = 0.0) -> dict[str, Any]:
    """What the end-of-batch summary shows (`render_batch_summary`)."""
    kept = latest(records)
    stats = statistics(records)
    out = []
    for name in exercises:
        results = [r.result for (_, exercise), r in kept.items() if exercise == name]
        if not results:
            continue
        not_run = Counter(_first_line(r.message) for r in results if r.message)
        out.append({"name": name, "count": len(results), "passed": sum(r.passed for r in results),
                    "mean": sum(r.score for r in results) / len(results), "max": max(r.max_score for r in results),
                    "checks": [s for s in stats if s["exercise"] == name],
                    "not_run": [{"message": m, "count": c} for m, c in not_run.most_common(3)],
                    "not_run_count": sum(not_run.values())})
    return {"students": len({student for student, _ in kept}), "results": len(kept), "graded_now": graded_now,
            "seconds": seconds, "exercises": out, "errors": error_statistics(records)}


class Display:
    """Progress on stderr: a bar with counts and the time left on a terminal, one plain line per result
    when piped (a CI log, a Slurm output file)."""

    def __init__(self, total: int, interactive: bool):
        self.total, self.done = total, 0
        self._bar = None
        if interactive and total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 TextColumn("{task.description}"), console=_stderr_console(), transient=True)
            self._task = self._bar.add_task("", total=total)
            self._bar.start()
        self._lock = threading.Lock()

    def record(self, record: Record) -> None:
        with self._lock:
            self.done += 1
            r = record.result
            from grader.render import terminal_text

            line = f"{terminal_text(record.student, one_line=True)} {r.exercise} {r.score:g}/{r.max_score:g} {r.status}"
            if self._bar is not None:
                from rich.markup import escape

                self._bar.update(self._task, advance=1, description=escape(line))  # a folder name is not markup
            else:
                click.echo(f"[{self.done}/{self.total}] {line} ({r.duration:.1f} s)", err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _cell(value: Any) -> Any:
    """A gradebook cell a spreadsheet shows as text: a student id starting with =, +, - or @ (a formula
    once opened, `=HYPERLINK(...)`) gets a leading quote, as OWASP's CSV-injection advice says."""
    return "'" + value if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
