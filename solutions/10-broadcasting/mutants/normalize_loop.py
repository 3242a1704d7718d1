"""Mutant: a loop over the images, stacked at the end (right values, one pass per sample)."""

import torch


def normalize_channels(x, mean, std):
    images = []
    for image in x:
        images.append((image - mean[:, None, None]) / std[:, None, None])
    return torch.stack(images)


def pairwise_distances(a, b):
    return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()


def masked_mean(x, mask):
    weights = mask.to(x.dtype)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
