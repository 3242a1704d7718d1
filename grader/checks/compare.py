"""Compare a tensor the student's code produced with the one a correct solution produces, and say how
they differ in words a beginner can act on: the shape first, then the dtype, the device, and only then
the values (how many positions differ, the largest difference, and where it is).

    difference = tensor_difference(got, want, name=said("forward-output"))
    expect(difference is None, difference)     # or, shorter:
    expect_tensor(got, want, name=said("forward-output"), what_to_try="tip-id")

The difference is words as facts (`grader.checks.said`): the ids are in `grader/checks/messages.yaml`.

Runs in the grading process (tests) or in a probe; both have torch.
"""

from __future__ import annotations

from typing import Any

from grader.checks import fail, said

RTOL, ATOL = 1e-4, 1e-5  # float32 arithmetic done in another (valid) order lands within these


def _index(flat: int, shape: tuple[int, ...]) -> list[int]:
    """A flat position as an index a student can type: [3, 7]."""
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return list(reversed(index))


def tensor_difference(got: Any, want: Any, *, name: str | dict[str, Any] | None = None, rtol: float = RTOL,
                      atol: float = ATOL, check_dtype: bool = True, check_device: bool = True) -> dict[str, Any] | None:
    """None when `got` matches `want` (a tensor) within the tolerances; else what differs, as words
    (`said`) that start with `name` (default: "the result"), e.g. "forward's output has shape (8, 1) where
    (8, 10) is expected: ...". NaN in the same place on both sides counts as equal; NaN anywhere else does not."""
    import torch

    name = name if name is not None else said("compare.the-result")
    if not isinstance(got, torch.Tensor):
        from grader.checks.observe import describe, said_value

        return said("compare.not-a-tensor", name=name, got=said_value(describe(got)), want=list(want.shape))
    if got.shape != want.shape:
        return said("compare.shape", name=name, got=list(got.shape), want=list(want.shape),
                    same_count=got.numel() == want.numel(), got_dims=got.dim(), want_dims=want.dim())
    if check_dtype and got.dtype != want.dtype:
        return said("compare.dtype", name=name, got=str(got.dtype), want=str(want.dtype))
    if check_device and got.device.type != want.device.type:
        return said("compare.device", name=name, got=got.device.type, want=want.device.type)
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
    return said("compare.values", name=name, count=count, total=a.numel(), index=_index(worst, tuple(a.shape)),
                got=float(a_num.flatten()[worst]), want=float(b_num.flatten()[worst]),
                nan=bool(a_num.isnan().any()) and not bool(b_num.isnan().any()))


def expect_tensor(got: Any, want: Any, *, name: str | dict[str, Any] | None = None,
                  what_to_try: str | dict[str, Any] | None = None, **tolerances: Any) -> None:
    """Fail the check with `tensor_difference`'s words unless `got` matches `want`."""
    difference = tensor_difference(got, want, name=name, **tolerances)
    if difference is not None:
        fail(difference, what_to_try=what_to_try)
