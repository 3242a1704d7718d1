"""Exercise 14, another valid style: no torch in split at all. A `random.Random(seed)` instance, a generator of
the split's own, samples the validation indices; the training part is every other index, in the dataset's
order.

Seen in: `rng = random.Random(seed); rng.shuffle(indices)` "to avoid affecting / being dependent on global
random state" in simon-schaefer/torram torram/utils/dataset_utils.py; `random.sample(range(N), ...)` with the
other part as `list(set(range(N)) - set(...))` in fujihiraryo/pytorch cifar_classifier/python/utils.py (there
with the global generator)."""

import random

import numpy as np
import torch
from torch.utils.data import Subset


def split(dataset, val_fraction, seed):
    n = len(dataset)
    n_val = int(n * val_fraction)
    rng = random.Random(seed)
    val_indices = rng.sample(range(n), n_val)
    chosen = set(val_indices)
    train_indices = [i for i in range(n) if i not in chosen]
    return Subset(dataset, train_indices), Subset(dataset, val_indices)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
