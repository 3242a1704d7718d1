"""Lightning's `seed_everything`: the seed cast to int and checked against NumPy's bounds, kept in an environment
variable for subprocesses, then random, NumPy and torch seeded, the seed returned; the split is random_split with
lengths and a generator of its own, as in random_split's own docstring.

Idiom: `min_seed_value <= seed <= max_seed_value` or a ValueError, `os.environ["PL_GLOBAL_SEED"] = str(seed)`,
`random.seed(seed)`, `np.random.seed(seed)`, `torch.manual_seed(seed)`, `return seed`; `generator1 =
torch.Generator().manual_seed(42)` passed to `random_split(dataset, lengths, generator=generator1)`.
Seen in: Lightning-AI/pytorch-lightning, src/lightning/fabric/utilities/seed.py (seed_everything); pytorch/pytorch, torch/utils/data/dataset.py (random_split's docstring example)
Expect: pass
"""

import logging
import os
import random

import numpy as np
import torch
from torch.utils.data import random_split

log = logging.getLogger(__name__)

max_seed_value = 4294967295  # 2^32 - 1
min_seed_value = 0


def seed_everything(seed=None):
    if seed is None:
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
    elif not isinstance(seed, int):
        seed = int(seed)
    if not (min_seed_value <= seed <= max_seed_value):
        raise ValueError(f"{seed} is not in bounds, numpy accepts from {min_seed_value} to {max_seed_value}")
    log.info(f"Seed set to {seed}")
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def split(dataset, val_fraction, seed):
    val_size = int(len(dataset) * val_fraction)
    lengths = [len(dataset) - val_size, val_size]
    generator1 = torch.Generator().manual_seed(seed)
    train_set, val_set = random_split(dataset, lengths, generator=generator1)
    return train_set, val_set
