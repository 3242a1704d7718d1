"""pytest plugin loaded in the grading process: it hands checks the `student` and `reference` sides
and turns each test function's reports into one CheckResult (parametrised cases roll up into one:
a check passes only if every case does). State lives in `config.stash`, never in globals.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

import pytest

from grader.checks import CheckFailed
from grader.render import explain_failure, explain_probe_failure
from grader.runner.sides import ReferenceFailed, ReferenceNotRecorded, Side, StudentCodeFailed


@dataclass
class CaseOutcome:
    status: str  # passed | failed | error | skipped
    message: str = ""
    what_to_try: str | None = None
    duration: float = 0.0
    slowest_probe: float = 0.0  # seconds of the slowest run of the student's code (the time limit is per run)
    device: str | None = None  # for checks parametrised over devices (grader.checks.devices.on_devices)
    devices: list[tuple[str, str]] = field(default_factory=list)  # after roll_up: (device, status) per run
    file: str = ""  # the student's file and line the failure came from, when known
    line: int = 0
    concepts: list[str] = field(default_factory=list)  # glossary ids of the PyTorch error explained, if any
    exception: Any = None  # grader.results.RaisedError: what the student's code raised, if it raised
    because_of: list[str] = field(default_factory=list)  # other checks whose problem this failure may follow from


@dataclass
class GradingState:
    student: Side
    reference: Side
    titles: dict[str, str]  # test function name -> check title
    limits: dict[str, Any]
    debug: bool = False
    outcomes: dict[str, list[CaseOutcome]] = field(default_factory=dict)
    probes_before: int = 0  # how many student probes had run when the current test started


STATE = pytest.StashKey[GradingState]()


class InstallState:
    """Registered beside this module so the state reaches `config.stash` before any test runs."""

    def __init__(self, state: GradingState):
        self.state = state

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[STATE] = self.state


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Side:
    """The submission: `student.run(probe, **kwargs)` runs a probe on the student's code."""
    return request.config.stash[STATE].student


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> Side:
    """The reference solution, probed the same way (its results are cached across runs)."""
    return request.config.stash[STATE].reference


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: the check needs a CUDA GPU; skipped (never passed) without one")


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[STATE]
    state.probes_before = len(state.student.durations)
    if item.get_closest_marker("cuda") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("this check needs a CUDA GPU and this machine has none")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" or not report.passed:
        state = item.config.stash[STATE]
        name = getattr(item, "originalname", item.name)
        outcome = _classify(report, call, state.titles.get(name), state)
        outcome.slowest_probe = max(state.student.durations[state.probes_before:], default=0.0)
        callspec = getattr(item, "callspec", None)
        outcome.device = callspec.params.get("device", "cpu") if callspec is not None else "cpu"
        state.outcomes.setdefault(name, []).append(outcome)
    return report


def _classify(report: pytest.TestReport, call: pytest.CallInfo[None], title: str | None, state: GradingState) -> CaseOutcome:
    duration = report.duration
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return CaseOutcome("skipped", reason.removeprefix("Skipped: "), duration=duration)
    if report.passed:
        return CaseOutcome("passed", duration=duration)
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, CheckFailed):
        return CaseOutcome("failed", exc.message, exc.what_to_try, duration, because_of=exc.because_of)
    if isinstance(exc, StudentCodeFailed):
        failure = explain_failure(exc.outcome, title, state.limits)
        return CaseOutcome("failed", failure.message, failure.what_to_try, duration=duration, concepts=failure.concepts,
                           exception=failure.exception, **location(exc.outcome))
    if isinstance(exc, ReferenceFailed):
        detail = explain_probe_failure(exc.outcome, title, state.limits)
        return CaseOutcome("error", "The reference solution failed this check, so it could not judge your code. "
                           "This is a problem with the exercise, not with your code: tell your instructor.\n\n" + detail,
                           duration=duration)
    if isinstance(exc, ReferenceNotRecorded):
        return CaseOutcome("error", "This check compares your code with the reference solution, and this copy of the "
                           "course holds only the reference's recorded answers, none of them for what your code led "
                           "the check to ask. It could not judge your code here (not your fault); your instructor's "
                           "grading runs it in full.", duration=duration)
    if isinstance(exc, AssertionError) and report.when == "call":
        return CaseOutcome("failed", str(exc) or "This check found a problem in your code.", duration=duration)
    message = ("The grader hit an internal problem in this check, so it could not judge your code "
               f"(not your fault; tell your instructor): {type(exc).__name__ if exc else 'error'}: {exc}")
    if state.debug and call.excinfo is not None:
        message += "\n\n" + "".join(traceback.format_exception(call.excinfo.value))
    return CaseOutcome("error", message, duration=duration)


def roll_up(cases: list[CaseOutcome]) -> CaseOutcome:
    """One outcome for a check from all its cases: the worst one speaks for it. A check run per device
    also lists each device's status (a device skipped for want of a GPU stays 'skipped')."""
    if not cases:
        return CaseOutcome("error", "This check did not run (the grader could not collect it).")
    duration = sum(c.duration for c in cases)
    devices = _device_statuses(cases)
    slowest = max(c.slowest_probe for c in cases)
    for status in ("error", "failed"):
        bad = [c for c in cases if c.status == status]
        if bad:
            message = bad[0].message
            if bad[0].device and len(devices) > 1:
                message = f"Checked on the {device_name(bad[0].device)}. {message}"
            return CaseOutcome(status, message, bad[0].what_to_try, duration, slowest, devices=devices,
                               file=bad[0].file, line=bad[0].line, concepts=bad[0].concepts, exception=bad[0].exception,
                               because_of=bad[0].because_of)
    if all(c.status == "skipped" for c in cases):
        return CaseOutcome("skipped", cases[0].message, duration=duration, slowest_probe=slowest, devices=devices)
    return CaseOutcome("passed", duration=duration, slowest_probe=slowest, devices=devices)


def location(outcome: Any) -> dict[str, Any]:
    """The student's file and line a failed run of their code points at (empty when it does not)."""
    error = outcome.error or {}
    if error.get("file") and error.get("line"):
        return {"file": str(error["file"]), "line": int(error["line"])}
    return {}


def _device_statuses(cases: list[CaseOutcome]) -> list[tuple[str, str]]:
    order = {"error": 3, "failed": 2, "passed": 1, "skipped": 0}
    statuses: dict[str, str] = {}
    for case in cases:
        if case.device is not None:
            previous = statuses.get(case.device, "skipped")
            statuses[case.device] = max(previous, case.status, key=order.__getitem__)
    return list(statuses.items())


def device_name(device: str) -> str:
    """How a message names the device a case ran on."""
    return {"meta": "CPU, with PyTorch's meta device standing in for a GPU", "cuda": "GPU (CUDA)",
            "cpu": "CPU"}.get(device, device)
