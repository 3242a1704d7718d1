"""make_scaler() that switches the scaler off unless the device runs float16, as nanoGPT and timm do (bfloat16 "needs no scaler").

Idiom: `torch.amp.GradScaler(device_type, enabled=(dtype == "float16"))` with `dtype` picked per device (bfloat16 on the CPU), so `make_scaler("cpu")` returns a disabled scaler whose scale() and step() do nothing special
Seen in: karpathy/nanoGPT, train.py (self.scaler = torch.cuda.amp.GradScaler(enabled=(self.args.dtype == 'float16'))); huggingface/pytorch-image-models, train.py (loss_scaler = NativeScaler(device=device.type) only when device.type is 'cuda' and amp_dtype is float16: "bfloat16 does not need it")
Expect: fails scaler-device
"""

import torch


def make_scaler(device_type):
    dtype = "float16" if device_type == "cuda" else "bfloat16"
    return torch.amp.GradScaler(device_type, enabled=(dtype == "float16"))


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type):
        logits = model(inputs)
        loss = loss_fn(logits, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
