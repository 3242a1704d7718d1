"""pytest plugin loaded in the grading process: it hands checks the `student` and `reference` sides
and turns each test function's reports into one CheckResult (parametrised cases roll up into one:
a check passes only if every case does). State lives in `config.stash`, never in globals.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

import pytest

from grader.checks import SAID, CheckFailed, plain
from grader.failures import FailureKind
from grader.results import Explained, Failure, Run, Said
from grader.runner.sides import ReferenceFailed, ReferenceNotRecorded, Side, StudentCodeFailed, run_failure


@dataclass
class CaseOutcome:
    status: str  # passed | failed | error | skipped
    failure: Failure | None = None  # why it did not pass, as facts (the views put them into words)
    duration: float = 0.0
    slowest_probe: float = 0.0  # seconds of the slowest run of the student's code (the time limit is per run)
    device: str | None = None  # for checks parametrised over devices (grader.checks.devices.on_devices)
    devices: list[tuple[str, str]] = field(default_factory=list)  # after roll_up: (device, status) per run
    file: str = ""  # the student's file and line the failure came from, when known
    line: int = 0
    concepts: list[str] = field(default_factory=list)  # glossary ids of the PyTorch error explained, if any
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


def _said(message_id: str, **params: Any) -> Said:
    return Said(id=message_id, params=plain(params))


def _classify(report: pytest.TestReport, call: pytest.CallInfo[None], title: str | None, state: GradingState) -> CaseOutcome:
    duration = report.duration
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return CaseOutcome("skipped", Failure(kind=FailureKind.SKIPPED, said=_said(
            "grader.skipped", reason=reason.removeprefix("Skipped: "))), duration=duration)
    if report.passed:
        return CaseOutcome("passed", duration=duration)
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, CheckFailed):
        what_to_try = Said(id=exc.what_to_try[SAID], params=exc.what_to_try["params"]) if exc.what_to_try else None
        failure = Failure(kind=FailureKind.VERDICT, said=Said(id=exc.said[SAID], params=exc.said["params"]),
                          what_to_try=what_to_try, run=caught_run(exc.said))
        concepts = list(entry.concepts) if (entry := explained_entry(failure)) else []
        return CaseOutcome("failed", failure, duration, because_of=exc.because_of, concepts=concepts)
    if isinstance(exc, StudentCodeFailed):
        failure = run_failure(exc.outcome)
        concepts = list(entry.concepts) if (entry := explained_entry(failure)) else []
        return CaseOutcome("failed", failure, duration=duration, concepts=concepts, **location(exc.outcome))
    if isinstance(exc, ReferenceFailed):
        failure = run_failure(exc.outcome).model_copy(update={"kind": FailureKind.REFERENCE_FAILED})
        return CaseOutcome("error", failure, duration=duration)
    if isinstance(exc, ReferenceNotRecorded):
        return CaseOutcome("error", Failure(kind=FailureKind.NOT_RECORDED, said=_said("grader.not-recorded")),
                           duration=duration)
    if isinstance(exc, AssertionError) and report.when == "call":
        return CaseOutcome("failed", Failure(kind=FailureKind.VERDICT, said=_said("grader.assertion", text=str(exc))),
                           duration=duration)
    detail = "".join(traceback.format_exception(call.excinfo.value)) if state.debug and call.excinfo else ""
    return CaseOutcome("error", Failure(kind=FailureKind.INTERNAL, said=_said(
        "grader.internal", type=type(exc).__name__ if exc else "error", message=str(exc), traceback=detail)),
        duration=duration)


def caught_run(words: dict[str, Any]) -> Run | None:
    """The error a verdict's words tell of (`observe.said_error`: an exception the probe caught), as the
    run a failure records, so the view explains it and the statistics count it; None when they tell of none."""
    from grader.checks.observe import RAISED

    pending = [words]
    while pending:
        value = pending.pop(0)
        if isinstance(value, dict) and value.get(SAID) == RAISED:
            facts = value["params"]
            error = {"kind": "exception", **{k: facts[k] for k in ("type", "message", "file", "line", "code") if facts.get(k)}}
            explained = facts.get("explained")
            return Run(status="error", error=error, summary=facts.get("summary") or "",
                       explained=Explained(id=explained["id"], facts=explained["facts"]) if explained else None)
        if isinstance(value, dict):
            pending += list(value.values())
        elif isinstance(value, list):
            pending += value
    return None


def explained_entry(failure: Failure) -> Any:
    """The error catalogue's entry that recognised what a failed run raised, if one did."""
    from grader.explain import entry_by_id

    explained = failure.run.explained if failure.run else None
    return entry_by_id(explained.id) if explained else None


def roll_up(cases: list[CaseOutcome]) -> CaseOutcome:
    """One outcome for a check from all its cases: the worst one speaks for it. A check run per device
    also lists each device's status (a device skipped for want of a GPU stays 'skipped')."""
    if not cases:
        return CaseOutcome("error", Failure(kind=FailureKind.NOT_COLLECTED, said=_said("grader.not-collected")))
    duration = sum(c.duration for c in cases)
    devices = _device_statuses(cases)
    slowest = max(c.slowest_probe for c in cases)
    for status in ("error", "failed"):
        bad = [c for c in cases if c.status == status]
        if bad:
            failure = bad[0].failure
            if failure is not None and bad[0].device and len(devices) > 1:
                failure = failure.model_copy(update={"device": bad[0].device})
            return CaseOutcome(status, failure, duration, slowest, devices=devices, file=bad[0].file, line=bad[0].line,
                               concepts=bad[0].concepts, because_of=bad[0].because_of)
    if all(c.status == "skipped" for c in cases):
        return CaseOutcome("skipped", cases[0].failure, duration=duration, slowest_probe=slowest, devices=devices)
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
