"""Exercise 14, another valid style: a generator made first and seeded with its `manual_seed` method, one
`torch.randperm` of all the indices, and two `Subset`s cut from it (the validation part from its end);
seed_everything through `torch.random.manual_seed` and `import numpy`, with the GPU seeds and cuDNN flags that
reproducibility snippets add.

Seen in: `g = torch.Generator()` then `g.manual_seed(0)` in PyTorch's reproducibility notes (pytorch/pytorch
docs/source/notes/randomness.rst, the generator handed to a DataLoader); `indices = torch.randperm(n,
generator=torch.Generator().manual_seed(DATA_SEED))` with `test_size = int(n * test_fraction)` in DavidRuhe/gw
src/data/utils.py; `fix_seed` in SooYoungYang/ai_useful_code tool/seed_fixing.py (torch, the GPUs, cuDNN's flags,
NumPy, random)."""

import random

import numpy
import torch
from torch.utils.data import Subset


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator()
    generator.manual_seed(seed)
    indices = torch.randperm(len(dataset), generator=generator).tolist()
    return Subset(dataset, indices[:n_train]), Subset(dataset, indices[n_train:])


def seed_everything(seed):
    torch.random.manual_seed(seed)
    torch.cuda.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    numpy.random.seed(seed)
    random.seed(seed)
