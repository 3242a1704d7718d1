"""The indices of one part sampled with Python's global `random.sample`, the other part the set difference: no
seed is used, so every call gives another split, and each call moves Python's global generator on.

Idiom: `random.sample(range(N), k)` for one part, `list(set(range(N)) - set(indices))` for the other, both wrapped
in `torch.utils.data.dataset.Subset`.
Seen in: fujihiraryo/pytorch, cifar_classifier/python/utils.py (train_val_split with random.sample and a set difference)
Expect: fails reproducible, rng-untouched
"""

import random

import numpy as np
import torch


def split(dataset, val_fraction, seed):
    N = len(dataset)
    val_indices = random.sample(range(N), int(N * val_fraction))
    train_indices = list(set(range(N)) - set(val_indices))
    trainset = torch.utils.data.dataset.Subset(dataset, train_indices)
    valset = torch.utils.data.dataset.Subset(dataset, val_indices)
    return trainset, valset


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
