"""Checks for exercise 4. They grade for real on a machine without a GPU: PyTorch's `meta` device
stands in for the GPU (a layer whose weights are on it fails on CPU inputs just as on CUDA), and
where there is a GPU every device check runs on `cuda` as well. Numbers (the weights after a step,
the predictions) are compared with the reference on the CPU, and on the GPU when there is one."""

import probes
import torch

from grader.checks import expect, fail, said
from grader.checks.devices import on_devices
from grader.checks.observe import said_error, said_value
from grader.checks.spies import acting_layers, mode_of

CUDA_ERRORS = ("NVIDIA driver", "CUDA", "cuda", "GPU")


def _is_cuda_error(error: dict) -> bool:
    return any(marker in error.get("message", "") for marker in CUDA_ERRORS)


def _fail_on_error(error: dict, function: str | dict, device: str, owner: str | tuple[str, ...] | None = None):
    """Explain an exception from the student's function (its name, or `_function(...)`); a hard-coded CUDA
    call gets its own words. `owner`: the checks whose habit a hard-coded CUDA call in this function is
    (moving the batch, say), when that is another check than this one."""
    if _is_cuda_error(error) and device != "cuda":
        fail("common.cuda-call", function=function, error=said_error(error), device=device, because_of=owner)
    fail("common.raised", function=function, error=said_error(error))


def _function(name: str, call: int | None = None) -> dict:
    """The student's function, named in a message: "train_step", or "train_step (call 1 of 2)" with `call`."""
    return said("phrase.function", name=name, call=call, calls=probes.TRAIN_STEPS)


def _moved_to(run: dict, tensor: str, device: str) -> bool:
    return any(m["tensor"] == tensor and m["device"] == device for m in run["moves"])


def _moved_elsewhere(run: dict, tensor: str, device: str) -> str | None:
    """The device `tensor` was moved to, when that was not the device train_step was given."""
    return next((m["device"] for m in run["moves"] if m["tensor"] == tensor and m["device"] != device), None)


def test_get_device(student):
    for available, expected in ((True, "cuda"), (False, "cpu")):
        got = student.run(probes.get_device, available=available)
        situation = said("phrase.gpu-reported") if available else said("phrase.no-gpu")
        if "error" in got:
            fail("get-device.raised", situation=situation, error=said_error(got["error"]))
        expect(got.get("device") is not None, "get-device.not-a-device", returned=said_value(got))
        if got["device"] != expected:
            consequence = said("phrase.no-driver") if expected == "cpu" else said("phrase.gpu-unused")
            fail("get-device.wrong", situation=situation, got=got["device"], consequence=consequence)


@on_devices("meta", "cuda")
def test_setup_moves_model(student, device):
    run = student.run(probes.setup, device=device, seed=4)
    if "error" in run:
        _fail_on_error(run["error"], "setup", device)
    returned = run["returned"]
    if returned["kind"] != "module":
        fail("setup-moves-model.not-a-model", returned=said_value(returned), no_return=returned["type"] == "NoneType")
    expect(run["returned_on"] == [device], "setup-moves-model.not-moved", on=run["returned_on"], device=device)


@on_devices("meta", "cuda")
def test_inputs_on_device(student, device):
    run = student.run(probes.train_step, device=device, seed=4)
    if run["passes"]:
        got = run["passes"][0]["input_device"]
        if got != device:
            if _moved_to(run, "inputs", device):
                fail("common.not-kept", tensor="inputs", device=device)
            elsewhere = _moved_elsewhere(run, "inputs", device)
            if elsewhere:
                fail("common.moved-elsewhere", tensor="inputs", where=elsewhere, device=device)
            fail("inputs-on-device.not-moved", device=device, got=got)
        for mismatch in run["mismatches"]:
            fail("inputs-on-device.layer-mismatch", layer=mismatch["layer"], weights=mismatch["weights"],
                 input=mismatch["input"])
    elif run["error"] and not _moved_to(run, "inputs", device):
        _fail_on_error(run["error"], "train_step", device)
    elif not run["error"]:
        fail("inputs-on-device.model-not-called")


@on_devices("meta", "cuda")
def test_targets_on_device(student, device):
    run = student.run(probes.train_step, device=device, seed=4)
    if run["losses"]:
        got = run["losses"][0]["targets"]
        if got != device:
            if _moved_to(run, "targets", device):
                fail("common.not-kept", tensor="targets", device=device)
            elsewhere = _moved_elsewhere(run, "targets", device)
            if elsewhere:
                fail("common.moved-elsewhere", tensor="targets", where=elsewhere, device=device)
            fail("targets-on-device.not-moved", outputs=run["losses"][0]["outputs"], got=got)
    elif run["error"] and run["passes"] and run["passes"][0]["input_device"] != device:
        fail("targets-on-device.stopped-in-forward", error=said_error(run["error"]), because_of="inputs-on-device")
    elif run["error"] and not any(m["tensor"] == "targets" for m in run["moves"]):
        fail("targets-on-device.stopped-before-targets", error=said_error(run["error"]),
             because_of="inputs-on-device")
    elif run["error"] and not _moved_to(run, "targets", device):
        _fail_on_error(run["error"], "train_step", device)
    elif not run["error"]:
        fail("common.loss-not-called")


