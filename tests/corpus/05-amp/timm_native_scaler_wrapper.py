"""A timm-style step: an `amp_autocast` partial, and timm's NativeScaler.__call__ logic as a helper around the given scaler.

Idiom: `amp_autocast = partial(torch.autocast, device_type=device_type)` then `with amp_autocast():`, a `loss_scaler(loss, optimizer, clip_grad=None, parameters=None)` helper that scales, backwards, optionally unscale_s and clips, then steps and updates; `optimizer.zero_grad()` first
Seen in: huggingface/pytorch-image-models, timm/utils/cuda.py (NativeScaler.__call__: self._scaler.scale(loss).backward(create_graph=...), unscale_ + clip when clip_grad is given, self._scaler.step(optimizer), self._scaler.update()); huggingface/pytorch-image-models, train.py (amp_autocast = partial(torch.autocast, device_type=device.type, dtype=amp_dtype); the train loop calls loss_scaler(loss, optimizer, clip_grad=..., parameters=...))
Expect: pass
"""

from functools import partial

import torch


def make_scaler(device_type):
    return torch.amp.GradScaler(device=device_type)


def loss_scaler(scaler, loss, optimizer, clip_grad=None, parameters=None, create_graph=False):
    scaler.scale(loss).backward(create_graph=create_graph)
    if clip_grad is not None:
        assert parameters is not None
        scaler.unscale_(optimizer)  # unscale the gradients of optimizer's assigned params in-place
        torch.nn.utils.clip_grad_norm_(parameters, clip_grad)
    scaler.step(optimizer)
    scaler.update()


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    amp_autocast = partial(torch.autocast, device_type=device_type)

    optimizer.zero_grad()
    with amp_autocast():
        output = model(inputs)
        loss = loss_fn(output, targets)
    loss_scaler(scaler, loss, optimizer, clip_grad=None, parameters=model.parameters())
    return loss.item()
