"""Probes for exercise 3. Each runs the student's (or the reference's) loop on a small seeded
problem inside a sandboxed worker and records what happened: the model's mode and the grad mode
during every forward pass (however the loop ran the model), whether each optimizer step saw only
this batch's gradients, and what the functions returned. The loaders end with a smaller batch, as
real ones do, so a mean over batches and a mean over samples differ."""

import weakref

import torch
from torch import nn

from grader.checks.data import classification_loader
from grader.checks.observe import describe
from grader.checks.spies import ModelWatch, OptimizerSpy

BATCHES, BATCH_SIZE, LAST_BATCH = 6, 8, 5  # 45 samples: five batches of 8, then one of 5


def _loader(seed: int):
    return classification_loader(seed, batches=BATCHES, batch_size=BATCH_SIZE, features=6, classes=3,
                                 last_batch=LAST_BATCH)


def _model(seed: int, dropout: bool) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = [nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU()]
    layers += [nn.Dropout(0.5)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(16, 3))


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
        kept = sum(1 for ref in self._returned if ref() is not None and ref().grad_fn is not None)
        loss = super().forward(outputs, targets)
        with torch.no_grad():
            correct = int((outputs.argmax(dim=1) == targets).sum())
        self.seen.append({"loss": float(loss.detach()), "correct": correct, "count": int(targets.numel()),
                          "graphs_kept": kept})
        self._returned.append(weakref.ref(loss))
        return loss


def train_epoch(module, seed: int) -> dict:
    """Run train_one_epoch once; record modes, gradient freshness at each step, and the outcome."""
    loader = _loader(seed)
    # No dropout here: the weights after the epoch are compared with the reference's, and a
    # correct loop that calls the model an extra time would shift dropout's random numbers.
    model = _model(seed, dropout=False)
    model.eval()  # as if a validation pass had just run: the loop must switch training mode back on
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    spy = OptimizerSpy(optimizer, model=model)
    torch.manual_seed(seed + 1)
    loss_fn = RecordingLoss()
    with ModelWatch(model) as watch:
        returned = module.train_one_epoch(model, loader, loss_fn, optimizer)
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": watch.calls,
        "steps": spy.verdicts,
        "summed": spy.summed,
        "events": spy.events,
        "batches": len(loader),
        "params": [p.detach().clone() for p in params],
    }


def evaluate(module, seed: int) -> dict:
    """Run evaluate on a model left in training mode; record modes, grad mode and side effects."""
    loader = _loader(seed + 100)
    model = _model(seed, dropout=True)
    model.train()  # as if a training epoch had just run: evaluate must switch to evaluation mode
    batch_norm = model[1]
    running_mean = batch_norm.running_mean.clone()
    params = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(seed + 2)
    loss_fn = RecordingLoss()
    with ModelWatch(model) as watch:
        returned = module.evaluate(model, loader, loss_fn)
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": watch.calls,
        "batches": len(loader),
        "samples": len(loader.dataset),
        "running_stats_changed": not torch.equal(running_mean, batch_norm.running_mean),
        "weights_changed": any(not torch.equal(a, b.detach()) for a, b in zip(params, model.parameters())),
        "grads_left": any(p.grad is not None for p in model.parameters()),
    }
