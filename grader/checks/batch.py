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

    n = x.shape[0]
    x = x.detach().clone().requires_grad_(True)
    out = forward(x)
    if not isinstance(out, torch.Tensor) or out.dim() < 1 or out.shape[0] != n:
        return {"rows": None, "dependence": None, "method": None}
    rows = _rows(n)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed))
    dependence = []
    for j in rows:
        if not out.requires_grad:
            break
        (grad,) = torch.autograd.grad((out[j].float() * weights[j]).sum(), x, retain_graph=True, allow_unused=True)
        if grad is None:
            break
        dependence.append(grad.abs().flatten(1).sum(1))
    if len(dependence) == len(rows):
        return {"rows": rows, "dependence": torch.stack(dependence), "method": "gradient"}
    samples = x.detach()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        torch.manual_seed(seed)  # the same random numbers for every call, should anything random be on
        before = forward(samples)
        changes = torch.zeros(len(rows), n)
        for i in range(n):
            changed = samples.clone()
            changed[i] += torch.randn(changed[i].shape, generator=g)
            torch.manual_seed(seed)
            after = forward(changed)
            for r, j in enumerate(rows):
                changes[r, i] = (after[j].float() - before[j].float()).abs().sum()
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
