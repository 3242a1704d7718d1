"""Exercise 14, a mistake: a generator of its own, but never seeded: it starts from the same default seed at
every call."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator()
    return random_split(dataset, [n_train, n_val], generator=generator)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
