"""Checks for exercise 15. One probe calls the student's five functions on seven seeded batches (see
probes.py); each check compares one function's results with the reference's on the same batches and,
when they differ, names the mistake if the result is what a known wrong formula gives (computed here,
from the batch the probe recorded). The functions build on each other (predictions, then the confusion
matrix, then precision and recall, then F1), so a function that is wrong on a batch where one it may
rely on is wrong too says "because of" that one's check.

A batch is *clean* when every class is predicted right at least once: then no precision, recall or F1
divides 0 by 0. precision-recall judges every batch, but only the classes where nothing divides by 0;
macro-f1 judges the clean batches (on the others, what differs is empty-classes' to say); empty-classes
judges what the other batches add (a class never predicted, never present, or with precision + recall 0)."""

import math

import probes
import torch

from grader.checks import CheckFailed, fail, said
from grader.checks.compare import tensor_difference
from grader.checks.observe import said_error, said_value

SEED = 15
RTOL, ATOL = 1e-4, 1e-5  # a small epsilon in a denominator (1e-7, 1e-12) changes a result far less than this


def _runs(side) -> list[dict]:
    return side.run(probes.batches, seed=SEED)


def _batch(run: dict) -> dict:
    return said("phrase.batch", n=run["n"], c=run["num_classes"])


def _near(got: float, want: float) -> bool:
    return math.isfinite(got) and abs(got - want) <= ATOL + RTOL * abs(want)


def _raise_first(problems: list[tuple[CheckFailed, bool]]) -> None:
    """Fail with the first problem this check found on its own (not because of another check's), preferring one
    where the function returned something over one where it raised; else with the first problem."""
    if problems:
        raise min(problems, key=lambda found: (bool(found[0].because_of), found[1]))[0]


def _unless_unwritten(run: dict, error: dict, owners, *functions: str):
    """`owners` for an error the function raised, unless it is the NotImplementedError of a function not yet
    written: that one is the function's own, unless one of `functions` (those it may call) raised it."""
    if error.get("type") != "NotImplementedError":
        return owners or None
    same = [f for f in functions if run[f]["error"] and run[f]["error"].get("message") == error.get("message")]
    return (owners or None) if same else None


def _judge_all(pairs, judge, function: str) -> None:
    """`judge(run, want)` on every batch; fail with the problem `_raise_first` picks (`function`: the one whose
    error tells whether it raised)."""
    problems = []
    for run, want in pairs:
        try:
            judge(run, want)
        except CheckFailed as problem:
            problems.append((problem, bool(run[function]["error"])))
    _raise_first(problems)


# ----------------------------------------------------------------------------- what the reference shows


def _cm(want: dict) -> torch.Tensor:
    return want["confusion_matrix"]["value"]


def _clean(want: dict) -> bool:
    """Every class is predicted right at least once: no precision, recall or F1 of the batch divides by 0."""
    return bool((_cm(want).diag() >= 1).all())


def _pair(outcome: dict):
    """(precision, recall) when the function returned two tensors, else None."""
    value = outcome["value"]
    if outcome["error"] is None and isinstance(value, list) and len(value) == 2 \
            and all(isinstance(t, torch.Tensor) for t in value):
        return value
    return None


def _number(outcome: dict):
    """(the value, whether it was a tensor) for a number or a one-value tensor, else None."""
    value = outcome["value"]
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return float(value.double()), True
    if isinstance(value, float):
        return value, False
    return None


def _close_at(got: torch.Tensor, want: torch.Tensor, where: torch.Tensor) -> bool:
    a, b = got.detach().double()[where], want.double()[where]
    return bool(torch.isclose(a, b, rtol=RTOL, atol=ATOL).all())


def _per_class_f1(want: dict) -> torch.Tensor:
    precision, recall = (t.double() for t in want["precision_recall"]["value"])
    total = precision + recall
    return torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-300), torch.zeros_like(total))


# ----------------------------------------------------------------------------- is the student's function right


