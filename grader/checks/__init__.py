"""What check authors use. A check is two halves:

- a *probe* (in the exercise's `checks/probes.py`): `def probe(module, **kwargs)` runs in a sandboxed
  worker with the student's (or the reference's) module imported, and returns plain data;
- a *test* (in `checks/test_*.py`): `def test_x(student, reference)` runs in the grading process,
  calls `student.run(probes.probe, seed=0)` and `reference.run(...)`, and compares. It fails with
  `fail("message-id", **facts)`: the words live in the exercise's `checks/messages.yaml` (Jinja2
  templates keyed by id), and the views fill them with the facts in the student's language.

Helpers, by module (docs/authoring.md has a table): `data` (seeded tiny datasets and loaders), `spies`
(ModelWatch, OptimizerSpy), `independence` (batch independence), `compare` (tensor differences in words),
`observe` (values and exceptions as plain facts and words), `devices` (GPU stand-in, device/autocast spies),
`pristine` (PyTorch's own functions and C-level state, bound before the student's module is imported: a
probe reads and compares through it, never through `torch.X` or a tensor's methods, which the student's
code can reassign in the worker).
`before_import` (here) makes a probe's simulated environment hold while the student's module is imported.
"""

from __future__ import annotations

import math
from typing import Any, Callable, ContextManager, NoReturn, Sequence, TypeVar

Probe = TypeVar("Probe", bound=Callable[..., Any])
SAID = "$said"  # the key that marks a piece of words inside a message's parameters


def said(message_id: str, /, **params: Any) -> dict[str, Any]:
    """A piece of words as facts: a message id of the exercise's catalogue (`checks/messages.yaml`, or
    the shared one, `grader/checks/messages.yaml`) and the parameters its template is filled with. Pass it
    as a parameter of another message (a sentence chosen by the check's logic, a name for a value); the
    views render it in the student's language."""
    return {SAID: message_id, "params": plain(params)}


def plain(value: Any) -> Any:
    """`value` as the plain data a result carries (JSON): tuples become lists, numbers that JSON cannot
    hold (nan, inf) their names; anything else is a mistake in the check, said at once."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "numel", lambda: 0)() == 1:
        return plain(value.item())  # a one-value tensor or NumPy number
    raise TypeError(f"a message parameter must be plain data (str, number, list, dict, said(...)), "
                    f"not {type(value).__name__}")


class CheckFailed(AssertionError):
    """A check's verdict: the student's code did something wrong, said as a message id and its parameters.
    `what_to_try`: a tip of this verdict's own (a message id, filled with the same parameters, or a
    `said(...)`). `because_of`: the ids of other checks, one of whose problems kept this one from judging
    its own habit."""

    def __init__(self, message_id: str | dict[str, Any], params: dict[str, Any], *,
                 what_to_try: str | dict[str, Any] | None = None, because_of: str | Sequence[str] | None = None):
        self.said = message_id if isinstance(message_id, dict) else said(message_id, **params)
        self.what_to_try = said(what_to_try, **params) if isinstance(what_to_try, str) else what_to_try
        self.because_of = [because_of] if isinstance(because_of, str) else list(because_of or [])
        super().__init__(self.said[SAID])


def fail(message_id: str | dict[str, Any], /, *, what_to_try: str | dict[str, Any] | None = None,
         because_of: str | Sequence[str] | None = None, **params: Any) -> NoReturn:
    """Fail the running check with a message for the student: the id of its words in the exercise's message
    catalogue (`checks/messages.yaml`) and the facts they are filled with (`fail("header-counted", rows=4,
    got=5)`), or a `said(...)`. With `because_of="other-check-id"` the failure is a consequence of that
    check's problem, not a second diagnosis: the views say so and point there instead of giving this
    check's advice. Several ids: the first of them that failed in its own right is named; if none did,
    the failure is this check's own."""
    raise CheckFailed(message_id, params, what_to_try=what_to_try, because_of=because_of)


def expect(condition: object, message_id: str | dict[str, Any], /, *, what_to_try: str | dict[str, Any] | None = None,
           because_of: str | Sequence[str] | None = None, **params: Any) -> None:
    """Fail with `message_id` and `params` unless `condition` holds."""
    if not condition:
        fail(message_id, what_to_try=what_to_try, because_of=because_of, **params)


def before_import(environment: Callable[..., ContextManager[Any]]) -> Callable[[Probe], Probe]:
    """Mark a probe to run inside `environment(**kwargs)` (the probe's own arguments), entered before
    the student's module is imported: constants the module computes at import time see it too. Each
    probe runs in a fresh worker, so the module is imported anew for every environment."""

    def mark(probe: Probe) -> Probe:
        probe.before_import = environment  # type: ignore[attr-defined]
        return probe

    return mark
