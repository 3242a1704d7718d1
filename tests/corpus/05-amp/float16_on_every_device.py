"""Autocast told `dtype=torch.float16` for every device type, copied from CUDA examples, so the CPU runs in float16 instead of bfloat16.

Idiom: `with torch.autocast(device_type=device_type, dtype=torch.float16):` (the dtype pinned because "AMP means fp16"), `amp_dtype = torch.float16` as timm's default, the rest of the step by the book
Seen in: huggingface/pytorch-image-models, train.py (--amp-dtype defaults to 'float16'; amp_autocast = partial(torch.autocast, device_type=device.type, dtype=amp_dtype) for whatever device.type is); karpathy/nanoGPT, train.py (dtype 'float16' when bf16 is not supported, passed to torch.amp.autocast as ptdtype)
Expect: fails autocast-forward
"""

import torch

amp_dtype = torch.float16


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad()
    with torch.autocast(device_type=device_type, dtype=amp_dtype):
        output = model(inputs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
