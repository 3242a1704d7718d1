"""Compare a tensor the student's code produced with the one a correct solution produces, and say how
they differ in words a beginner can act on: the shape first, then the dtype, the device, and only then
the values (how many positions differ, the largest difference, and where it is).

    message = tensor_difference(got, want, name="forward's output")
    expect(message is None, message)          # or, shorter:
    expect_tensor(got, want, name="forward's output", what_to_try="...")

Runs in the grading process (tests) or in a probe; both have torch.
"""

from __future__ import annotations

from typing import Any

from grader.checks import fail

RTOL, ATOL = 1e-4, 1e-5  # float32 arithmetic done in another (valid) order lands within these


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")" if t.dim() != 1 else f"({t.shape[0]},)"


def _index(flat: int, shape: tuple[int, ...]) -> str:
    """A flat position as an index a student can type: `[3, 7]`."""
    if not shape:
        return "the single value"
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return "[" + ", ".join(str(i) for i in reversed(index)) + "]"


def _number(x: float) -> str:
    return f"{x:.6g}"


def tensor_difference(got: Any, want: Any, *, name: str = "the result", rtol: float = RTOL,
                      atol: float = ATOL, check_dtype: bool = True, check_device: bool = True) -> str | None:
    """None when `got` matches `want` (a tensor) within the tolerances; else one or two sentences that
    start with `name` and say what differs, e.g. "forward's output has shape (8, 1) where (8, 10) is
    expected: ...". NaN in the same place on both sides counts as equal; NaN anywhere else does not."""
    import torch

    if not isinstance(got, torch.Tensor):
        from grader.checks.observe import describe, said

        return f"{name} is {said(describe(got))}, where a tensor of shape {_shape(want)} is expected."
    if got.shape != want.shape:
        hint = ""
        if got.numel() == want.numel():
            hint = " It holds the right number of values, arranged differently (a `view`/`reshape`/transpose?)."
        elif got.dim() != want.dim():
            hint = f" It has {got.dim()} dimension{'s' if got.dim() != 1 else ''} instead of {want.dim()}."
        return f"{name} has shape {_shape(got)} where {_shape(want)} is expected.{hint}"
    if check_dtype and got.dtype != want.dtype:
        return f"{name} has dtype {got.dtype} where {want.dtype} is expected."
    if check_device and got.device.type != want.device.type:
        return f"{name} is on the {got.device.type} device where {want.device.type} is expected."
    if got.device.type == "meta" or want.device.type == "meta":
        return None  # no values to compare
    if got.numel() == 0:
        return None
    a, b = got.detach().cpu(), want.detach().cpu()
    if a.dtype == torch.bool or b.dtype == torch.bool or not (a.is_floating_point() or b.is_floating_point()):
        differs = a.to(torch.int64) != b.to(torch.int64) if a.dtype != b.dtype else a != b
        a_num, b_num = a.double(), b.double()
    else:
        a_num, b_num = a.double(), b.double()
        both_nan = a_num.isnan() & b_num.isnan()
        differs = ~(torch.isclose(a_num, b_num, rtol=rtol, atol=atol) | both_nan)
    count = int(differs.sum())
    if count == 0:
        return None
    gap = (a_num - b_num).abs().masked_fill(~differs, 0).nan_to_num(nan=float("inf"))
    worst = int(gap.flatten().argmax())
    where = _index(worst, tuple(a.shape))
    got_value, want_value = float(a_num.flatten()[worst]), float(b_num.flatten()[worst])
    at = "at the single value" if not a.shape else f"at index {where}"
    nan = " It contains NaN (not a number): something divided by zero or overflowed." \
        if bool(a_num.isnan().any()) and not bool(b_num.isnan().any()) else ""
    share = f"{count} of {a.numel()} values differ" if a.numel() > 1 else "the value differs"
    return (f"{name} does not match what a correct solution computes on the same input: {share}; the largest "
            f"difference is {at}, where you have {_number(got_value)} and a correct solution has "
            f"{_number(want_value)}.{nan}")


def expect_tensor(got: Any, want: Any, *, name: str = "the result", what_to_try: str | None = None,
                  **tolerances: Any) -> None:
    """Fail the check with `tensor_difference`'s message unless `got` matches `want`."""
    message = tensor_difference(got, want, name=name, **tolerances)
    if message is not None:
        fail(message, what_to_try=what_to_try)
