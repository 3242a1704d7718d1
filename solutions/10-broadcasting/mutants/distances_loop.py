"""Mutant: a loop over the rows of a."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    rows = []
    for point in a:
        rows.append(((point - b) ** 2).sum(dim=1).sqrt())
    return torch.stack(rows)


def masked_mean(x, mask):
    weights = mask.to(x.dtype)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
