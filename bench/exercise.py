"""Benchmark one `grade exercise N`, as a student runs it: wall time and peak memory, per exercise.

    python bench/exercise.py [--exercises 1 2 3 4 5] [--repeat 5] [--json FILE]

For each exercise: the reference solution is graded once to fill a private reference cache and warm
the disk, then `--repeat` more times, untouched (the median wall time is reported, next to the median
of as many `python -c "import torch, torchvision"`, taken in between so both see the same machine),
and once more while the proportional memory (PSS) of the whole process tree (the CLI, the grading
process, its zygote and workers, any DataLoader workers) is sampled every 0.1 s: the peak is what a
platform's memory limit (Gradescope's default autograder: 768 MB) meets. Not a test: figures on a
shared machine vary; compare the columns of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import ROOT, TreeSampler, bench_env, grade_cmd  # noqa: E402 - bench/ is a folder of scripts, not a package

GOAL_EXTRA_S = 0.7  # issue 24: within 0.7 s of importing torch and torchvision
GOAL_PSS_MIB = 768  # Gradescope's default autograder memory


def code_exercises() -> list[int]:
    return sorted(int(p.name[:2]) for p in (ROOT / "exercises").iterdir()
                  if p.is_dir() and p.name[:2].isdigit() and (ROOT / "solutions" / p.name).is_dir()
                  and any((ROOT / "solutions" / p.name).glob("*.py")))


def reference_of(number: int) -> Path:
    folder = next(p for p in (ROOT / "solutions").iterdir() if p.name.startswith(f"{number:02d}-"))
    return next(folder.glob("*.py"))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return time.monotonic() - started, done


def measure(number: int, repeat: int, env: dict[str, str]) -> dict:
    grade = grade_cmd("exercise", str(number), "--submission", str(reference_of(number)), "--format", "json")
    imports = [sys.executable, "-c", "import torch, torchvision"]
    _, first = timed(grade, env)  # fills the reference cache
    result = json.loads(first.stdout)
    if result["score"] != result["max_score"]:
        sys.exit(f"exercise {number}: the reference scored {result['score']}/{result['max_score']}")
    grading, importing = [], []
    for _ in range(repeat):
        grading.append(timed(grade, env)[0])
        importing.append(timed(imports, env)[0])
    peak, sampled_wall = _peak(grade, env)
    checks_s = sum(c["duration"] for c in result["checks"])
    extra = statistics.median(grading) - statistics.median(importing)
    return {"exercise": number, "grade_s": round(statistics.median(grading), 2),
           "import_s": round(statistics.median(importing), 2), "extra_s": round(extra, 2),
           "checks_s": round(checks_s, 2), "within_goal": extra <= GOAL_EXTRA_S,
           "peak_pss_mib": round(peak / 2**20, 1), "pss_within_goal": peak / 2**20 <= GOAL_PSS_MIB,
           "sampled_run_s": round(sampled_wall, 2)}


def _peak(cmd: list[str], env: dict[str, str]) -> tuple[int, float]:
    """The peak PSS of one run's whole process tree, sampled every 0.1 s, and that run's wall time."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = TreeSampler(proc.pid, every=0.1)
    proc.wait()
    wall = time.monotonic() - started
    return sampler.stop(), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exercises", type=int, nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="torchgrade-bench-") as scratch:
        env = bench_env(Path(scratch))
        rows = []
        for number in args.exercises or code_exercises():
            rows.append(measure(number, args.repeat, env))
            row = rows[-1]
            print(f"{number:>2}  grade {row['grade_s']:5.2f} s  import {row['import_s']:5.2f} s  "
                  f"extra {row['extra_s']:+5.2f} s {'ok ' if row['within_goal'] else 'NOT'}  checks {row['checks_s']:5.2f} s  "
                  f"peak PSS {row['peak_pss_mib']:6.1f} MiB {'ok' if row['pss_within_goal'] else 'NOT'}", flush=True)
    figures = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "repeat": args.repeat,
               "goals": {"extra_s": GOAL_EXTRA_S, "peak_pss_mib": GOAL_PSS_MIB}, "exercises": rows}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
