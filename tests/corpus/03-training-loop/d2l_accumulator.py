"""Dive into Deep Learning's train_epoch_ch3/evaluate_accuracy pattern, with its Accumulator and accuracy() helpers.

Idiom: an `Accumulator(n)` of running sums, `if isinstance(net, torch.nn.Module): net.train()`, `metric.add(float(l) * len(y), accuracy(y_hat, y), y.numel())`, accuracy as `float(cmp.type(y.dtype).sum())`, results as `metric[0] / metric[2]`
Seen in: d2l-ai/d2l-en, d2l/torch.py (Accumulator, accuracy(), evaluate_accuracy() with net.eval() and torch.no_grad(), train_epoch_ch3() returning metric[0] / metric[2], metric[1] / metric[2]); fecat233/expml, src/exmpl.py (a student's copy of the same helpers)
Expect: pass
"""

import torch


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """Compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def train_one_epoch(model, loader, loss_fn, optimizer):
    net, updater = model, optimizer
    if isinstance(net, torch.nn.Module):
        net.train()
    # Sum of training loss, no. of examples
    metric = Accumulator(2)
    for X, y in loader:
        y_hat = net(X)
        l = loss_fn(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l) * len(y), y.numel())
    return metric[0] / metric[1]


def evaluate(model, loader, loss_fn):
    net = model
    if isinstance(net, torch.nn.Module):
        net.eval()  # Set the model to evaluation mode
    # Sum of loss, no. of correct predictions, no. of predictions
    metric = Accumulator(3)
    with torch.no_grad():
        for X, y in loader:
            y_hat = net(X)
            metric.add(float(loss_fn(y_hat, y)) * y.numel(), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
