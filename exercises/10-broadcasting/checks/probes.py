"""Probes for exercise 10. Each builds small seeded inputs, calls one of the student's functions and
records what came back (and, for the checks that diagnose a mistake, the inputs it was given, so the
check can compute in the grading process what a plausible wrong formula would have returned).

The shapes are chosen so that a wrong axis still broadcasts: a channel mean `[C]` against `[N, C, H, W]`
with C == W lines up with the width and gives wrong numbers without an error, a `[N]` against `[N, L]`
with N == L does the same, and distances are asked for with N != M and with N == M.

`operations` runs each function on a batch of 4 and a batch of 32 with a `TorchFunctionMode` counting
the torch functions it calls, and a line tracer counting the lines of the student's own file that run:
a loop over the samples repeats both with the batch size; a vectorised function does not.

The inputs are built, and what the probes judge in the worker (whether an input changed) is read,
through functions bound when this module is imported (before the student's module) and through
`grader.checks.pristine`, so code that reassigns `torch.randn`, `torch.equal` or `torch.Tensor.clone`
does not change what is recorded."""

import sys
from builtins import getattr, int, range  # noqa: A004 - bound before the student's import

import torch
from torch import Generator, add, cat, gt, rand, randn, randperm  # bound before the student's import

from grader.checks import pristine
from grader.checks.observe import describe, describe_error

# normalize_channels: [N, C, H, W]. C == W (a mean lined up with the width broadcasts silently), C == H
# (a mean lined up with the height does), then no size shared with C.
NORMALIZE_SHAPES = [(2, 3, 5, 3), (3, 4, 4, 2), (2, 3, 4, 5)]
# pairwise_distances: (N, M, D). N == M first (a mix-up of a's and b's dimensions broadcasts silently
# there, and a [N, N] result has the right shape), then N != M.
DISTANCE_SHAPES = [(4, 4, 3), (5, 3, 4)]
# masked_mean: (N, L). N == L first (a [N] lined up with L broadcasts silently), then N != L.
MASKED_SHAPES = [(5, 5), (4, 6)]
SELF_POINTS, SELF_DIM = 12, 6  # distances from a set of points to itself, and to copies of some of them
EMPTY_ROWS = (1, 3)  # the rows of the empty-row probe whose mask has no True position
SIZES = (4, 32)  # the batch sizes the operation count compares


def _generator(seed: int) -> Generator:
    return Generator().manual_seed(seed)


def _copy(t):
    return pristine.clone(pristine.detach(t))


def _outcome(call, module, inputs: dict) -> dict:
    """Call the student's function on copies of `inputs`; the returned value as facts and as a tensor, the
    student's error, and the names of the inputs the function changed."""
    given = {name: _copy(t) for name, t in inputs.items()}
    try:
        out = call(**given)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {"error": describe_error(exc, module), "returned": None, "out": None, "changed": [], **inputs}
    with pristine.unmodified():
        changed = [name for name, t in given.items() if not pristine.equal(t, inputs[name])]
    return {"error": None, "returned": describe(out), "out": _copy(out) if pristine.is_tensor(out) else None,
            "changed": changed, **inputs}


def _mask(g: Generator, n: int, length: int, *, empty=()):
    """A boolean [n, length] mask, about half True, with at least one True per row except the `empty` rows."""
    with pristine.unmodified():
        mask = gt(rand(n, length, generator=g), 0.5)
        for row in range(n):
            pristine.set_item(mask, (row, int(pristine.item(randperm(length, generator=g)[0]))), True)
        for row in empty:
            pristine.set_item(mask, row, False)
    return mask


def normalize(module, seed: int) -> list[dict]:
    """normalize_channels on each of NORMALIZE_SHAPES."""
    runs = []
    for case, (n, c, h, w) in enumerate(NORMALIZE_SHAPES):
        g = _generator(seed * 10 + case)
        with pristine.unmodified():
            inputs = {"x": randn(n, c, h, w, generator=g), "mean": randn(c, generator=g),
                      "std": add(rand(c, generator=g), 0.5)}
        runs.append(_outcome(module.normalize_channels, module, inputs))
    return runs


