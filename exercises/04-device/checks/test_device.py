"""Checks for exercise 4. They grade for real on a machine without a GPU: PyTorch's `meta` device
stands in for the GPU (a layer whose weights are on it fails on CPU inputs just as on CUDA), and
where there is a GPU every device check runs on `cuda` as well. Numbers (the weights after a step,
the predictions) are compared with the reference on the CPU, and on the GPU when there is one."""

import probes
import torch

from grader.checks import expect, fail
from grader.checks.devices import on_devices
from grader.checks.observe import said, said_error
from grader.checks.spies import acting_layers, mode_of

CUDA_ERRORS = ("NVIDIA driver", "CUDA", "cuda", "GPU")


def _is_cuda_error(error: dict) -> bool:
    return any(marker in error.get("message", "") for marker in CUDA_ERRORS)


def _fail_on_error(error: dict, function: str, device: str, owner: str | tuple[str, ...] | None = None):
    """Explain an exception from the student's function; a hard-coded CUDA call gets its own words. `owner`:
    the checks whose habit a hard-coded CUDA call in this function is (moving the batch, say), when that is
    another check than this one."""
    if _is_cuda_error(error) and device != "cuda":
        fail(f"{function} {said_error(error)}. It asked for CUDA (the GPU) itself, but the device it was given "
             f"was `{device}`: code that says `.cuda()` or `'cuda'` only runs where there is a GPU, and there "
             "it ignores the device the caller chose.",
             what_to_try="Use the `device` argument: `tensor.to(device)` and `model.to(device)`, never `.cuda()`.",
             because_of=owner)
    fail(f"{function} {said_error(error)}.")


def _moved_to(run: dict, tensor: str, device: str) -> bool:
    return any(m["tensor"] == tensor and m["device"] == device for m in run["moves"])


def _moved_elsewhere(run: dict, tensor: str, device: str) -> str | None:
    """The device `tensor` was moved to, when that was not the device train_step was given."""
    return next((m["device"] for m in run["moves"] if m["tensor"] == tensor and m["device"] != device), None)


def _elsewhere(tensor: str, where: str, device: str) -> str:
    return (f"train_step moved `{tensor}` to `{where}`, not to the device it was given (`{device}`). Code that "
            "decides the device somewhere else (a device chosen at the top of the file, say) moves the batch to "
            "a device the model may not be on; the caller passes the model's device as `device`.")


def _not_kept(tensor: str, device: str) -> str:
    return (f"Your code called `{tensor}.to(device)`, but the model still received `{tensor}` on the CPU: the result "
            f"of `.to()` was not kept. `Tensor.to` is not in-place: it returns a new tensor on `{device}` and leaves "
            f"`{tensor}` where it was (unlike `model.to(device)`, which moves the model's own parameters).")


def test_get_device(student):
    for available, expected in ((True, "cuda"), (False, "cpu")):
        got = student.run(probes.get_device, available=available)
        situation = ("When PyTorch reported a GPU (`torch.cuda.is_available()` returned True)" if available
                     else "On a machine without a GPU (`torch.cuda.is_available()` returned False)")
        if "error" in got:
            fail(f"{situation}, get_device {said_error(got['error'])}.")
        expect(got.get("device") is not None,
               f"get_device returned {said(got)}; it should return a `torch.device` such as `torch.device('cpu')`.",
               what_to_try="Return `torch.device('cuda')` or `torch.device('cpu')`.")
        if got["device"] != expected:
            consequence = ("so every `.to(device)` would fail with \"Found no NVIDIA driver\": the device did not follow "
                           "what `torch.cuda.is_available()` returned. A hard-coded `'cuda'` does that, and so does "
                           "`torch.cuda.is_available` without `()`, a function, which is always true"
                           if expected == "cpu" else "so your code would never use the GPU it has")
            fail(f"{situation}, get_device returned `{got['device']}`, {consequence}.",
                 what_to_try="Ask PyTorch: `torch.device('cuda' if torch.cuda.is_available() else 'cpu')`.")


