"""Exercise 5, a known mistake: the older torch.cuda.amp.GradScaler, which is for CUDA only, whatever
the device type make_scaler is given (PyTorch's AMP recipe used it for years)."""

import torch


def make_scaler(device_type):
    return torch.cuda.amp.GradScaler()


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
