"""`generator=torch.manual_seed(seed)` handed to random_split: reproducible, since `torch.manual_seed` returns the
global generator it has just seeded, but every split resets torch's global random state to the split's seed.

Idiom: `random_split(dataset, lengths, generator=torch.manual_seed(0))`, the PyTorch side of a PyTorch-to-Paddle
conversion guide.
Seen in: PaddlePaddle/docs, docs/guides/model_convert/convert_from_pytorch/api_difference/utils/torch.utils.data.random_split.md (the PyTorch example with generator=torch.manual_seed(0))
Expect: fails rng-untouched
"""

import random

import numpy as np
import torch


def split(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    lengths = [len(dataset) - n_val, n_val]
    datasets = torch.utils.data.random_split(dataset, lengths, generator=torch.manual_seed(seed))
    return datasets[0], datasets[1]


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
