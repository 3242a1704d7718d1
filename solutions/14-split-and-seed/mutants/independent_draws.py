"""Exercise 14, a mistake: the two parts are drawn independently of each other, so they overlap and miss items."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n = len(dataset)
    n_val = int(n * val_fraction)
    rng = np.random.default_rng(seed)
    val_indices = rng.choice(n, size=n_val, replace=False)
    train_indices = rng.choice(n, size=n - n_val, replace=False)
    return Subset(dataset, train_indices.tolist()), Subset(dataset, val_indices.tolist())


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
