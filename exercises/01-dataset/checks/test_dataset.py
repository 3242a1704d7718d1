"""Checks for exercise 1. The probes build small image folders and CSV files at run time and record
what the student's dataset returned; each check judges one habit, and accepts any correct style
(an int or a 0-dim integer tensor as label, any way of reading the CSV). Where a habit is not this
check's business (the label's type when checking the order of the items, say), it is judged
leniently here and strictly by the check that names it."""

import probes
import torch

from grader.checks import expect, fail, said

SEED = 1


def _number(label: dict) -> float | None:
    """The label's value, however it was returned (the labels check judges its type)."""
    kind = label["kind"]
    if kind in ("int", "float", "bool"):
        return float(label["value"])
    if kind == "tensor":
        return label["values"][0] if len(label["values"]) == 1 else None
    if kind == "str":
        try:
            return float(label["value"])
        except ValueError:
            return None
    return None


def _said_label(label: dict) -> dict:
    kind = label["kind"]
    if kind == "tensor":
        return said("phrase.tensor", shape=label["shape"], dtype=label["dtype"])
    if kind == "str":
        return said("phrase.label-str", value=label["value"])
    if kind == "other":
        return said("phrase.label-other", type=label["type"], repr=label["repr"])
    if kind == "sequence":
        return said("phrase.label-sequence", type=label["type"], count=len(label["values"]), values=label["values"][:4])
    return said("phrase.label-number", value=repr(label["value"]), type=label["type"])


def _said_number(value: float | None) -> dict:
    if value is None:
        return said("phrase.not-a-number")
    return said("phrase.number", value=int(value) if float(value).is_integer() else value)


def _said_image(image: dict) -> dict:
    if image["kind"] == "tensor":
        return said("phrase.tensor", shape=image["shape"], dtype=image["dtype"])
    if image["kind"] == "pil":
        return said("phrase.image-pil", mode=image["mode"], size=image["size"])
    if image["kind"] == "marker":
        return said("phrase.transform-result")
    return said("phrase.value-of-type", type=image["type"])


def _label_of_another_row(label: dict, row: int, rows: list[dict]) -> int | None:
    """The other row whose label an item of row `row` carries: the pairing of images and labels broke,
    which the checks about rows and batches judge. A label that is no row's label at all (renumbered,
    converted, of another type) is the labels check's business, judged there and only there."""
    value = _number(label)
    if value is None or value == rows[row]["label"]:
        return None
    return next((j for j, r in enumerate(rows) if j != row and r["label"] == value), None)


def _renumbered(run: dict) -> dict | None:
    """Words when the labels returned are the CSV's labels renumbered 0, 1, 2... (in the order of their
    values or of their first appearance, as LabelEncoder or pandas category codes do); else None."""
    rows = run["rows"]
    got = [_number(item["label"]) for item in run["items"] if item["pair"]]
    want = [row["label"] for row in rows][:len(got)]
    by_value = [sorted(set(want)).index(w) for w in want]
    by_appearance = [list(dict.fromkeys(want)).index(w) for w in want]
    if got in (by_value, by_appearance):
        return said("labels.renumbered", want=want, got=[_said_number(g) for g in got])
    return None


def _more_channels(shape: list[int], height: int, width: int) -> bool:
    """An image with the right height and width but 2-4 channels: the grey conversion went missing (the
    grayscale check's problem), not this check's."""
    return len(shape) >= 3 and tuple(shape[-2:]) == (height, width) and shape[-3] in (2, 3, 4)


def _pairs(run: dict) -> list[dict]:
    items = run["items"]
    for i, item in enumerate(items):
        if not item["pair"]:
            fail("item.not-a-pair", i=i, returned=_said_image(item["returned"]))
    return items


def test_length(student):
    run = student.run(probes.length, seed=SEED)
    for found in run["datasets"]:
        rows, got = found["rows"], found["len"]
        if got == rows + 1:
            fail("length.header-counted", rows=rows, got=got)
        expect(got == rows, "length.wrong", rows=rows, got=got)


def test_items_in_csv_order(student):
    run = student.run(probes.order, seed=SEED)
    rows = run["rows"]
    listed = [r["filename"] for r in rows]
    for i, item in enumerate(_pairs(run)):
        got = item["identity"]
        if got is None:
            fail("items-in-csv-order.unknown-image", i=i, image=_said_image(item["image"]), mean=item["mean"])
        if got != i:
            by_name = [r["filename"] for r in sorted(rows, key=lambda r: r["filename"])]
            returned = [rows[x["identity"]]["filename"] if x["identity"] is not None else None for x in run["items"]]
            hint = None
            if returned == by_name:
                hint = said("items-in-csv-order.sorted-by-name")
            elif returned == run["listing"][:len(returned)]:
                hint = said("items-in-csv-order.folder-order")
            fail("items-in-csv-order.wrong-image", i=i, got=rows[got]["filename"], want=rows[i]["filename"],
                 listed=listed, hint=hint)
        other = _label_of_another_row(item["label"], i, rows)
        if other is not None:
            fail("items-in-csv-order.label-of-another-row", i=i, file=rows[i]["filename"],
                 label=_said_label(item["label"]), other=other, other_file=rows[other]["filename"],
                 want=rows[i]["label"])


def test_csv_columns(student):
    run = student.run(probes.columns, seed=SEED)
    rows, header = run["rows"], run["header"]
    if "error" in run:
        error = run["error"]
        fail("csv-columns.raised", header=header, first_line=run["first_line"], type=error["type"],
             message=error["message"], line=error.get("line"), file=error.get("file"), code=error.get("code"))
    for i, item in enumerate(_pairs(run)):
        got = item["identity"]
        expect(got is not None, "csv-columns.unknown-image", header=header, i=i)
        label = _number(item["label"])
        column = next((name for name in run["header"] if name != "label" and label is not None
                       and _number({"kind": "str", "value": run["cells"][got][name]}) == label), None)
        if column is not None:
            fail("csv-columns.label-from-column", header=header, i=i, file=rows[got]["filename"],
                 label=_said_label(item["label"]), column=column, want=rows[got]["label"])
        other = _label_of_another_row(item["label"], got, rows)
        if other is not None:
            fail("csv-columns.label-of-another-row", header=header, i=i, file=rows[got]["filename"],
                 label=_said_label(item["label"]), other_file=rows[other]["filename"])


def test_grayscale(student, reference):
    run = student.run(probes.grayscale, seed=SEED)
    # What each image should hold, as computed in the reference's worker (the same files, the same code),
    # never in the student's, where PIL's or torchvision's functions may have been reassigned.
    wanted = reference.run(probes.grayscale, seed=SEED)["items"]
    for item, right in zip(_pairs(run), wanted):
        mode, image, expected = item["mode"], item["image"], right["expected"]
        if image["kind"] != "tensor":
            continue  # the default-tensor check explains what getitem should return
        shape = image["shape"]
        channels = shape[0] if len(shape) == 3 else 1 if len(shape) == 2 else None
        expect(channels == 1, "grayscale.channels", mode=mode, image=_said_image(image), channels=channels)
        expect(tuple(shape[-2:]) == tuple(expected.shape[1:]), "grayscale.size", mode=mode, image=_said_image(image),
               height=expected.shape[1], width=expected.shape[2])
        got = image["tensor"].double().reshape(expected.shape)
        want = expected.double()
        same = torch.allclose(got, want, atol=1e-4) or torch.allclose(got, want * 255, atol=0.5)
        expect(same, "grayscale.pixels", mode=mode, got=[round(float(v), 3) for v in got[0, 0, :4]],
               want=[round(float(v), 3) for v in want[0, 0, :4]])
    for i, item in enumerate(_pairs(run)):
        given = item["to_transform"][0] if item["to_transform"] else None
        if given and given["kind"] == "pil" and given["mode"] != "L":
            fail("grayscale.transform-given-colour", i=i, mode=item["mode"], given=given["mode"],
                 alone=item["image"]["kind"] == "tensor")


def test_default_tensor(student, reference):
    run = student.run(probes.default_tensor, seed=SEED)
    wanted = reference.run(probes.default_tensor, seed=SEED)["items"]  # computed where no student code ran
    for i, (item, right) in enumerate(zip(_pairs(run), wanted)):
        image, expected = item["image"], right["expected"]
        size = tuple(expected.shape)
        expect(image["kind"] == "tensor", "default-tensor.not-a-tensor", i=i, image=_said_image(image))
        if _more_channels(image["shape"], size[1], size[2]) and len(image["shape"]) == 3:
            fail("default-tensor.channels", i=i, shape=image["shape"], because_of="grayscale")
        expect(tuple(image["shape"]) == size, "default-tensor.shape", i=i, shape=image["shape"], size=size)
        expect(image["dtype"] == "torch.float32", "default-tensor.dtype", i=i, dtype=image["dtype"])
        got = image["tensor"]
        if float(got.max()) > 1.0 + 1e-6 or float(got.min()) < -1e-6:
            fail("default-tensor.range", i=i, low=float(got.min()), high=float(got.max()))
        expect(torch.allclose(got, expected, atol=1e-6), "default-tensor.pixels", i=i,
               difference=float((got - expected).abs().max()))


def test_transform_applied(student):
    run = student.run(probes.transform, seed=SEED)
    rows, (width, height) = run["rows"], run["size"]
    for i, item in enumerate(run["items"]):
        calls = item["calls"]
        if not calls:
            fail("transform-applied.never-called", i=i, returned=_said_image(item["returned"]))
        expect(len(calls) == 1, "transform-applied.called-times", i=i, calls=len(calls))
        call = calls[0]
        if call["kind"] == "tensor":
            fail("transform-applied.given-tensor", i=i, given=_said_image(call))
        expect(call["kind"] == "pil", "transform-applied.given-not-pil", i=i, given=_said_image(call))
        expect(call["mode"] == "L", "transform-applied.grey-mode", i=i, mode=call["mode"], because_of="grayscale")
        expect(call["mode"] == "L", "transform-applied.mode", i=i, mode=call["mode"])
        expect(tuple(call["size"]) == (width, height) and call["identity"] == i, "transform-applied.wrong-image",
               i=i, size=call["size"], file=rows[i]["filename"], want=[width, height])
        if not item["returned_marker"]:
            was = said("transform-applied.earlier-result") if item["returned_old_marker"] \
                else _said_image(item["returned"])
            fail("transform-applied.returned-other", i=i, returned=was)
    expect(run["calls_in_init"] == 0, "transform-applied.called-in-init", calls=run["calls_in_init"])


