"""Mutant: normalised weights without keepdim: the [N] counts line up with L."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()


def masked_mean(x, mask):
    weights = mask.float() / mask.sum(dim=1).clamp(min=1)
    return (x * weights).sum(dim=1)
