"""Exercise 14, a mistake: random.seed(seed), then random.shuffle of the indices (as in xjtuwgt/DiffGCN
codes/randomSplit.py): reproducible, but Python's global generator is reseeded by every split."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    indices = list(range(len(dataset)))
    random.seed(seed)
    random.shuffle(indices)
    n_val = int(len(dataset) * val_fraction)
    return Subset(dataset, indices[n_val:]), Subset(dataset, indices[:n_val])


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
