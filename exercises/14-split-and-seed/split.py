"""Exercise 14: a reproducible train/validation split, and seeding every library.

split is yours to write; seed_everything runs, but has a bug that leaves runs different from each other.
`grade exercise 14` tells you what the checks observe.
"""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    """(train_set, val_set): a random split of `dataset`, the same for the same seed, without global state."""
    # TODO: the validation part holds int(len(dataset) * val_fraction) items, the training part the rest.
    # TODO: draw the split from a generator of its own, seeded with `seed` (torch.Generator().manual_seed(seed)),
    #       with random_split(dataset, [n_train, n_val], generator=...) or torch.randperm and Subset.
    raise NotImplementedError("split: choose the validation items at random, with a generator seeded by seed")


def seed_everything(seed):
    """Seed the global generators of Python's random, NumPy and torch with `seed`."""
    random.Random(seed)
    np.random.default_rng(seed)
    torch.Generator().manual_seed(seed)
