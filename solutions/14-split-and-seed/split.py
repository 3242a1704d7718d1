"""Exercise 14, reference solution."""

import random

import numpy as np
import torch
from torch.utils.data import random_split


def split(dataset, val_fraction, seed):
    """(train_set, val_set): a random split of `dataset`, the same for the same seed, without global state."""
    n_val = int(len(dataset) * val_fraction)  # rounded down
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)  # the split's own: the global generators stay as they are
    train_set, val_set = random_split(dataset, [n_train, n_val], generator=generator)
    return train_set, val_set


def seed_everything(seed):
    """Seed the global generators of Python's random, NumPy and torch with `seed`."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU's generator and every GPU's
