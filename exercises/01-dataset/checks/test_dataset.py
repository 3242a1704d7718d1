"""Checks for exercise 1. The probes build small image folders and CSV files at run time and record
what the student's dataset returned; each check judges one habit, and accepts any correct style
(an int or a 0-dim integer tensor as label, any way of reading the CSV). Where a habit is not this
check's business (the label's type when checking the order of the items, say), it is judged
leniently here and strictly by the check that names it."""

import probes
import torch

from grader.checks import expect, fail

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


def _said_label(label: dict) -> str:
    kind = label["kind"]
    if kind == "tensor":
        return f"a tensor of shape {tuple(label['shape'])} ({label['dtype']})"
    if kind == "str":
        return f"{label['value']!r} (a string)"
    if kind == "other":
        return f"a value of type {label['type']} ({label['repr']})"
    if kind == "sequence":
        return f"a {label['type']} of {len(label['values'])} values ({', '.join(label['values'][:4])})"
    article = "an" if label["type"][0] in "aeiou" else "a"
    return f"{label['value']!r} ({article} {label['type']})"


def _said_number(value: float | None) -> str:
    if value is None:
        return "something that is not a number"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _said_image(image: dict) -> str:
    if image["kind"] == "tensor":
        return f"a tensor of shape {tuple(image['shape'])} ({image['dtype']})"
    if image["kind"] == "pil":
        return f"a PIL image (mode {image['mode']!r}, size {tuple(image['size'])})"
    if image["kind"] == "marker":
        return "the transform's result"
    return f"a value of type {image['type']}"


def _label_of_another_row(label: dict, row: int, rows: list[dict]) -> int | None:
    """The other row whose label an item of row `row` carries: the pairing of images and labels broke,
    which the checks about rows and batches judge. A label that is no row's label at all (renumbered,
    converted, of another type) is the labels check's business, judged there and only there."""
    value = _number(label)
    if value is None or value == rows[row]["label"]:
        return None
    return next((j for j, r in enumerate(rows) if j != row and r["label"] == value), None)


def _renumbered(run: dict) -> str:
    """A sentence when the labels returned are the CSV's labels renumbered 0, 1, 2... (in the order of their
    values or of their first appearance, as LabelEncoder or pandas category codes do); else ''."""
    rows = run["rows"]
    got = [_number(item["label"]) for item in run["items"] if item["pair"]]
    want = [row["label"] for row in rows][:len(got)]
    by_value = [sorted(set(want)).index(w) for w in want]
    by_appearance = [list(dict.fromkeys(want)).index(w) for w in want]
    if got in (by_value, by_appearance):
        return (f" The CSV's labels {', '.join(map(str, want))} came back as {', '.join(_said_number(g) for g in got)}: "
                "renumbered from 0. A label is the class number the CSV gives; renumbering changes which class it "
                "means, and the model then learns other classes than the data's.")
    return ""


def _more_channels(shape: list[int], height: int, width: int) -> bool:
    """An image with the right height and width but 2-4 channels: the grey conversion went missing (the
    grayscale check's problem), not this check's."""
    return len(shape) >= 3 and tuple(shape[-2:]) == (height, width) and shape[-3] in (2, 3, 4)


def _pairs(run: dict) -> list[dict]:
    items = run["items"]
    for i, item in enumerate(items):
        if not item["pair"]:
            fail(f"dataset[{i}] returned {_said_image(item['returned'])}, not a pair.",
                 what_to_try=f"End __getitem__ with `return image, label`, so that `image, label = dataset[{i}]` works.")
    return items


def test_length(student):
    run = student.run(probes.length, seed=SEED)
    for found in run["datasets"]:
        rows, got = found["rows"], found["len"]
        if got == rows + 1:
            fail(f"For a CSV file with a header row and {rows} data rows, len(dataset) is {got}: one too many. "
                 "The header row (`filename,label`) names the columns; it is not an image. A DataLoader would "
                 f"then ask for item {rows}, which does not exist.",
                 what_to_try="Skip the header when you read the file (csv.DictReader does it for you), and return "
                             "the number of data rows from __len__.")
        expect(got == rows,
               f"For a CSV file with {rows} data rows (plus the header), len(dataset) is {got}; it should be {rows}.",
               what_to_try="Store one entry per data row in __init__ and return `len(...)` of that list in __len__.")