def _predictions_right(run: dict, want: dict) -> bool:
    got, ref = run["predictions"]["value"], want["predictions"]["value"]
    return (run["predictions"]["error"] is None and isinstance(got, torch.Tensor) and got.shape == ref.shape
            and not got.is_floating_point() and not got.is_complex() and torch.equal(got.long(), ref))


def _cm_right(run: dict, want: dict) -> bool:
    got, ref = run["confusion_matrix"]["value"], _cm(want)
    return (run["confusion_matrix"]["error"] is None and isinstance(got, torch.Tensor) and got.shape == ref.shape
            and not got.is_complex() and torch.equal(got.double(), ref.double()))


def _pr_right(run: dict, want: dict) -> bool:
    """precision and recall right for every class whose precision (recall) divides by a count above 0."""
    pair, ref = _pair(run["precision_recall"]), want["precision_recall"]["value"]
    if pair is None or any(t.shape != r.shape or t.is_complex() for t, r in zip(pair, ref)):
        return False
    cm = _cm(want)
    return _close_at(pair[0], ref[0], cm.sum(dim=0) > 0) and _close_at(pair[1], ref[1], cm.sum(dim=1) > 0)


def _upstream(run: dict, want: dict, *functions: str) -> list[str]:
    """The checks of the functions among `functions` that are wrong on this batch (those this one may build on)."""
    right = {"predictions": _predictions_right, "confusion-matrix": _cm_right, "precision-recall": _pr_right}
    return [check for check in functions if not right[check](run, want)]


# ----------------------------------------------------------------------------- predictions


def _judge_predictions(run: dict, want: dict) -> None:
    outcome, batch, n, c = run["predictions"], _batch(run), run["n"], run["num_classes"]
    if outcome["error"]:
        fail("predictions.raised", batch=batch, error=said_error(outcome["error"]))
    got, ref = outcome["value"], want["predictions"]["value"]
    if isinstance(got, list) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got):
        fail("predictions.pair", batch=batch)
    if not isinstance(got, torch.Tensor):
        fail("predictions.not-a-tensor", batch=batch, returned=said_value(outcome["returned"]))
    shape = list(got.shape)
    if shape == [c] and n != c:
        fail("predictions.batch-dim", batch=batch, n=n, c=c, shape=shape)
    if shape in ([n, 1], [1, n]):
        fail("predictions.kept-dim", batch=batch, n=n, shape=shape)
    if shape == [n, c]:
        fail("predictions.scores", batch=batch, n=n, c=c)
    name = said("phrase.predictions-of", batch=batch)
    if shape != [n]:
        fail(tensor_difference(got, ref, name=name))
    if got.is_floating_point() or got.is_complex() or got.dtype == torch.bool:
        fail("predictions.not-integers", batch=batch, dtype=str(got.dtype))
    if torch.equal(got.long(), ref):
        return
    if n == c and torch.equal(got.long(), run["logits"].argmax(dim=0)):
        fail("predictions.batch-dim", batch=batch, n=n, c=c, shape=shape)
    if torch.equal(got.long(), run["logits"].argmin(dim=1)):
        fail("predictions.smallest", batch=batch)
    fail(tensor_difference(got.long(), ref, name=name), what_to_try="predictions.values-differ")


def test_predictions(student, reference):
    _judge_all(zip(_runs(student), _runs(reference)), _judge_predictions, "predictions")


# ----------------------------------------------------------------------------- accuracy


def _same_error(run: dict, function: str, other: str) -> bool:
    """Whether `function` raised on this batch the error that `other` (which it may call) raised."""
    mine, theirs = run[function]["error"], run[other]["error"]
    return bool(mine and theirs and (mine.get("type"), mine.get("message")) == (theirs.get("type"), theirs.get("message")))


