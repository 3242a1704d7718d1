"""A nanoGPT-style AMP step: clip through unscale_, step and update the scaler, then clear the gradients last.

Idiom: `ctx = torch.amp.autocast(device_type=device_type)` kept in a variable and entered with `with ctx:`, `scaler.unscale_(optimizer)` + `clip_grad_norm_`, `scaler.step`/`scaler.update()`, then `optimizer.zero_grad(set_to_none=True)` at the end ("flush the gradients as soon as we can"), nothing cleared before the forward
Seen in: karpathy/nanoGPT, train.py (with ctx: logits, loss = model(X, Y); scaler.scale(loss).backward(); scaler.unscale_(optimizer); clip_grad_norm_; scaler.step(optimizer); scaler.update(); optimizer.zero_grad(set_to_none=True)); pytorch/tutorials, recipes_source/recipes/amp_recipe.py (opt.zero_grad() after scaler.update())
Expect: pass
"""

import torch

grad_clip = 1.0


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    ctx = torch.amp.autocast(device_type=device_type)
    with ctx:
        logits = model(inputs)
        loss = loss_fn(logits, targets)
    # backward pass, with gradient scaling if training in fp16
    scaler.scale(loss).backward()
    # clip the gradient
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    # step the optimizer and scaler if training in fp16
    scaler.step(optimizer)
    scaler.update()
    # flush the gradients as soon as we can, no need for this memory anymore
    optimizer.zero_grad(set_to_none=True)
    return loss.item()