def test_items_in_csv_order(student):
    run = student.run(probes.order, seed=SEED)
    rows = run["rows"]
    listed = ", ".join(r["filename"] for r in rows)
    for i, item in enumerate(_pairs(run)):
        got = item["identity"]
        if got is None:
            fail(f"dataset[{i}] returned an image that is none of the files in the CSV ({_said_image(item['image'])}, "
                 f"mean value {item['mean']}).",
                 what_to_try="Open `os.path.join(root_dir, filename)` for the filename on CSV row idx.")
        if got != i:
            by_name = [r["filename"] for r in sorted(rows, key=lambda r: r["filename"])]
            returned = [rows[x["identity"]]["filename"] if x["identity"] is not None else None for x in run["items"]]
            hint = ""
            if returned == by_name:
                hint = " Your items came in the order of the file names sorted alphabetically, not in the CSV's order."
            elif returned == run["listing"][:len(returned)]:
                hint = (" Your items came in the order in which the folder lists its files (`os.listdir`), not in the "
                        "CSV's order.")
            fail(f"dataset[{i}] returned the image {rows[got]['filename']}, but row {i} of the CSV (counting from 0 "
                 f"after the header) is {rows[i]['filename']}. The CSV lists the files in this order: {listed}.{hint}",
                 what_to_try="Keep the rows in the order the CSV gives them: do not sort them and do not list the "
                             "folder; item idx is row idx.")
        other = _label_of_another_row(item["label"], i, rows)
        if other is not None:
            fail(f"dataset[{i}] returned the image {rows[i]['filename']} with the label {_said_label(item['label'])}, "
                 f"which is the label of row {other} ({rows[other]['filename']}); row {i} says {rows[i]['label']}.",
                 what_to_try="Read the filename and the label from the same row, and return them together.")


def test_csv_columns(student):
    run = student.run(probes.columns, seed=SEED)
    rows, header = run["rows"], ",".join(run["header"])
    if "error" in run:
        error = run["error"]
        where = f" (line {error['line']} of {error['file']}: `{error['code']}`)" if error.get("line") else ""
        fail(f"With a CSV file whose header is `{header}` (first data row `{run['first_line']}`), your dataset "
             f"raised {error['type']}: {error['message']}{where}. In this file the columns come in another order "
             "than `filename,label`, and there are extra ones; a dataset that takes the first column as the "
             "filename and the second as the label reads the wrong values.",
             what_to_try="Find the columns by their names: `csv.DictReader` gives each row as a dict, so "
                         "`row['filename']` and `row['label']` work whatever the order.")
    for i, item in enumerate(_pairs(run)):
        got = item["identity"]
        expect(got is not None,
               f"With the header `{header}`, dataset[{i}] returned an image that is none of the listed files.",
               what_to_try="Use the `filename` column, found by its name, to build the path.")
        label = _number(item["label"])
        column = next((name for name in run["header"] if name != "label" and label is not None
                       and _number({"kind": "str", "value": run["cells"][got][name]}) == label), None)
        if column is not None:
            fail(f"With the header `{header}`, dataset[{i}] returned the image {rows[got]['filename']} with label "
                 f"{_said_label(item['label'])}, the value of its `{column}` column; its `label` column says "
                 f"{rows[got]['label']}.",
                 what_to_try="Find the columns by their names (`row['label']` with csv.DictReader), not by position.")
        other = _label_of_another_row(item["label"], got, rows)
        if other is not None:
            fail(f"With the header `{header}`, dataset[{i}] returned the image {rows[got]['filename']} with the label "
                 f"of another row ({_said_label(item['label'])}, the label of {rows[other]['filename']}).",
                 what_to_try="Take the filename and the label from the same row, each by its column's name.")


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
        expect(channels == 1,
               f"An image stored in mode {mode!r} came back as {_said_image(image)}: {channels} channels instead of 1. "
               "Files can be stored in colour (RGB), with transparency (RGBA, LA), with a palette (P) or with 16 bits "
               "per pixel; this dataset must always give one grey channel.",
               what_to_try='Convert every image right after opening it: `Image.open(path).convert("L")`.')
        expect(tuple(shape[-2:]) == tuple(expected.shape[1:]),
               f"An image stored in mode {mode!r} came back as {_said_image(image)}, but the file is "
               f"{expected.shape[1]} pixels high and {expected.shape[2]} wide.",
               what_to_try='Convert the image with `.convert("L")`, then `TF.to_tensor`: no resizing or permuting.')
        got = image["tensor"].double().reshape(expected.shape)
        want = expected.double()
        same = torch.allclose(got, want, atol=1e-4) or torch.allclose(got, want * 255, atol=0.5)
        expect(same,
               f"An image stored in mode {mode!r} has the right shape, but its pixel values differ from what PIL's "
               f"`convert(\"L\")` gives (first row: {[round(float(v), 3) for v in got[0, 0, :4]]} instead of "
               f"{[round(float(v), 3) for v in want[0, 0, :4]]}).",
               what_to_try='Let PIL do the conversion for every mode: `Image.open(path).convert("L")`, then to_tensor.')
    for i, item in enumerate(_pairs(run)):
        given = item["to_transform"][0] if item["to_transform"] else None
        if given and given["kind"] == "pil" and given["mode"] != "L":
            alone = (": without a transform the same file came back with one channel, so the conversion is skipped "
                     "exactly when the user asks for a transform" if item["image"]["kind"] == "tensor" else "")
            fail(f"With a transform given, dataset[{i}] (a file stored in mode {item['mode']!r}) passed it a PIL image "
                 f"in mode {given['mode']!r}, not one grey channel{alone}.",
                 what_to_try='Convert right after opening, before anything else: `Image.open(path).convert("L")`, '
                             "then the transform (or to_tensor) on that image.")


