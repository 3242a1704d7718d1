"""Exercise 4, mutant: divides the (already averaged) loss by the batch size again before backward."""

import torch


def get_device():
    """The device to train on: the GPU when PyTorch can use one, otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup(model, device):
    """Move `model` to `device` and return it."""
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    """One optimisation step on a batch that arrives on the CPU; returns the loss as a float."""
    inputs = inputs.to(device)
    targets = targets.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    (loss / inputs.size(0)).backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    """The predicted class of each input, as an int64 tensor on the CPU."""
    model.eval()
    with torch.no_grad():
        outputs = model(inputs.to(device))
    return outputs.argmax(dim=1).cpu()
