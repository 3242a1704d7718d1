"""Probes for exercise 1. Each builds a tiny folder of PNG files and a CSV file listing them (in a
temporary directory, seeded), makes the student's CsvImageDataset from it and records what came
back, as plain data.

Most images are single-channel ("L") and of one constant grey level, different for every file,
so an image's identity survives `to_tensor` (and even a wrong scale): `_identity` recovers which
file an item came from. Each probe keeps the other habits out of its way, so one bug fails the
check that names it: only the `order` probe lists the files in an order that differs from the
sorted file names, only `columns` moves the columns around, only `grayscale` stores colour and
16-bit images, and labels are judged strictly only by `labels`.

What a probe reads from a returned tensor (its shape, dtype, values) goes through
`grader.checks.pristine`, PyTorch's own functions bound before the student's module is imported, so
reassigning `torch.Tensor.is_floating_point` or `.dtype` changes nothing recorded. The pixels an image
should have are taken from the reference's run of the same probe (checks/test_dataset.py), never from
what this worker computed after the student's code ran."""

import csv
import numbers
import os
import pickle
import tempfile
from multiprocessing.reduction import ForkingPickler

import numpy as np
import PIL.Image
import torch
import torchvision.transforms.functional as TF
from torch.utils.data import DataLoader, Subset

from grader.checks import pristine
from grader.checks.observe import describe_error


H, W = 5, 7  # not square, so a transposed image shows up
# Distinct, at least 3 apart and none below 13: a label renumbered (0, 1, 2...), shifted by one or two, or
# read from another column is no row's label, so only the labels check judges it; a label that is
# another row's label means the pairing of images and labels broke, which the other checks judge.
LABELS = [40, 13, 58, 22, 31, 67, 49, 16, 25, 61, 34, 52]


def _grey(k: int) -> int:
    """The constant grey level of the k-th image of a folder: 15, 34, ..., 224 (distinct for k < 12)."""
    return 15 + 19 * k


def _names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct file names whose sorted order says nothing about the image's number."""
    numbers_ = rng.choice(np.arange(10, 99), size=n, replace=False)
    return [f"img_{int(k)}.png" for k in numbers_]


def _write_csv(path: str, rows: list[dict], header: list[str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row[k] for k in header})


def _folder(seed: int, n: int, *, order: str = "sorted", header: tuple[str, ...] = ("filename", "label"),
            images: list[PIL.Image.Image] | None = None, names: list[str] | None = None) -> dict:
    """A temp dir with images/ and labels.csv. Row k of `rows` describes image k (grey level _grey(k)
    unless `images` is given); the CSV lists the rows sorted by file name (order="sorted") or in an
    order that differs from both the sorted names and the directory listing (order="shuffled")."""
    rng = np.random.default_rng(seed)
    base = tempfile.mkdtemp(prefix="ex1-")
    root = os.path.join(base, "images")
    os.mkdir(root)
    names = names or _names(rng, n)
    rows = []
    for k in range(n):
        rows.append({"filename": names[k], "label": str(LABELS[k % len(LABELS)]), "grey": _grey(k),
                     "id": str(100 + k), "split": "train" if k % 3 else "val"})
    for k in sorted(range(n), key=lambda k: names[k], reverse=True):  # created in reverse name order
        (images[k] if images is not None else PIL.Image.new("L", (W, H), _grey(k))).save(os.path.join(root, names[k]))
    by_name = sorted(range(n), key=lambda k: names[k])
    if order == "sorted":
        csv_order = by_name
    else:
        listing = [names.index(f) for f in os.listdir(root)]
        csv_order = [int(k) for k in rng.permutation(n)]
        while csv_order in (by_name, listing, by_name[::-1]):
            csv_order = csv_order[1:] + csv_order[:1]
    csv_rows = [rows[k] for k in csv_order]
    csv_path = os.path.join(base, "labels.csv")
    _write_csv(csv_path, csv_rows, list(header))
    return {"csv": csv_path, "root": root, "rows": csv_rows, "listing": os.listdir(root)}


def _mean(x) -> float | None:
    if pristine.is_tensor(x) and pristine.numel(x):
        return pristine.number(pristine.VF.mean(pristine.to_double(pristine.detach(x))))
    if isinstance(x, PIL.Image.Image):
        return float(np.asarray(x, dtype=np.float64).mean())
    return None


def _identity(x, rows: list[dict]) -> int | None:
    """The CSV row whose image `x` is, from its constant grey level (on the 0-1 or the 0-255 scale)."""
    mean = _mean(x)
    if mean is None:
        return None
    for index, row in enumerate(rows):
        if abs(mean - row["grey"] / 255) < 1e-3 or abs(mean - row["grey"]) < 0.5:
            return index
    return None