def test_labels(student):
    run = student.run(probes.labels, seed=SEED)
    rows = run["rows"]
    for i, item in enumerate(_pairs(run)):
        label, want = item["label"], rows[i]["label"]
        if label["kind"] == "str":
            fail("labels.string", i=i, value=label["value"])
        if label["kind"] == "float" or (label["kind"] == "tensor" and not label["integer"]):
            fail("labels.float", i=i, label=_said_label(label))
        if label["kind"] == "tensor":
            expect(label["shape"] == [], "labels.tensor-shape", i=i, label=_said_label(label))
        else:
            expect(label["kind"] == "int", "labels.not-int", i=i, label=_said_label(label))
        if _number(label) != want:
            fail("labels.wrong-value", i=i, label=_said_number(_number(label)), want=want,
                 renumbered=_renumbered(run))


def test_lazy_loading(student):
    run = student.run(probes.lazy, seed=SEED)
    # The verdict comes from the pixels; opening files in __init__ (say, to check they exist) is allowed.
    opens = run["opens_in_init"]
    for i, item in enumerate(_pairs(run)):
        if item["old"] is not None:
            fail("lazy-loading.old-pixels", i=i, old=run["old_greys"][item["old"]], new=run["new_greys"][item["old"]],
                 opens=opens)
        expect(item["new"] is not None, "lazy-loading.unknown-image", i=i, mean=item["mean"])


def test_dataloader(student):
    run = student.run(probes.dataloader, seed=SEED)
    rows, batches = run["rows"], run["batches"]
    n = len(rows)
    seen = []
    for number, batch in enumerate(batches, start=1):
        expect(batch["pair"], "dataloader.not-a-pair", number=number, type=batch.get("type"))
        images, labels = batch["images"], batch["labels"]
        if images["kind"] == "tensor" and len(images["shape"]) == 4 and _more_channels(images["shape"], probes.H, probes.W):
            fail("dataloader.channels", number=number, shape=images["shape"], because_of="grayscale")
        if labels["kind"] == "tensor" and labels["shape"] == [4, 1]:
            fail("dataloader.label-column", number=number, because_of="labels")
        expect(images["kind"] == "tensor" and tuple(images["shape"]) == (4, 1, probes.H, probes.W),
               "dataloader.images-shape", number=number, images=_said_image(images), height=probes.H, width=probes.W)
        values = [_number({"kind": "tensor", "values": [v]}) for v in labels["values"]] \
            if labels["kind"] == "tensor" and labels["shape"] == [4] else None
        if labels["kind"] == "sequence":
            values = [_number({"kind": "str", "value": v}) for v in labels["values"]]
        expect(values is not None and len(values) == 4, "dataloader.labels-count", number=number,
               labels=_said_label(labels))
        for identity, value in zip(batch["identities"], values):
            expect(identity is not None, "dataloader.unknown-image", number=number)
            other = _label_of_another_row({"kind": "float", "value": value}, identity, rows) if value is not None else None
            if other is not None:
                fail("dataloader.label-of-another-image", number=number, file=rows[identity]["filename"],
                     label=_said_number(value), other_file=rows[other]["filename"], want=rows[identity]["label"])
            seen.append(identity)
    missing = [rows[k]["filename"] for k in range(n) if k not in seen]
    twice = sorted({rows[k]["filename"] for k in seen if seen.count(k) > 1})
    expect(not missing and not twice and len(seen) == n, "dataloader.epoch", n=n, got=len(seen), missing=missing,
           twice=twice)


def _held(culprit: dict) -> dict:
    """What an attribute that cannot be pickled holds, in words: the item inside a list that is to blame."""
    if "<lambda>" in culprit["error"] and not culprit.get("item"):
        return said("picklable.held-lambda")
    if culprit.get("item"):
        return said("picklable.held-items", type=culprit["type"], item=culprit["item"])
    return said("picklable.held-type", type=culprit["type"])


def test_picklable(student):
    run = student.run(probes.picklable, seed=SEED)
    if run["stage"] == "dumps":
        culprits = [said("picklable.culprit", name=c["name"], held=_held(c), error=c["error"]) for c in run["culprits"]]
        fail("picklable.not-picklable", culprits=culprits, error=run["error"])
    if run["stage"] == "loads":
        fail("picklable.not-loadable", error=run["error"])
    for i, item in enumerate(run["items"]):
        expect(item["images"] and item["labels"], "picklable.copy-differs", i=i)
