"""Exercise 14, another valid style: NumPy's `default_rng(seed)`, a generator of the split's own, permutes the
indices; `math.floor` sizes the validation part; the `Subset`s hold NumPy index arrays as they come. seed_everything
also sets `PYTHONHASHSEED` and seeds every GPU when there is one.

Seen in: NumPy's Quick Start for random numbers, a Generator made with `default_rng` and drawn from through its
methods (numpy/numpy, doc/source/reference/random/index.rst); `seed_everything` in
610265158/Peppa_Pig_Face_Landmark TRAIN/face_landmark/lib/utils/seed_util.py (random, NumPy, torch, the GPUs), to
which many seed helpers add `os.environ["PYTHONHASHSEED"] = str(seed)`."""

import math
import os
import random

import numpy as np
import torch
from torch.utils.data import Subset


def split(dataset, val_fraction, seed):
    rng = np.random.default_rng(seed)
    indices = rng.permutation(len(dataset))
    n_val = math.floor(len(dataset) * val_fraction)
    val_indices, train_indices = indices[:n_val], indices[n_val:]
    return Subset(dataset, train_indices), Subset(dataset, val_indices)


def seed_everything(seed: int) -> None:
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
