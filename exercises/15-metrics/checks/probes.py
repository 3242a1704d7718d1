"""Probes for exercise 15. `batches` builds seeded batches of logits and labels, calls each of the
student's five functions on its own copy of every batch, and records what came back (and the batch
itself, so that a check can compute in the grading process what a known wrong formula gives on it).

The batches are chosen so that the usual mistakes show: several sizes (N samples, C classes), one with
N == C (an argmax over the batch dimension then still runs), class counts far from equal (micro, macro
and weighted averages differ), confusion matrices that are not symmetric (a transposed one differs,
precision differs from recall), and batches with a class the model never predicts, a class that never
occurs, a class that does neither (the last one: counting only up to the largest index seen misses
it), and a class predicted and present but never right (its precision + recall is 0).

The batches are built with functions bound when this module is imported (before the student's module),
through `grader.checks.pristine`, so code that reassigns `torch.randn` or `torch.Tensor.clone` does not
change them."""

import numbers
from builtins import float, getattr, int, isinstance, len, list, max, min, range, tuple  # noqa: A004 - bound before the student's import

from torch import Generator, int64, rand, randint, randn, randperm, tensor  # bound before the student's import

from grader.checks import pristine
from grader.checks.observe import describe, describe_error

# (N, C, never predicted, never occurring, never right): the classes of each batch that the model never
# predicts, that no label holds, and that are predicted and present but never for the same sample.
BATCHES = [
    (24, 4, (), (), ()),
    (30, 5, (), (), ()),
    (9, 3, (), (), ()),
    (6, 6, None, None, None),  # N == C, logits and labels drawn at random, classes left out as they fall
    (20, 5, (1, 4), (3, 4), ()),  # class 4 neither occurs nor is predicted: the largest index seen is 3
    (16, 4, (2,), (), (0,)),
    (12, 3, (), (0,), ()),
]
FUNCTIONS = ("predictions", "accuracy", "confusion_matrix", "precision_recall", "macro_f1")
RIGHT = 0.7  # about this fraction of the samples get their true class's logit raised above the others
BOOST = 3.0  # how far above the others a raised logit goes
AWAY = 40.0  # a logit this far below the others never wins the argmax


def _generator(seed: int) -> Generator:
    return Generator().manual_seed(seed)


def _copy(t):
    return pristine.clone(pristine.detach(t))


def _batch(n: int, c: int, never_predicted, never_present, never_right, g: Generator):
    """Seeded logits [n, c] and labels [n] in which the classes named never win the argmax, never occur, or
    are never right; every other class occurs, is predicted and is right at least once."""
    with pristine.unmodified():
        rows = pristine.tolist(randn(n, c, generator=g))
        if never_predicted is None:  # drawn at random, whatever classes that leaves out
            return tensor(rows), randint(0, c, (n,), generator=g)
        present = [k for k in range(c) if k not in never_present]
        pool = [k for weight, k in enumerate(present, start=1) for _ in range(weight)]  # counts far from equal
        labels = present + [pool[i] for i in pristine.tolist(randint(0, len(pool), (n - len(present),), generator=g))]
        luck = pristine.tolist(rand(n, generator=g))
        order = pristine.tolist(randperm(n, generator=g))

    def raise_(i: int, k: int) -> None:
        rows[i][k] = max(rows[i]) + BOOST

    for i, label in enumerate(labels):  # the first sample of each class, and most others, predicted right
        if (i < len(present) or luck[i] < RIGHT) and label not in never_right and label not in never_predicted:
            raise_(i, label)
    # a class that never occurs, or is never right, is still predicted: for two samples of other classes each
    wrongly = [k for k in range(c) if (k in never_present or k in never_right) and k not in never_predicted]
    for step, k in enumerate(wrongly):
        for i in [i for i in range(len(present), n) if labels[i] != k][2 * step:2 * step + 2]:
            raise_(i, k)
    for i, label in enumerate(labels):
        for k in range(c):
            if k in never_predicted or (k == label and k in never_right):
                rows[i][k] = min(rows[i]) - AWAY
    with pristine.unmodified():
        return tensor([rows[i] for i in order]), tensor([labels[i] for i in order], dtype=int64)


def _value(value):
    """What a function returned, as plain data: a tensor (copied), a number, or a short sequence of those."""
    if pristine.is_tensor(value):
        return _copy(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        return [_value(v) for v in value]
    return None


def _call(module, name: str, logits, labels, num_classes: int) -> dict:
    """Call the student's `name` on copies of the batch: what it returned (as facts and as data), or its error."""
    args = [_copy(logits)]
    if name != "predictions":
        args.append(_copy(labels))
    if name not in ("predictions", "accuracy"):
        args.append(num_classes)
    try:
        out = getattr(module, name)(*args)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {"error": describe_error(exc, module), "returned": None, "value": None}
    return {"error": None, "returned": describe(out), "value": _value(out)}


def batches(module, seed: int) -> list[dict]:
    """Every function of the student's module on each of BATCHES: the batch, and what each function gave."""
    runs = []
    for case, (n, c, never_predicted, never_present, never_right) in enumerate(BATCHES):
        logits, labels = _batch(n, c, never_predicted, never_present, never_right, _generator(seed * 100 + case))
        run = {"n": n, "num_classes": c, "logits": logits, "labels": labels}
        for name in FUNCTIONS:
            run[name] = _call(module, name, logits, labels, c)
        runs.append(run)
    return runs
