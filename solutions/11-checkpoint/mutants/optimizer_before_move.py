"""Exercise 11, mutant: the optimizer is restored before the model is moved, so its state stays on the CPU."""

import torch


def save_checkpoint(path, model, optimizer, epoch):
    """Save everything needed to resume training after `epoch` (the epoch that just finished) to `path`."""
    torch.save({
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
    }, path)


def load_checkpoint(path, model, optimizer, device):
    """Restore `model` and `optimizer` from `path` onto `device`; return the epoch to resume at."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    model.to(device)
    return checkpoint["epoch"] + 1
