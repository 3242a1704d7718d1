"""Checks for exercise 13. The probes write small folders of 16x16 grey PNG files at run time and record what
the student's datasets and loaders gave; each check judges one habit. An item that fails to load is the
business of the check its error points at: a Normalize given a PIL image or an integer tensor (ToTensor
comes first), a Normalize whose mean has another number of values than the image has channels (the
normalisation), anything else the check about what an item is. Every other check that needed the item
says "because of" that one. Every check of the items first requires each set to hold as many items as its
folder (or says it fails because of split-folders), so that an empty set passes nothing by loading nothing.
make_loaders is judged on datasets of the probe's own."""

import statistics

import probes

from grader.checks import fail, said
from grader.checks.observe import said_error, said_value

SEED = 13
SIZE = probes.SIZE
SPLITS = ("train", "val")
# How far the median pixel of an image of one grey level may be from the reference's, in grey levels (0-255).
# Validation items: a grey conversion made on a tensor (v2's Grayscale after ToImage) truncates to the level
# below; ToTensor and v2's ToDtype(scale=True) differ by 1e-7. Training items are judged on the dark images only
# (levels 20 to 50), where a brightness jitter of 20 % moves the median over 8 loads by less than 15 levels; a
# missing or different normalisation moves them by far more.
VAL_LEVELS = 1.5
TRAIN_LEVELS = 15
DARK = 127  # the probe's dark images are below this level, its light ones above


# ----------------------------------------------------------------------------- shared steps


def _made(run: dict, owner: str | None) -> None:
    """Fail when make_datasets gave nothing to judge: it raised, returned something else than three values,
    or a set has no length. `owner`: the check that explains it, when that is another check than this one."""
    if run["error"]:
        fail("common.make-raised", error=said_error(run["error"]), because_of=owner)
    if not run["three"]:
        fail("common.not-three", returned=said_value(run["returned"]), because_of=owner)
    for split in SPLITS:
        if run[split]["len"] is None:
            fail("common.no-len", split=split, error=run[split]["len_error"], because_of=owner)


def _owner(load: dict) -> str:
    """The check whose habit a failed load points at, from what the Normalize transforms were given."""
    for call in load["normalize"]:
        if not call["input"]["float"]:
            return "to-tensor-first"
        if not call["done"] and call["mean"] not in (1, call["input"]["channels"]):
            return "normalized"
    return "grey-tensors"


def _said_image(image: dict) -> dict:
    if image["kind"] == "tensor":
        return said("phrase.tensor", shape=image["shape"], dtype=image["dtype"])
    if image["kind"] == "pil":
        return said("phrase.pil", mode=image["mode"], size=image["size"])
    return said_value(image["returned"])


def _said_input(given: dict) -> dict:
    if given["kind"] == "pil":
        return said("phrase.pil-given", mode=given["mode"])
    if given["kind"] == "tensor":
        return said("phrase.tensor-given", dtype=given["dtype"], channels=given["channels"])
    return said("phrase.other-given", type=given["type"])


def _expect_item(load: dict, split: str, i: int, check: str) -> None:
    """Fail unless item i of `split` loaded as an (image tensor, label) pair; the failure is `check`'s own only
    when its habit is the one the problem points at."""
    if load["error"]:
        owner = _owner(load)
        fail("common.item-raised", split=split, i=i, error=said_error(load["error"]),
             because_of=None if owner == check else owner)
    if not load["pair"]:
        fail("common.not-a-pair", split=split, i=i, returned=_said_image(load["returned"]),
             because_of=None if check == "grey-tensors" else "grey-tensors")
    if load["image"]["kind"] != "tensor":
        fail("common.not-a-tensor", split=split, i=i, image=_said_image(load["image"]),
             because_of=None if check == "grey-tensors" else "grey-tensors")


def _loads(student, with_values: bool = False) -> list[tuple[str, int, dict]]:
    """(split, item number, load) for every item the `built` probe loaded (every item of two folders), and with
    `with_values` those of the `values` probe too, once make_datasets gave something to load. What a Normalize
    step is given does not depend on the pixels, so these loads show what the other probes' loads would."""
    found = []
    for run in student.run(probes.built, seed=SEED):
        _made(run, "split-folders")
        _same_folders(run)
        for split in SPLITS:
            found += [(split, i, load) for i, load in enumerate(run[f"{split}_items"])]
    if with_values:
        run = student.run(probes.values, seed=SEED)
        _made(run, "split-folders")
        _same_folders(run)
        for split in SPLITS:
            found += [(split, i, load) for i, item in enumerate(run[f"{split}_items"]) for load in item["loads"]]
    return found


