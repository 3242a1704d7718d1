"""Exercise 11, another valid style: the checkpoint mapped straight to the device, loaded into the model
while it is still on the CPU, the model moved afterwards, and only then the optimizer restored (so its
state lands beside the moved parameters); plain keys `model`, `optimizer` and a counter.

Seen in: karpathy/nanoGPT train.py (init_from == 'resume': torch.load(ckpt_path, map_location=device),
model.load_state_dict(state_dict), then model.to(device), then optimizer.load_state_dict(
checkpoint['optimizer']); saving checkpoint = {'model': raw_model.state_dict(), 'optimizer':
optimizer.state_dict(), 'iter_num': iter_num, ...})."""

import torch


def save_checkpoint(path, model, optimizer, epoch):
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch_num": epoch,
    }
    torch.save(checkpoint, path)


def load_checkpoint(path, model, optimizer, device):
    checkpoint = torch.load(path, map_location=device)
    state_dict = checkpoint["model"]
    unwanted_prefix = "_orig_mod."  # left by torch.compile
    for k in list(state_dict.keys()):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    model.to(device)
    optimizer.load_state_dict(checkpoint["optimizer"])
    epoch_num = checkpoint["epoch_num"]
    checkpoint = None  # free up memory
    return epoch_num + 1
