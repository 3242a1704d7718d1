"""Another valid style: a detached running total turned into a float at the end, gradients
clipped before each step, a float tensor of correct predictions, and a decorator for no_grad."""

import torch
from torch.nn.utils import clip_grad_norm_


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train(True)
    total = torch.zeros(())
    batches = 0
    for batch in loader:
        inputs, targets = batch
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        total += loss.detach()
        batches += 1
    return float(total / batches)


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    model.train(False)
    total = 0.0
    correct = torch.zeros(())
    for inputs, targets in loader:
        outputs = model(inputs)
        total += float(loss_fn(outputs, targets))
        correct += (outputs.max(dim=1).indices == targets).float().sum()
    return total / len(loader), correct.item() / len(loader.dataset)
