"""Exercise 10 (reference): vectorised functions that let broadcasting do the work, with no Python loop
over the batch."""

import torch


def normalize_channels(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(x - mean) / std per channel: x is [N, C, H, W], mean and std are [C]."""
    # [C] -> [C, 1, 1]: broadcasting lines shapes up from the last dimension, so the channel
    # statistics need two trailing size-1 dimensions to meet C, not W.
    return (x - mean[:, None, None]) / std[:, None, None]


def pairwise_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between every row of a [N, D] and every row of b [M, D]: a [N, M] tensor."""
    difference = a[:, None, :] - b[None, :, :]  # [N, 1, D] - [1, M, D] -> [N, M, D]
    return difference.pow(2).sum(dim=-1).sqrt()


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each row of x [N, L] over the positions where mask [N, L] is True: a [N] tensor.
    A row with no True position gives 0."""
    weights = mask.to(x.dtype)
    total = (x * weights).sum(dim=1)
    count = weights.sum(dim=1)
    return total / count.clamp(min=1)
