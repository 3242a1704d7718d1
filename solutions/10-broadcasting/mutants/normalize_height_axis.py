"""Mutant: the statistics get one trailing size-1 dimension, so they meet the height."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None]) / std[:, None]


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()


def masked_mean(x, mask):
    weights = mask.to(x.dtype)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
