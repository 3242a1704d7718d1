"""What check authors use. A check is two halves:

- a *probe* (in the exercise's `checks/probes.py`): `def probe(module, **kwargs)` runs in a sandboxed
  worker with the student's (or the reference's) module imported, and returns plain data;
- a *test* (in `checks/test_*.py`): `def test_x(student, reference)` runs in the grading process,
  calls `student.run(probes.probe, seed=0)` and `reference.run(...)`, and compares. It fails with
  `fail("what happened, in words for a beginner")`; that text is what the student reads.

Helpers, by module (docs/authoring.md has a table): `data` (seeded tiny datasets and loaders), `spies`
(ModelWatch, OptimizerSpy), `batch` (batch independence), `compare` (tensor differences in words),
`observe` (values and exceptions as plain facts and words), `devices` (GPU stand-in, device/autocast spies),
`pristine` (PyTorch's own functions and C-level state, bound before the student's module is imported: a
probe reads and compares through it, never through `torch.X` or a tensor's methods, which the student's
code can reassign in the worker).
`before_import` (here) makes a probe's simulated environment hold while the student's module is imported.
"""

from __future__ import annotations

from typing import Any, Callable, ContextManager, NoReturn, Sequence, TypeVar

Probe = TypeVar("Probe", bound=Callable[..., Any])


class CheckFailed(AssertionError):
    """A check's verdict: the student's code did something wrong. `str()` is the student-facing text.
    `because_of`: the ids of other checks, one of whose problems kept this one from judging its own habit."""

    def __init__(self, message: str, *, what_to_try: str | None = None, because_of: str | Sequence[str] | None = None):
        super().__init__(message)
        self.message = message
        self.what_to_try = what_to_try
        self.because_of = [because_of] if isinstance(because_of, str) else list(because_of or [])


def fail(message: str, *, what_to_try: str | None = None, because_of: str | Sequence[str] | None = None) -> NoReturn:
    """Fail the running check with a message for the student (and, optionally, a specific tip). With
    `because_of="other-check-id"` the failure is a consequence of that check's problem, not a second
    diagnosis: the views say so and point there instead of giving this check's advice. Several ids: the
    first of them that failed in its own right is named; if none did, the failure is this check's own."""
    raise CheckFailed(message, what_to_try=what_to_try, because_of=because_of)


def expect(condition: object, message: str, *, what_to_try: str | None = None,
           because_of: str | Sequence[str] | None = None) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        fail(message, what_to_try=what_to_try, because_of=because_of)


def before_import(environment: Callable[..., ContextManager[Any]]) -> Callable[[Probe], Probe]:
    """Mark a probe to run inside `environment(**kwargs)` (the probe's own arguments), entered before
    the student's module is imported: constants the module computes at import time see it too. Each
    probe runs in a fresh worker, so the module is imported anew for every environment."""

    def mark(probe: Probe) -> Probe:
        probe.before_import = environment  # type: ignore[attr-defined]
        return probe

    return mark
