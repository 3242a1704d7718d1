"""`grade validate` with the fork worker backend and with the spawn one, exercise by exercise, in one run.

    python bench/backends.py [N ...] [--jobs 2]

For each code exercise (all by default), runs `grade validate N --format json` once with
TORCHGRADE_WORKERS=fork and once with TORCHGRADE_WORKERS=spawn, each with an empty reference cache of
its own (so both run the reference too), and prints the verdicts (solution, starter, mutants caught,
other checks failed, alternatives, problems) with the wall-clock seconds of each, then whether every
verdict matched, and the CPU seconds (user + system) of each run's whole process tree, which
another load on the machine changes less than the wall clock. As root the spawn side gets --run-as-root (that backend cannot change user; the
verdicts do not depend on it). Not a test: numbers on shared machines vary; compare the two columns of
one run. Exits 1 if any verdict differs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VERDICT = ("solution", "starter", "mutants", "beyond", "alternatives", "problems", "ok")


def validate(ref: str, backend: str, jobs: int, scratch: Path) -> tuple[dict, float]:
    env = {**os.environ, "TORCHGRADE_WORKERS": backend, "TORCHGRADE_CACHE_DIR": str(scratch / f"cache-{backend}-{ref}"),
           "TORCHGRADE_PROGRESS": str(scratch / "progress.json"), "TORCHGRADE_LANG": "en"}
    command = [sys.executable, "-m", "grader.cli", "validate", ref, "--jobs", str(jobs), "--format", "json"]
    if backend == "spawn" and hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--run-as-root")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    ran = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    try:
        report = json.loads(ran.stdout)[0]
    except (ValueError, IndexError):
        report = {"problems": [f"no report (exit {ran.returncode}): {ran.stderr[-300:]}"]}
    return {k: report.get(k) for k in VERDICT}, seconds, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("refs", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from grader.course import Course

    specs = [s for s in Course(ROOT).load_all() if s.kind == "code"]
    refs = args.refs or [str(s.id) for s in specs]
    names = {str(s.id): s.name for s in specs}
    same = True
    print(f"{'exercise':18} {'fork s':>7} {'spawn s':>8} {'ratio':>6} {'fork cpu':>9} {'spawn cpu':>10} {'ratio':>6}  verdicts")
    totals = [0.0, 0.0, 0.0, 0.0]
    with tempfile.TemporaryDirectory(prefix="torchgrade-bench-") as scratch:
        for ref in refs:
            fork, fork_s, fork_cpu = validate(ref, "fork", args.jobs, Path(scratch))
            spawn, spawn_s, spawn_cpu = validate(ref, "spawn", args.jobs, Path(scratch))
            for i, value in enumerate((fork_s, spawn_s, fork_cpu, spawn_cpu)):
                totals[i] += value
            match = fork == spawn
            same &= match
            shown = ", ".join(f"{k} {fork[k]}" for k in VERDICT[:5])
            print(f"{names.get(ref, ref):18} {fork_s:7.1f} {spawn_s:8.1f} {spawn_s / fork_s:6.2f} "
                  f"{fork_cpu:9.1f} {spawn_cpu:10.1f} {spawn_cpu / fork_cpu:6.2f}  "
                  f"{'same' if match else 'DIFFERENT'}: {shown}{'' if fork['ok'] else ' ' + str(fork['problems'])}")
            if not match:
                print(f"{'':18} fork  {fork}\n{'':18} spawn {spawn}")
    print(f"{'all':18} {totals[0]:7.1f} {totals[1]:8.1f} {totals[1] / totals[0]:6.2f} "
          f"{totals[2]:9.1f} {totals[3]:10.1f} {totals[3] / totals[2]:6.2f}  "
          f"{'every verdict the same' if same else 'verdicts differ'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
