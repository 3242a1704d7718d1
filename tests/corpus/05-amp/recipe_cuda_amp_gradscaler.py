"""make_scaler() written from the AMP recipe: `torch.cuda.amp.GradScaler()`, the old CUDA-only class, whatever device_type says.

Idiom: `scaler = torch.cuda.amp.GradScaler()` ("Constructs scaler once, at the beginning of the convergence run, using default args"), with the device argument ignored; the step itself uses the device-generic `torch.autocast(device_type=device_type)`
Seen in: pytorch/tutorials, recipes_source/recipes/amp_recipe.py (scaler = torch.cuda.amp.GradScaler()); aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_mixed_precision_example.py (scaler = torch.cuda.amp.GradScaler(), "Necessary for FP16"); huggingface/pytorch-image-models, timm/utils/cuda.py (NativeScaler: self._scaler = torch.cuda.amp.GradScaler(), now the fallback when torch.amp.GradScaler(device=...) is missing)
Expect: fails scaler-device
"""

import torch


def make_scaler(device_type):
    # Constructs scaler once, at the beginning of the convergence run, using default args.
    scaler = torch.cuda.amp.GradScaler()
    return scaler


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type):
        output = model(inputs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
