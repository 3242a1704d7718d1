"""Aladdin Persson's mixed-precision loop: `with torch.cuda.amp.autocast():` for the forward, which only ever autocasts CUDA.

Idiom: `with torch.cuda.amp.autocast(): scores = model(data); loss = criterion(scores, targets)` ("# forward"), then "# backward" with `optimizer.zero_grad()` before `scaler.scale(loss).backward()`; the scaler itself is made for the right device
Seen in: aladdinpersson/Machine-Learning-Collection, ML/Pytorch/Basics/pytorch_mixed_precision_example.py (with torch.cuda.amp.autocast(): scores = model(data); optimizer.zero_grad(); scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()); pytorch/tutorials, recipes_source/recipes/amp_recipe.py (with torch.cuda.amp.autocast():)
Expect: fails autocast-forward
"""

import torch


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    criterion = loss_fn
    # forward
    with torch.cuda.amp.autocast():
        scores = model(inputs)
        loss = criterion(scores, targets)

    # backward
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
