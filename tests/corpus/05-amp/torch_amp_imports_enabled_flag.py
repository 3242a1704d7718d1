"""The device-generic torch.amp API imported by name, with an `enabled=use_amp` switch as the recipe recommends.

Idiom: `from torch.amp import GradScaler, autocast`, `GradScaler(device=device_type, enabled=use_amp)`, `with autocast(device_type=device_type, enabled=use_amp):`, `optimizer.zero_grad(set_to_none=True)`, the loss value taken with `.detach().item()` before returning
Seen in: pytorch/tutorials, recipes_source/recipes/amp_recipe.py ("All together": enabled=use_amp on both autocast and GradScaler, so one flag switches AMP off); renyuehe/python-Lesson, python_人工智能/pytorch库的学习/pytorch_之混合精度/02_GradScaler.py (zero_grad, autocast forward, scale/backward, step, update)
Expect: pass
"""

import torch
from torch.amp import GradScaler, autocast

use_amp = True


def make_scaler(device_type):
    return GradScaler(device=device_type, enabled=use_amp)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad(set_to_none=True)
    with autocast(device_type=device_type, enabled=use_amp):
        output = model(inputs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.detach().item()
