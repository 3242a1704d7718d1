"""Exercise 14, a mistake: np.random.default_rng(seed) in seed_everything: a new generator, thrown away; NumPy's
global generator is never seeded."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    train_set, val_set = random_split(dataset, [n_train, n_val], generator=generator)
    return train_set, val_set


def seed_everything(seed):
    random.seed(seed)
    np.random.default_rng(seed)
    torch.manual_seed(seed)
