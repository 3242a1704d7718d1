"""Exercise 11, another valid style: the file written to a temporary name first and renamed over the old
checkpoint (an interruption while saving never leaves a half-written file), a `version` entry, the
checkpoint always loaded onto the CPU into a model already moved to its device, and the resume epoch
computed from the saved one.

Seen in: huggingface/pytorch-image-models (timm) timm/utils/checkpoint_saver.py (torch.save to a
'tmp' file, then os.replace onto the last checkpoint's name; save_state with 'epoch', 'state_dict',
'optimizer', 'version': 2) and timm/models/_helpers.py resume_checkpoint (torch.load(checkpoint_path,
map_location='cpu'); resume_epoch = checkpoint['epoch'], plus one when 'version' > 1)."""

import os

import torch


def save_checkpoint(path, model, optimizer, epoch):
    save_state = {
        "epoch": epoch,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "version": 2,  # 2: 'epoch' is the last finished epoch
    }
    tmp_save_path = os.path.join(os.path.dirname(os.path.abspath(path)), "tmp.pth.tar")
    torch.save(save_state, tmp_save_path)
    os.replace(tmp_save_path, path)


def load_checkpoint(path, model, optimizer, device):
    model.to(device=device)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    resume_epoch = checkpoint["epoch"]
    if checkpoint.get("version", 1) > 1:
        resume_epoch += 1
    return resume_epoch
