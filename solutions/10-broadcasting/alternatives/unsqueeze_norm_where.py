"""Alternative: `unsqueeze(...).expand(...)` of both point sets and `torch.linalg.vector_norm` over the
features, statistics reshaped to `[1, C, 1, 1]`, and `torch.where` choosing 0 for a row with nothing
to average.

Seen in: `pair_euclidean_distances` in moukamisama/F2M metrics/euclidean_distances.py
(`output1.unsqueeze(1).expand(a, b, -1)` against `output2.unsqueeze(0).expand(a, b, -1)`, squares
summed over dim 2); statistics reshaped to `(1, -1, 1, 1)` for `(B, C, H, W)` batches in image
denormalisation helpers; `torch.where(condition, input, other)` as documented at
https://docs.pytorch.org/docs/stable/generated/torch.where.html, choosing a value per position.
"""

import torch


def normalize_channels(x, mean, std):
    channels = x.shape[1]
    return (x - mean.reshape(1, channels, 1, 1)) / std.reshape(1, channels, 1, 1)


def pairwise_distances(a, b):
    n, m = a.shape[0], b.shape[0]
    first = a.unsqueeze(1).expand(n, m, -1)
    second = b.unsqueeze(0).expand(n, m, -1)
    return torch.linalg.vector_norm(first - second, ord=2, dim=2)


def masked_mean(x, mask):
    total = torch.where(mask, x, torch.zeros_like(x)).sum(dim=-1)
    count = mask.sum(dim=-1)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))
