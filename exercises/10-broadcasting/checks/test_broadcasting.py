"""Checks for exercise 10. The values checks compare the student's result with the reference's on the
same seeded inputs, on shapes where a wrong axis still broadcasts (C == W, N == L, N == M), and name
the mistake when the result is what a known wrong formula gives on those inputs (computed here, in
the grading process, from the inputs the probe recorded). The edge cases (a point's distance to
itself, a row with no True position) and the in-place and loop checks each judge one habit, and say
"because of" the values check when the function did not return a usable result at all."""

import probes
import torch

from grader.checks import CheckFailed, expect, fail, said
from grader.checks.compare import expect_tensor
from grader.checks.observe import said_error, said_value

SEED = 10
RTOL, ATOL = 1e-4, 1e-4  # the a² + b² - 2ab expansion of a distance differs from the direct formula by ~1e-6
SELF_TOLERANCE = 0.02  # a point's distance to itself: 0, or the rounding of a clamped expansion (~1e-3)
LOOP_SLACK = 12  # a loop over the samples repeats its body 28 more times for 32 samples than for 4
OWNERS = {"normalize_channels": "normalize-channels", "pairwise_distances": "pairwise-distances",
          "masked_mean": "masked-mean"}


def _same(got, want) -> bool:
    return (got is not None and got.shape == want.shape
            and torch.allclose(got.double(), want.double(), rtol=RTOL, atol=ATOL, equal_nan=True))


def _returned_tensor(run: dict, call: dict, owner: str | None = None) -> torch.Tensor:
    """The tensor the student's function returned; fail when it raised or returned something else."""
    if run["error"]:
        fail("common.raised", call=call, error=said_error(run["error"]), because_of=owner)
    expect(run["out"] is not None, "common.not-a-tensor", call=call, returned=said_value(run["returned"]),
           because_of=owner)
    return run["out"]


def _judge_cases(runs: list[dict], wants: list[dict], judge) -> None:
    """Judge every case with `judge(run, want)`; fail with the first problem found in a case where the function
    returned a value (a mix-up that broadcast silently says more than the error another shape raised), else with
    the first problem."""
    problems = []
    for run, want in zip(runs, wants):
        try:
            judge(run, want)
        except CheckFailed as problem:
            problems.append((bool(run["error"]), problem))
    if problems:
        raise min(problems, key=lambda found: found[0])[1]


# ----------------------------------------------------------------------------- normalize_channels


def _normalize_call(x: torch.Tensor, result: bool = False) -> dict:
    return said("phrase.normalize-call", shape=list(x.shape), channels=x.shape[1], result=result)


def _judge_normalized(run: dict, want: dict) -> None:
    x, mean, std = run["x"], run["mean"], run["std"]
    call = _normalize_call(x)
    out = _returned_tensor(run, call)
    if not _same(out, want["out"]):
        # The statistics lined up with another dimension of the same size as C (broadcasting matches the last).
        for dim in (3, 2):
            if x.shape[dim] == x.shape[1]:
                shape = [-1] + [1] * (3 - dim)
                if _same(out, (x - mean.view(shape)) / std.view(shape)):
                    fail("normalize-channels.wrong-axis", call=call, dim=dim, size=x.shape[dim], width=dim == 3)
        expect_tensor(out, want["out"], name=_normalize_call(x, result=True), rtol=RTOL, atol=ATOL)


def test_normalize_channels(student, reference):
    _judge_cases(student.run(probes.normalize, seed=SEED), reference.run(probes.normalize, seed=SEED),
                 _judge_normalized)


# ----------------------------------------------------------------------------- pairwise_distances


def _distances_call(a: torch.Tensor, b: torch.Tensor, result: bool = False) -> dict:
    return said("phrase.distances-call", a=list(a.shape), b=list(b.shape), result=result)


