"""Exercise 11, another valid style: the keys of PyTorch's "general checkpoint" recipe (`model_state_dict`,
`optimizer_state_dict`), `weights_only=True` said explicitly, and `model.train()` after loading because
the model is loaded to resume training, not for inference.

Seen in: https://pytorch.org/tutorials/recipes/recipes/saving_and_loading_a_general_checkpoint.html
(a dictionary of state_dicts and the epoch saved with torch.save; "model.eval() - or - model.train()"
after loading), and the educative.io "Deep Learning with PyTorch Step-by-Step" load_checkpoint
("always use TRAIN for resuming training")."""

import torch


def save_checkpoint(path, model, optimizer, epoch):
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )


def load_checkpoint(path, model, optimizer, device):
    model.to(device)
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.train()  # resuming training, so training mode
    return checkpoint["epoch"] + 1
