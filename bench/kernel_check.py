"""Time `grader.check(N)` in a warm Jupyter kernel next to `grade exercise N`, in one run.

    python bench/kernel_check.py [--exercise 3] [--runs 5]

Starts one kernel (ipykernel, through jupyter_client), defines the reference solution in it as a student
would (its module's source run as a cell) and imports the grader, then times `grader.check(N)` --runs
times in that kernel (a warm kernel: the student's second and later checks); and times `grade exercise N
--submission <the reference>` as fresh processes, --runs times. Both use one private reference cache,
filled first, so both grade the same way. Prints the medians and their ratio. Not a test: numbers on
shared machines vary; compare the two sides of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercise", default="3")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from jupyter_client.manager import start_new_kernel

    from grader.course import Course

    spec = Course(ROOT).resolve(args.exercise)
    solution = spec.solution_folder / spec.files[0]
    with tempfile.TemporaryDirectory(prefix="torchgrade-bench-") as scratch:
        os.environ.update(TORCHGRADE_CACHE_DIR=str(Path(scratch) / "cache"), TORCHGRADE_PROGRESS=str(Path(scratch) / "p.json"),
                          TORCHGRADE_LANG="en", NO_COLOR="1")
        command = [sys.executable, "-m", "grader.cli", "exercise", args.exercise, "--submission", str(solution)]
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)  # fills the cache
        cli = []
        for _ in range(args.runs):
            started = time.perf_counter()
            ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            cli.append(time.perf_counter() - started)
            assert "All checks passed" in ran.stdout, ran.stdout + ran.stderr
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
        try:
            _execute(client, solution.read_text(encoding="utf-8"))
            _execute(client, "import grader")
            in_kernel = []
            for _ in range(args.runs):
                started = time.perf_counter()
                shown = _execute(client, f"grader.check({args.exercise})")
                in_kernel.append(time.perf_counter() - started)
                assert "All checks passed" in shown, shown
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    first, rest = in_kernel[0], statistics.median(in_kernel)
    print(f"exercise {spec.id}, reference solution, {args.runs} runs each, this machine ({os.cpu_count()} CPUs)")
    print(f"  grade exercise {spec.id} (fresh process)   median {statistics.median(cli):.2f} s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in cli)})")
    print(f"  grader.check({spec.id}) in a warm kernel   median {rest:.2f} s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in in_kernel)}; first {first:.2f} s)")
    print(f"  ratio kernel / CLI: {rest / statistics.median(cli):.2f}")
    return 0


def _execute(client, code: str) -> str:  # noqa: ANN001 - a jupyter_client BlockingKernelClient
    """Run `code` in the kernel; what it showed (text), or raise with the kernel's error."""
    shown: list[str] = []
    reply = client.execute_interactive(code, timeout=600, output_hook=lambda message: _keep(message, shown))
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return "".join(shown)


def _keep(message: dict, shown: list[str]) -> None:
    content = message.get("content", {})
    shown.append(content.get("text", "") + content.get("data", {}).get("text/plain", ""))


if __name__ == "__main__":
    raise SystemExit(main())