def _image_facts(x, with_tensor: bool = False) -> dict:
    if pristine.is_tensor(x):
        facts = {"kind": "tensor", "shape": list(pristine.shape(x)), "dtype": str(pristine.dtype(x))}
        if with_tensor:
            facts["tensor"] = pristine.clone(pristine.detach(x), memory_format=torch.contiguous_format)
            if pristine.device(x).type != "cpu":
                facts["tensor"] = facts["tensor"].cpu()
        return facts
    if isinstance(x, PIL.Image.Image):
        return {"kind": "pil", "mode": x.mode, "size": list(x.size)}
    return {"kind": "other", "type": type(x).__name__, "repr": repr(x)[:120]}


def _label_facts(label) -> dict:
    if isinstance(label, bool):
        return {"kind": "bool", "type": "bool", "value": label}
    if pristine.is_tensor(label):
        flat = pristine.view(pristine.clone(pristine.detach(label), memory_format=torch.contiguous_format), -1)
        dtype = pristine.dtype(label)
        return {"kind": "tensor", "type": "Tensor", "dtype": str(dtype), "shape": list(pristine.shape(label)),
                "integer": dtype in INTEGER_DTYPES,
                "values": [float(v) for v in pristine.tolist(pristine.VF.narrow(flat, 0, 0, min(4, pristine.numel(flat))))]}
    if isinstance(label, numbers.Integral):
        return {"kind": "int", "type": type(label).__name__, "value": int(label)}
    if isinstance(label, numbers.Real):
        return {"kind": "float", "type": type(label).__name__, "value": float(label)}
    if isinstance(label, str):
        return {"kind": "str", "type": "str", "value": label[:60]}
    return {"kind": "other", "type": type(label).__name__, "repr": repr(label)[:120]}


INTEGER_DTYPES = {torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64}


def _split(result) -> tuple:
    """(image, label) from what getitem returned; (result, None) when it is not a pair."""
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    return result, None


def _is_pair(result) -> bool:
    return isinstance(result, (tuple, list)) and len(result) == 2


def _item(dataset, idx: int, rows: list[dict]) -> dict:
    result = dataset[idx]
    if not _is_pair(result):
        return {"pair": False, "returned": _image_facts(result)}
    image, label = result
    return {"pair": True, "identity": _identity(image, rows), "mean": _mean(image), "image": _image_facts(image),
            "label": _label_facts(label)}


def _make(module, folder: dict, transform=None):
    return module.CsvImageDataset(folder["csv"], folder["root"], transform=transform)


def _public(folder: dict) -> dict:
    return {"rows": [{"filename": r["filename"], "label": int(r["label"]), "grey": r["grey"]} for r in folder["rows"]]}


# ----------------------------------------------------------------------------- probes


def length(module, seed: int) -> dict:
    """len() of datasets made from CSV files with 7 and with 3 data rows."""
    found = []
    for n in (7, 3):
        folder = _folder(seed + n, n)
        found.append({"rows": n, "len": len(_make(module, folder))})
    return {"datasets": found}


def order(module, seed: int) -> dict:
    """Every item of a dataset whose CSV lists the files in neither name nor directory order."""
    folder = _folder(seed, 6, order="shuffled")
    dataset = _make(module, folder)
    return {**_public(folder), "listing": folder["listing"],
            "items": [_item(dataset, i, folder["rows"]) for i in range(len(folder["rows"]))]}


def columns(module, seed: int) -> dict:
    """Items of a dataset whose CSV has extra columns and `filename`/`label` in other positions."""
    header = ["id", "label", "split", "filename"]
    folder = _folder(seed, 5, header=tuple(header))
    out = {**_public(folder), "header": header, "first_line": ",".join(str(folder["rows"][0][h]) for h in header),
           "cells": [{h: str(row[h]) for h in header} for row in folder["rows"]]}
    # The same files with the plain `filename,label` header first, uncaught: an exception there is not
    # about the columns, and the framework explains it. Only then is an exception blamed on the columns.
    plain_csv = os.path.join(os.path.dirname(folder["csv"]), "plain.csv")
    _write_csv(plain_csv, folder["rows"], ["filename", "label"])
    plain = _make(module, {**folder, "csv": plain_csv})
    for i in range(len(folder["rows"])):
        plain[i]
    try:  # the usual symptom of reading columns by position is an exception: explain it in those terms
        dataset = _make(module, folder)
        out["items"] = [_item(dataset, i, folder["rows"]) for i in range(len(folder["rows"]))]
    except Exception as exc:  # noqa: BLE001
        out["error"] = describe_error(exc, module)
    return out


