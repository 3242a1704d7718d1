"""Exercise 10: broadcasting instead of loops.

Three small functions that every project needs in some form. Each of them runs, and each is wrong:
results that are off on some shapes, a Python loop over the batch, an input changed in place. Fix
them without writing a loop over the samples; `grade exercise 10` tells you what it observes.
"""

import torch


def normalize_channels(x, mean, std):
    """(x - mean) / std per channel: x is [N, C, H, W], mean and std are [C]. Returns [N, C, H, W]."""
    return (x - mean) / std


def pairwise_distances(a, b):
    """Euclidean distance between every row of a [N, D] and every row of b [M, D]. Returns [N, M]."""
    rows = []
    for point in a:
        rows.append(((point - b) ** 2).sum(dim=1))
    return torch.stack(rows)


def masked_mean(x, mask):
    """Mean of each row of x [N, L] over the positions where the boolean mask [N, L] is True. Returns [N];
    a row with no True position gives 0."""
    x.masked_fill_(~mask, 0.0)
    return x.mean(dim=1)
