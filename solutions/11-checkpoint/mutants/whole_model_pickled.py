"""Exercise 11, mutant: the model object itself is pickled, and loaded back with weights_only=False."""

import torch


def save_checkpoint(path, model, optimizer, epoch):
    """Save everything needed to resume training after `epoch` (the epoch that just finished) to `path`."""
    torch.save({
        "model": model,
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
    }, path)


def load_checkpoint(path, model, optimizer, device):
    """Restore `model` and `optimizer` from `path` onto `device`; return the epoch to resume at."""
    checkpoint = torch.load(path, map_location=device, weights_only=False)
    model.to(device)  # first, so the optimizer's state is put where the parameters are
    model.load_state_dict(checkpoint["model"].state_dict())
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"] + 1
