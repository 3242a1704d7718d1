"""Shared fixtures: the course shipped in this repository, and `grade` run as a real subprocess
(the way students run it), with a private reference cache and progress file per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The tests read English words unless they ask for another language (--lang): a Chinese locale on the
# machine running them must not change what `grade` says.
os.environ["TORCHGRADE_LANG"] = "en"


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def course_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def session_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("grade-state")
    # TORCHGRADE_WORKERS stays: CI runs the grading tests a second time with the spawn backend forced.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TORCHGRADE_", "PYTEST_", "GITHUB_")) or k == "TORCHGRADE_WORKERS"}
    env.update(TORCHGRADE_CACHE_DIR=str(state / "cache"), TORCHGRADE_PROGRESS=str(state / "progress.json"),
               NO_COLOR="1")
    return env


AS_ROOT_COMMANDS = ("exercise", "all", "batch", "validate")


def spawn_as_root(args: tuple[str, ...], env: dict[str, str]) -> bool:
    """Whether `grade ARGS` grades as root with the spawn backend forced (CI's second pass, or a test asking
    for it): that backend has no namespaces in which to run student code as another user, so it refuses as
    root unless allowed, and the grading commands are given --run-as-root (the verdicts are the same;
    docs/security.md says what differs)."""
    return (env.get("TORCHGRADE_WORKERS") == "spawn" and hasattr(os, "geteuid") and os.geteuid() == 0
            and any(a in AS_ROOT_COMMANDS for a in args[:3]))  # `grade [--course DIR] COMMAND ...`


@pytest.fixture(scope="session")
def grade(session_env: dict[str, str]):
    """Run `grade ARGS...` in the repository root; returns exit code, stdout and stderr."""

    def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300,
            input: str | None = None) -> Ran:  # noqa: A002 - subprocess's own name for it
        env = {**session_env, **(env or {})}
        if spawn_as_root(args, env):
            args = (*args, "--run-as-root")
        proc = subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd, capture_output=True, text=True,
                              env=env, timeout=timeout, input=input or "")
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    return run


@dataclass
class Proof:
    """`grade validate` of the whole shipped course: how it ended, and each exercise's report by name."""

    ran: Ran
    reports: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def course_proof(grade) -> Proof:
    """The shipped course proven once per test session (`grade validate --format json`: every exercise's
    reference, starter, mutants and alternatives graded through the real pipeline), for the tests that ask
    what it proved of each exercise instead of grading the same submissions again."""
    ran = grade("validate", "--format", "json", timeout=3600)
    try:
        reports = {r["exercise"]: r for r in ran.json()}
    except ValueError:
        reports = {}
    return Proof(ran, reports)


def run_in_words(outcome, check_title: str | None, limits: dict) -> str:
    """A run of code that did not finish, as the student reads it: recorded as facts the way the judge does
    (`grader.runner.sides.run_failure`), put into words the way the views do (`grader.render.words`)."""
    from grader.render.words import run_words
    from grader.runner.sides import run_failure

    return run_words(run_failure(outcome).run, check_title, limits)


def has_gpu() -> bool:
    """Whether this machine can run CUDA (asked without initialising CUDA in the test process)."""
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch

    return torch.cuda.is_available()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("cuda") is not None and not has_gpu():
        pytest.skip("needs a CUDA GPU; this machine has none")
