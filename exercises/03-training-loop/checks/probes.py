"""Probes for exercise 3. Each runs the student's (or the reference's) loop on a small seeded
problem inside a sandboxed worker and records what happened: the model's mode and the grad mode
during every forward pass (however the loop ran the model), whether each optimizer step saw only
this batch's gradients, and what the functions returned. The loaders end with a smaller batch, as
real ones do, so a mean over batches and a mean over samples differ.

What a probe measures itself (a loss's value, whether a tensor changed) goes through
`grader.checks.pristine`, PyTorch's own functions bound before the student's module is imported, and
the builtins below are bound here for the same reason: code that reassigns `torch.Tensor.item`,
`torch.equal`, `F.cross_entropy` or `builtins.any` does not change what is recorded."""

import weakref
from builtins import any, float, int, len, list, sum, vars, zip  # noqa: A004 - bound before the student's import

import torch
from torch import nn
from torch.nn import BatchNorm1d, Dropout, Linear, ReLU, Sequential
from torch.optim import SGD

from grader.checks import pristine
from grader.checks.data import classification_loader
from grader.checks.observe import describe
from grader.checks.spies import ModelWatch, OptimizerSpy, replay_clipping

BATCHES, BATCH_SIZE, LAST_BATCH = 6, 8, 5  # 45 samples: five batches of 8, then one of 5


def _loader(seed: int):
    return classification_loader(seed, batches=BATCHES, batch_size=BATCH_SIZE, features=6, classes=3,
                                 last_batch=LAST_BATCH)


def _model(seed: int, dropout: bool) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = [Linear(6, 16), BatchNorm1d(16), ReLU()]
    layers += [Dropout(0.5)] if dropout else []
    return Sequential(*layers, Linear(16, 3))


class RecordingLoss(nn.CrossEntropyLoss):
    """CrossEntropyLoss that also notes each value it returns and how many predictions were right,
    so a check can compare what the student's function returned with what happened in their run."""

    def __init__(self):
        super().__init__()
        self.seen: list[dict] = []
        self._returned: list[weakref.ref] = []

    def forward(self, outputs, targets):
        # The loss tensors returned before that are still alive and still part of a graph: a loop that keeps
        # every batch's (`losses.append(loss)`) holds a growing number of them.
        kept = sum(1 for ref in self._returned if ref() is not None and pristine.grad_fn(ref()) is not None)
        loss = pristine.cross_entropy(outputs, targets)  # nn.CrossEntropyLoss()'s, whatever F.cross_entropy is now
        vf = pristine.VF
        with pristine.unmodified():
            correct = int(pristine.item(vf.sum(vf.eq(vf.argmax(pristine.detach(outputs), 1), targets))))
            value = pristine.number(pristine.detach(loss))
        self.seen.append({"loss": value, "correct": correct, "count": int(pristine.numel(targets)),
                          "graphs_kept": kept})
        self._returned.append(weakref.ref(loss))
        return loss


def train_epoch(module, seed: int, clipping: list | None = None) -> dict:
    """Run train_one_epoch once; record modes, gradient freshness at each step, and the outcome.
    `clipping` (for the reference): clip the gradients before each step as a student's run did."""
    loader = _loader(seed)
    # No dropout here: the weights after the epoch are compared with the reference's, and a
    # correct loop that calls the model an extra time would shift dropout's random numbers.
    model = _model(seed, dropout=False)
    pristine.set_training(model, False)  # as if a validation pass had just run: the loop must switch training mode back on
    params = list(pristine.parameters(model))
    optimizer = SGD(params, lr=0.1)
    spy = OptimizerSpy(optimizer, model=model, keep_grads=True)
    if clipping is not None:
        replay_clipping(optimizer, clipping)
    torch.manual_seed(seed + 1)
    loss_fn = RecordingLoss()
    with ModelWatch(model) as watch:
        returned = module.train_one_epoch(model, loader, loss_fn, optimizer)
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": watch.calls,
        "steps": spy.verdicts,
        # How each step's gradients were clipped, and the gradients backward computed before that
        # (compared with a reference run clipped the same way).
        "clipping": [step["clipping"] for step in spy.steps],
        "fresh": [step["fresh"] for step in spy.steps],
        "summed": spy.summed,
        "events": spy.events,
        "batches": len(loader),
        "params": [pristine.clone(pristine.detach(p)) for p in params],
    }


def evaluate(module, seed: int) -> dict:
    """Run evaluate on a model left in training mode; record modes, grad mode and side effects."""
    loader = _loader(seed + 100)
    model = _model(seed, dropout=True)
    pristine.set_training(model, True)  # as if a training epoch had just run: evaluate must switch to evaluation mode
    def running():  # BatchNorm1d's running mean, read from the layer's own buffers
        return vars(vars(model)["_modules"]["1"])["_buffers"]["running_mean"]

    running_before = running()  # updated in place in training mode
    running_mean = pristine.clone(running_before)
    params = [pristine.clone(pristine.detach(p)) for p in pristine.parameters(model)]
    torch.manual_seed(seed + 2)
    loss_fn = RecordingLoss()
    with ModelWatch(model) as watch:
        returned = module.evaluate(model, loader, loss_fn)
    params_now = list(pristine.parameters(model))
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": watch.calls,
        "batches": len(loader),
        "samples": len(loader.dataset),
        "running_stats_changed": not (pristine.equal(running_mean, running_before)
                                      and pristine.equal(running_mean, running())),
        "weights_changed": any(not pristine.equal(a, pristine.detach(b)) for a, b in zip(params, params_now)),
        "grads_left": any(pristine.grad(p) is not None for p in params_now),
    }
