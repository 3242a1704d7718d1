"""Exercise 14, a mistake: one generator made and seeded at import time; every call draws on from where the last
one stopped."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


GENERATOR = torch.Generator().manual_seed(0)


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    return random_split(dataset, [n_train, n_val], generator=GENERATOR)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