@on_devices("meta", "cuda")
def test_setup_moves_model(student, device):
    run = student.run(probes.setup, device=device, seed=4)
    if "error" in run:
        _fail_on_error(run["error"], "setup", device)
    returned = run["returned"]
    if returned["kind"] != "module":
        extra = (" `model.to(device)` moves the model, but its result still has to be returned."
                 if returned["type"] == "NoneType" else "")
        fail(f"setup returned {said(returned)}, not the model.{extra}",
             what_to_try="End setup with `return model.to(device)`.")
    expect(run["returned_on"] == [device],
           f"setup returned a model whose parameters are on {', '.join(run['returned_on'])}, but the device it was "
           f"given was `{device}`. A model and the tensors it works on must be on the same device.",
           what_to_try="Move the model with `model.to(device)` and return it.")


@on_devices("meta", "cuda")
def test_inputs_on_device(student, device):
    run = student.run(probes.train_step, device=device, seed=4)
    if run["passes"]:
        got = run["passes"][0]["input_device"]
        if got != device:
            if _moved_to(run, "inputs", device):
                fail(_not_kept("inputs", device), what_to_try="Assign the result: `inputs = inputs.to(device)`.")
            elsewhere = _moved_elsewhere(run, "inputs", device)
            if elsewhere:
                fail(_elsewhere("inputs", elsewhere, device), what_to_try="Use the argument: `inputs = inputs.to(device)`.")
            fail(f"The model (on `{device}`) received its inputs on `{got}`: train_step never moved them. The batch "
                 "arrives on the CPU, and a layer can only compute with tensors on its own device.",
                 what_to_try="Move the batch first: `inputs = inputs.to(device)`.")
        for mismatch in run["mismatches"]:
            fail(f"The layer {mismatch['layer']} has its weights on `{mismatch['weights']}` but received a tensor "
                 f"on `{mismatch['input']}`.", what_to_try="Move the inputs with `inputs = inputs.to(device)`.")
    elif run["error"] and not _moved_to(run, "inputs", device):
        _fail_on_error(run["error"], "train_step", device)
    elif not run["error"]:
        fail("train_step never called the model on the inputs.",
             what_to_try="Inside train_step: `outputs = model(inputs)` after moving the inputs.")


@on_devices("meta", "cuda")
def test_targets_on_device(student, device):
    run = student.run(probes.train_step, device=device, seed=4)
    if run["losses"]:
        got = run["losses"][0]["targets"]
        if got != device:
            if _moved_to(run, "targets", device):
                fail(_not_kept("targets", device), what_to_try="Assign the result: `targets = targets.to(device)`.")
            elsewhere = _moved_elsewhere(run, "targets", device)
            if elsewhere:
                fail(_elsewhere("targets", elsewhere, device),
                     what_to_try="Use the argument: `targets = targets.to(device)`.")
            fail(f"The loss function was given the model's outputs on `{run['losses'][0]['outputs']}` and the "
                 f"targets on `{got}`. The targets arrive on the CPU too, and the loss compares both tensors "
                 "element by element, so they must be on the same device.",
                 what_to_try="Move the targets as well: `targets = targets.to(device)`.")
    elif run["error"] and run["passes"] and run["passes"][0]["input_device"] != device:
        fail(f"train_step stopped in the model's forward pass, before any loss: {said_error(run['error'])}.",
             because_of="inputs-on-device")
    elif run["error"] and not any(m["tensor"] == "targets" for m in run["moves"]):
        fail(f"train_step stopped before it did anything with the targets, so this check could not see where they "
             f"go: {said_error(run['error'])}.", because_of="inputs-on-device")
    elif run["error"] and not _moved_to(run, "targets", device):
        _fail_on_error(run["error"], "train_step", device)
    elif not run["error"]:
        fail("train_step never called the loss function it was given (`loss_fn`).")


