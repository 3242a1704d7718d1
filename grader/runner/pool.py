"""A warm grading process for `grade batch`: `python -m grader.runner.pool REPLY_FD`.

A one-off grading process spends seconds importing torch, pytest and the grader before its first
check. This one pays that once: it imports torch, forks its sandbox zygote (before any job, and
before pytest, so no check, reference or test framework ever enters a worker's memory), imports the
rest, freezes its heap, and then grades one job at a time in a forked child running the same
`judge.run_job` as a one-off process. Jobs arrive as lines on stdin ("JOB_PATH TOKEN": a job file's
path and an unguessable token); each answer is a line on REPLY_FD: "done TOKEN EXIT_CODE". Only this
process holds REPLY_FD (its zygote and every job's child close it), and the token tells a real answer
from anything else.
"""

from __future__ import annotations

import gc
import os
import sys
import time

# What every exercise's grading imports: paid once here, inherited by every job's child.
WARM_MODULES = ["pytest", "_pytest.python", "_pytest.runner", "_pytest.fixtures", "grader.runner.plugin",
                "grader.runner.sides", "grader.explain", "grader.results", "grader.checks"]


def serve(reply_fd: int) -> int:
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"  # a CUDA query must not initialise CUDA before forks
    sys.dont_write_bytecode = True

    import importlib

    import torch  # noqa: F401 - imported once here; the zygote, every job and every worker inherit it

    from grader.runner import isolation
    from grader.runner.sandbox import ALWAYS_PRELOAD, PRELOAD_IF_IMPORTED, Sandbox, worker_backend

    isolation.become_subreaper()
    isolation.name_process("tg-pool")
    # Only torch and the sandbox are in memory here: every worker is forked from this zygote. With the
    # spawn backend, each job's child spawns its own workers instead (they serve one submission only).
    preload = ALWAYS_PRELOAD + sorted(PRELOAD_IF_IMPORTED)
    # Huge pages here only: a one-off grading's few probes do not repay collapsing its memory (measured on
    # exercise 3: no faster, 80 MiB more).
    sandbox = Sandbox(preload=preload, huge_pages=True) if worker_backend() == "fork" else None
    from grader.runner import judge

    for name in WARM_MODULES + ALWAYS_PRELOAD + sorted(PRELOAD_IF_IMPORTED):  # checks import torchvision too
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional module missing here is missing for the checks too, and reported there
    judge.warm_up_pytest()
    from grader.explain import catalogue

    catalogue()  # the PyTorch errors' catalogue, parsed once for every job that explains one
    torch.set_num_threads(1)  # workers of a batch share the machine's cores; a job's own threads would fight
    gc.collect()
    gc.freeze()  # each job's child then skips walking the inherited heap in pytest's gc.collect() calls
    replies = os.fdopen(reply_fd, "w", buffering=1)
    for line in sys.stdin:
        job_path, _, token = line.strip().rpartition(" ")
        if not job_path:
            continue
        started = time.monotonic()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                replies.close()
                isolation.close_descriptors(keep={0, 1, 2, *(sandbox.descriptors() if sandbox else ())})
                isolation.name_process("tg-grading")
                _log_to(os.path.join(os.path.dirname(job_path), "grading.log"))
                spawned = None if sandbox else _spawned(preload)
                try:
                    code = judge.run_job(job_path, sandbox or spawned, started)
                finally:
                    if spawned is not None:
                        spawned.close()
            except BaseException:  # noqa: BLE001 - reported through the missing result and the log
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        isolation.end_orphans(keep=frozenset({sandbox.pid} if sandbox else ()))
        replies.write(f"done {token} {os.waitstatus_to_exitcode(status)}\n")
    if sandbox is not None:
        sandbox.close()
    return 0


def _spawned(preload: list[str]):  # noqa: ANN202 - a SpawnSandbox
    """A job child's own spawned workers (the spawn backend); they end with the child."""
    from grader.runner.spawned import SpawnSandbox

    return SpawnSandbox(preload)


def _log_to(path: str) -> None:
    """The job's own log, as a one-off grading process writes it: pytest's output, any failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


if __name__ == "__main__":
    code = serve(int(sys.argv[1]))
    sys.stdout.flush()
    os._exit(code)
