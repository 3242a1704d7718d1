"""Benchmark `grade batch` against the naive baseline, in one run.

    python bench/batch.py [--students 40] [--exercises 1 2 3 4 5] [--workers 2] [--baseline-students 6]
                          [--compare-huge-pages [--rounds 3]]
    python bench/batch.py --resume-check [--students 500] [--exercises 1 2 3]

Makes a synthetic class (a seeded mix per student and exercise: the reference solution, a correct
solution in another style, or one of the exercise's known mistakes), fills a private reference cache
once, then times

- `grade batch` over the whole class with --workers W, sampling the proportional memory (PSS) of its
  whole process tree, and
- the naive baseline: one fresh `grade exercise N --submission FILE` process per submission and
  exercise (each imports torch and starts pytest afresh), W at a time, on the first
  --baseline-students students' files (the same files; the full baseline would take far longer),

and reports submissions per second for both, the ratio, the batch's peak memory, and the overhead per
submission above the checks' own compute (worker seconds per submission minus the time spent inside
the checks, from each result), and the CPU each kind of process took (the CLI, warm processes, the
gradings they fork, zygotes, probe workers). Verdicts of the sampled submissions must be identical.
--compare-huge-pages grades the class again --rounds times with a warm process's memory in huge pages
and as often with it in 4 KiB pages (TORCHGRADE_HUGE_PAGES=0), alternately, and reports the median
ratio (`--baseline-students 0` skips the baseline).

--resume-check grades the class uninterrupted, then again with a Ctrl-C half-way and --resume, and
compares the two gradebooks. Results go to stdout as text and to --json if given. Not a test: numbers
on shared machines vary; compare the two sides of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUGS = {1: "01-dataset", 2: "02-forward", 3: "03-training-loop", 4: "04-device", 5: "05-amp"}


def make_class(folder: Path, students: int, exercises: list[int], seed: int = 0) -> dict[tuple[str, int], str]:
    """One folder per student with NN-slug/<file> per exercise; returns what each submission is."""
    rng = random.Random(seed)
    kinds = {}
    for number in range(students):
        student = f"s{number:04d}"
        for ex in exercises:
            solutions = ROOT / "solutions" / SLUGS[ex]
            reference = next(p for p in solutions.glob("*.py"))
            alternatives = sorted((solutions / "alternatives").glob("*.py"))
            mutants = sorted((solutions / "mutants").glob("*.py"))
            roll = rng.random()
            if roll < 0.35:
                source, kind = reference, "reference"
            elif roll < 0.5 and alternatives:
                source = rng.choice(alternatives)
                kind = f"alternative:{source.stem}"
            else:
                source = rng.choice(mutants)
                kind = f"mutant:{source.stem}"
            target = folder / student / SLUGS[ex] / reference.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            kinds[(student, ex)] = kind
    return kinds


class TreeSampler:
    """Samples a process tree every `every` seconds: the peak of its summed proportional memory (PSS),
    and the CPU each kind of grader process used (named by `isolation.name_process`). Reading PSS walks
    every page table of every process (`smaps_rollup`): sampled every 0.1 s it took about 15% of this
    2-core machine's CPU away from the batch it measured; every second, about 1.5%.

    CPU by kind comes from the long-lived processes' counters, last seen up to `every` seconds before
    they end: a warm process's own time (tg-pool), its zygote's own (tg-zygote: mostly fork()), the
    zygote's reaped children (tg-worker: the probes), the warm process's reaped children (tg-grading:
    pytest and the judge); the CLI is what is left of the tree's total (`cpu_by_kind`)."""

    def __init__(self, pid: int, every: float = 1.0):
        self.pid, self.peak, self.every = pid, 0, every
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid: (name, own CPU s, reaped children's CPU s)
        self._cpu_before = _children_cpu()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            tree = _tree(self.pid)
            self.peak = max(self.peak, sum(_pss(p) for p in tree))
            for pid in tree:
                if (counters := _cpu(pid)) is not None and counters[0] in ("tg-pool", "tg-zygote"):
                    self.seen[pid] = counters

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.total_cpu = _children_cpu() - self._cpu_before
        return self.peak

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds by kind of process, and the share of the tree's total each took."""
        kinds = {"cli": 0.0, "tg-pool": 0.0, "tg-grading": 0.0, "tg-zygote": 0.0, "tg-worker": 0.0}
        for name, own, children in self.seen.values():
            kinds[name] += own
            kinds["tg-worker" if name == "tg-zygote" else "tg-grading"] += children
        kinds["cli"] = max(0.0, self.total_cpu - sum(kinds.values()))
        total = self.total_cpu or 1.0
        return {kind: {"cpu_s": round(seconds, 1), "share": round(seconds / total, 3)} for kind, seconds in kinds.items()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu(pid: int) -> tuple[str, float, float] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        name = stat[stat.find(b"(") + 1:stat.rfind(b")")].decode(errors="replace")
        fields = stat[stat.rfind(b")") + 2:].split()
        tick = os.sysconf("SC_CLK_TCK")
        return name, (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick
    except (OSError, ValueError, IndexError):
        return None


def _tree(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
                parents[int(entry)] = int(stat[stat.rfind(b")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def bench_env(scratch: Path) -> dict[str, str]:
    """This environment without the grader's own settings, with a private reference cache in `scratch`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHGRADE_", "PYTEST_", "GITHUB_"))}
    env.update(TORCHGRADE_CACHE_DIR=str(scratch / "cache"), TORCHGRADE_PROGRESS=str(scratch / "progress.json"),
               NO_COLOR="1", PYTHONPATH=str(ROOT))
    return env


def grade_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader.cli", "--course", str(ROOT), *args]


def run_batch(students: Path, exercises: list[int], workers: int, out: Path, env: dict[str, str],
              extra: tuple[str, ...] = ()) -> tuple[float, TreeSampler, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    proc = subprocess.Popen(grade_cmd("batch", str(students), *map(str, exercises), "--workers", str(workers),
                                      "--out", str(out), *extra),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    out_text, err_text = proc.communicate()
    sampler.stop()
    return time.monotonic() - started, sampler, subprocess.CompletedProcess(proc.args, proc.returncode, out_text, err_text)


def benchmark(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict:
    students = work / "class"
    kinds = make_class(students, args.students, args.exercises)
    # The reference's answers are cached on disk: fill the cache once, for both sides alike.
    for ex in args.exercises:
        reference = next((ROOT / "solutions" / SLUGS[ex]).glob("*.py"))
        subprocess.run(grade_cmd("exercise", str(ex), "--submission", str(reference), "--format", "json"), env=env,
                       capture_output=True, check=False)
    batched, figures = graded_batch(args, students, work / "grades.json", env)
    tasks = len(batched)
    also = {}
    if args.compare_huge_pages:  # the class again, alternately with and without huge pages, `--rounds` times
        rounds = []
        for number in range(args.rounds):
            pair = {}
            for pages, extra in (("huge", {}), ("4k", {"TORCHGRADE_HUGE_PAGES": "0"})):
                again, pair[pages] = graded_batch(args, students, work / f"{pages}-{number}" / "grades.json",
                                                  {**env, **extra})
                pair[pages]["verdicts_as_first_batch"] = all(_verdicts(again[k]) == _verdicts(r) for k, r in batched.items())
            rounds.append(pair)
        ratios = sorted(p["huge"]["submissions_per_s"] / p["4k"]["submissions_per_s"] for p in rounds)
        also["huge_pages"] = {"rounds": rounds, "median_speedup": round(ratios[len(ratios) // 2], 3)}

    sample = sorted({s for s, _ in kinds})[: args.baseline_students]
    pairs = [(s, ex) for s in sample for ex in args.exercises]

    def naive(pair: tuple[str, int]) -> tuple[tuple[str, int], dict]:
        s, ex = pair
        done = subprocess.run(grade_cmd("exercise", str(ex), "--submission", str(students / s / SLUGS[ex]),
                                        "--format", "json"), env=env, capture_output=True, text=True)
        return pair, json.loads(done.stdout)

    started = time.monotonic()
    with ThreadPoolExecutor(args.workers) as pool:
        baseline = dict(pool.map(naive, pairs))
    baseline_wall = time.monotonic() - started
    mismatches = [f"{s} exercise {ex}" for (s, ex), result in baseline.items()
                  if _verdicts(result) != _verdicts(batched[(s, ex)])]
    batch_rate, baseline_rate = figures["submissions_per_s"], len(pairs) / baseline_wall if pairs else 0.0
    return {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "class": {"students": args.students, "exercises": args.exercises, "submissions": tasks,
                  "mix": {k: sum(1 for v in kinds.values() if v.startswith(k)) for k in ("reference", "alternative", "mutant")}},
        "batch": figures,
        "baseline": {"parallel": args.workers, "submissions": len(pairs), "wall_s": round(baseline_wall, 2),
                     "submissions_per_s": round(baseline_rate, 3)},
        "speedup": round(batch_rate / baseline_rate, 2) if baseline_rate else None,
        "verdict_mismatches": mismatches,
        **also,
    }


def graded_batch(args: argparse.Namespace, students: Path, out: Path, env: dict[str, str]) -> tuple[dict, dict]:
    """One `grade batch` of the class: each submission's result, and the batch's figures."""
    wall, sampler, ran = run_batch(students, args.exercises, args.workers, out, env)
    if ran.returncode != 0:
        sys.exit(f"grade batch failed ({ran.returncode}):\n{ran.stderr[-3000:]}")
    records = [json.loads(line) for line in (out.parent / "grades.records.jsonl").read_text().splitlines()]
    batched = {(r["student"], int(r["result"]["exercise_id"])): r["result"] for r in records}
    tasks = len(batched)
    check_seconds = sum(sum(c["duration"] for c in r["checks"]) for r in batched.values())
    return batched, {"workers": args.workers, "wall_s": round(wall, 2), "submissions_per_s": round(tasks / wall, 3),
                     "peak_pss_mib": round(sampler.peak / 2**20, 1),
                     "checks_s_per_submission": round(check_seconds / tasks, 4),
                     "worker_s_per_submission": round(wall * args.workers / tasks, 4),
                     "overhead_ms_per_submission": round(1000 * (wall * args.workers - check_seconds) / tasks, 1),
                     "cpu_by_process_kind": sampler.cpu_by_kind()}


def _verdicts(result: dict) -> list[tuple]:
    return [(c["id"], c["status"], c["points"]) for c in result["checks"]]


def resume_check(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict:
    students = work / "class"
    make_class(students, args.students, args.exercises)
    full_wall, _, ran = run_batch(students, args.exercises, args.workers, work / "full" / "grades.csv", env)
    if ran.returncode != 0:
        sys.exit(f"grade batch failed ({ran.returncode}):\n{ran.stderr[-3000:]}")
    total = args.students * len(args.exercises)
    out = work / "interrupted" / "grades.csv"
    started = time.monotonic()
    proc = subprocess.Popen(grade_cmd("batch", str(students), *map(str, args.exercises), "--workers", str(args.workers),
                                      "--out", str(out)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(f"[{total // 2}/"):
            proc.send_signal(signal.SIGINT)
            break
    proc.communicate()
    kept = len((out.parent / "grades.records.jsonl").read_text().splitlines())
    resumed_wall, _, again = run_batch(students, args.exercises, args.workers, out, env, ("--resume",))
    first, second = (list(csv.DictReader(p.open())) for p in (work / "full" / "grades.csv", out))
    return {"students": args.students, "exercises": args.exercises, "submissions": total,
            "uninterrupted_wall_s": round(full_wall, 1), "interrupted_exit_code": proc.returncode,
            "kept_at_interrupt": kept, "resumed_exit_code": again.returncode,
            "interrupted_plus_resumed_wall_s": round(time.monotonic() - started, 1),
            "resume_wall_s": round(resumed_wall, 1), "gradebooks_equal": first == second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--exercises", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-students", type=int, default=6)
    parser.add_argument("--resume-check", action="store_true")
    parser.add_argument("--compare-huge-pages", action="store_true",
                        help="Grade the class again, alternately with and without huge pages, --rounds times.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="torchgrade-bench-") as scratch:
        work = Path(scratch)
        env = bench_env(work)
        figures = resume_check(args, work, env) if args.resume_check else benchmark(args, work, env)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
