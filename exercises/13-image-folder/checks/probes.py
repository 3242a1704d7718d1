"""Probes for exercise 13. Each writes a small image folder into the worker's temporary directory
(root/train/CLASS/*.png and root/val/CLASS/*.png, 16x16 grey images, seeded), calls the student's
make_datasets on it and records, as plain data, what the datasets gave: how many items, the class names,
and for each item loaded (under seeded random number generators) what kind of value came back, its shape,
a summary of its pixels, or the error it raised. make_loaders is handed small datasets of the probe's own,
so a mistake in make_datasets never hides what the loaders do.

- `built`: two folders whose class names sort differently by `sorted()`, by case-insensitive sorting and
  in `os.listdir` order; every item of both sets loaded once;
- `values`: images of one constant grey level each: the median pixel of every item (validation items once,
  training items several times), which neither a flip nor a crop nor a filled border changes;
- `variation`: images of random pixels: each validation item loaded twice, each training item several
  times, under different seeds, and whether the loads were equal;
- `loaders`: two epochs of each loader make_loaders returned, for two batch sizes.

Every `Normalize` transform (torchvision's, v1 or v2) that runs while an item loads is watched through
PyTorch's global module hooks: what it was given (a PIL image, a uint8 or a float tensor, how many channels)
and whether it finished. That says which habit an error points at (Normalize before ToTensor, or a mean with
another number of values than the image has channels). What a probe measures goes through
`grader.checks.pristine`, bound before the student's module is imported."""

import os
import random
import tempfile
from builtins import (all, any, bool, dict, enumerate, float, getattr, int, isinstance, len, list, next,  # noqa: A004
                      range, sorted, str, sum, type)  # bound before the student's import, as everything here
from statistics import median as _median_of

import numpy as np
import PIL.Image
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import Normalize as NormalizeV1
from torchvision.transforms.v2 import Normalize as NormalizeV2

from grader.checks import pristine
from grader.checks.observe import describe, describe_error

SIZE = 16  # the images' height and width, as the exercise states
# Class folder names: capitals sort before lower case in `sorted()` (ImageFolder's order), so a
# case-insensitive sort differs from it; `os.listdir` gives them in yet another order (checked below).
CAPITALS = ("Yak", "Wolf", "Toad", "Swan", "Owl", "Moth")
LOWER = ("ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen")
TRAIN_LOADS = 8  # how often each training item is loaded: its median pixel over loads, and how it varies
VAL_LOADS = 2
NORMALIZES = (NormalizeV1, NormalizeV2)
_torch_generator = torch.default_generator


# ----------------------------------------------------------------------------- the folders


def _save(path: str, pixels: np.ndarray, rgb: bool) -> None:
    """A grey image, stored as 8-bit grey ("L") or as RGB with three equal channels, as exports often do."""
    image = PIL.Image.fromarray(pixels, "L")
    (image.convert("RGB") if rgb else image).save(path)


def _class_names(rng: np.random.Generator, count: int) -> list[str]:
    """`count` names, at least one capitalised and one lower case that sorts before it case-insensitively."""
    capitals = [str(n) for n in rng.choice(CAPITALS, size=1 + count // 3, replace=False)]
    lower = [str(n) for n in rng.choice(LOWER, size=count - len(capitals), replace=False)]
    names = capitals + lower
    rng.shuffle(names)
    return names


def _folder(seed: int, classes: int, counts: dict, content: str) -> dict:
    """root/train/CLASS/*.png and root/val/CLASS/*.png; `counts[split]` lists how many images each class
    gets (in the order of the sorted class names). `content` "texture": random pixels; "constant": one grey
    level per image, from alternately a dark and a light band. Returns where everything is, the class names
    (sorted, as ImageFolder numbers them, and as `os.listdir` lists them), and per split the label and grey
    level of each item in ImageFolder's order (sorted class folders, sorted file names)."""
    rng = np.random.default_rng(seed)
    base = tempfile.mkdtemp(prefix="ex13-")
    for attempt in range(20):
        names = _class_names(rng, classes)
        root = os.path.join(base, f"data{attempt}")
        for name in names:
            os.makedirs(os.path.join(root, "train", name))
            os.makedirs(os.path.join(root, "val", name))
        listing = [n for n in os.listdir(os.path.join(root, "train"))]
        # A class list read with os.listdir must come in another order than ImageFolder's, and than a
        # case-insensitive sort (which differs from sorted() by how the names were drawn): possible from 3 classes.
        if classes < 3 or (listing != sorted(names) and listing != sorted(names, key=str.lower)):
            break
    ordered = sorted(names)
    items: dict = {"train": [], "val": []}
    level_index = 0
    for split in ("train", "val"):
        for label, name in enumerate(ordered):
            numbers = rng.choice(np.arange(100, 999), counts[split][label], replace=False)
            files = [f"{name.lower()}_{int(k):03d}.png" for k in numbers]
            for filename in sorted(files):
                if content == "constant":
                    band = (20, 50) if level_index % 2 == 0 else (185, 235)
                    level = int(rng.integers(*band))
                    pixels = np.full((SIZE, SIZE), level, dtype=np.uint8)
                else:
                    level = None
                    pixels = rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
                # Stored as L or as RGB, dark or light, in every combination.
                _save(os.path.join(root, split, name, filename), pixels, rgb=level_index % 4 in (1, 2))
                items[split].append({"label": label, "level": level})
                level_index += 1
    return {"root": root, "classes": ordered, "listing": listing, "items": items}


# ----------------------------------------------------------------------------- what came back


class NormalizeWatch:
    """Every Normalize transform called while this is entered: what it was given, and whether it finished."""

    def __init__(self):
        self.calls: list[dict] = []
        self._handles: list = []

    def _before(self, module, args):
        if isinstance(module, NORMALIZES):
            x = args[0] if args else None
            self.calls.append({"input": _input_facts(x), "mean": _length(getattr(module, "mean", None)),
                               "done": False, "out_channels": None})

    def _after(self, module, args, output):
        if isinstance(module, NORMALIZES) and self.calls:
            call = self.calls[-1]
            call["done"] = True
            call["out_channels"] = _channels(output)

    def __enter__(self):
        self.calls = []
        self._handles = [pristine.register_module_forward_pre_hook(self._before),
                         pristine.register_module_forward_hook(self._after)]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False


def _length(values) -> int:
    try:
        return int(len(values))
    except TypeError:
        return 1  # a single number: one value for every channel


def _channels(x) -> int | None:
    if pristine.is_tensor(x) and pristine.dim(x) >= 3:
        return int(pristine.shape(x)[-3])
    return None


def _input_facts(x) -> dict:
    """What a Normalize transform was given: a PIL image, or a tensor (its dtype, float or not, channels)."""
    if pristine.is_tensor(x):
        return {"kind": "tensor", "dtype": str(pristine.dtype(x)), "float": bool(pristine.is_floating_point(x)),
                "channels": _channels(x)}
    if isinstance(x, PIL.Image.Image):
        return {"kind": "pil", "mode": x.mode, "float": False, "channels": None}
    return {"kind": "other", "type": type(x).__name__, "float": False, "channels": None}


def _image_facts(x) -> dict:
    if pristine.is_tensor(x):
        return {"kind": "tensor", "type": type(x).__name__, "shape": list(pristine.shape(x)),
                "dtype": str(pristine.dtype(x)), "float": bool(pristine.is_floating_point(x))}
    if isinstance(x, PIL.Image.Image):
        return {"kind": "pil", "mode": x.mode, "size": list(x.size)}
    return {"kind": "other", "type": type(x).__name__, "returned": describe(x)}


def _label_facts(label) -> dict:
    if isinstance(label, bool):
        return {"kind": "other", "type": "bool", "value": None}
    if isinstance(label, (int, np.integer)):
        return {"kind": "int", "type": type(label).__name__, "value": int(label)}
    if pristine.is_tensor(label) and pristine.numel(label) == 1 and not pristine.is_floating_point(label):
        return {"kind": "int", "type": "Tensor", "value": int(pristine.item(label))}
    return {"kind": "other", "type": type(label).__name__, "value": None}


def _seed_all(seed: int) -> None:
    """torch's CPU generator (what transforms draw from; `torch.manual_seed` would also queue CUDA's, slowly),
    Python's and NumPy's."""
    _torch_generator.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def _load(module, dataset, i: int, seed: int):
    """dataset[i] under seeded random number generators: its facts, and the image (a float64 copy) or None."""
    _seed_all(seed)
    watch = NormalizeWatch()
    try:
        with watch:
            result = dataset[i]
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {"error": describe_error(exc, module), "normalize": watch.calls}, None
    facts = {"error": None, "normalize": watch.calls}
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {**facts, "pair": False, "returned": _image_facts(result)}, None
    image, label = result
    facts.update(pair=True, image=_image_facts(image), label=_label_facts(label))
    if facts["image"]["kind"] == "tensor" and pristine.numel(image):
        return facts, pristine.to_double(pristine.detach(image))
    return facts, None


def _median(x) -> float:
    return float(_median_of(pristine.tolist(pristine.VF.flatten(x))))


def _same(a, b) -> bool:
    return list(pristine.shape(a)) == list(pristine.shape(b)) and bool(pristine.equal(a, b))


def _largest_difference(a, b) -> float | None:
    if list(pristine.shape(a)) != list(pristine.shape(b)):
        return None
    return pristine.number(pristine.VF.max(pristine.VF.abs(pristine.VF.sub(a, b))))


def _length_of(dataset) -> dict:
    try:
        return {"len": int(len(dataset))}
    except Exception as exc:  # noqa: BLE001
        return {"len": None, "len_error": f"{type(exc).__name__}: {exc}"[:200]}


def _names_facts(value) -> dict:
    """class_names as it is used: `class_names[label]` for every label 0 to len(class_names) - 1, each a name.
    A dict from names to labels (`class_to_idx`) iterates over the names but cannot be indexed by a label."""
    if isinstance(value, (str, bytes)) or value is None:
        return {"kind": "other", "returned": describe(value)}
    try:
        names = [value[i] for i in range(int(len(value)))]
    except Exception:  # noqa: BLE001 - not indexable by label
        names = None
    if names is not None and all(isinstance(n, str) for n in names):
        return {"kind": "names", "names": [str(n) for n in names][:20], "count": len(names)}
    if isinstance(value, dict):
        try:
            keys = [k for k in value]
        except Exception:  # noqa: BLE001
            keys = []
        if keys and all(isinstance(k, str) for k in keys):
            return {"kind": "mapping", "keys": [str(k) for k in keys][:20], "returned": describe(value)}
    return {"kind": "other", "returned": describe(value)}


def _classes_attribute(dataset) -> list | None:
    """The dataset's own `classes` (ImageFolder's), when it has a list of names: for the checks to tell a
    class list that follows a wrongly read folder from one that was assumed."""
    try:
        classes = getattr(dataset, "classes", None)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(classes, (list, tuple)) and all(isinstance(n, str) for n in classes):
        return [str(n) for n in classes][:20]
    return None


def _datasets(module, folder: dict) -> dict:
    """make_datasets(root): its error, or what it returned (three values?), and both sets' lengths."""
    try:
        returned = module.make_datasets(folder["root"])
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module)}
    if not isinstance(returned, (tuple, list)) or len(returned) != 3:
        return {"error": None, "three": False, "returned": describe(returned)}
    train, val, names = returned
    return {"error": None, "three": True, "sets": {"train": train, "val": val}, "names": _names_facts(names),
            "train": _length_of(train), "val": _length_of(val), "train_classes": _classes_attribute(train)}


def _public(found: dict, folder: dict) -> dict:
    """What a check may see of make_datasets' answer and of the folder (no dataset objects)."""
    out = {key: value for key, value in found.items() if key != "sets"}
    out["want"] = {"classes": folder["classes"], "listing": folder["listing"],
                   "len": {split: len(items) for split, items in folder["items"].items()},
                   "labels": {split: [item["label"] for item in items] for split, items in folder["items"].items()},
                   "levels": {split: [item["level"] for item in items] for split, items in folder["items"].items()}}
    return out


# ----------------------------------------------------------------------------- probes


def built(module, seed: int) -> list:
    """Two folders (3 and 4 classes): make_datasets' answer, and every item of both sets loaded once."""
    runs = []
    for number, classes in enumerate((3, 4)):
        rng = np.random.default_rng(seed + 7 * number)
        counts = {"train": [int(c) for c in rng.integers(2, 4, classes)],
                  "val": [int(c) for c in rng.integers(1, 3, classes)]}
        if sum(counts["val"]) >= sum(counts["train"]):  # fewer validation images: a swapped folder shows
            counts["val"] = [1] * classes
        folder = _folder(seed + number, classes, counts, "texture")
        found = _datasets(module, folder)
        out = _public(found, folder)
        if not found["error"] and found["three"]:
            for split in ("train", "val"):
                n = found[split]["len"] or 0
                out[f"{split}_items"] = [_load(module, found["sets"][split], i, seed + 100 * number + i)[0]
                                         for i in range(min(n, 12))]
        runs.append(out)
    return runs


def values(module, seed: int) -> dict:
    """Images of one constant grey level: the median pixel of each validation item (loaded once) and of
    each training item (loaded TRAIN_LOADS times); the module's MEAN and STD (the reference's are the ones)."""
    folder = _folder(seed, 2, {"train": [3, 2], "val": [2, 1]}, "constant")  # other counts: a swapped folder shows
    found = _datasets(module, folder)
    out = _public(found, folder)
    out["stats"] = {"mean": _floats(getattr(module, "MEAN", None)), "std": _floats(getattr(module, "STD", None))}
    if found["error"] or not found["three"]:
        return out
    for split, loads in (("val", 1), ("train", TRAIN_LOADS)):
        n = min(found[split]["len"] or 0, 8)
        items = []
        for i in range(n):
            runs = [_load(module, found["sets"][split], i, seed + 1000 * k + i) for k in range(loads)]
            items.append({"loads": [facts for facts, _ in runs],
                          "medians": [_median(x) if x is not None else None for _, x in runs]})
        out[f"{split}_items"] = items
    return out


def _floats(value) -> list | None:
    try:
        return [float(v) for v in value]
    except Exception:  # noqa: BLE001
        return None


def variation(module, seed: int) -> dict:
    """Images of random pixels: each validation item loaded VAL_LOADS times and each training item
    TRAIN_LOADS times, each load under other seeds; how many different results each item gave."""
    folder = _folder(seed, 2, {"train": [3, 2], "val": [2, 1]}, "texture")
    found = _datasets(module, folder)
    out = _public(found, folder)
    if found["error"] or not found["three"]:
        return out
    sets = found["sets"]
    try:
        transform = getattr(sets["train"], "transform", None)
        out["shared_transform"] = bool(transform is not None and transform is getattr(sets["val"], "transform", None))
    except Exception:  # noqa: BLE001
        out["shared_transform"] = False
    for split, loads in (("val", VAL_LOADS), ("train", TRAIN_LOADS)):
        n = min(found[split]["len"] or 0, 8)
        items = []
        for i in range(n):
            runs = [_load(module, sets[split], i, seed + 7919 * (k + 1) + i) for k in range(loads)]
            images = [x for _, x in runs]
            first = next((facts for facts, x in runs if x is None), runs[0][0])  # a failed load, if any
            entry = {"load": first, "loads": len(runs)}
            if all(x is not None for x in images):
                distinct = []
                for x in images:
                    if not any(_same(x, y) for y in distinct):
                        distinct.append(x)
                entry.update(distinct=len(distinct),
                             difference=_largest_difference(images[0], distinct[1]) if len(distinct) > 1 else 0.0)
            items.append(entry)
        out[f"{split}_items"] = items
    return out


