"""Probes for exercise 4. Each runs one of the student's functions on a small seeded CNN and records
where every tensor was: the device of the inputs each layer received, what the loss function was
given, which tensors were moved and where, and where the results came back.

`device` is "meta" (PyTorch's data-less device, standing in for a GPU on any machine: mixing it with
CPU tensors fails just as CUDA does), "cpu" (real numbers, to compare with the reference) or "cuda"
(a real GPU, when there is one)."""

import contextlib

import torch
from torch import nn

from grader.checks.devices import MoveSpy, StandInGPU, simulated_cuda, tensor_device
from grader.checks.observe import describe, describe_error

BATCH = 8


def _model(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 6 * 6, 3))


def _batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed + 1)
    return torch.randn(BATCH, 1, 8, 8, generator=g), torch.randint(0, 3, (BATCH,), generator=g)


def _device_context(device: str):
    """On "meta", the stand-in GPU; elsewhere nothing special."""
    return StandInGPU() if device == "meta" else contextlib.nullcontext()


def _where(module: nn.Module) -> list[str]:
    return sorted({t.device.type for t in [*module.parameters(), *module.buffers()]})


class DeviceTrace:
    """Forward pre-hooks on the model and each of its layers: the device of what each layer received
    next to the device of its own weights, and the mode the model was in."""

    def __init__(self, model: nn.Module):
        self.calls: list[dict] = []
        self.mismatches: list[dict] = []
        model.register_forward_pre_hook(self._model_call)
        for name, layer in model.named_modules():
            if name and any(True for _ in layer.parameters(recurse=False)):
                layer.register_forward_pre_hook(lambda m, args, name=name: self._layer_call(name, m, args))

    def _model_call(self, model, args):
        self.calls.append({"input_device": tensor_device(args[0]) if args else None, "training": model.training,
                           "grad_enabled": torch.is_grad_enabled()})

    def _layer_call(self, name, layer, args):
        got = tensor_device(args[0]) if args else None
        weights = next(layer.parameters()).device.type
        if got != weights:
            self.mismatches.append({"layer": f"{name} ({type(layer).__name__})", "input": got, "weights": weights})


class RecordingLoss(nn.CrossEntropyLoss):
    """CrossEntropyLoss that notes the devices of what it was given and the value it returned."""

    def __init__(self):
        super().__init__()
        self.seen: list[dict] = []

    def forward(self, outputs, targets):
        record = {"outputs": tensor_device(outputs), "targets": tensor_device(targets), "value": None}
        self.seen.append(record)
        loss = super().forward(outputs, targets)
        if loss.device.type != "meta":
            record["value"] = float(loss.detach())
        return loss


def get_device(module) -> dict:
    """get_device() when PyTorch says a GPU is available, and when it says none is."""
    answers = {}
    for available in (True, False):
        with simulated_cuda(available):
            try:
                value = module.get_device()
            except Exception as exc:  # noqa: BLE001 - the student's error is a finding
                answers[str(available)] = {"error": describe_error(exc, module)}
                continue
        facts = describe(value)
        if isinstance(value, (torch.device, str)):
            try:
                facts["device"] = torch.device(value).type
            except (RuntimeError, TypeError):
                facts["device"] = None
        answers[str(available)] = facts
    return answers


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


def train_step(module, device: str, seed: int) -> dict:
    """One train_step on a model already on `device`, with a batch on the CPU and stale gradients
    planted in `.grad` (a step that does not clear them moves the weights elsewhere)."""
    target = torch.device(device)
    inputs, targets = _batch(seed)
    with _device_context(device) as gpu:
        model = _model(seed).to(target)
        model.train()
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        trace = DeviceTrace(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        steps = []
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: steps.append(1) and None)
        loss_fn = RecordingLoss()
        error, returned = None, None
        with MoveSpy(inputs=inputs, targets=targets) as spy:
            try:
                returned = describe(module.train_step(model, inputs, targets, loss_fn, optimizer, target))
            except Exception as exc:  # noqa: BLE001
                error = describe_error(exc, module)
        return {
            "error": error, "returned": returned, "calls": trace.calls, "mismatches": trace.mismatches,
            "losses": loss_fn.seen, "moves": spy.moves, "steps": len(steps), "model_on": _where(model),
            "read_back": gpu.read_values if gpu is not None else None,
            "params": [p.detach() for p in model.parameters()] if device != "meta" else [],
        }


def predict(module, device: str, seed: int) -> dict:
    """predict(model, inputs, device) on a model on `device` left in training mode, inputs on the CPU."""
    target = torch.device(device)
    inputs, _ = _batch(seed + 10)
    with _device_context(device) as gpu:
        model = _model(seed).to(target)
        model.train()
        trace = DeviceTrace(model)
        error, value, returned = None, None, None
        with MoveSpy(inputs=inputs) as spy:
            try:
                value = module.predict(model, inputs, target)
                returned = describe(value)
            except Exception as exc:  # noqa: BLE001
                error = describe_error(exc, module)
        values = None
        if isinstance(value, torch.Tensor) and value.device.type == "cpu" and device != "meta":
            values = value.detach().clone()
        return {
            "error": error, "returned": returned, "values": values, "calls": trace.calls,
            "mismatches": trace.mismatches, "moves": spy.moves, "model_on": _where(model),
            "copied_back": len(gpu.copied_back) if gpu is not None else None,
        }
