"""A Kaggle helper's squared-distance expansion with `[:, None]` indexing and `@`, clamped at 0 before the square root; a masked mean through `nanmean` over NaN-filled positions, `nan_to_num` for an empty row.

Idiom: `(A ** 2).sum(dim=-1)[:, None] + (B ** 2).sum(dim=-1)[None, :] - 2 * A @ B.T`, `torch.clamp(d, min=0)` then `sqrt`; `x.masked_fill(~mask, nan).nanmean(dim=1)` then `torch.nan_to_num(..., nan=0.0)`; statistics reshaped with `torch.reshape`
Seen in: akirasosa/BCAI_kaggle_CHAMPS, src/my_lib/torch/funcs.py (sqdist: batched squared distances by expansion with [:, :, None] / [:, None, :] and torch.bmm); pytorch/maskedtensor, docs/source/notebooks/nan_operators (the masked nanmean idiom)
Expect: pass
"""

import torch


def normalize_channels(x, mean, std):
    shape = (1, -1, 1, 1)
    return torch.div(torch.sub(x, torch.reshape(mean, shape)), torch.reshape(std, shape))


def pairwise_distances(a, b):
    squared = (a ** 2).sum(dim=1)[:, None] + (b ** 2).sum(dim=1)[None, :] - 2 * a @ b.T
    return squared.clamp(min=0).sqrt()


def masked_mean(x, mask):
    kept = x.masked_fill(~mask, float("nan"))
    return torch.nanmean(kept, dim=1).nan_to_num(0.0)