@on_devices("cpu", "cuda")
def test_train_step(student, reference, device):
    run = student.run(probes.train_step, device=device, seed=4)
    calls = run["calls"]
    for number, call in enumerate(calls, start=1):
        function = _function("train_step", None if len(calls) == 1 else number)
        if call["error"]:
            _fail_on_error(call["error"], function, device, owner=("inputs-on-device", "targets-on-device"))
        expect(call["steps"] == 1, "train-step.step-count", function=function, steps=call["steps"])
        returned, losses = call["returned"], call["losses"]
        expect(losses, "common.loss-not-called")
        if returned["kind"] == "tensor":
            fail("train-step.returned-tensor", returned=said_value(returned))
        expect(returned["kind"] == "number", "train-step.not-a-number", function=function,
               returned=said_value(returned))
        loss = losses[-1]["value"]
        expect(abs(returned["value"] - loss) <= 1e-5 * max(1.0, abs(loss)), "train-step.wrong-loss",
               function=function, returned=said_value(returned), loss=loss)
        for verdict in call["verdicts"]:
            if verdict == "stale":
                fail("train-step.stale", steps=probes.TRAIN_STEPS, call=number)
            if verdict == "cleared":
                fail("train-step.cleared", call=number)
            if verdict == "no-backward":
                fail("train-step.no-backward", call=number)
    expected = reference.run(probes.train_step, device=device, seed=4)
    verdicts = [v for call in calls for v in call["verdicts"]]
    if len(calls) == probes.TRAIN_STEPS and all(v in ("fresh", "scaled") for v in verdicts):
        # A step that clipped its gradients ("scaled") is compared with a reference whose gradients are clipped
        # exactly as the student's were, and on the gradients backward computed (which clipping leaves alone).
        clipped = "scaled" in verdicts
        if clipped:
            expected = reference.run(probes.train_step, device=device, seed=4,
                                     clipping=[c for call in calls for c in call["clipping"]])
            fresh = [f for call in calls for f in call["fresh"]]
            want_fresh = [f for call in expected["calls"] for f in call["fresh"]]
            for number, (got_step, want_step) in enumerate(zip(fresh, want_fresh), start=1):
                expect(all(got is None and want is None or got is not None and want is not None
                           and torch.allclose(got, want, rtol=1e-4, atol=1e-6) for got, want in zip(got_step, want_step)),
                       "train-step.gradients-differ", call=number)
        for got, want in zip(run["params"], expected["params"]):
            expect(torch.allclose(got, want, rtol=1e-4, atol=1e-6), "train-step.weights-differ",
                   steps=probes.TRAIN_STEPS, clipped=clipped)


@on_devices("meta", "cuda")
def test_predict_on_cpu(student, device):
    run = student.run(probes.predict, device=device, seed=4)
    if run["error"]:
        _fail_on_error(run["error"], "predict", device)
    returned = run["returned"]
    expect(returned["kind"] == "tensor", "predict-on-cpu.not-a-tensor", returned=said_value(returned))
    expect(returned["device"].split(":")[0] == "cpu", "predict-on-cpu.left-on-device", where=returned["device"])
    expect(run["model_on"] == [device], "predict-on-cpu.model-moved", on=run["model_on"], device=device)
    if run["calls"] and run["calls"][0]["input_device"] != device:
        if _moved_to(run, "inputs", device):
            fail("common.not-kept", what_to_try="predict-on-cpu.use-moved-tensor", tensor="inputs", device=device)
        fail("predict-on-cpu.not-moved", device=device, got=run["calls"][0]["input_device"])
    expect(returned["dtype"] == "torch.int64" and returned["shape"] == [probes.BATCH], "predict-on-cpu.wrong-shape",
           shape=returned["shape"], dtype=returned["dtype"], batch=probes.BATCH)


@on_devices("cpu", "cuda")
def test_predict_values(student, reference, device):
    run = student.run(probes.predict, device=device, seed=4)
    if run["error"]:
        _fail_on_error(run["error"], "predict", device, owner="predict-on-cpu")
    calls = run["calls"]
    expect(calls, "predict-values.model-not-called")
    mixed = acting_layers(sorted({name for c in calls if mode_of(c) == "mixed" for name in c["layers_in_other_mode"]}))
    if mixed and not any(c["training"] for c in calls):
        fail("predict-values.flag-only", layers=mixed[:4], plural=len(mixed) > 1)
    expect(all(mode_of(c) == "eval" for c in calls), "predict-values.train-mode")
    # Grad mode as PyTorch holds it, and its effect: an output attached to a computation graph.
    expect(not any(c["grad_enabled"] or c.get("output_graph") for c in calls), "predict-values.grad-tracking")
    expect(run["values"] is not None, "predict-values.unreadable", returned=said_value(run["returned"]),
           because_of="predict-on-cpu")
    expected = reference.run(probes.predict, device=device, seed=4)["values"]
    expect(run["values"].shape == expected.shape, "predict-values.wrong-shape", shape=list(run["values"].shape),
           because_of="predict-on-cpu")
    expect(torch.equal(run["values"].long(), expected), "predict-values.wrong-classes",
           got=run["values"].tolist(), want=expected.tolist())
