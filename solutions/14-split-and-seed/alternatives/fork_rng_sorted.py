"""Exercise 14, another valid style: the global generator used, but inside `torch.random.fork_rng()`, which
puts its state back when the block ends; the validation indices sorted, the training part a list comprehension
over the rest; a seed_everything that accepts numbers NumPy can take only, and returns the seed.

Seen in: `torch.random.fork_rng` ("forks the RNG, so that when you return, the RNG is reset to the state that
it was previously in", pytorch/pytorch torch/random.py); the bounds check of `seed_everything` in
Lightning-AI/pytorch-lightning src/lightning/fabric/utilities/seed.py (`min_seed_value <= seed <= max_seed_value`)."""

import random

import numpy as np
import torch
from torch.utils.data import Subset

MAX_SEED = 2**32 - 1  # np.random.seed takes 0 to 2**32 - 1


def split(dataset, val_fraction, seed):
    n = len(dataset)
    n_val = int(n * val_fraction)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        order = torch.randperm(n)
    val_indices = sorted(order[:n_val].tolist())
    in_val = set(val_indices)
    train_indices = [i for i in range(n) if i not in in_val]
    return Subset(dataset, train_indices), Subset(dataset, val_indices)


def seed_everything(seed):
    seed = int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{seed} is not in bounds, numpy accepts from 0 to {MAX_SEED}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed
