"""Exercise 14, a mistake: nothing is shuffled: the first n_val items of the dataset are the validation part."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    val_set = Subset(dataset, range(n_val))
    train_set = Subset(dataset, range(n_val, len(dataset)))
    return train_set, val_set


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