def _same_folders(run: dict) -> None:
    """Every check of the items judges the images the probe wrote, item by item: fail (because of split-folders)
    when a set holds another number of images than its folder, so that a set that reads nothing (a `__len__` of
    0, an empty dataset) never passes a check by loading no item at all."""
    for split in SPLITS:
        if run[split]["len"] != run["want"]["len"][split]:
            fail("common.other-images", split=split, got=run[split]["len"], want=run["want"]["len"][split],
                 because_of="split-folders")


# ----------------------------------------------------------------------------- make_datasets


def test_split_folders(student):
    for run in student.run(probes.built, seed=SEED):
        _made(run, None)
        want = run["want"]["len"]
        for split in SPLITS:
            got = run[split]["len"]
            if got == want[split]:
                continue
            if got == 0:
                fail("split-folders.empty", split=split, want=want[split])
            other = "val" if split == "train" else "train"
            if got == want[other]:
                fail("split-folders.other-folder", split=split, other=other, got=got, want=want[split])
            if got == want["train"] + want["val"]:
                fail("split-folders.whole-root", split=split, got=got, want=want[split], train=want["train"],
                     val=want["val"])
            fail("split-folders.count", split=split, got=got, want=want[split])


def test_class_names(student):
    for run in student.run(probes.built, seed=SEED):
        _made(run, "split-folders")
        names, want = run["names"], run["want"]["classes"]
        if names["kind"] == "mapping":
            fail("class-names.mapping", keys=names["keys"], want=run["want"]["classes"])
        if names["kind"] != "names":
            fail("class-names.not-names", returned=said_value(names["returned"]))
        got = names["names"]
        if got == want:
            continue
        if sorted(got) == sorted(want):
            if got == run["want"]["listing"]:
                fail("class-names.listdir", got=got, want=want)
            if got == sorted(want, key=str.lower):
                fail("class-names.case", got=got, want=want)
            fail("class-names.order", got=got, want=want)
        if run["train_classes"] is not None and got == run["train_classes"] and got != want:
            fail("class-names.other-folder", got=got, want=want, because_of="split-folders")
        fail("class-names.other-names", got=got, want=want)


def test_grey_tensors(student):
    want_shape = [1, SIZE, SIZE]
    for run in student.run(probes.built, seed=SEED):
        _made(run, "split-folders")
        _same_folders(run)
        for split in SPLITS:
            for i, load in enumerate(run[f"{split}_items"]):
                _expect_item(load, split, i, "grey-tensors")
                image = load["image"]
                shape = image["shape"]
                if shape != want_shape:
                    if len(shape) == 3 and shape[1:] == [SIZE, SIZE] and shape[0] > 1:
                        grown = [c for c in load["normalize"]
                                 if c["input"]["channels"] == 1 and (c["out_channels"] or 1) > 1]
                        if grown:
                            fail("grey-tensors.grown-by-normalize", split=split, i=i, channels=shape[0],
                                 values=grown[0]["mean"], because_of="normalized")
                        fail("grey-tensors.channels", split=split, i=i, shape=shape, channels=shape[0])
                    fail("grey-tensors.shape", split=split, i=i, shape=shape, want=want_shape)
                if image["dtype"] != "torch.float32":
                    fail("grey-tensors.dtype", split=split, i=i, dtype=image["dtype"])
                if load["label"]["kind"] != "int":
                    fail("grey-tensors.label", split=split, i=i, type=load["label"]["type"])


def test_to_tensor_first(student):
    loads = _loads(student)
    for split, i, load in loads:
        for call in load["normalize"]:
            if not call["input"]["float"]:
                fail("to-tensor-first.not-a-float-tensor", split=split, i=i, given=_said_input(call["input"]),
                     kind=call["input"]["kind"], raised=not call["done"])
    for split, i, load in loads:
        if load["error"] and not load["normalize"]:
            fail("common.item-raised", split=split, i=i, error=said_error(load["error"]), because_of=_owner(load))


def test_normalized(student, reference):
    for split, i, load in _loads(student, with_values=True):
        for call in load["normalize"]:
            given = call["input"]
            if given["float"] and call["mean"] not in (1, given["channels"]):
                fail("normalized.channels", split=split, i=i, channels=given["channels"], values=call["mean"],
                     raised=not call["done"], out=call["out_channels"])
    run = student.run(probes.values, seed=SEED)
    _made(run, "split-folders")
    _same_folders(run)
    want = reference.run(probes.values, seed=SEED)
    mean, std = want["stats"]["mean"][0], want["stats"]["std"][0]
    for split, levels in (("val", VAL_LEVELS), ("train", TRAIN_LEVELS)):
        tolerance = levels / 255 / std  # in normalised units
        for i, (item, expected) in enumerate(zip(run[f"{split}_items"], want[f"{split}_items"])):
            for load in item["loads"]:
                _expect_item(load, split, i, "normalized")
            level = run["want"]["levels"][split][i]
            if split == "train" and level > DARK:
                continue
            medians = [m for m in item["medians"] if m is not None]
            if not medians:
                fail("common.not-a-tensor", split=split, i=i, image=_said_image(item["loads"][0]["image"]),
                     because_of="grey-tensors")
            got = statistics.median(medians)
            target = statistics.median(expected["medians"])
            if abs(got - target) <= tolerance:
                continue
            x = level / 255
            if abs(got - x) <= levels / 255:
                why = said("normalized.why-not-normalized")
            elif abs(got - (level - mean) / std) <= levels / std:
                why = said("normalized.why-0-255", level=level)
            elif abs(got - (x - 0.5) / 0.5) <= levels / 255 / 0.5:
                why = said("normalized.why-half")
            else:
                why = said("normalized.why-other")
            fail("normalized.values", split=split, i=i, level=level, x=x, got=got, want=target, mean=mean, std=std,
                 loads=len(medians), why=why)


