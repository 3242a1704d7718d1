"""Helpers that probes use to turn what the student's code returned into plain data, and that
tests use to say in words how two results differ."""

from __future__ import annotations

import math
import numbers
from typing import Any

# PyTorch's own functions, bound now: in a worker, before the student's module is imported.
from grader.checks import pristine


def describe(value: Any) -> dict[str, Any]:
    """Plain facts about any value: its type, and for numbers and tensors their value and graph (read
    through grader.checks.pristine: what the student's code did to `torch.Tensor` changes none of them)."""
    facts: dict[str, Any] = {"type": type(value).__name__}
    if pristine.is_tensor(value):
        numel, device = int(pristine.numel(value)), pristine.device(value)
        facts.update(
            kind="tensor", shape=list(pristine.shape(value)), dtype=str(pristine.dtype(value)), device=str(device),
            requires_grad=bool(pristine.requires_grad(value)), has_graph=pristine.grad_fn(value) is not None,
            value=pristine.number(pristine.VF.mean(pristine.to_float(pristine.detach(value))))
            if numel and device.type != "meta" else None,
            numel=numel,
        )
    elif isinstance(value, bool):
        facts.update(kind="bool", value=value)
    elif isinstance(value, numbers.Real):
        facts.update(kind="number", value=float(value))
    elif isinstance(value, (tuple, list)):
        facts.update(kind="sequence", items=[describe(v) for v in value[:8]], length=len(value))
    else:
        facts.update(kind="other", repr=repr(value)[:200])
    return facts


def close(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def said_value(facts: dict[str, Any]) -> dict[str, Any]:
    """Words for what a value was, from `describe()` facts: "a tensor of shape (8, 10) (torch.float32)"."""
    from grader.checks import said

    kind = facts.get("kind")
    if kind == "tensor":
        return said("observe.tensor", shape=facts["shape"], dtype=facts["dtype"], graph=facts["has_graph"])
    if kind == "number":
        return said("observe.number", value=facts["value"])
    if kind == "sequence":
        return said("observe.sequence", type=facts["type"], length=facts["length"])
    if kind == "bool":
        return said("observe.bool", value=facts["value"])
    return said("observe.other", type=facts["type"])


def describe_error(exc: BaseException, module: Any) -> dict[str, Any]:
    """Plain facts about an exception the student's code raised inside a probe (type, message, and the
    line of their file), for a probe that must keep going, e.g. to try several batch sizes."""
    import os

    from grader.runner.sandbox import describe_exception

    return describe_exception(exc, os.path.dirname(os.path.abspath(module.__file__)), during="probe")


def said_error(error: dict[str, Any]) -> dict[str, Any]:
    """Words for `describe_error()` facts: "raised RuntimeError: ... at train.py, line 12 (`code`)". The error
    goes through the catalogue of PyTorch errors like one that escapes: the entry that knows it rides along
    (`explained`), and a check failing with these words records the error, so the view adds the entry's
    explanation and the batch statistics count it (`grader.runner.plugin`)."""
    from grader.checks import said
    from grader.explain import recognise, summary

    found = recognise({"kind": "exception", **error})
    message = str(error.get("message", "")).strip()
    if message.endswith(".") and not message.endswith(".."):
        message = message[:-1]  # the sentence these words go into ends it ("forward {{ error }}.")
    return said(RAISED, type=error.get("type", ""), message=message,
                file=error.get("file", ""), line=error.get("line", 0), code=error.get("code", ""),
                explained={"id": found[0].id, "facts": found[1]} if found else None,
                summary=summary(error) if error.get("type") else "")


RAISED = "observe.raised"  # the message id of `said_error`