def test_default_tensor(student, reference):
    run = student.run(probes.default_tensor, seed=SEED)
    wanted = reference.run(probes.default_tensor, seed=SEED)["items"]  # computed where no student code ran
    for i, (item, right) in enumerate(zip(_pairs(run), wanted)):
        image, expected = item["image"], right["expected"]
        size = tuple(expected.shape)
        expect(image["kind"] == "tensor",
               f"Without a transform, dataset[{i}] returned {_said_image(image)} as its image; it should be a tensor.",
               what_to_try="When `self.transform` is None, return `TF.to_tensor(pil_image)`.")
        if _more_channels(image["shape"], size[1], size[2]) and len(image["shape"]) == 3:
            fail(f"Without a transform, dataset[{i}] returned a tensor of shape {tuple(image['shape'])}: "
                 f"{image['shape'][0]} channels for a file stored with one grey channel.", because_of="grayscale")
        expect(tuple(image["shape"]) == size,
               f"Without a transform, dataset[{i}] returned a tensor of shape {tuple(image['shape'])} for an image "
               f"{size[1]} pixels high and {size[2]} wide; it should be {size} ([channels, height, width]).",
               what_to_try="`TF.to_tensor(pil_image)` gives exactly [1, H, W] for an \"L\" image: no reshaping, "
                           "squeezing or permuting needed.")
        expect(image["dtype"] == "torch.float32",
               f"Without a transform, dataset[{i}] returned a tensor of dtype {image['dtype']}; it should be "
               "torch.float32.", what_to_try="`TF.to_tensor(pil_image)` gives float32 values in [0, 1].")
        got = image["tensor"]
        if float(got.max()) > 1.0 + 1e-6 or float(got.min()) < -1e-6:
            fail(f"Without a transform, dataset[{i}] has values from {float(got.min()):.4g} to {float(got.max()):.4g}; "
                 "to_tensor gives values between 0 and 1 (a pixel of 255 becomes 1.0).",
                 what_to_try="Use `TF.to_tensor(pil_image)`, which divides by 255 for you.")
        expect(torch.allclose(got, expected, atol=1e-6),
               f"Without a transform, dataset[{i}] has the right shape and range but different pixel values from "
               f"`to_tensor` of its grayscale image (largest difference {float((got - expected).abs().max()):.4g}).",
               what_to_try="Return `TF.to_tensor(Image.open(path).convert(\"L\"))` unchanged.")