def grayscale(module, seed: int) -> dict:
    """Images stored as RGB, RGBA, P (palette), L, I;16 (16-bit) and LA, each with random pixels."""
    rng = np.random.default_rng(seed)
    rgb = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(6)]
    images = {
        "RGB": PIL.Image.fromarray(rgb[0], "RGB"),
        "RGBA": PIL.Image.fromarray(np.dstack([rgb[1], rng.integers(0, 256, (H, W), dtype=np.uint8)]), "RGBA"),
        "P": PIL.Image.fromarray(rgb[2], "RGB").quantize(colors=16),
        "L": PIL.Image.fromarray(rgb[3][:, :, 0], "L"),
        "I;16": PIL.Image.fromarray(rng.integers(0, 256, (H, W)).astype(np.uint16)),
        "LA": PIL.Image.fromarray(rgb[5][:, :, :2].copy(), "LA"),
    }
    modes = list(images)
    names = [f"{chr(ord('a') + k)}_{m.replace(';', '_').lower()}.png" for k, m in enumerate(modes)]
    folder = _folder(seed, len(modes), images=[images[m] for m in modes], names=names)
    dataset = _make(module, folder)
    # The same files through a transform: what it receives must be grey too.
    received: list[dict] = []

    def noting(image):
        received.append(_image_facts(image))
        return image

    through = _make(module, folder, transform=noting)
    found = []
    for i, row in enumerate(folder["rows"]):
        path = os.path.join(folder["root"], row["filename"])
        with PIL.Image.open(path) as stored:
            mode = stored.mode
            expected = TF.to_tensor(stored.convert("L"))
        result = dataset[i]
        image, _ = _split(result)
        before = len(received)
        _split(through[i])
        found.append({"pair": _is_pair(result), "returned": _image_facts(result), "mode": mode,
                      "image": _image_facts(image, with_tensor=True), "expected": expected,
                      "to_transform": received[before:before + 1]})
    return {"items": found}


def default_tensor(module, seed: int) -> dict:
    """Without a transform: single-channel images of three sizes with random pixels."""
    rng = np.random.default_rng(seed)
    sizes = [(H, W), (4, 3), (2, 6)]
    images = [PIL.Image.fromarray(rng.integers(0, 256, size, dtype=np.uint8), "L") for size in sizes]
    folder = _folder(seed, len(images), images=images)
    dataset = _make(module, folder)
    found = []
    for i, row in enumerate(folder["rows"]):
        with PIL.Image.open(os.path.join(folder["root"], row["filename"])) as stored:
            expected = TF.to_tensor(stored.convert("L"))
        result = dataset[i]
        image, _ = _split(result)
        found.append({"pair": _is_pair(result), "returned": _image_facts(result),
                      "image": _image_facts(image, with_tensor=True), "expected": expected})
    return {"items": found}


class _Marker:
    """What the spy transform returns: an object nothing else could produce."""

    def __init__(self, number: int):
        self.number = number

    def __repr__(self) -> str:
        return f"<the transform's result #{self.number}>"


