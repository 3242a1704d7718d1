"""Mutant: squared distances, without the square root."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1)


def masked_mean(x, mask):
    weights = mask.to(x.dtype)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
