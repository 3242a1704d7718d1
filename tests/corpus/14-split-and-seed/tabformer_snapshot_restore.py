"""TabFormer's split helper: every global random state saved, all of them seeded with the split's seed,
`random_split` called without a generator, and the saved states put back before returning.

Idiom: a `state` dict of `random.getstate()`, `np.random.get_state()`, `torch.get_rng_state()` (and the CUDA state
when there is a GPU); `random.seed`, `np.random.seed`, `torch.manual_seed` with the split's seed; `random_split`
drawing from the freshly seeded global generator; `random.setstate`, `np.random.set_state`, `torch.set_rng_state`
afterwards. The sizes follow this exercise (the validation part rounded down), not TabFormer's fractions.
Seen in: IBM/TabFormer, misc/utils.py (random_split_dataset: a state snapshot, seeding, random_split, the state reinstated)
Expect: pass
"""

import random

import numpy as np
import torch


def split(dataset, val_fraction, seed):
    # state snapshot
    state = {
        "python_state": random.getstate(),
        "numpy_state": np.random.get_state(),
        "torch_state": torch.get_rng_state(),
        "cuda_state": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }

    # seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)

    val_len = int(len(dataset) * val_fraction)
    lengths = [len(dataset) - val_len, val_len]
    train_dataset, eval_dataset = torch.utils.data.dataset.random_split(dataset, lengths)

    # reinstate state
    random.setstate(state["python_state"])
    np.random.set_state(state["numpy_state"])
    torch.set_rng_state(state["torch_state"])
    if state["cuda_state"] is not None:
        torch.cuda.set_rng_state_all(state["cuda_state"])

    return train_dataset, eval_dataset


def seed_everything(seed):
    random.seed(seed)  # python
    np.random.seed(seed)  # numpy
    torch.manual_seed(seed)  # torch
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)  # torch.cuda
