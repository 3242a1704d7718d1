"""nanoGPT's context choice: autocast only off the CPU (`nullcontext()` when device_type is "cpu"), so CPU steps run in float32.

Idiom: `ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)`, `ptdtype` from a {'float32', 'bfloat16', 'float16'} table, `with ctx:` around the forward; the scaler part is right
Seen in: karpathy/nanoGPT, train.py (device_type = 'cuda' if 'cuda' in device else 'cpu'; ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)); many nanoGPT forks repeat the line in sample.py and train.py
Expect: fails autocast-forward
"""

from contextlib import nullcontext

import torch

ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def make_scaler(device_type):
    return torch.amp.GradScaler(device_type)


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    dtype = "float16" if device_type == "cuda" else "bfloat16"
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=ptdtype[dtype])
    optimizer.zero_grad(set_to_none=True)
    with ctx:
        logits = model(inputs)
        loss = loss_fn(logits, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
