"""Exercise 3: a training loop and an evaluation loop.

This loop runs, and it even looks right, but it has four bugs that quietly make training and
evaluation wrong. Find and fix them; `grade exercise 3` tells you what it observes.
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    """Train `model` for one pass over `loader`; return the mean of the per-batch losses (a float)."""
    total = 0.0
    for inputs, targets in loader:
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        total += loss
    return total / len(loader)


def evaluate(model, loader, loss_fn):
    """Measure `model` on `loader` without changing it; return (mean per-batch loss, accuracy in [0, 1])."""
    total_loss = 0.0
    correct = 0
    for inputs, targets in loader:
        outputs = model(inputs)
        total_loss += loss_fn(outputs, targets).item()
        correct += (outputs.argmax(dim=1) == targets).sum().item()
    return total_loss / len(loader), correct / len(loader.dataset)