def _judge_distances(run: dict, want: dict) -> None:
    a, b = run["a"], run["b"]
    n, m = a.shape[0], b.shape[0]
    call = _distances_call(a, b)
    out = _returned_tensor(run, call)
    if _same(out, want["out"]):
        return
    if list(out.shape) == [n, n] and n != m:
        fail("pairwise-distances.square", call=call, n=n, m=m, got=list(out.shape))
    if list(out.shape) == [n] and n == m:
        fail("pairwise-distances.row-by-row", call=call, n=n, m=m)
    if (n == m and _same(out, want["out"].T)) or (n != m and list(out.shape) == [m, n]):
        fail("pairwise-distances.transposed", call=call, n=n, m=m, got=list(out.shape))
    if _same(out, torch.cdist(a, a)):
        fail("pairwise-distances.a-twice", call=call, n=n, m=m)
    if _same(out, want["out"] ** 2):
        fail("pairwise-distances.squared", call=call)
    if n == m and _norms_along_columns(out, a, b):
        fail("pairwise-distances.norms-misaligned", call=call, n=n)
    expect_tensor(out, want["out"], name=_distances_call(a, b, result=True), rtol=RTOL, atol=ATOL,
                  what_to_try="pairwise-distances.values-differ")


def test_pairwise_distances(student, reference):
    _judge_cases(student.run(probes.distances, seed=SEED), reference.run(probes.distances, seed=SEED),
                 _judge_distances)


