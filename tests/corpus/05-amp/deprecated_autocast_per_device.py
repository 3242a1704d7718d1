"""An older-PyTorch style step that picks the per-device autocast class: torch.cuda.amp.autocast or torch.cpu.amp.autocast.

Idiom: `autocast = torch.cuda.amp.autocast if device_type == "cuda" else torch.cpu.amp.autocast` (the pre-`torch.autocast` API, deprecated but per device), `with autocast():`, default dtypes (float16 on CUDA, bfloat16 on the CPU); the scaler made with torch.amp.GradScaler(device_type)
Seen in: pytorch/tutorials, recipes_source/recipes/tuning_guide.py (with torch.no_grad(), torch.cpu.amp.autocast(cache_enabled=False, dtype=torch.bfloat16) for CPU); pytorch/tutorials, recipes_source/recipes/amp_recipe.py (with torch.cuda.amp.autocast(): for CUDA); pytorch/pytorch, torch/cpu/amp/autocast_mode.py (the CPU class, a torch.autocast with device_type='cpu')
Expect: pass
"""

import torch


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    autocast = torch.cuda.amp.autocast if device_type == "cuda" else torch.cpu.amp.autocast
    optimizer.zero_grad()
    with autocast():
        output = model(inputs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
