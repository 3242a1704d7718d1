"""Mutant: a - b subtracts row i of b from row i of a: one distance per row."""

import torch


def normalize_channels(x, mean, std):
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a, b):
    return ((a - b) ** 2).sum(dim=1).sqrt()


def masked_mean(x, mask):
    weights = mask.to(x.dtype)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
