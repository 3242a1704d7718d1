"""Exercise 14, a mistake: every k-th item of the dataset is a validation item: evenly spread, but not random."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n = len(dataset)
    n_val = int(n * val_fraction)
    step = max(n // max(n_val, 1), 1)
    val_indices = list(range(0, n, step))[:n_val]
    chosen = set(val_indices)
    train_indices = [i for i in range(n) if i not in chosen]
    return Subset(dataset, train_indices), Subset(dataset, val_indices)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
