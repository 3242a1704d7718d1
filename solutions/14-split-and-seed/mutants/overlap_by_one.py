"""Exercise 14, a mistake: an off-by-one in the slices: the last validation item is also the first training item."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(dataset), generator=generator).tolist()
    return Subset(dataset, perm[n_val - 1:]), Subset(dataset, perm[:n_val])


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
