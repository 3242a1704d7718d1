"""Mutant: a loop over the rows, indexing each with its mask."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()


def masked_mean(x, mask):
    means = []
    for row, keep in zip(x, mask):
        means.append(row[keep].mean() if keep.any() else row.new_zeros(()))
    return torch.stack(means)
