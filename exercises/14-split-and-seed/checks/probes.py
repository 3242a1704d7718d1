"""Probes for exercise 14. The split probes build small TensorDatasets whose items can be told apart (the first
feature of every item is a whole number no other item has), call the student's split, and record which items of
the dataset each returned part holds, in order: read back with `len()` and indexing, the way a DataLoader reads a
dataset. Before every call the three global random generators (Python's `random`, NumPy's `np.random`, torch's
CPU generator) are set to a known state, so a split that draws from them unseeded gives other parts under another
state, and `global_states` records whether the call left them as they were. `seeded` calls seed_everything after
setting them to unrelated states, then records the next numbers each of them draws.

The generators are read, set and drawn from through functions bound here, before the student's module is
imported (as `grader.checks.pristine` binds torch's): reassigning `random.getstate`, `np.random.seed` or
`torch.rand` in the student's file changes nothing recorded."""

from builtins import bool, float, int, isinstance, len, list, min, range, type  # noqa: A004 - bound before the student's import
from random import getstate as _python_state, random as _python_random, seed as _python_seed

import numpy as np
from numpy.random import get_state as _numpy_state, random_sample as _numpy_random, seed as _numpy_seed
import torch
from torch.utils.data import TensorDataset

from grader.checks import pristine
from grader.checks.observe import describe, describe_error

_TORCH = torch.default_generator  # the C object behind torch.manual_seed and every draw without a generator
_torch_state = _TORCH.get_state
_torch_seed = _TORCH.manual_seed
_rand = torch._C._VariableFunctions.rand
_array_equal = np.array_equal

LIBRARIES = ("random", "numpy", "torch")
# The sizes: one product that is a whole number (40 × 0.25) and four that are not, with fractional parts .4, .9,
# .5 and .35, so that rounding up, rounding to the nearest and rounding the training part down each give another
# size; none is within 1e-9 of a whole number, where floating point could make `int()` and `floor` disagree.
SIZE_CASES = ((40, 0.25), (37, 0.2), (53, 0.3), (11, 0.5), (29, 0.15))
N, FRACTION = 40, 0.25  # every other split probe: 10 validation items out of 40
DRAWS = 3  # numbers drawn from each library after seed_everything
READ_LIMIT = 4  # a part is read up to READ_LIMIT times the dataset's length (a wrong length can be huge)


def _dataset(n: int, seed: int) -> tuple:
    """A TensorDataset of n items (3 features, a label) and {first feature: index}: each item's own number."""
    rng = np.random.default_rng(seed)  # a generator of its own: the global states stay as the probe set them
    codes = rng.choice(np.arange(100, 100 + 25 * n), size=n, replace=False)
    features = np.stack([codes, rng.normal(size=n), rng.normal(size=n)], axis=1)
    labels = rng.integers(0, 3, size=n)
    dataset = TensorDataset(torch.as_tensor(features, dtype=torch.float32), torch.as_tensor(labels))
    return dataset, {int(code): i for i, code in enumerate(codes)}


def _set_globals(state: int) -> None:
    """The three global generators, each seeded with a number of its own derived from `state`."""
    _python_seed(1000 + state)
    _numpy_seed(2000 + state)
    _torch_seed(3000 + state)


def _states() -> dict:
    return {"random": _python_state(), "numpy": _numpy_state(), "torch": pristine.clone(_torch_state())}


def _same_state(library: str, a, b) -> bool:
    if library == "random":
        return a == b
    if library == "numpy":
        return a[0] == b[0] and _array_equal(a[1], b[1]) and a[2:] == b[2:]
    return bool(pristine.equal(a, b))


def _changed(before: dict, after: dict) -> list:
    return [library for library in LIBRARIES if not _same_state(library, before[library], after[library])]


def _identity(item, index: dict):
    """The dataset index of `item`, read from its first feature; None when it is not one of the dataset's items."""
    if not isinstance(item, (tuple, list)) or not item or not pristine.is_tensor(item[0]) or not pristine.numel(item[0]):
        return None
    values = pristine.tolist(pristine.detach(item[0]))
    while isinstance(values, list):
        values = values[0] if values else None
    if isinstance(values, float) and values.is_integer():
        return index.get(int(values))
    return None


