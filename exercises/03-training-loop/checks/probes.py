"""Probes for exercise 3. Each runs the student's (or the reference's) loop on a small seeded
problem inside a sandboxed worker and records what happened: the model's mode and the grad mode
during every forward call, whether each optimizer step saw only this batch's gradients, and what
the functions returned."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.checks.observe import describe

BATCHES, BATCH_SIZE = 6, 8  # every batch the same size, so either way of averaging agrees


def _loader(seed: int) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCHES * BATCH_SIZE, 6, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()  # three classes
    return DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=False)


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

    def forward(self, outputs, targets):
        loss = super().forward(outputs, targets)
        with torch.no_grad():
            correct = int((outputs.argmax(dim=1) == targets).sum())
        self.seen.append({"loss": float(loss.detach()), "correct": correct, "count": int(targets.numel())})
        return loss


def _record_forward_calls(model: nn.Module) -> list[dict]:
    calls: list[dict] = []

    def pre_hook(module, inputs):
        calls.append({"training": module.training, "grad_enabled": torch.is_grad_enabled()})

    model.register_forward_pre_hook(pre_hook)
    return calls


def _gradient_verdict(grad: torch.Tensor, fresh: torch.Tensor) -> str:
    """'fresh' if p.grad holds only this backward's gradient, 'scaled' if it holds it scaled down
    (clip_grad_norm_ does that, legitimately), else 'stale'."""
    if torch.allclose(grad, fresh, rtol=1e-5, atol=1e-7):
        return "fresh"
    scale = float((grad * fresh).sum() / (fresh * fresh).sum().clamp_min(1e-30))
    if 0.0 < scale <= 1.0 + 1e-6 and torch.allclose(grad, scale * fresh, rtol=1e-4, atol=1e-7):
        return "scaled"
    return "stale"


def train_epoch(module, seed: int) -> dict:
    """Run train_one_epoch once; record modes, gradient freshness at each step, and the outcome."""
    loader = _loader(seed)
    # No dropout here: the weights after the epoch are compared with the reference's, and a
    # correct loop that calls the model an extra time would shift dropout's random numbers.
    model = _model(seed, dropout=False)
    model.eval()  # as if a validation pass had just run: the loop must switch training mode back on
    calls = _record_forward_calls(model)
    params = list(model.parameters())
    latest: dict[int, torch.Tensor] = {}
    for index, p in enumerate(params):
        # A tensor hook sees each backward's gradient before it is added into p.grad.
        p.register_hook(lambda grad, index=index: latest.__setitem__(index, grad.detach().clone()))
    optimizer = torch.optim.SGD(params, lr=0.1)
    steps: list[str] = []

    def step_pre_hook(opt, args, kwargs):
        verdicts = []
        for index, p in enumerate(params):
            if index not in latest:
                verdicts.append("no-backward")
            elif p.grad is None or not p.grad.any() and latest[index].any():
                verdicts.append("cleared")
            else:
                verdicts.append(_gradient_verdict(p.grad, latest[index]))
        for bad in ("stale", "cleared", "no-backward", "scaled"):
            if bad in verdicts:
                steps.append(bad)
                break
        else:
            steps.append("fresh")
        latest.clear()
        return None

    optimizer.register_step_pre_hook(step_pre_hook)
    torch.manual_seed(seed + 1)
    loss_fn = RecordingLoss()
    returned = module.train_one_epoch(model, loader, loss_fn, optimizer)
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": calls,
        "steps": steps,
        "batches": len(loader),
        "params": [p.detach().clone() for p in params],
    }


def evaluate(module, seed: int) -> dict:
    """Run evaluate on a model left in training mode; record modes, grad mode and side effects."""
    loader = _loader(seed + 100)
    model = _model(seed, dropout=True)
    model.train()  # as if a training epoch had just run: evaluate must switch to evaluation mode
    calls = _record_forward_calls(model)
    batch_norm = model[1]
    running_mean = batch_norm.running_mean.clone()
    params = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(seed + 2)
    loss_fn = RecordingLoss()
    returned = module.evaluate(model, loader, loss_fn)
    return {
        "returned": describe(returned),
        "losses": loss_fn.seen,
        "calls": calls,
        "batches": len(loader),
        "samples": len(loader.dataset),
        "running_stats_changed": not torch.equal(running_mean, batch_norm.running_mean),
        "weights_changed": any(not torch.equal(a, b.detach()) for a, b in zip(params, model.parameters())),
        "grads_left": any(p.grad is not None for p in model.parameters()),
    }
