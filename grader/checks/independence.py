"""Batch independence: in a model meant to treat each sample on its own (any model in evaluation mode,
without batch statistics), output row j must depend on input sample j and on no other. The classic
beginner bug that breaks it keeps the shape right: `x.view(32 * 7 * 7, -1).t()` flattens numbers of
several images into one row.

In a probe:   facts = input_dependence(lambda x: model(x), images)      # plain data
In the test:  for leak in mixed_samples(facts): fail(...)               # words are the check's

`input_dependence` measures, for some rows j, how much output row j depends on every input sample i:
through input gradients when a gradient reaches the input (the sum of |d (w . out[j]) / d x[i]| with
random weights w, so a softmax's constant row sum cannot hide a dependence), else, when forward runs
under `no_grad` or detaches, by changing one sample at a time and measuring how row j moves.
"""

from __future__ import annotations

from typing import Any, Callable


def _rows(n: int) -> list[int]:
    return list(range(n)) if n <= 8 else sorted({0, 1, n // 2, n - 1})


def input_dependence(forward: Callable[[Any], Any], x: Any, *, seed: int = 0) -> dict[str, Any]:
    """{"rows": [j...], "dependence": tensor [len(rows), n], "method": "gradient"|"change"} where
    dependence[r, i] is how much output row rows[r] depends on sample i; {"rows": None, ...} when the
    output is not a tensor with one row per sample (the shape is another check's business)."""
    import torch

    from grader.checks import pristine

    vf = pristine.VF
    n = pristine.shape(x)[0]
    x = pristine.requires_grad_(pristine.clone(pristine.detach(x)), True)
    out = forward(x)
    if not pristine.is_tensor(out) or pristine.dim(out) < 1 or pristine.shape(out)[0] != n:
        return {"rows": None, "dependence": None, "method": None}
    rows = _rows(n)
    weights = vf.randn(pristine.shape(out), generator=torch.Generator().manual_seed(seed))
    dependence = []
    for j in rows:
        if not pristine.requires_grad(out):
            break
        row = vf.sum(vf.mul(pristine.to_float(vf.select(out, 0, j)), vf.select(weights, 0, j)))
        (grad,) = pristine.autograd_grad(row, x, retain_graph=True, allow_unused=True)
        if grad is None:
            break
        dependence.append(vf.sum(vf.flatten(vf.abs(grad), 1), 1))
    if len(dependence) == len(rows):
        return {"rows": rows, "dependence": vf.stack(dependence), "method": "gradient"}
    samples = pristine.detach(x)
    g = torch.Generator().manual_seed(seed + 1)
    with pristine.no_grad():
        torch.manual_seed(seed)  # the same random numbers for every call, should anything random be on
        before = forward(samples)
        changes = vf.zeros(len(rows), n)
        for i in range(n):
            changed = pristine.clone(samples)
            sample = vf.select(changed, 0, i)
            pristine.add_(sample, vf.randn(pristine.shape(sample), generator=g))
            torch.manual_seed(seed)
            after = forward(changed)
            for r, j in enumerate(rows):
                moved = vf.sub(pristine.to_float(vf.select(after, 0, j)), pristine.to_float(vf.select(before, 0, j)))
                pristine.set_item(changes, (r, i), pristine.item(vf.sum(vf.abs(moved))))
    return {"rows": rows, "dependence": changes, "method": "change"}


def mixed_samples(facts: dict[str, Any], *, tolerance: float = 1e-6) -> list[dict[str, Any]]:
    """From `input_dependence` facts, one entry per output row that breaks independence:
    {"row": j, "others": [samples other than j that row j depends on], "own": bool (depends on sample j)}.
    A dependence counts when it exceeds `tolerance` times row j's dependence on its own sample."""
    if not facts.get("rows"):
        return []
    broken = []
    for j, row in zip(facts["rows"], facts["dependence"]):
        own = float(row[j])
        others = [i for i in range(len(row)) if i != j and float(row[i]) > tolerance * max(own, 1e-12)]
        if others or own <= 0:
            broken.append({"row": j, "others": others, "own": own > 0})
    return broken