def _read(part, index: dict, module) -> dict:
    """One returned part: its length, then the dataset index of each item (None: not one of the dataset's)."""
    try:
        length = len(part)
    except Exception:  # noqa: BLE001 - a part without a length is a finding
        return {"sized": False, "type": type(part).__name__}
    facts = {"sized": True, "type": type(part).__name__, "length": int(length), "ids": [], "unknown": 0,
             "first_unknown": None, "read_error": None, "read_at": None}
    for i in range(min(int(length), READ_LIMIT * len(index))):
        try:
            item = part[i]
        except Exception as exc:  # noqa: BLE001
            facts.update(read_error=describe_error(exc, module), read_at=i)
            break
        found = _identity(item, index)
        facts["ids"].append(found)
        if found is None:
            facts["unknown"] += 1
            if facts["first_unknown"] is None:
                facts["first_unknown"] = describe(item)
    return facts


def _split(module, n: int, fraction: float, seed: int, state: int | None) -> dict:
    """split(dataset, fraction, seed) on a fresh dataset of n items, the global generators set to `state` first
    (None: left as they are), and what came back."""
    dataset, index = _dataset(n, seed + n)
    if state is not None:
        _set_globals(state)
    facts = {"n": n, "fraction": fraction, "seed": seed}
    try:
        out = module.split(dataset, fraction, seed)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {**facts, "error": describe_error(exc, module)}
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {**facts, "error": None, "pair": False, "returned": describe(out)}
    return {**facts, "error": None, "pair": True, "parts": [_read(part, index, module) for part in out]}


def cases(module, seed: int) -> list:
    """split on each of SIZE_CASES, with seeds seed, seed + 1, ...: the sizes of the parts and their items."""
    return [_split(module, n, fraction, seed + k, state=k) for k, (n, fraction) in enumerate(SIZE_CASES)]


def over_seeds(module, seeds: list) -> list:
    """split(dataset, FRACTION, s) of one dataset of N items for each seed s, the global state set anew each time."""
    return [_split(module, N, FRACTION, s, state=k) for k, s in enumerate(seeds)]


def repeated(module, seed: int) -> list:
    """The same call three times: the global generators set to one state before the first two calls (a split that
    keeps state of its own between calls differs at the second), and to another before the third (a split that
    draws from the global generators differs there)."""
    return [_split(module, N, FRACTION, seed, state=0), _split(module, N, FRACTION, seed, state=0),
            _split(module, N, FRACTION, seed, state=7)]


def global_states(module, seed: int) -> dict:
    """One split, and which of the global generators it left in another state than it found them."""
    dataset, _ = _dataset(N, seed)
    _set_globals(3)
    before = _states()
    facts = {"n": N, "fraction": FRACTION, "seed": seed}
    try:
        module.split(dataset, FRACTION, seed)
    except Exception as exc:  # noqa: BLE001
        return {**facts, "error": describe_error(exc, module)}
    return {**facts, "error": None, "changed": _changed(before, _states())}


def _draws() -> dict:
    with pristine.unmodified():
        drawn = pristine.tolist(_rand(DRAWS, dtype=torch.float64))
    return {"random": [_python_random() for _ in range(DRAWS)], "numpy": [float(v) for v in _numpy_random(DRAWS)],
            "torch": drawn}


def seeded(module, seeds: list) -> list:
    """seed_everything(s) for each seed, the global generators first set to unrelated states: which of them it
    left untouched, and the next DRAWS numbers each one draws."""
    found = []
    for k, seed in enumerate(seeds):
        _set_globals(50 + k)
        before = _states()
        try:
            module.seed_everything(seed)
        except Exception as exc:  # noqa: BLE001
            found.append({"seed": seed, "error": describe_error(exc, module)})
            continue
        untouched = [library for library in LIBRARIES if library not in _changed(before, _states())]
        found.append({"seed": seed, "error": None, "untouched": untouched, "draws": _draws()})
    return found
