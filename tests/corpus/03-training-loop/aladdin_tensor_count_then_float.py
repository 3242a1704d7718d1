"""Aladdin Persson's check_accuracy style: counts kept as tensors, converted with float() at the end, train mode restored.

Idiom: `scores = model(x)`, `_, predictions = scores.max(1)`, `num_correct += (predictions == y).sum()` (a tensor), `float(num_correct) / float(num_samples)`, `model.train()` at the end of evaluation; training does zero_grad after the loss, before backward
Seen in: aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_simple_CNN.py (training loop with "# forward" / "# backward" comments; check_accuracy() with model.eval(), torch.no_grad(), tensor num_correct, float division and model.train() at the end)
Expect: pass
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total_loss = 0.0
    for batch_idx, (data, targets) in enumerate(loader):
        # forward
        scores = model(data)
        loss = loss_fn(scores, targets)

        # backward
        optimizer.zero_grad()
        loss.backward()

        # gradient descent or adam step
        optimizer.step()
        total_loss += loss.item()
    return total_loss / (batch_idx + 1)


def evaluate(model, loader, loss_fn):
    num_correct = 0
    num_samples = 0
    total_loss = 0.0
    model.eval()

    with torch.no_grad():
        for x, y in loader:
            scores = model(x)
            total_loss += loss_fn(scores, y).item()
            _, predictions = scores.max(1)
            num_correct += (predictions == y).sum()
            num_samples += predictions.size(0)

    model.train()
    return total_loss / len(loader), float(num_correct) / float(num_samples)
