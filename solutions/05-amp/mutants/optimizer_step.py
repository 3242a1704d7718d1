"""Exercise 5, mutant: optimizer.step() instead of scaler.step."""

import torch


def make_scaler(device_type):
    """A gradient scaler for `device_type` ("cuda" or "cpu")."""
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    """One mixed-precision optimisation step; returns the loss as a float."""
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
    scaler.scale(loss).backward()
    optimizer.step()
    scaler.update()
    return loss.item()