@on_devices("cpu", "cuda")
def test_train_step(student, reference, device):
    run = student.run(probes.train_step, device=device, seed=4)
    calls = run["calls"]
    for number, call in enumerate(calls, start=1):
        which = "" if len(calls) == 1 else f" (call {number} of {probes.TRAIN_STEPS})"
        if call["error"]:
            _fail_on_error(call["error"], f"train_step{which}", device,
                           owner=("inputs-on-device", "targets-on-device"))
        expect(call["steps"] == 1,
               f"train_step{which} called `optimizer.step()` {call['steps']} time(s); one step means exactly one call.",
               what_to_try="Zero the gradients, forward, loss, `loss.backward()`, then `optimizer.step()` once.")
        returned, losses = call["returned"], call["losses"]
        expect(losses, "train_step never called the loss function it was given (`loss_fn`).")
        if returned["kind"] == "tensor":
            fail(f"train_step returned {said(returned)}, not a Python float. A loss tensor (on the GPU, in real "
                 "training) keeps its computation graph; the caller wants the number.",
                 what_to_try="Return `loss.item()`.")
        expect(returned["kind"] == "number", f"train_step{which} returned {said(returned)}, not a Python float.",
               what_to_try="Return `loss.item()`: the loss as a plain number.")
        loss = losses[-1]["value"]
        expect(abs(returned["value"] - loss) <= 1e-5 * max(1.0, abs(loss)),
               f"train_step{which} returned {said(returned)}, but the loss of the batch was {loss:.6g}.",
               what_to_try="Return `loss.item()` for the batch you just trained on.")
        for verdict in call["verdicts"]:
            if verdict == "stale":
                fail(f"The check called train_step {probes.TRAIN_STEPS} times, on two batches, with a model that had no "
                     f"gradients yet. At call {number}, `optimizer.step()` used this batch's gradient plus the one left "
                     "in `.grad` by the call before: `loss.backward()` adds to `.grad`, and nothing in train_step "
                     "cleared it, so every step also follows the gradients of earlier batches.",
                     what_to_try="Call `optimizer.zero_grad()` in train_step, before `loss.backward()` (or right after "
                                 "`optimizer.step()`).")
            if verdict == "cleared":
                fail(f"At call {number}, the gradients were cleared after `loss.backward()` computed them, so "
                     "`optimizer.step()` had nothing to follow.",
                     what_to_try="Clear the gradients before `loss.backward()`, never between backward and step.")
            if verdict == "no-backward":
                fail(f"At call {number}, `optimizer.step()` ran without a `loss.backward()` before it, so it had no "
                     "gradients of this batch to follow.",
                     what_to_try="`loss.backward()`, then `optimizer.step()`.")
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
                       f"At call {number} of train_step, the gradients `loss.backward()` computed (before your code "
                       "clipped them) differ from those of a correct step on the same batch.",
                       what_to_try="Forward the batch you were given, `loss_fn(outputs, targets)`, `loss.backward()`, "
                                   "`optimizer.step()`: once, with nothing else changing the gradients or the weights.")
        how = ", with the gradients clipped as yours were" if clipped else ""
        for got, want in zip(run["params"], expected["params"]):
            expect(torch.allclose(got, want, rtol=1e-4, atol=1e-6),
                   f"After {probes.TRAIN_STEPS} calls of your train_step the weights differ from those a correct step "
                   f"reaches on the same batches{how}, although each step used only its own batch's gradients.",
                   what_to_try="Forward the batch you were given, `loss_fn(outputs, targets)`, `loss.backward()`, "
                               "`optimizer.step()`: once, with nothing else changing the weights.")


