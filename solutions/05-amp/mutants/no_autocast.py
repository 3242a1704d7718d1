"""Exercise 5, mutant: no autocast."""

import torch


def make_scaler(device_type):
    """A gradient scaler for `device_type` ("cuda" or "cpu")."""
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    """One mixed-precision optimisation step; returns the loss as a float."""
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
