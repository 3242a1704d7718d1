"""Tiny seeded data for probes: the same seed gives the same numbers on every machine, so the student's
code and the reference see identical inputs, and no dataset is ever downloaded.

- `generator(seed)`: a `torch.Generator` to pass to `torch.randn(..., generator=g)`;
- `classification_data(seed, n)` / `classification_loader(seed)`: features and integer class labels
  that a small model can learn (the label is the index of the largest of the first features);
- `images(seed, n)`: a batch of random images, `[n, channels, height, width]`;
- `fake_images(seed, n)`: torchvision's `FakeData` as a dataset of `(image tensor, label)` pairs,
  for code that expects a torchvision-style dataset.
"""

from __future__ import annotations

from typing import Any


def generator(seed: int) -> Any:
    import torch

    return torch.Generator().manual_seed(seed)


def classification_data(seed: int, n: int = 48, features: int = 6, classes: int = 3) -> Any:
    """A `TensorDataset` of `n` float feature rows and int64 labels in `range(classes)`: the label is the
    index of the largest of the first `classes` features, so a linear layer can learn it and every class
    is about equally common. Needs `features >= classes`."""
    import torch
    from torch.utils.data import TensorDataset

    if features < classes:
        raise ValueError(f"classification_data needs features >= classes, got {features} < {classes}")
    x = torch.randn(n, features, generator=generator(seed))
    y = x[:, :classes].argmax(dim=1)
    return TensorDataset(x, y)


def classification_loader(seed: int, batches: int = 6, batch_size: int = 8, features: int = 6, classes: int = 3,
                          shuffle: bool = False, last_batch: int | None = None) -> Any:
    """A `DataLoader` over `classification_data`: `batches` batches of `batch_size` rows, the last of them
    `last_batch` rows when given (an uneven last batch: then a mean over batches and a mean over samples
    differ, as they do in real data). With `shuffle=True` the order is seeded too."""
    from torch.utils.data import DataLoader

    n = batches * batch_size if last_batch is None else (batches - 1) * batch_size + last_batch
    data = classification_data(seed, n, features, classes)
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                      generator=generator(seed + 1) if shuffle else None)


def images(seed: int, n: int, channels: int = 1, size: tuple[int, int] = (28, 28)) -> Any:
    """`[n, channels, height, width]` float32 images with standard-normal pixels (as after normalising)."""
    import torch

    return torch.randn(n, channels, *size, generator=generator(seed))


def fake_images(seed: int, n: int = 16, image_size: tuple[int, int, int] = (1, 28, 28), classes: int = 10) -> Any:
    """torchvision's `FakeData` with `ToTensor()`: item i is the same image and label for a given seed."""
    from torchvision.datasets import FakeData
    from torchvision.transforms import ToTensor

    return FakeData(size=n, image_size=image_size, num_classes=classes, transform=ToTensor(), random_offset=seed)
