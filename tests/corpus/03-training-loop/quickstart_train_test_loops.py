"""The PyTorch quickstart's train/test loops, turned into the exercise's two functions.

Idiom: zero_grad() between the loss and backward(), `size`/`num_batches` read up front, accuracy as `(pred.argmax(1) == y).type(torch.float).sum().item()`, in-place `/=` on the totals
Seen in: pytorch/tutorials, beginner_source/basics/quickstart_tutorial.py (train() and test(): zero_grad right before backward, correct counted as float and divided by len(dataset)); pytorch/tutorials, beginner_source/basics/optimization_tutorial.py (train_loop/test_loop with model.train()/model.eval() and torch.no_grad())
Expect: pass
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    num_batches = len(loader)
    model.train()
    train_loss = 0
    for batch, (X, y) in enumerate(loader):
        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        train_loss += loss.item()
    train_loss /= num_batches
    return train_loss


def evaluate(model, loader, loss_fn):
    size = len(loader.dataset)
    num_batches = len(loader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in loader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct
