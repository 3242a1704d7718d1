"""Checks for exercise 12. build_model is called for 2 and for 5 classes; what it built is compared with
what the reference builds for the same number (resnet18's backbone, its feature width, the output's
shape). make_optimizer and set_train_mode are each handed a frozen resnet18 the probe built itself, so
one mistake in build_model fails only the checks about building, and each check judges one habit."""

import probes

from grader.checks import fail
from grader.checks.observe import said_error, said_value

SEED = 12
CLASSES = probes.CLASSES


def _build(side, num_classes: int) -> dict:
    """What one side's build_model(num_classes) gave (both numbers of classes are built in one probe)."""
    return side.run(probes.built, seed=SEED)[CLASSES.index(num_classes)]


def _built(student, reference, num_classes: int, owner: str | None = None) -> dict:
    """The student's build_model(num_classes) as the probe saw it; fail when there is no resnet18 to judge.
    `owner`: the check that explains a build_model that raised or built no resnet18, when that is another check
    than this one (the first of them, so that the student reads it once)."""
    run = _build(student, num_classes)
    if run["error"]:
        fail("common.build-raised", num_classes=num_classes, error=said_error(run["error"]), because_of=owner)
    if not run["model"]:
        fail("common.not-a-model", num_classes=num_classes, returned=said_value(run["returned"]), because_of=owner)
    want = _build(reference, num_classes)["backbone"]
    got = run["backbone"]
    if (got["tensors"], got["numel"]) != (want["tensors"], want["numel"]):
        fail("common.not-resnet18", num_classes=num_classes, type=run["type"], tensors=got["tensors"],
             numel=got["numel"], want_tensors=want["tensors"], want_numel=want["numel"], because_of=owner)
    return run


def _width(reference, num_classes: int) -> int:
    """The number of features resnet18's backbone hands its head (512), as the reference's model showed."""
    return _build(reference, num_classes)["features"][-1]


def test_backbone_frozen(student, reference):
    for num_classes in CLASSES:
        backbone = _built(student, reference, num_classes)["backbone"]
        if backbone["trainable"]:
            fail("backbone-frozen.trainable", num_classes=num_classes, trainable=backbone["trainable"],
                 tensors=backbone["tensors"], numel=backbone["trainable_numel"], total=backbone["numel"],
                 layers=backbone["trainable_layers"])


def test_head_trainable(student, reference):
    for num_classes in CLASSES:
        run = _built(student, reference, num_classes, owner="backbone-frozen")
        head = run["head"]
        if head is None:
            fail("head-trainable.no-head", because_of="new-head")
        if not head["tensors"]:
            fail("head-trainable.no-parameters", type=head["type"], because_of="new-head")
        if head["frozen"]:
            if head["linears"] == [[_width(reference, num_classes), 1000]] and num_classes != 1000:
                fail("head-trainable.not-replaced", frozen=len(head["frozen"]), because_of="new-head")
            fail("head-trainable.frozen", num_classes=num_classes, frozen=head["frozen"], tensors=head["tensors"],
                 type=head["type"], backbone_frozen=run["backbone"]["trainable"] == 0)


def test_head_in_features(student, reference):
    for num_classes in CLASSES:
        run = _built(student, reference, num_classes, owner="backbone-frozen")
        error, head = run["forward_error"], run["head"]
        if error is None:
            continue
        width = _width(reference, num_classes)
        first = head["linears"][0] if head and head["linears"] else None
        if first and first[0] != width:
            # In the check's own words, not the catalogue's: its entry for this error is about flattening.
            fail("head-in-features.mismatch", num_classes=num_classes, in_features=first[0], width=width,
                 type=error.get("type", ""), message=str(error.get("message", "")).strip(), type_of_head=head["type"])
        fail("common.forward-raised", num_classes=num_classes, shape=run["input"], error=said_error(error))


def test_new_head(student, reference):
    shapes = {}
    for num_classes in CLASSES:
        run = _built(student, reference, num_classes, owner="backbone-frozen")
        if run["forward_error"]:
            fail("new-head.no-output", num_classes=num_classes, because_of="head-in-features")
        output = run["output"]
        if output["kind"] != "tensor":
            fail("new-head.not-a-tensor", num_classes=num_classes, returned=said_value(output))
        shapes[num_classes] = output["shape"]
    for num_classes, shape in shapes.items():
        run = _build(student, num_classes)
        want = _build(reference, num_classes)["output"]["shape"]
        if shape == want:
            continue
        unused = [layer for layer in run["added"] if layer["name"] not in run["added_called"]]
        if unused:
            fail("new-head.unused-layer", num_classes=num_classes, name=unused[0]["name"], type=unused[0]["type"],
                 shape=shape, want=want)
        widths = sorted({tuple(s) for s in shapes.values()})
        if len(widths) == 1 and len(shape) == 2:
            fail("new-head.ignores-num-classes", classes=list(shapes), shapes=list(shapes.values()), width=shape[-1])
        fail("new-head.wrong-shape", num_classes=num_classes, shape=shape, want=want, images=want[0])


def test_optimizer_params(student):
    run = student.run(probes.given_model, seed=SEED)["optimizer"]
    if run["error"]:
        fail("optimizer-params.raised", error=said_error(run["error"]))
    if not run["optimizer"]:
        fail("optimizer-params.not-an-optimizer", returned=said_value(run["returned"]))
    trainable = run["trainable"]
    if run["frozen"]:
        fail("optimizer-params.frozen-given", frozen=len(run["frozen"]), numel=run["frozen_numel"],
             given=run["given"], tensors=run["tensors"], trainable=trainable)
    if run["foreign"]:
        fail("optimizer-params.foreign", foreign=run["foreign"], given=run["given"], trainable=trainable)
    if run["missing"]:
        fail("optimizer-params.missing", missing=run["missing"], trainable=trainable)


def test_frozen_batchnorm(student):
    run = student.run(probes.given_model, seed=SEED)["train_mode"]
    if run["error"]:
        fail("frozen-batchnorm.raised", error=said_error(run["error"]))
    if run["changed_count"]:
        fail("frozen-batchnorm.stats-updated", changed=run["changed_count"], norms=run["norms"], names=run["changed"],
             in_training=run["in_training_count"])
    if not run["same_output"]:
        fail("frozen-batchnorm.batch-statistics", in_training=run["in_training_count"], norms=run["norms"],
             names=run["in_training"])
    if run["head_training"] is False:
        fail("frozen-batchnorm.head-not-training", model_training=run["model_training"])
