"""Exercise 5: mixed-precision training (AMP).

This training step works, in float32. Turn it into a mixed-precision step: the forward pass and the
loss under `torch.autocast`, and a gradient scaler around backward and the optimizer step. It must
work for both device types, "cuda" and "cpu". `grade exercise 5` checks it on this machine.
"""

import torch


def make_scaler(device_type):
    """A gradient scaler for `device_type` ("cuda" or "cpu")."""
    return torch.amp.GradScaler()


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    """One mixed-precision optimisation step; returns the loss as a float."""
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.item()