def _from_own_cm(run: dict, got: float) -> bool:
    """Whether `got` is the accuracy that the student's own confusion matrix gives (its trace over its sum)."""
    cm = run["confusion_matrix"]["value"]
    if not isinstance(cm, torch.Tensor) or cm.dim() != 2 or cm.shape[0] != cm.shape[1] or cm.is_complex():
        return False
    total = float(cm.double().sum())
    return total > 0 and _near(got, float(cm.double().diagonal().sum()) / total)


def _judge_accuracy(run: dict, want: dict) -> None:
    outcome, batch, n = run["accuracy"], _batch(run), run["n"]
    owner = _upstream(run, want, "predictions")
    found = _number(outcome) if not outcome["error"] else None
    if not _cm_right(run, want) and (_same_error(run, "accuracy", "confusion_matrix")
                                     or (found is not None and _from_own_cm(run, found[0]))):
        owner.append("confusion-matrix")  # an accuracy read off the student's own confusion matrix
    owner = owner or None
    if outcome["error"]:
        fail("accuracy.raised", batch=batch, error=said_error(outcome["error"]),
             because_of=_unless_unwritten(run, outcome["error"], owner, "predictions", "confusion_matrix"))
    if found is None:
        fail("accuracy.not-a-number", batch=batch, returned=said_value(outcome["returned"]), because_of=owner)
    got, tensor = found
    target = want["accuracy"]["value"]
    if _near(got, target):
        if tensor:
            fail("accuracy.tensor", batch=batch, value=got, dtype=outcome["returned"]["dtype"])
        return
    if owner:
        fail("accuracy.wrong", batch=batch, got=got, want=target, because_of=owner)
    if n == run["num_classes"] and _near(got, float((run["logits"].argmax(dim=0) == run["labels"]).double().mean())):
        fail("accuracy.batch-dim", batch=batch, got=got, want=target)
    correct = round(target * n)
    if _near(got, correct):
        fail("accuracy.count", batch=batch, got=got, correct=correct, n=n, want=target, tensor=tensor)
    if _near(got, 100 * target):
        fail("accuracy.percent", batch=batch, got=got, want=target)
    fail("accuracy.wrong", batch=batch, got=got, want=target)


def test_accuracy(student, reference):
    _judge_all(zip(_runs(student), _runs(reference)), _judge_accuracy, "accuracy")


# ----------------------------------------------------------------------------- confusion matrix


def _first_cell(mask: torch.Tensor) -> tuple[int, int]:
    i, j = (int(v) for v in mask.nonzero()[0])
    return i, j


def _judge_cm(run: dict, want: dict, ran_elsewhere: bool) -> None:
    outcome, batch, c = run["confusion_matrix"], _batch(run), run["num_classes"]
    owner = _upstream(run, want, "predictions") or None
    ref = _cm(want)
    absent = [k for k in range(c) if int(ref[:, k].sum()) == 0 and int(ref[k].sum()) == 0]
    if outcome["error"]:
        # A size taken from what the batch holds fails on a batch missing some classes and runs on the others.
        owners = _unless_unwritten(run, outcome["error"], owner, "predictions")
        missing = [k for k in range(c) if int(ref[k].sum()) == 0]
        unpredicted = [k for k in range(c) if int(ref[:, k].sum()) == 0]
        if ran_elsewhere and (missing or unpredicted):
            fail("confusion-matrix.raised-missing-classes", batch=batch, error=said_error(outcome["error"]),
                 missing=missing, unpredicted=unpredicted, because_of=owners)
        fail("confusion-matrix.raised", batch=batch, error=said_error(outcome["error"]), because_of=owners)
    got = outcome["value"]
    if not isinstance(got, torch.Tensor):
        fail("confusion-matrix.not-a-tensor", batch=batch, returned=said_value(outcome["returned"]), because_of=owner)
    name = said("phrase.cm-of", batch=batch)
    shape = list(got.shape)
    if shape != [c, c]:
        if not owner and len(shape) == 2 and shape[0] == shape[1] and shape[0] < c:
            missing = [k for k in range(c) if int(ref[k].sum()) == 0]
            fail("confusion-matrix.missing-classes", batch=batch, size=shape[0], c=c, missing=missing, absent=absent)
        if not owner and shape == [c * c]:
            fail("confusion-matrix.flat", batch=batch, c=c)
        fail(tensor_difference(got, ref, name=name), because_of=owner)
    if got.is_complex():
        fail(tensor_difference(got, ref, name=name))
    values, counts = got.double(), ref.double()
    if torch.equal(values, counts):
        return
    if owner:
        fail(tensor_difference(got, ref, name=name, check_dtype=False), because_of=owner)
    if torch.equal(values, counts.T):
        i, j = _first_cell(counts != counts.T)
        fail("confusion-matrix.transposed", batch=batch, row=i, col=j, got=int(values[i, j]), want=int(counts[i, j]))
    if torch.equal(values, (counts > 0).double()):
        i, j = _first_cell(counts > 1)
        fail("confusion-matrix.once-per-pair", batch=batch, row=i, col=j, want=int(counts[i, j]))
    for divided in (counts / counts.sum(dim=1, keepdim=True).clamp(min=1),
                    counts / counts.sum(dim=0, keepdim=True).clamp(min=1), counts / counts.sum()):
        if torch.allclose(values, divided, rtol=RTOL, atol=ATOL):
            fail("confusion-matrix.normalised", batch=batch)
    fail(tensor_difference(got, ref, name=name, check_dtype=False), what_to_try="confusion-matrix.values-differ")