def test_transform_applied(student):
    run = student.run(probes.transform, seed=SEED)
    rows, (width, height) = run["rows"], run["size"]
    for i, item in enumerate(run["items"]):
        calls = item["calls"]
        if not calls:
            fail(f"The check gave the dataset a transform, and dataset[{i}] never called it (it returned "
                 f"{_said_image(item['returned'])}).",
                 what_to_try="Store the transform in __init__ (`self.transform = transform`) and, in __getitem__, "
                             "`if self.transform is not None: image = self.transform(image)`.")
        expect(len(calls) == 1,
               f"dataset[{i}] called the transform {len(calls)} times; it should call it once per item.",
               what_to_try="Call `self.transform(image)` once and keep its result.")
        call = calls[0]
        if call["kind"] == "tensor":
            fail(f"dataset[{i}] gave the transform {_said_image(call)}, but a transform is given the PIL image "
                 "(`ToTensor`, and transforms written for PIL images, fail on a tensor): to_tensor must not run first "
                 "when a transform is given.",
                 what_to_try="If there is a transform, apply it to the PIL image and return its result; only "
                             "without one call `TF.to_tensor`.")
        expect(call["kind"] == "pil",
               f"dataset[{i}] gave the transform {_said_image(call)}; it should receive the PIL image.",
               what_to_try="Pass the image from `Image.open(path).convert(\"L\")` to the transform.")
        expect(call["mode"] == "L",
               f"dataset[{i}] gave the transform a PIL image in mode {call['mode']!r}, for a file stored in mode 'L'.",
               because_of="grayscale")
        expect(call["mode"] == "L",
               f"dataset[{i}] gave the transform a PIL image in mode {call['mode']!r}; convert it to \"L\" first.",
               what_to_try="`image = Image.open(path).convert(\"L\")`, then `self.transform(image)`.")
        expect(tuple(call["size"]) == (width, height) and call["identity"] == i,
               f"dataset[{i}] gave the transform an image of size {tuple(call['size'])} that is not the file on "
               f"row {i} ({rows[i]['filename']}, size {(width, height)}).",
               what_to_try="Give the transform the image you opened for row idx, unchanged.")
        if not item["returned_marker"]:
            was = "the result of an earlier call" if item["returned_old_marker"] else _said_image(item["returned"])
            fail(f"dataset[{i}] called the transform, but returned {was} as its image instead of what the "
                 "transform returned. Whatever the transform makes (a tensor, a resized image...) is the image.",
                 what_to_try="`image = self.transform(image)` and return that `image`, without converting it again.")
    expect(run["calls_in_init"] == 0,
           f"Creating the dataset already called the transform {run['calls_in_init']} times.",
           what_to_try="Apply the transform in __getitem__, to the one image asked for.")


def test_labels(student):
    run = student.run(probes.labels, seed=SEED)
    rows = run["rows"]
    for i, item in enumerate(_pairs(run)):
        label, want = item["label"], rows[i]["label"]
        if label["kind"] == "str":
            fail(f"dataset[{i}] returned the label as the string {label['value']!r}. Everything read from a CSV file "
                 "is text; a DataLoader cannot stack strings into a tensor, and a loss function needs numbers.",
                 what_to_try="Convert it when you read the row: `int(row['label'])`.")
        if label["kind"] == "float" or (label["kind"] == "tensor" and not label["integer"]):
            fail(f"dataset[{i}] returned the label as {_said_label(label)}. Class labels are whole numbers: "
                 "cross-entropy needs integer (int64) class indices, not floats.",
                 what_to_try="Use `int(row['label'])`, not `float(...)`.")
        if label["kind"] == "tensor":
            expect(label["shape"] == [],
                   f"dataset[{i}] returned the label as {_said_label(label)}; a label tensor should have no dimensions "
                   "(shape ()), so that a batch of labels has shape [batch_size].",
                   what_to_try="Return a plain `int`, or `torch.tensor(label)` with no brackets around the number.")
        else:
            expect(label["kind"] == "int",
                   f"dataset[{i}] returned the label as {_said_label(label)}; it should be an int.",
                   what_to_try="Return `int(row['label'])`.")
        if _number(label) != want:
            fail(f"dataset[{i}] returned the label {_said_number(_number(label))}, but its row in the CSV says {want}."
                 + _renumbered(run),
                 what_to_try="Return the number in the row's `label` column as it is (`int(row['label'])`), from the "
                             "same row as the filename.")


def test_lazy_loading(student):
    run = student.run(probes.lazy, seed=SEED)
    # The verdict comes from the pixels; opening files in __init__ (say, to check they exist) is allowed.
    opens = run["opens_in_init"]
    opened = (f" Creating the dataset opened {opens} image file(s) with Image.open. __init__ should only read the "
              "CSV: a real data set has more images than fit in memory, and more files than a program may keep "
              "open at once.") if opens else ""
    for i, item in enumerate(_pairs(run)):
        if item["old"] is not None:
            fail(f"After the dataset was created, the check replaced every image file with a new picture. dataset[{i}] "
                 f"still returned the old pixels (grey level {run['old_greys'][item['old']]}, the file now holds "
                 f"{run['new_greys'][item['old']]}): the image was read, or opened, before it was asked for.{opened}",
                 what_to_try="Open the file in __getitem__, each time it is called: "
                             "`Image.open(os.path.join(self.root_dir, filename))`.")
        expect(item["new"] is not None,
               f"After the image files were replaced, dataset[{i}] returned an image that matches none of them "
               f"(mean value {item['mean']}).",
               what_to_try="Open `os.path.join(self.root_dir, filename)` in __getitem__.")