@on_devices("meta", "cuda")
def test_predict_on_cpu(student, device):
    run = student.run(probes.predict, device=device, seed=4)
    if run["error"]:
        _fail_on_error(run["error"], "predict", device)
    returned = run["returned"]
    expect(returned["kind"] == "tensor", f"predict returned {said(returned)}; it should return a tensor of class "
                                         "indices, one per input.",
           what_to_try="Return `outputs.argmax(dim=1).cpu()`.")
    expect(returned["device"].split(":")[0] == "cpu",
           f"predict returned a tensor on `{returned['device']}`. The caller gets its predictions on the CPU, to "
           "print them, compare them with labels or turn them into a NumPy array; a tensor left on the GPU does "
           "none of that (`.numpy()` fails on it).",
           what_to_try="Bring the result back: `return outputs.argmax(dim=1).cpu()`.")
    expect(run["model_on"] == [device],
           f"After predict, the model's parameters are on {', '.join(run['model_on'])}, not on `{device}`: predict "
           "moved the model. Moving a model off the GPU to predict is slow and surprises the caller.",
           what_to_try="Move the inputs to the model's device (`inputs.to(device)`) and only the result back.")
    if run["calls"] and run["calls"][0]["input_device"] != device:
        if _moved_to(run, "inputs", device):
            fail(_not_kept("inputs", device), what_to_try="Use the moved tensor: `model(inputs.to(device))`.")
        fail(f"The model (on `{device}`) received its inputs on `{run['calls'][0]['input_device']}`.",
             what_to_try="Move the inputs first: `model(inputs.to(device))`.")
    expect(returned["dtype"] == "torch.int64" and returned["shape"] == [probes.BATCH],
           f"predict returned a tensor of shape {tuple(returned['shape'])} and dtype {returned['dtype']}; it should "
           f"hold one class index per input: shape ({probes.BATCH},), dtype torch.int64.",
           what_to_try="Take the index of the largest logit of each row: `outputs.argmax(dim=1)`.")


@on_devices("cpu", "cuda")
def test_predict_values(student, reference, device):
    run = student.run(probes.predict, device=device, seed=4)
    if run["error"]:
        _fail_on_error(run["error"], "predict", device, owner="predict-on-cpu")
    calls = run["calls"]
    expect(calls, "predict never called the model.", what_to_try="`outputs = model(inputs.to(device))`.")
    mixed = acting_layers(sorted({name for c in calls if mode_of(c) == "mixed" for name in c["layers_in_other_mode"]}))
    if mixed and not any(c["training"] for c in calls):
        fail(f"predict left the model saying it was in evaluation mode (`model.training` was False), but its "
             f"layer{'s' if len(mixed) > 1 else ''} {', '.join(mixed[:4])} {'were' if len(mixed) > 1 else 'was'} "
             "still in training mode, and each layer computes in its own mode: dropout still switched off random "
             "units. Setting `model.training` by hand changes the flag of the model object alone; `model.eval()` "
             "switches the model and every layer in it.",
             what_to_try="Call `model.eval()` at the start of predict (do not set `model.training` yourself).")
    expect(all(mode_of(c) == "eval" for c in calls),
           "The model was in training mode when predict ran it, so dropout switched off random units and the "
           "predictions change from one call to the next.",
           what_to_try="Call `model.eval()` at the start of predict.")
    # Grad mode as PyTorch holds it, and its effect: an output attached to a computation graph.
    expect(not any(c["grad_enabled"] or c.get("output_graph") for c in calls),
           "predict ran the model with gradient tracking on: PyTorch recorded a computation graph that nothing "
           "will use (on a GPU, memory you need).",
           what_to_try="Run the model inside `with torch.no_grad():` (or `torch.inference_mode()`).")
    expect(run["values"] is not None, f"predict returned {said(run['returned'])}, so its values could not be read "
                                      "as a tensor on the CPU.", because_of="predict-on-cpu")
    expected = reference.run(probes.predict, device=device, seed=4)["values"]
    expect(run["values"].shape == expected.shape,
           f"predict returned a tensor of shape {tuple(run['values'].shape)}, so its classes could not be compared one "
           "by one with the model's largest logits.", because_of="predict-on-cpu")
    expect(torch.equal(run["values"].long(), expected),
           f"predict returned the classes {run['values'].tolist()}, but the model's largest logits are for "
           f"{expected.tolist()}.", what_to_try="Return `outputs.argmax(dim=1)`: one index per row of logits.")
