"""pytorch/examples' ImageNet script: the checkpoint stores the epoch to start at (`epoch + 1`) beside `state_dict` and `optimizer`, and resuming hands it back unchanged.

Idiom: `torch.save({'epoch': epoch + 1, 'state_dict': model.state_dict(), 'optimizer': optimizer.state_dict()}, filename)`; on resume `checkpoint = torch.load(path, map_location=loc)`, `start_epoch = checkpoint['epoch']`, `model.load_state_dict(checkpoint['state_dict'])`, `optimizer.load_state_dict(checkpoint['optimizer'])`; the map location a device string
Seen in: pytorch/examples, imagenet/main.py (save_checkpoint with 'epoch': epoch + 1; on --resume, torch.load(args.resume, map_location=loc) and args.start_epoch = checkpoint['epoch'])
Expect: pass
"""

import os

import torch


def save_checkpoint(path, model, optimizer, epoch):
    state = {
        "epoch": epoch + 1,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict(),
    }
    torch.save(state, path)


def load_checkpoint(path, model, optimizer, device):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint found at '{path}'")
    loc = str(torch.device(device))
    model.to(loc)
    checkpoint = torch.load(path, map_location=loc)
    start_epoch = checkpoint["epoch"]
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    print(f"=> loaded checkpoint '{path}' (epoch {checkpoint['epoch']})")
    return start_epoch
