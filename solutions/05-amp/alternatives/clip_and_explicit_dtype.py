"""Exercise 5, another valid style: an explicit low-precision dtype per device type, gradients set to
None, unscale_ before clipping the gradient norm, and float(loss)."""

import torch

LOW_PRECISION = {"cuda": torch.float16, "cpu": torch.bfloat16}


def make_scaler(device_type):
    return torch.amp.GradScaler(device=device_type, init_scale=2.0**16)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type, dtype=LOW_PRECISION[device_type]):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    scaler.step(optimizer)
    scaler.update()
    return float(loss)