def _norms_along_columns(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether `out` is the |a|² + |b|² - 2ab expansion with a's [N] squared norms lined up with the columns."""
    squared = (a ** 2).sum(dim=1)[None, :] + (b ** 2).sum(dim=1)[None, :] - 2 * a @ b.T
    return _same(out, squared.clamp_min(0).sqrt()) or _same(out, squared.sqrt())


def test_distances_self(student):
    for run in student.run(probes.self_distances, seed=SEED):
        a, b = run["a"], run["b"]
        call = _distances_call(a, b)
        out = _returned_tensor(run, call, owner="pairwise-distances")
        expect(list(out.shape) == [a.shape[0], b.shape[0]], "distances-self.wrong-shape", call=call,
               got=list(out.shape), want=[a.shape[0], b.shape[0]], because_of="pairwise-distances")
        same = run["same"]
        # The distance from a point to itself is an edge case of right distances: judged once the others are.
        others = torch.ones(out.shape, dtype=torch.bool)
        for i, j in same:
            others[i, j] = False
        expect(_same(out[others], torch.cdist(a.double(), b.double())[others]), "distances-self.others-wrong",
               call=call, because_of="pairwise-distances")
        values = [float(out[i, j]) for i, j in same]
        itself = said("phrase.itself") if a is b or torch.equal(a, b) else said("phrase.copy-of")
        nan = [pair for pair, value in zip(same, values) if value != value]
        if nan:
            fail("distances-self.nan", call=call, count=len(nan), total=len(same), index=nan[0], itself=itself)
        negative = int((out < 0).sum())
        expect(negative == 0, "distances-self.negative", call=call, count=negative, smallest=float(out.min()))
        largest = max(range(len(same)), key=lambda k: values[k])
        expect(values[largest] <= SELF_TOLERANCE, "distances-self.not-zero", call=call, index=same[largest],
               value=values[largest], itself=itself)


# ----------------------------------------------------------------------------- masked_mean


def _masked_call(x: torch.Tensor, result: bool = False) -> dict:
    return said("phrase.masked-call", shape=list(x.shape), result=result)


def _judge_masked(run: dict, want: dict) -> None:
    x, mask = run["x"], run["mask"]
    n, length = x.shape
    call = _masked_call(x)
    out = _returned_tensor(run, call)
    if _same(out, want["out"]):
        return
    if list(out.shape) == [n, n]:
        fail("masked-mean.square", call=call, n=n)
    if list(out.shape) in ([n, 1], [1, n]):
        fail("masked-mean.kept-dim", call=call, n=n, got=list(out.shape))
    kept = mask.to(x.dtype)
    if _same(out, (x * kept).mean(dim=1)):
        fail("masked-mean.over-length", call=call, length=length, counts=kept.sum(dim=1).long().tolist())
    if _same(out, x.mean(dim=1)):
        fail("masked-mean.mask-ignored", call=call)
    if _same(out, (x * kept).sum(dim=1)):
        fail("masked-mean.sum", call=call)
    if n == length and _same(out, (x * kept / kept.sum(dim=1)[None, :]).sum(dim=1)):
        fail("masked-mean.counts-misaligned", call=call, n=n)
    expect_tensor(out, want["out"], name=_masked_call(x, result=True), rtol=RTOL, atol=ATOL,
                  what_to_try="masked-mean.values-differ")


def test_masked_mean(student, reference):
    _judge_cases(student.run(probes.masked, seed=SEED), reference.run(probes.masked, seed=SEED), _judge_masked)


def test_masked_mean_empty(student, reference):
    run = student.run(probes.empty_rows, seed=SEED)
    x = run["x"]
    call = said("phrase.empty-call", shape=list(x.shape), rows=list(probes.EMPTY_ROWS))
    if run["error"]:
        fail("masked-mean-empty.raised", call=call, error=said_error(run["error"]), because_of="masked-mean")
    out = run["out"]
    expect(out is not None and list(out.shape) == [x.shape[0]], "masked-mean-empty.wrong-shape", call=call,
           returned=said_value(run["returned"]), because_of="masked-mean")
    for row in probes.EMPTY_ROWS:
        value = float(out[row])
        if value != value:
            fail("masked-mean-empty.nan", call=call, row=row, length=x.shape[1])
        expect(value == 0.0, "masked-mean-empty.not-zero", call=call, row=row, value=value)
    want = reference.run(probes.empty_rows, seed=SEED)["out"]
    expect(_same(out, want), "masked-mean-empty.other-rows", call=call, because_of="masked-mean")


# ----------------------------------------------------------------------------- no loops, inputs kept


def _judge_loops(function: str, small: dict, large: dict) -> None:
    small_n, large_n = probes.SIZES
    for size, counted in zip(probes.SIZES, (small, large)):
        if counted["error"]:
            fail("no-loops.raised", function=function, n=size, error=said_error(counted["error"]),
                 because_of=OWNERS[function])
    ops_small, ops_large = sum(small["counts"].values()), sum(large["counts"].values())
    if ops_large - ops_small > LOOP_SLACK:
        op = max(large["counts"], key=lambda name: large["counts"][name] - small["counts"].get(name, 0))
        fail("no-loops.torch-calls", function=function, small_n=small_n, large_n=large_n, small=ops_small,
             large=ops_large, op=op, op_small=small["counts"].get(op, 0), op_large=large["counts"][op])
    expect(large["lines"] - small["lines"] <= LOOP_SLACK, "no-loops.lines", function=function,
           small_n=small_n, large_n=large_n, small=small["lines"], large=large["lines"])


def test_no_loops(student):
    """A loop found in one function is reported before another function's error (which another check judges)."""
    problems = []
    for function, (small, large) in student.run(probes.operations, seed=SEED).items():
        try:
            _judge_loops(function, small, large)
        except CheckFailed as problem:
            problems.append((bool(small["error"] or large["error"]), problem))
    if problems:
        raise min(problems, key=lambda found: found[0])[1]


def test_inputs_unchanged(student):
    for probe, function in ((probes.normalize, "normalize_channels"), (probes.distances, "pairwise_distances"),
                            (probes.masked, "masked_mean")):
        runs = [run for run in student.run(probe, seed=SEED) if not run["error"]]
        expect(runs, "inputs-unchanged.never-returned", function=function, because_of=OWNERS[function])
        for run in runs:
            expect(not run["changed"], "inputs-unchanged.changed", function=function, inputs=run["changed"])