class SpyTransform:
    """A transform that notes what it is given and returns a fresh marker object."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.calls: list[dict] = []
        self.results: list[_Marker] = []

    def __call__(self, image):
        self.calls.append(_image_facts(image) | {"identity": _identity(image, self.rows)})
        self.results.append(_Marker(len(self.results)))
        return self.results[-1]


def transform(module, seed: int) -> dict:
    """getitem with a spy transform: what it received, how often, and what getitem returned."""
    folder = _folder(seed, 4)
    spy = SpyTransform(folder["rows"])
    dataset = _make(module, folder, transform=spy)
    calls_in_init = len(spy.calls)
    found = []
    for i in range(len(folder["rows"])):
        before = len(spy.calls)
        image, _ = _split(dataset[i])
        found.append({"calls": spy.calls[before:],
                      "returned_marker": any(image is r for r in spy.results[before:]),
                      "returned_old_marker": any(image is r for r in spy.results[:before]),
                      "returned": _image_facts(image) if not isinstance(image, _Marker) else {"kind": "marker"}})
    return {**_public(folder), "size": [W, H], "calls_in_init": calls_in_init, "items": found}


def labels(module, seed: int) -> dict:
    """The label of every item, exactly as getitem returned it."""
    folder = _folder(seed, 5)
    dataset = _make(module, folder)
    return {**_public(folder), "items": [_item(dataset, i, folder["rows"]) for i in range(5)]}


def lazy(module, seed: int) -> dict:
    """Counts Image.open calls during __init__, then replaces every image file with new pixels
    and reads all items: a lazy dataset shows the new pixels."""
    folder = _folder(seed, 4)
    opened = []
    original = PIL.Image.open

    def counting_open(*args, **kwargs):
        opened.append(str(args[0]) if args else "?")
        return original(*args, **kwargs)

    PIL.Image.open = counting_open
    try:
        dataset = _make(module, folder)
    finally:
        PIL.Image.open = original
    replaced = []
    for k, row in enumerate(folder["rows"]):
        path = os.path.join(folder["root"], row["filename"])
        new = {**row, "grey": 250 - 7 * k}  # 250, 243, ...: none of them an old grey level
        replaced.append(new)
        PIL.Image.new("L", (W, H), new["grey"]).save(path + ".new.png")
        os.replace(path + ".new.png", path)  # a new file under the old name
    items = []
    for i in range(len(folder["rows"])):
        result = dataset[i]
        image, _ = _split(result)
        items.append({"pair": _is_pair(result), "returned": _image_facts(result), "new": _identity(image, replaced), "old": _identity(image, folder["rows"]), "mean": _mean(image)})
    return {"opened_in_init": opened[:5], "opens_in_init": len(opened), "files": len(folder["rows"]), "items": items,
            "old_greys": [r["grey"] for r in folder["rows"]], "new_greys": [r["grey"] for r in replaced]}


def dataloader(module, seed: int) -> dict:
    """One epoch of DataLoader(batch_size=4, shuffle=True, num_workers=2) over 12 items."""
    n = 12
    folder = _folder(seed, n)
    dataset = _make(module, folder)
    reported = len(dataset)
    data = dataset if reported == n else Subset(dataset, range(n))  # a wrong __len__ is the length check's
    loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=2,
                        generator=torch.Generator().manual_seed(seed))
    batches = []
    for batch in loader:
        if not isinstance(batch, (list, tuple)) or len(batch) != 2:
            batches.append({"pair": False, "type": type(batch).__name__})
            continue
        images, targets = batch
        entry = {"pair": True, "images": _image_facts(images)}
        if isinstance(images, torch.Tensor) and images.dim() >= 1:
            entry["identities"] = [_identity(images[j], folder["rows"]) for j in range(images.shape[0])]
        entry["labels"] = _label_facts(targets) if isinstance(targets, torch.Tensor) else {
            "kind": "sequence", "type": type(targets).__name__, "values": [str(t)[:30] for t in targets]}
        batches.append(entry)
    return {**_public(folder), "len": reported, "batches": batches}


def _unpicklable_item(value) -> str | None:
    """For a list, tuple or dict that cannot be pickled: the type of the first item that cannot."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
    for item in items:
        try:
            ForkingPickler.dumps(item)
        except Exception:  # noqa: BLE001
            return type(item).__name__
    return None


def picklable(module, seed: int) -> dict:
    """Pickles the dataset the way spawn/forkserver DataLoader workers receive it, then reads the copy."""
    folder = _folder(seed, 4)
    dataset = _make(module, folder)
    try:
        data = ForkingPickler.dumps(dataset)
    except Exception as exc:  # noqa: BLE001 - failing to pickle is what this check is about
        culprits = []
        for name, value in vars(dataset).items():
            try:
                ForkingPickler.dumps(value)
            except Exception as inner:  # noqa: BLE001
                culprits.append({"name": name, "type": type(value).__name__, "item": _unpicklable_item(value),
                                 "error": f"{type(inner).__name__}: {inner}"[:300]})
        return {"stage": "dumps", "error": f"{type(exc).__name__}: {exc}"[:300], "culprits": culprits}
    try:
        copy = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001
        return {"stage": "loads", "error": f"{type(exc).__name__}: {exc}"[:300], "culprits": []}
    same = []
    for i in range(len(folder["rows"])):
        (a, la), (b, lb) = _split(dataset[i]), _split(copy[i])
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            images = a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
        else:  # not tensors: the default-tensor check says so; here only "the same as before" matters
            images = _image_facts(a) == _image_facts(b) and _mean(a) == _mean(b)
        same.append({"images": images, "labels": _label_facts(la) == _label_facts(lb),
                     "original": _identity(a, folder["rows"]), "copy": _identity(b, folder["rows"])})
    return {"stage": "done", "items": same, "copy_type": type(copy).__name__}
