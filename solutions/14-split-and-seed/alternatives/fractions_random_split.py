"""Exercise 14, another valid style: `random_split` given the two fractions, training first, its list returned
as it is; the generator made inline; torch seeded through `torch.default_generator`.

Seen in: random_split's own docstring, `random_split(range(30), [0.3, 0.3, 0.4], generator=generator2)` with
`generator2 = torch.Generator().manual_seed(42)` (pytorch/pytorch, torch/utils/data/dataset.py): fractions are
rounded down and what is left over goes to the first part, so the validation part gets
`int(len(dataset) * val_fraction)` items."""

import random

import numpy as np
import torch
from torch.utils.data import random_split


def split(dataset, val_fraction, seed):
    return random_split(dataset, [1 - val_fraction, val_fraction], generator=torch.Generator().manual_seed(seed))


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