def distances(module, seed: int) -> list[dict]:
    """pairwise_distances on each of DISTANCE_SHAPES."""
    runs = []
    for case, (n, m, d) in enumerate(DISTANCE_SHAPES):
        g = _generator(seed * 10 + case)
        with pristine.unmodified():
            inputs = {"a": randn(n, d, generator=g), "b": randn(m, d, generator=g)}
        runs.append(_outcome(module.pairwise_distances, module, inputs))
    return runs


def self_distances(module, seed: int) -> list[dict]:
    """pairwise_distances(a, a), and pairwise_distances(a, b) where some rows of b are copies of rows of a
    (`same`: the pairs (i, j) with b[j] equal to a[i])."""
    g = _generator(seed)
    with pristine.unmodified():
        a = randn(SELF_POINTS, SELF_DIM, generator=g)
        picked = [int(i) for i in pristine.tolist(randperm(SELF_POINTS, generator=g)[:5])]
        b = cat([a[picked], randn(3, SELF_DIM, generator=g)])
    runs = [_outcome(module.pairwise_distances, module, {"a": a, "b": a}),
            _outcome(module.pairwise_distances, module, {"a": a, "b": b})]
    runs[0]["same"] = [[i, i] for i in range(SELF_POINTS)]
    runs[1]["same"] = [[i, j] for j, i in enumerate(picked)]
    return runs


def masked(module, seed: int) -> list[dict]:
    """masked_mean on each of MASKED_SHAPES, every row with at least one True position."""
    runs = []
    for case, (n, length) in enumerate(MASKED_SHAPES):
        g = _generator(seed * 10 + case)
        with pristine.unmodified():
            x = randn(n, length, generator=g)
        runs.append(_outcome(module.masked_mean, module, {"x": x, "mask": _mask(g, n, length)}))
    return runs


def empty_rows(module, seed: int) -> dict:
    """masked_mean where the rows EMPTY_ROWS have no True position (their values are far from 0)."""
    g = _generator(seed)
    with pristine.unmodified():
        x = add(randn(5, 4, generator=g), 3.0)
    return _outcome(module.masked_mean, module, {"x": x, "mask": _mask(g, 5, 4, empty=EMPTY_ROWS)})


class _Counter(pristine.FunctionMode):
    """Counts every torch function (and tensor method) called while it is active, by name."""

    def __init__(self):
        super().__init__()
        self.counts: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", None) or type(func).__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


def _inputs(function: str, n: int, g: Generator) -> dict:
    with pristine.unmodified():
        # Shapes on which the usual axis mix-ups still run (C == W, N == M), so that the count is seen for them too.
        if function == "normalize_channels":
            return {"x": randn(n, 3, 4, 3, generator=g), "mean": randn(3, generator=g),
                    "std": add(rand(3, generator=g), 0.5)}
        if function == "pairwise_distances":
            return {"a": randn(n, 4, generator=g), "b": randn(n, 4, generator=g)}
        return {"x": randn(n, 6, generator=g), "mask": _mask(g, n, 6)}


def _counted(module, function: str, n: int, seed: int) -> dict:
    """Call `function` on a batch of `n`: the torch functions called (by name), and how many lines of the
    student's file ran (a loop runs its body once per sample; a line is counted each time it runs)."""
    inputs = _inputs(function, n, _generator(seed + n))
    filename = module.__file__
    lines = [0]

    def local(frame, event, arg):
        if event == "line":
            lines[0] += 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename == filename else None

    counter = _Counter()
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        with counter:
            getattr(module, function)(**inputs)
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module)}
    finally:
        sys.settrace(previous)
    return {"error": None, "counts": counter.counts, "lines": lines[0]}


def operations(module, seed: int) -> dict:
    """Each function on a batch of SIZES[0] and of SIZES[1]: torch functions called and lines run."""
    return {function: [_counted(module, function, n, seed) for n in SIZES]
            for function in ("normalize_channels", "pairwise_distances", "masked_mean")}
