"""An AMP step where backward, the scaler step and the update all sit inside the autocast block (one indentation too many).

Idiom: `with torch.autocast(device_type=device_type):` indenting the whole rest of the step (forward, loss, `scaler.scale(loss).backward()`, `scaler.step(optimizer)`, `scaler.update()`), which the docs call "not recommended" but which computes the same thing; `torch.amp.GradScaler(device_type)`
Seen in: pytorch/tutorials, recipes_source/recipes/amp_recipe.py ("Exits autocast before backward(). Backward passes under autocast are not recommended."); HFtion/Env_set, pytorch/autocast.py (the usual scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update() sequence, there after the `with autocast():` block)
Expect: pass
"""

import torch


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)

        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss.item()
