"""Alternative: torchvision-style statistics reshaped with `view(-1, 1, 1)`, `torch.cdist`, and the
"mean pooling" idiom of sentence embeddings (mask as floats, count clamped at a tiny positive number).

Seen in: pytorch/vision torchvision/transforms/v2/functional/_misc.py `normalize_image_tensor`
(`torch.as_tensor(mean, dtype=dtype)` then `mean.view(-1, 1, 1)`), also the `Normalization` module of
PyTorch's neural style transfer tutorial; `torch.cdist(x1, x2, p=2)` as documented at
https://docs.pytorch.org/docs/stable/generated/torch.cdist.html; mean pooling with
`torch.clamp(input_mask_expanded.sum(1), min=1e-9)` in ZingyKizz/YandexCup2023-ML-RecSys
lib/model/base.py (`MeanPooling`), the sentence-transformers idiom.
"""

import torch


def normalize_channels(x, mean, std):
    mean = torch.as_tensor(mean, dtype=x.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype).view(-1, 1, 1)
    return (x - mean) / std


def pairwise_distances(a, b):
    return torch.cdist(a, b, p=2)


def masked_mean(x, mask):
    input_mask = mask.float()
    sum_values = torch.sum(x * input_mask, 1)
    sum_mask = torch.clamp(input_mask.sum(1), min=1e-9)
    return sum_values / sum_mask
