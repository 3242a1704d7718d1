"""Probes for exercise 4. Each runs one of the student's functions on a small seeded CNN and records
where every tensor was: the device of the inputs each layer received (however the model was run),
what the loss function was given, which tensors were moved and where, and where the results came
back. get_device is asked in a freshly imported module, with a GPU simulated (or not) from before the
import, so a device chosen at import time (`device = torch.device(...)` at the top of the file) is
judged like one chosen inside the function.

`device` is "meta" (PyTorch's data-less device, standing in for a GPU on any machine: mixing it with
CPU tensors fails just as CUDA does), "cpu" (real numbers, to compare with the reference) or "cuda"
(a real GPU, when there is one).

What a probe measures itself goes through `grader.checks.pristine` (PyTorch's own functions, bound
before the student's module is imported), so reassigning `torch.Tensor.device`, `.item` or the like
changes nothing recorded."""

import contextlib
from builtins import float, isinstance, len, list, range, sorted  # noqa: A004 - bound before the student's import

import torch
from torch import nn
from torch.nn import Conv2d, Dropout, Flatten, Linear, ReLU, Sequential
from torch.optim import SGD

from grader.checks import before_import, pristine
from grader.checks.devices import MoveSpy, StandInGPU, simulated_cuda, tensor_device
from grader.checks.observe import describe, describe_error
from grader.checks.spies import ModelWatch, OptimizerSpy, replay_clipping

BATCH = 8
TRAIN_STEPS = 2  # train_step is called twice from clean gradients: each call must leave none behind


def _model(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return Sequential(Conv2d(1, 4, 3), ReLU(), Flatten(), Dropout(0.5), Linear(4 * 6 * 6, 3))


def _batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch on the CPU (said explicitly: with a mode active, PyTorch's default device is looked up through
    `torch.Tensor.device`, which the student's code could have reassigned)."""
    g = torch.Generator().manual_seed(seed + 1)
    return (torch.randn(BATCH, 1, 8, 8, generator=g, device="cpu"),
            torch.randint(0, 3, (BATCH,), generator=g, device="cpu"))


def _device_context(device: str):
    """On "meta", the stand-in GPU; elsewhere nothing special."""
    return StandInGPU() if device == "meta" else contextlib.nullcontext()


def _where(module: nn.Module) -> list[str]:
    return sorted({pristine.device(t).type for t in [*pristine.parameters(module), *pristine.buffers(module)]})


class RecordingLoss(nn.CrossEntropyLoss):
    """CrossEntropyLoss that notes the devices of what it was given and the value it returned."""

    def __init__(self):
        super().__init__()
        self.seen: list[dict] = []

    def forward(self, outputs, targets):
        record = {"outputs": tensor_device(outputs), "targets": tensor_device(targets), "value": None}
        self.seen.append(record)
        loss = pristine.cross_entropy(outputs, targets)  # nn.CrossEntropyLoss()'s, whatever F.cross_entropy is now
        if pristine.device(loss).type != "meta":
            record["value"] = pristine.number(pristine.detach(loss))
        return loss


@before_import(lambda available, **_: simulated_cuda(available))
def get_device(module, available: bool) -> dict:
    """get_device() in a module imported while PyTorch says a GPU is (or is not) available."""
    try:
        value = module.get_device()
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {"error": describe_error(exc, module)}
    facts = describe(value)
    if isinstance(value, (torch.device, str)):
        try:
            facts["device"] = torch.device(value).type
        except (RuntimeError, TypeError):
            facts["device"] = None
    return facts


def setup(module, device: str, seed: int) -> dict:
    """setup(model, device): where the returned model's parameters and buffers are."""
    model = _model(seed)
    with _device_context(device):
        try:
            returned = module.setup(model, torch.device(device))
        except Exception as exc:  # noqa: BLE001
            return {"error": describe_error(exc, module)}
        is_module = isinstance(returned, nn.Module)
        return {
            "returned": describe(returned) if not is_module else {"kind": "module", "type": type(returned).__name__},
            "same_model": returned is model,
            "returned_on": _where(returned) if is_module else [],
            "model_on": _where(model),
        }


def train_step(module, device: str, seed: int, clipping: list | None = None) -> dict:
    """train_step called twice, on two batches that arrive on the CPU, with a model already on `device`
    that holds no gradients yet: every step must use only its own batch's gradients, so each call must
    clear what the one before left (before its backward, or after its step). `clipping` (for the
    reference): clip the gradients before each step as a student's run did."""
    target = torch.device(device)
    with _device_context(device) as gpu:
        model = _model(seed).to(target)
        pristine.set_training(model, True)
        optimizer = SGD(list(pristine.parameters(model)), lr=0.1)
        # Gradients are compared only where they have values (not on the data-less stand-in GPU).
        spy = OptimizerSpy(optimizer, model=model, keep_grads=True) if device != "meta" else None
        if clipping is not None:
            replay_clipping(optimizer, clipping)
        loss_fn = RecordingLoss()
        calls = []
        batches = [_batch(seed + number) for number in range(TRAIN_STEPS)]  # made before any mode is active
        with ModelWatch(model) as watch:
            for number in range(TRAIN_STEPS):
                inputs, targets = batches[number]
                steps_before, losses_before = len(spy.steps) if spy else 0, len(loss_fn.seen)
                counted = []
                handle = pristine.register_step_pre_hook(optimizer, lambda opt, args, kwargs: counted.append(1) and None)
                call = {"error": None, "returned": None}
                with MoveSpy(inputs=inputs, targets=targets) as moves:
                    try:
                        call["returned"] = describe(module.train_step(model, inputs, targets, loss_fn, optimizer,
                                                                      target))
                    except Exception as exc:  # noqa: BLE001
                        call["error"] = describe_error(exc, module)
                handle.remove()
                call.update(moves=moves.moves, steps=len(counted), losses=loss_fn.seen[losses_before:],
                            verdicts=spy.verdicts[steps_before:] if spy else [],
                            clipping=[s["clipping"] for s in spy.steps[steps_before:]] if spy else [],
                            fresh=[s["fresh"] for s in spy.steps[steps_before:]] if spy else [])
                calls.append(call)
                if call["error"]:
                    break
        first = calls[0]
        return {
            "calls": calls, "error": first["error"], "returned": first["returned"], "moves": first["moves"],
            "losses": first["losses"], "passes": watch.calls, "mismatches": watch.device_mismatches,
            "model_on": _where(model), "read_back": gpu.read_values if gpu is not None else None,
            "params": [pristine.detach(p) for p in pristine.parameters(model)] if device != "meta" else [],
        }


def predict(module, device: str, seed: int) -> dict:
    """predict(model, inputs, device) on a model on `device` left in training mode, inputs on the CPU."""
    target = torch.device(device)
    inputs, _ = _batch(seed + 10)
    with _device_context(device) as gpu:
        model = _model(seed).to(target)
        pristine.set_training(model, True)
        error, value, returned = None, None, None
        with MoveSpy(inputs=inputs) as spy, ModelWatch(model) as watch:
            try:
                value = module.predict(model, inputs, target)
                returned = describe(value)
            except Exception as exc:  # noqa: BLE001
                error = describe_error(exc, module)
        values = None
        if pristine.is_tensor(value) and pristine.device(value).type == "cpu" and device != "meta":
            values = pristine.clone(pristine.detach(value))
        return {
            "error": error, "returned": returned, "values": values, "calls": watch.calls,
            "mismatches": watch.device_mismatches, "moves": spy.moves, "model_on": _where(model),
            "copied_back": len(gpu.copied_back) if gpu is not None else None,
        }