def test_confusion_matrix(student, reference):
    pairs = list(zip(_runs(student), _runs(reference)))
    ran_elsewhere = any(not run["confusion_matrix"]["error"] for run, _ in pairs)
    _judge_all(pairs, lambda run, want: _judge_cm(run, want, ran_elsewhere), "confusion_matrix")


# ----------------------------------------------------------------------------- precision and recall


def _worst(got: torch.Tensor, want: torch.Tensor, where: torch.Tensor) -> int:
    gap = (got.detach().double() - want.double()).abs().nan_to_num(nan=math.inf).masked_fill(~where, -1)
    return int(gap.argmax())


def _judge_pr(run: dict, want: dict, raised_on_clean: bool) -> None:
    outcome, batch, c = run["precision_recall"], _batch(run), run["num_classes"]
    upstream = _upstream(run, want, "predictions", "confusion-matrix")
    cm = _cm(want)
    predicted, actual = cm.sum(dim=0), cm.sum(dim=1)
    if outcome["error"]:
        # Raised only on a batch where something divides by 0: the check of those classes says why.
        owners = upstream or ([] if _clean(want) or raised_on_clean else ["empty-classes"])
        fail("precision-recall.raised", batch=batch, error=said_error(outcome["error"]),
             because_of=_unless_unwritten(run, outcome["error"], owners, "predictions", "confusion_matrix"))
    pair = _pair(outcome)
    found = [_number({"value": v, "error": None}) for v in outcome["value"]] \
        if isinstance(outcome["value"], list) and len(outcome["value"]) == 2 else None
    if pair is None or any(t.dim() == 0 for t in pair):
        if found and all(found):
            fail("precision-recall.averaged", batch=batch, c=c, because_of=upstream or None)
        fail("precision-recall.not-a-pair", batch=batch, returned=said_value(outcome["returned"]),
             because_of=upstream or None)
    missing = [k for k in range(c) if int(actual[k]) == 0]
    for kind, got, ref in zip(("precision", "recall"), pair, want["precision_recall"]["value"]):
        if list(got.shape) != [c]:
            if not upstream and got.dim() == 1 and got.shape[0] < c:
                fail("precision-recall.missing-classes", batch=batch, kind=kind, size=got.shape[0], c=c,
                     missing=missing)
            fail(tensor_difference(got, ref, name=said("phrase.per-class", kind=kind, batch=batch)),
                 because_of=upstream or None)
    (precision, recall), (want_p, want_r) = pair, want["precision_recall"]["value"]
    p_right, r_right = _close_at(precision, want_p, predicted > 0), _close_at(recall, want_r, actual > 0)
    if p_right and r_right:
        return
    both = (predicted > 0) & (actual > 0)
    swapped = _close_at(precision, want_r, both) and _close_at(recall, want_p, both)
    if swapped and not upstream:
        k = int(((want_p.double() - want_r.double()).abs().masked_fill(~both, -1)).argmax())
        fail("precision-recall.swapped", batch=batch, k=k, precision=float(want_p[k]), recall=float(want_r[k]),
             correct=int(cm[k, k]), predicted=int(predicted[k]), actual=int(actual[k]))
    kind, got, ref, where = (("precision", precision, want_p, predicted > 0) if not p_right
                             else ("recall", recall, want_r, actual > 0))
    k = _worst(got, ref, where)
    fail("precision-recall.wrong", batch=batch, kind=kind, k=k, got=float(got[k]), want=float(ref[k]),
         correct=int(cm[k, k]), predicted=int(predicted[k]), actual=int(actual[k]), because_of=upstream or None)


