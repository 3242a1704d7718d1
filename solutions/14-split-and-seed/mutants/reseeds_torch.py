"""Exercise 14, a mistake: split seeds torch's global generator itself (torch.manual_seed), then random_split
draws from it: the same split for the same seed, but the global state is reset at every split."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    torch.manual_seed(seed)
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    train_set, val_set = random_split(dataset, [n_train, n_val])
    return train_set, val_set


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
