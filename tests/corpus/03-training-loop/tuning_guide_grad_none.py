"""Gradients cleared by hand, `param.grad = None` for every parameter, as the performance tuning guide recommends.

Idiom: `for param in model.parameters(): param.grad = None` instead of `optimizer.zero_grad()`, at the top of the loop body; `torch.inference_mode()` for evaluation; totals kept as plain floats
Seen in: pytorch/tutorials, recipes_source/recipes/tuning_guide.py ("Use parameter.grad = None instead of model.zero_grad() or optimizer.zero_grad()": for param in model.parameters(): param.grad = None)
Expect: pass
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, batches = 0.0, 0
    for inputs, targets in loader:
        for param in model.parameters():
            param.grad = None
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for inputs, targets in loader:
            logits = model(inputs)
            total += loss_fn(logits, targets).item()
            correct += (logits.argmax(dim=1) == targets).sum().item()
            seen += targets.shape[0]
    return total / len(loader), correct / seen
