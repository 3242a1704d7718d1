"""What check authors use. A check is two halves:

- a *probe* (in the exercise's `checks/probes.py`): `def probe(module, **kwargs)` runs in a sandboxed
  worker with the student's (or the reference's) module imported, and returns plain data;
- a *test* (in `checks/test_*.py`): `def test_x(student, reference)` runs in the grading process,
  calls `student.run(probes.probe, seed=0)` and `reference.run(...)`, and compares. It fails with
  `fail("what happened, in words for a beginner")`; that text is what the student reads.

Helpers, by module (docs/authoring.md has a table): `data` (seeded tiny datasets and loaders), `spies`
(OptimizerSpy, ForwardRecorder), `batch` (batch independence), `compare` (tensor differences in words),
`observe` (values and exceptions as plain facts and words), `devices` (GPU stand-in, device/autocast spies).
"""

from __future__ import annotations

from typing import NoReturn


class CheckFailed(AssertionError):
    """A check's verdict: the student's code did something wrong. `str()` is the student-facing text."""

    def __init__(self, message: str, *, what_to_try: str | None = None):
        super().__init__(message)
        self.message = message
        self.what_to_try = what_to_try


def fail(message: str, *, what_to_try: str | None = None) -> NoReturn:
    """Fail the running check with a message for the student (and, optionally, a specific tip)."""
    raise CheckFailed(message, what_to_try=what_to_try)


def expect(condition: object, message: str, *, what_to_try: str | None = None) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        fail(message, what_to_try=what_to_try)
