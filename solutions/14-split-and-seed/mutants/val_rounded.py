"""Exercise 14, a mistake: the validation size rounded to the nearest whole number, not down."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_val = round(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    return random_split(dataset, [n_train, n_val], generator=generator)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