def test_dataloader(student):
    run = student.run(probes.dataloader, seed=SEED)
    rows, batches = run["rows"], run["batches"]
    n = len(rows)
    seen = []
    for number, batch in enumerate(batches, start=1):
        expect(batch["pair"], f"Batch {number} from the DataLoader was a {batch.get('type')}, not (images, labels).",
               what_to_try="Return `image, label` from __getitem__: the DataLoader stacks them into two batches.")
        images, labels = batch["images"], batch["labels"]
        if images["kind"] == "tensor" and len(images["shape"]) == 4 and _more_channels(images["shape"], probes.H, probes.W):
            fail(f"Batch {number} of images from DataLoader(batch_size=4) has shape {tuple(images['shape'])}: "
                 f"{images['shape'][1]} channels per image, for files stored with one grey channel.",
                 because_of="grayscale")
        if labels["kind"] == "tensor" and labels["shape"] == [4, 1]:
            fail(f"Batch {number} of labels has shape (4, 1): each label came with a dimension of its own, so the "
                 "batch of labels is a column instead of shape (4,).", because_of="labels")
        expect(images["kind"] == "tensor" and tuple(images["shape"]) == (4, 1, probes.H, probes.W),
               f"Batch {number} of images from DataLoader(batch_size=4) is {_said_image(images)}; it should be a "
               f"tensor of shape (4, 1, {probes.H}, {probes.W}) for {probes.H}x{probes.W} images.",
               what_to_try="Return `TF.to_tensor(image)` of shape [1, H, W] from __getitem__; the DataLoader adds "
                           "the batch dimension.")
        values = [_number({"kind": "tensor", "values": [v]}) for v in labels["values"]] \
            if labels["kind"] == "tensor" and labels["shape"] == [4] else None
        if labels["kind"] == "sequence":
            values = [_number({"kind": "str", "value": v}) for v in labels["values"]]
        expect(values is not None and len(values) == 4,
               f"Batch {number} of labels is {_said_label(labels)}; it should hold 4 labels.",
               what_to_try="Return one number per item as the label.")
        for identity, value in zip(batch["identities"], values):
            expect(identity is not None, f"Batch {number} holds an image that is none of the files in the CSV.",
                   what_to_try="Return the image of the row asked for.")
            other = _label_of_another_row({"kind": "float", "value": value}, identity, rows) if value is not None else None
            if other is not None:
                fail(f"In batch {number}, the image {rows[identity]['filename']} came with label {_said_number(value)}, "
                     f"the label of another image ({rows[other]['filename']}); its own row says "
                     f"{rows[identity]['label']}.", what_to_try="Return the image and label of the same row.")
            seen.append(identity)
    missing = [rows[k]["filename"] for k in range(n) if k not in seen]
    twice = sorted({rows[k]["filename"] for k in seen if seen.count(k) > 1})
    expect(not missing and not twice and len(seen) == n,
           f"One epoch of the DataLoader (2 worker processes, shuffled) should give each of the {n} images once; "
           f"it gave {len(seen)} images" + (f", missing {', '.join(missing)}" if missing else "")
           + (f", repeating {', '.join(twice)}" if twice else "") + ".",
           what_to_try="Make dataset[idx] depend only on idx (the row number), never on earlier calls.")


def _held(culprit: dict) -> str:
    """What an attribute that cannot be pickled holds, in words: the item inside a list that is to blame."""
    if "<lambda>" in culprit["error"] and not culprit.get("item"):
        return "a lambda"
    if culprit.get("item"):
        return f"a {culprit['type']} of {culprit['item']} objects, which pickle cannot copy"
    return f"a {culprit['type']}"


def test_picklable(student):
    run = student.run(probes.picklable, seed=SEED)
    if run["stage"] == "dumps":
        culprits = run["culprits"]
        if culprits:
            named = "; ".join(f"`self.{c['name']}` holds {_held(c)} ({c['error']})" for c in culprits)
            detail = f" It cannot be copied because {named}."
        else:
            detail = f" Python said: {run['error']}."
        fail("The dataset could not be pickled. On macOS and Windows (and on Linux from Python 3.14), a DataLoader "
             "with num_workers > 0 starts fresh worker processes and sends each one a pickled copy of the dataset, "
             "so this dataset would crash there." + detail,
             what_to_try="Keep only plain data on `self`: strings, numbers, lists of them and the transform you "
                         "were given. Read the CSV inside a `with open(...)` block in __init__, and write a default "
                         "transform as a named function (or just call `TF.to_tensor` in __getitem__), not a lambda.")
    if run["stage"] == "loads":
        fail(f"The pickled dataset could not be read back: {run['error']}.",
             what_to_try="Keep only plain data on `self`: strings, numbers and lists of them.")
    for i, item in enumerate(run["items"]):
        expect(item["images"] and item["labels"],
               f"After a pickle round trip (what a worker process receives), the copy's item {i} differs from the "
               "original's.", what_to_try="Keep everything __getitem__ needs as plain data on `self`.")