# ----------------------------------------------------------------------------- augmentation


def test_val_deterministic(student):
    run = student.run(probes.variation, seed=SEED)
    _made(run, "split-folders")
    _same_folders(run)
    for i, item in enumerate(run["val_items"]):
        _expect_item(item["load"], "val", i, "val-deterministic")
        if item.get("distinct", 1) > 1:
            fail("val-deterministic.varies", i=i, loads=item["loads"], distinct=item["distinct"],
                 difference=item["difference"], shared=run["shared_transform"])


def test_train_augmented(student):
    run = student.run(probes.variation, seed=SEED)
    _made(run, "split-folders")
    _same_folders(run)
    items = run["train_items"]
    for i, item in enumerate(items):
        _expect_item(item["load"], "train", i, "train-augmented")
    if all(item.get("distinct", 1) == 1 for item in items):
        fail("train-augmented.same-every-time", items=len(items), loads=items[0]["loads"] if items else 0)


# ----------------------------------------------------------------------------- make_loaders


def _loader_runs(student, owner: str | None) -> list[dict]:
    runs = student.run(probes.loaders, seed=SEED)
    for run in runs:
        if run["error"]:
            fail("common.loaders-raised", batch_size=run["batch_size"], error=said_error(run["error"]),
                 because_of=owner)
        if not run["two"]:
            fail("common.loaders-not-two", batch_size=run["batch_size"], returned=said_value(run["returned"]),
                 because_of=owner)
    return runs


def _epochs(run: dict, split: str) -> list[list]:
    """The batches of each epoch of one loader; fail when there is no loader of the set it was given."""
    facts, batch_size = run[split], run["batch_size"]
    if not facts["loader"]:
        fail("common.not-a-loader", split=split, returned=said_value(facts["returned"]))
    if facts["error"]:
        fail("common.loader-raised", split=split, batch_size=batch_size, error=said_error(facts["error"]),
             via=facts["via"])
    if facts["dataset"] != split:
        fail("common.wrong-dataset", split=split, dataset=facts["dataset"])
    for epoch, batches in enumerate(facts["epochs"], 1):
        if any(batch is None for batch in batches):
            fail("common.not-pairs", split=split)
        sizes = [len(batch) for batch in batches]
        if any(size != batch_size for size in sizes[:-1]) or (sizes and sizes[-1] > batch_size):
            fail("common.batch-size", split=split, batch_size=batch_size, sizes=sizes)
    return facts["epochs"]


def test_train_loader(student):
    for run in _loader_runs(student, None):
        batch_size, want = run["batch_size"], run["want"]["train"]
        orders = []
        for batches in _epochs(run, "train"):
            order = [i for batch in batches for i in batch]
            missing = len(want) - len(order)
            if len(set(order)) != len(order) or not set(order) <= set(want) or missing < 0:
                fail("train-loader.items", got=sorted(order), want=want)
            if missing and not (run["train"]["drop_last"] and missing < batch_size):
                fail("train-loader.missing", missing=sorted(set(want) - set(order)), want=len(want))
            orders.append(order)
        if all(order == sorted(order) for order in orders):
            fail("train-loader.not-shuffled", batch_size=batch_size, batches=run["train"]["epochs"][0],
                 sampler=run["train"]["sampler"])
        if orders[0] == orders[1]:
            fail("train-loader.same-order", order=orders[0])


def test_val_loader(student):
    for run in _loader_runs(student, "train-loader"):
        want = run["want"]["val"]
        for epoch, batches in enumerate(_epochs(run, "val"), 1):
            order = [i for batch in batches for i in batch]
            if order == want:
                continue
            if sorted(order) == want:
                fail("val-loader.shuffled", epoch=epoch, order=[i - want[0] for i in order],
                     sampler=run["val"]["sampler"])
            if order == sorted(order) and set(order) < set(want):
                fail("val-loader.dropped", missing=len(want) - len(order), want=len(want),
                     drop_last=run["val"]["drop_last"])
            fail("val-loader.items", got=[i - want[0] for i in order], want=len(want))