class Items(Dataset):
    """`n` items numbered from `first`: (a 1x2x2 image filled with the number, the number)."""

    def __init__(self, n: int, first: int):
        self.n = n
        self.first = first

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return torch.full((1, 2, 2), float(self.first + i)), self.first + i


TRAIN_ITEMS, VAL_ITEMS = (11, 0), (7, 100)  # (how many, the first number): 0-10 and 100-106
BATCH_SIZES = (3, 5)


def loaders(module, seed: int) -> list:
    """make_loaders(train_set, val_set, batch_size) for each of BATCH_SIZES: two epochs of each loader."""
    runs = []
    for batch_size in BATCH_SIZES:
        train, val = Items(*TRAIN_ITEMS), Items(*VAL_ITEMS)
        _seed_all(seed + batch_size)
        try:
            returned = module.make_loaders(train, val, batch_size)
        except Exception as exc:  # noqa: BLE001
            runs.append({"batch_size": batch_size, "error": describe_error(exc, module)})
            continue
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            runs.append({"batch_size": batch_size, "error": None, "two": False, "returned": describe(returned)})
            continue
        runs.append({"batch_size": batch_size, "error": None, "two": True,
                     "train": _loader_facts(module, returned[0], train, val),
                     "val": _loader_facts(module, returned[1], train, val),
                     "want": {"train": list(range(TRAIN_ITEMS[1], sum(TRAIN_ITEMS))),
                              "val": list(range(VAL_ITEMS[1], sum(VAL_ITEMS)))}})
    return runs


def _loader_facts(module, loader, train: Items, val: Items) -> dict:
    """A loader's settings, and the item numbers of each batch over two epochs: read from the batches
    (num_workers=0), or from its batch sampler, without starting worker processes (num_workers > 0)."""
    if not isinstance(loader, DataLoader):
        return {"loader": False, "returned": describe(loader)}
    dataset = getattr(loader, "dataset", None)
    which = "train" if dataset is train else "val" if dataset is val else "other"
    workers = int(getattr(loader, "num_workers", 0) or 0)
    batch_size = getattr(loader, "batch_size", None)
    facts = {"loader": True, "dataset": which, "num_workers": workers,
             "batch_size": batch_size if isinstance(batch_size, int) else None,
             "sampler": type(getattr(loader, "sampler", None)).__name__,
             "drop_last": bool(getattr(loader, "drop_last", False)),
             "via": "batches" if workers == 0 else "batch sampler"}
    epochs = []
    try:
        for _ in range(2):
            epochs.append(_epoch(loader, dataset, workers))
    except Exception as exc:  # noqa: BLE001
        facts["error"] = describe_error(exc, module)
        return facts
    facts.update(error=None, epochs=epochs)
    return facts


def _epoch(loader: DataLoader, dataset, workers: int) -> list:
    batches = []
    if workers == 0:
        for batch in loader:
            labels = batch[1] if isinstance(batch, (tuple, list)) and len(batch) == 2 else None
            if pristine.is_tensor(labels):
                batches.append([int(v) for v in pristine.tolist(pristine.VF.flatten(labels))])
            else:
                batches.append(None)
        return batches
    first = dataset.first if isinstance(dataset, Items) else 0
    sampler = loader.batch_sampler if loader.batch_sampler is not None else ([i] for i in loader.sampler)
    for indices in sampler:
        batches.append([first + int(i) for i in indices])
    return batches
