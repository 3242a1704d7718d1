"""Exercise 3, mutant: takes `next(iter(loader))` inside the loop, so every step trains on the first batch."""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    """Train `model` for one pass over `loader`; return the mean of the per-batch losses (a float)."""
    model.train()
    total = 0.0
    for _ in range(len(loader)):
        inputs, targets = next(iter(loader))
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader, loss_fn):
    """Measure `model` on `loader` without changing it; return (mean per-batch loss, accuracy in [0, 1])."""
    model.eval()
    total_loss = 0.0
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            outputs = model(inputs)
            total_loss += loss_fn(outputs, targets).item()
            correct += (outputs.argmax(dim=1) == targets).sum().item()
    return total_loss / len(loader), correct / len(loader.dataset)
