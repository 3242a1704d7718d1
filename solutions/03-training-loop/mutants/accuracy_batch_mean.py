"""Exercise 3, a known mistake: the accuracy is the mean of the per-batch accuracies, which is wrong
whenever the last batch is smaller than the others (each of its samples then counts for more)."""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    model.eval()
    losses, accuracies = [], []
    for inputs, targets in loader:
        outputs = model(inputs)
        losses.append(loss_fn(outputs, targets).item())
        accuracies.append((outputs.argmax(1) == targets).float().mean().item())
    return sum(losses) / len(losses), sum(accuracies) / len(accuracies)
