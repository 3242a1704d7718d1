"""Benchmark `grade validate`, as an instructor runs it: the whole course, then each exercise alone.

    python bench/validate.py [--exercises 1 2 ...] [--jobs 2] [--no-each] [--json FILE]

Times `grade validate` of every exercise at once (--jobs J), then `grade validate N` for each exercise
on its own, each with a fresh reference cache as a clean checkout has (validate grades every reference
solution itself, so a cache only changes the first of its runs). Every run must prove its exercises;
the figures are wall times beside the goals of issue 24 (the whole course under 120 s, one exercise
under 20 s). Not a test: figures on a shared machine vary; compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import ROOT, bench_env, grade_cmd  # noqa: E402 - bench/ is a folder of scripts, not a package

GOAL_COURSE_S, GOAL_ONE_S = 120, 20


def exercises() -> list[int]:
    return sorted(int(p.name[:2]) for p in (ROOT / "exercises").iterdir() if p.is_dir() and p.name[:2].isdigit())


def validate(numbers: list[int], jobs: int, scratch: Path) -> float:
    cache = Path(tempfile.mkdtemp(dir=scratch))
    env = bench_env(cache)
    started = time.monotonic()
    done = subprocess.run(grade_cmd("validate", *map(str, numbers), "--jobs", str(jobs)), env=env,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"grade validate {' '.join(map(str, numbers))} did not prove them ({done.returncode}):\n"
                 f"{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exercises", type=int, nargs="+")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-each", action="store_true", help="Only the whole course.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    numbers = args.exercises or exercises()
    with tempfile.TemporaryDirectory(prefix="torchgrade-bench-") as scratch:
        course = validate(numbers, args.jobs, Path(scratch))
        print(f"all {len(numbers)}: {course:6.1f} s (goal {GOAL_COURSE_S} s: {'met' if course < GOAL_COURSE_S else 'NOT met'})",
              flush=True)
        each = {}
        for number in [] if args.no_each else numbers:
            each[number] = round(validate([number], args.jobs, Path(scratch)), 1)
            print(f"{number:>2}: {each[number]:6.1f} s {'ok' if each[number] < GOAL_ONE_S else 'NOT'}", flush=True)
    figures = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "jobs": args.jobs,
               "goals_s": {"course": GOAL_COURSE_S, "one": GOAL_ONE_S}, "course_s": round(course, 1),
               "exercises": numbers, "each_s": each}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
