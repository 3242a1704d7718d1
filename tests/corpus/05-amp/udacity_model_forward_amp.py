"""A mixed-precision step written by someone who learned to call `model.forward(inputs)` explicitly.

Idiom: `output = model.forward(inputs)` under `torch.autocast(device_type=device_type)`, the amp recipe's step order otherwise (zero_grad first, scale/backward, step, update), loss read with `.item()`
Seen in: udacity/deep-learning-v2-pytorch, intro-to-pytorch/fc_model.py (output = model.forward(images) in train() and validation()); pytorch/tutorials, recipes_source/recipes/amp_recipe.py (scaler.scale(loss).backward(); scaler.step(opt); scaler.update())
Expect: pass
"""

import torch


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type):
        output = model.forward(inputs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
