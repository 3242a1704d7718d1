"""Exercise 14, a mistake: the training size rounded down and the validation part the rest (the idiom
`train_size = int(0.8 * len(dataset))`, then `val_size = len(dataset) - train_size`): the validation part is
rounded up."""

import random

import numpy as np
import torch
from torch.utils.data import Subset, random_split


def split(dataset, val_fraction, seed):
    n_train = int(len(dataset) * (1 - val_fraction))
    n_val = len(dataset) - n_train
    generator = torch.Generator().manual_seed(seed)
    return random_split(dataset, [n_train, n_val], generator=generator)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
