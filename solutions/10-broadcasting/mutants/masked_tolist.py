"""Mutant: a Python loop over .tolist() values: no torch operation inside the loop."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()


def masked_mean(x, mask):
    means = []
    for row, keep in zip(x.tolist(), mask.tolist()):
        kept = [value for value, k in zip(row, keep) if k]
        means.append(sum(kept) / len(kept) if kept else 0.0)
    return torch.tensor(means, dtype=x.dtype)
