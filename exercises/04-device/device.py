"""Exercise 4: run on the GPU when there is one, on the CPU when there is not.

This code was written on a machine with a GPU and only works there: every `.cuda()` assumes one.
Make each function use the `device` it is given (and `get_device` choose it), so the same code runs
anywhere. `grade exercise 4` checks it on this machine, GPU or not.
"""

import torch


def get_device():
    """The device to train on: the GPU when PyTorch can use one, otherwise the CPU."""
    return torch.device("cuda")


def setup(model, device):
    """Move `model` to `device` and return it."""
    return model.cuda()


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    """One optimisation step on a batch that arrives on the CPU; returns the loss as a float."""
    inputs = inputs.cuda()
    targets = targets.cuda()
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    """The predicted class of each input, as an int64 tensor on the CPU."""
    model.eval()
    with torch.no_grad():
        outputs = model(inputs.cuda())
    return outputs.argmax(dim=1)