def test_precision_recall(student, reference):
    pairs = list(zip(_runs(student), _runs(reference)))
    raised_on_clean = any(run["precision_recall"]["error"] for run, want in pairs if _clean(want))
    _judge_all(pairs, lambda run, want: _judge_pr(run, want, raised_on_clean), "precision_recall")


# ----------------------------------------------------------------------------- macro F1


def _judge_f1(run: dict, want: dict) -> None:
    outcome, batch = run["macro_f1"], _batch(run)
    upstream = _upstream(run, want, "predictions", "confusion-matrix", "precision-recall")
    # On a batch that is not clean, what differs is judged by empty-classes (after the functions it builds on).
    owners = (upstream + ([] if _clean(want) else ["empty-classes"])) or None
    if outcome["error"]:
        fail("macro-f1.raised", batch=batch, error=said_error(outcome["error"]),
             because_of=_unless_unwritten(run, outcome["error"], owners, "predictions", "confusion_matrix",
                                           "precision_recall"))
    found = _number(outcome)
    if found is None:
        fail("macro-f1.not-a-number", batch=batch, returned=said_value(outcome["returned"]), because_of=owners)
    got, tensor = found
    target = want["macro_f1"]["value"]
    if _near(got, target):
        if tensor:
            fail("macro-f1.tensor", batch=batch, value=got, dtype=outcome["returned"]["dtype"])
        return
    if owners:
        fail("macro-f1.wrong", batch=batch, got=got, want=target, because_of=owners)
    accuracy = want["accuracy"]["value"]
    if _near(got, accuracy):
        fail("macro-f1.micro", batch=batch, got=got, want=target)
    precision, recall = (float(t.double().mean()) for t in want["precision_recall"]["value"])
    if _near(got, 2 * precision * recall / (precision + recall)):
        fail("macro-f1.of-means", batch=batch, got=got, want=target, precision=precision, recall=recall)
    support = _cm(want).sum(dim=1).double()
    if _near(got, float((_per_class_f1(want) * support).sum() / support.sum())):
        fail("macro-f1.weighted", batch=batch, got=got, want=target)
    fail("macro-f1.wrong", batch=batch, got=got, want=target)


def _clean_first(student, reference) -> list[tuple[dict, dict]]:
    pairs = list(zip(_runs(student), _runs(reference)))
    return [pair for pair in pairs if _clean(pair[1])] + [pair for pair in pairs if not _clean(pair[1])]


def test_macro_f1(student, reference):
    _judge_all(_clean_first(student, reference), _judge_f1, "macro_f1")


# ----------------------------------------------------------------------------- classes with nothing to divide by


def _judge_empty(run: dict, want: dict, pr_raised_on_clean: bool, f1_wrong_on_clean: bool) -> None:
    batch, c = _batch(run), run["num_classes"]
    cm = _cm(want)
    predicted, actual = cm.sum(dim=0), cm.sum(dim=1)
    never_predicted = [k for k in range(c) if int(predicted[k]) == 0]
    never_occurs = [k for k in range(c) if int(actual[k]) == 0]
    upstream = _upstream(run, want, "predictions", "confusion-matrix")
    outcome = run["precision_recall"]
    if outcome["error"]:
        owners = upstream + (["precision-recall"] if pr_raised_on_clean else [])
        if outcome["error"].get("type") == "NotImplementedError":
            owners = ["precision-recall"]  # not written yet: its own check says so
        fail("empty-classes.raised", batch=batch, function="precision_recall", error=said_error(outcome["error"]),
             never_predicted=never_predicted, never_occurs=never_occurs, because_of=owners or None)
    pair = _pair(outcome)
    if pair is None or any(list(t.shape) != [c] for t in pair):
        fail("empty-classes.no-values", batch=batch, because_of=upstream + ["precision-recall"])
    for kind, values, classes in (("precision", pair[0], never_predicted), ("recall", pair[1], never_occurs)):
        for k in classes:
            value = float(values[k].double())
            if not math.isfinite(value):
                fail("empty-classes.nan", batch=batch, kind=kind, k=k, value=value, because_of=upstream or None)
            if abs(value) > ATOL:
                fail("empty-classes.not-zero", batch=batch, kind=kind, k=k, value=value, because_of=upstream or None)
    outcome = run["macro_f1"]
    f1 = _per_class_f1(want)
    zero = [k for k in range(c) if float(f1[k]) == 0.0]
    owners = (_upstream(run, want, "predictions", "confusion-matrix", "precision-recall")
              + (["macro-f1"] if f1_wrong_on_clean else [])) or None
    if outcome["error"]:
        if outcome["error"].get("type") == "NotImplementedError":
            owners = ["macro-f1"]
        fail("empty-classes.f1-raised", batch=batch, error=said_error(outcome["error"]), zero=zero, because_of=owners)
    found = _number(outcome)
    if found is None:
        fail("empty-classes.f1-not-a-number", batch=batch, returned=said_value(outcome["returned"]),
             because_of=(owners or []) + ["macro-f1"])
    got, target = found[0], want["macro_f1"]["value"]
    if _near(got, target):
        return
    if owners:
        fail("empty-classes.f1-wrong", batch=batch, got=got, want=target, zero=zero, because_of=owners)
    if not math.isfinite(got):
        fail("empty-classes.f1-nan", batch=batch, value=got, zero=zero)
    # A mean over some of the classes only: those whose F1 divides by counts above 0 (what torch.nanmean
    # keeps of a naive division), those that occur, or those that occur or are predicted.
    subsets = [(predicted > 0) & (actual > 0) & (f1 > 0), actual > 0, (predicted > 0) | (actual > 0)]
    for kept in subsets:
        if 0 < int(kept.sum()) < c and _near(got, float(f1[kept].mean())):
            fail("empty-classes.f1-left-out", batch=batch, got=got, want=target, averaged=int(kept.sum()), c=c,
                 left_out=[k for k in range(c) if not bool(kept[k])])
    fail("empty-classes.f1-wrong", batch=batch, got=got, want=target, zero=zero)


def test_empty_classes(student, reference):
    pairs = _clean_first(student, reference)
    clean = [(run, want) for run, want in pairs if _clean(want)]
    pr_raised_on_clean = any(run["precision_recall"]["error"] for run, _ in clean)
    f1_wrong_on_clean = False
    for run, want in clean:
        try:
            _judge_f1(run, want)
        except CheckFailed:
            f1_wrong_on_clean = True
    judge = lambda run, want: _judge_empty(run, want, pr_raised_on_clean, f1_wrong_on_clean)  # noqa: E731
    _judge_all([(run, want) for run, want in pairs if not _clean(want)], judge, "precision_recall")
