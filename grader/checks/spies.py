"""Spies for probes about training code: they watch what the student's code does to a model and an
optimizer through PyTorch's own hooks, so any correct way of writing the code is seen the same way.

- `ModelWatch(model)` (a context manager): every forward pass of the model, however it is run:
  `model(x)`, `model.forward(x)`, `torch.func.functional_call(model, ...)`, its layers called one by
  one, or functional calls on its parameters (`F.linear(x, model.fc.weight)`). For each pass, the
  state it began in: training mode, grad mode, inference mode, autocast, the parameters' dtypes and
  the input's shape and device (`.calls`); every layer given a tensor on another device than its
  weights (`.device_mismatches`); and, if asked, every convolution and linear computation (`.layers`).
- `OptimizerSpy(optimizer)`: every `zero_grad()`, `backward` (through the watched parameters) and
  `step()`, in order (`.events`), and for each step whether the gradients it used were this batch's
  alone (`.steps[i]["verdict"]`), with their norm and, if asked, the gradients themselves.

Both return plain data, ready to be returned from a probe.
"""

from __future__ import annotations

import contextlib
import functools
import types
from typing import Any

# What a step's verdict means (OptimizerSpy.steps[i]["verdict"]), worst first.
VERDICTS = {
    "stale": "p.grad held this batch's gradient plus gradients left from earlier backward passes",
    "cleared": "the gradients were cleared after backward and before the step",
    "no-backward": "no backward pass reached this parameter since the previous step",
    "scaled": "the gradients were this batch's, clipped (by norm: scaled down; or by value: capped)",
    "fresh": "p.grad held exactly the gradient of the latest backward pass",
}

class ModelWatch:
    """Within this context, every forward pass of `model` is recorded (see the module's docstring).

    Three ways in, so that no legal way of running the model goes unseen: `model.forward` is wrapped on
    this instance (a copy made with `copy.deepcopy` is not watched; `model(x)` and `functional_call` go
    through it too); a global module hook sees its layers called on their own; a `TorchFunctionMode`
    sees its parameters used by functional calls. A pass that does not go through `forward` begins at
    a layer's use and ends when a layer already used in it is used again (the next batch), so a model
    that calls one of its layers twice in a pass is counted as two passes when run layer by layer.

    `.calls[i]`: {"how": "call" | "forward" | "layers", "training", "grad_enabled", "inference_mode",
    "autocast": {"cpu": bool, "cuda": bool}, "param_dtypes", "input_shape", "input_device"}.
    `.device_mismatches`: {"layer": "name (Type)", "input": device, "weights": device}, every layer call.
    `.module_calls`: {"layer": the model's layer called (None for a module made elsewhere, such as one
    created inside forward), "kind": its class name}, every module called while the watch is on.
    `.functions`: the names of the torch functions forward called itself (not inside a layer), in order.
    `.layers` (with `layers=True`): {"kind": "Conv2d" | "Linear", "layer": the model's layer whose weight
    it used (None for a weight made elsewhere), "weight_shape", "input", "output"} for every convolution
    and linear computation, however written, with input and output cloned at once."""

    def __init__(self, model: Any, *, layers: bool = False) -> None:
        self.model = model
        self.calls: list[dict[str, Any]] = []
        self.device_mismatches: list[dict[str, Any]] = []
        self.layers: list[dict[str, Any]] = []
        self.module_calls: list[dict[str, Any]] = []
        self.functions: list[str] = []
        self._keep_layers = layers
        self._modules = {id(m): (name, m) for name, m in model.named_modules()}
        self._params = {id(p): name.rpartition(".")[0] for name, p in model.named_parameters()}
        self._entered: list[int] = []  # the watched modules being called right now, innermost last
        self._foreign: list[int] = []  # and the other modules
        self._in_forward = 0  # model.forward running (however it was reached)
        self._via_call = False  # the root module's __call__ is about to run forward
        self._stray: set[str] | None = None  # the layers used by the current pass outside forward
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ModelWatch:
        from torch.nn.modules import module as nn_module

        watch, model = self, self.model
        previous = model.__dict__.get("forward")

        def forward(owner: Any, *args: Any, **kwargs: Any) -> Any:
            real = previous if previous is not None and owner is model else types.MethodType(type(owner).forward, owner)
            if owner is not model or watch._in_forward:
                return real(*args, **kwargs)
            watch._begin("call" if watch._via_call else "forward", args)
            watch._via_call = False
            watch._in_forward += 1
            try:
                return real(*args, **kwargs)
            finally:
                watch._in_forward -= 1

        # Bound to the instance, so `copy.deepcopy(model)` binds the copy's to the copy (then unwatched).
        model.forward = types.MethodType(forward, model)
        self._stack.callback(self._restore_forward, previous)
        self._stack.enter_context(nn_module.register_module_forward_pre_hook(self._module_pre))
        self._stack.enter_context(nn_module.register_module_forward_hook(self._module_post, always_call=True))
        self._stack.enter_context(_function_mode(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _restore_forward(self, previous: Any) -> None:
        if previous is None:
            self.model.__dict__.pop("forward", None)
        else:
            self.model.forward = previous

    def _begin(self, how: str, args: tuple) -> None:
        import torch

        from grader.checks.devices import autocast_enabled

        if how != "layers":
            self._stray = None
        first = next((a for a in args if isinstance(a, torch.Tensor)), None)
        self.calls.append({
            "how": how,
            "training": bool(self.model.training),
            "grad_enabled": torch.is_grad_enabled(),
            "inference_mode": torch.is_inference_mode_enabled(),
            "autocast": {"cpu": autocast_enabled("cpu"), "cuda": autocast_enabled("cuda")},
            "param_dtypes": sorted({str(p.dtype) for p in self.model.parameters()}),
            "input_shape": list(first.shape) if first is not None else None,
            "input_device": first.device.type if first is not None else None,
        })

    def _busy(self) -> bool:
        return bool(self._in_forward or self._entered)

    def _layer_used(self, name: str, args: tuple) -> None:
        """A layer of the model used outside forward: it begins a pass, or continues the current one."""
        if self._stray is None or name in self._stray:
            self._begin("layers", args)
            self._stray = set()
        self._stray.add(name)

    def _module_pre(self, module: Any, args: tuple) -> None:
        known = self._modules.get(id(module))
        if known is None or known[1] is not module:
            self.module_calls.append({"layer": None, "kind": type(module).__name__})
            self._foreign.append(id(module))
            return
        name = known[0]
        if module is self.model:  # its forward (wrapped) says when it runs
            self._via_call = not self._in_forward
            self._check_device(name or type(module).__name__, module, args)
            return
        self.module_calls.append({"layer": name, "kind": type(module).__name__})
        if not self._busy():
            self._layer_used(name, args)
        self._check_device(name, module, args)
        self._entered.append(id(module))

    def _module_post(self, module: Any, args: tuple, output: Any) -> None:
        if self._entered and self._entered[-1] == id(module):
            self._entered.pop()
        elif self._foreign and self._foreign[-1] == id(module):
            self._foreign.pop()

    def _check_device(self, name: str, module: Any, args: tuple) -> None:
        import torch

        weights = next(module.parameters(recurse=False), None)
        first = args[0] if args else None
        if weights is None or not isinstance(first, torch.Tensor):
            return
        if first.device.type != weights.device.type:
            self.device_mismatches.append({"layer": f"{name} ({type(module).__name__})", "input": first.device.type,
                                           "weights": weights.device.type})

    def _function_used(self, func: Any, args: tuple, kwargs: dict, output: Any) -> None:
        """A torch function ran: a model parameter used outside any layer call, or a layer computation."""
        import torch

        if self._in_forward and not self._entered and not self._foreign:
            self.functions.append(getattr(func, "__name__", type(func).__name__))
        layer_functions, forward_functions = _layer_functions()
        if func not in forward_functions:  # not a layer's computation (an optimizer step, `.to()`, ...)
            return
        owner = next((self._params[id(a)] for a in _tensors(args, kwargs) if id(a) in self._params), None)
        if owner is not None and not self._busy():
            self._layer_used(owner, args)
        if not self._keep_layers or func not in layer_functions or len(args) < 2:
            return
        x, weight = args[0], args[1]
        if isinstance(x, torch.Tensor) and isinstance(weight, torch.Tensor) and isinstance(output, torch.Tensor):
            self.layers.append({
                "kind": layer_functions[func], "layer": self._params.get(id(weight)),
                "weight_shape": list(weight.shape), "input": x.detach().clone(), "output": output.detach().clone(),
            })


def _tensors(args: tuple, kwargs: dict) -> list[Any]:
    """The tensors among a call's arguments (and one level into lists and tuples)."""
    import torch

    found = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, torch.Tensor))
    return found


@functools.cache
def _layer_functions() -> tuple[dict[Any, str], set[Any]]:
    """The functions that compute a layer from its weights: convolutions and linear maps (recorded with
    `layers=True`), and every such function that counts as a use of the model (normalisation,
    embeddings, matrix products). Only the outermost call is seen: `F.batch_norm`, not what it calls."""
    import torch
    import torch.nn.functional as F

    layers = {F.linear: "Linear", torch.conv1d: "Conv1d", torch.conv2d: "Conv2d", torch.conv3d: "Conv3d"}
    others = {F.batch_norm, torch.batch_norm, F.layer_norm, torch.layer_norm, F.group_norm, F.embedding, F.prelu,
              F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d, F.bilinear, torch.matmul, torch.mm,
              torch.addmm, torch.bmm, torch.Tensor.matmul, torch.Tensor.mm, torch.Tensor.__matmul__,
              torch.Tensor.__rmatmul__}
    return layers, set(layers) | others


def _function_mode(watch: ModelWatch) -> Any:
    """A TorchFunctionMode that tells `watch` about every torch function call (made here, not at import:
    torch is imported only in a probe)."""
    from torch.overrides import TorchFunctionMode

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
            kwargs = kwargs or {}
            output = func(*args, **kwargs)
            watch._function_used(func, args, kwargs, output)
            return output

    return Mode()


def gradient_verdict(grad: Any, fresh: Any) -> str:
    """'fresh' if `grad` equals `fresh` (the latest backward's gradient), 'scaled' if it is `fresh` times a
    factor in (0, 1] (what clip_grad_norm_ does) or `fresh` capped at a value (clip_grad_value_), else 'stale'."""
    import torch

    if torch.allclose(grad, fresh, rtol=1e-5, atol=1e-7):
        return "fresh"
    scale = float((grad * fresh).sum() / (fresh * fresh).sum().clamp_min(1e-30))
    if 0.0 < scale <= 1.0 + 1e-6 and torch.allclose(grad, scale * fresh, rtol=1e-4, atol=1e-7):
        return "scaled"
    cap = float(grad.abs().max())
    if 0.0 < cap < float(fresh.abs().max()) and torch.allclose(grad, fresh.clamp(-cap, cap), rtol=1e-5, atol=1e-7):
        return "scaled"
    return "stale"


class OptimizerSpy:
    """Watches `optimizer` (and the parameters it holds, or `params` if given; `model.zero_grad()` counts
    as a `zero_grad` event too when `model` is given).

    A tensor hook on each parameter sees every backward's gradient before PyTorch adds it into `p.grad`;
    a step pre-hook compares `p.grad` with that gradient when `step()` starts. So a missing `zero_grad()`
    shows as 'stale', a `zero_grad()` between backward and step as 'cleared', a step without backward as
    'no-backward'. Gradient accumulation over several backward calls on purpose also shows as 'stale':
    use `.events` to judge such loops."""

    def __init__(self, optimizer: Any, params: list | None = None, *, model: Any = None,
                 keep_grads: bool = False) -> None:
        import torch

        self.params = list(params) if params is not None else [p for g in optimizer.param_groups for p in g["params"]]
        self.keep_grads = keep_grads
        self.events: list[str] = []
        self.steps: list[dict[str, Any]] = []
        self._latest: dict[int, Any] = {}
        self._handles = []
        for index, p in enumerate(self.params):
            if p.requires_grad:
                self._handles.append(p.register_hook(lambda grad, index=index: self._seen(index, grad)))
        watched = [p for p in self.params if p.requires_grad]
        if watched:  # one "backward" event per backward pass that reaches any watched parameter
            self._handles.append(torch.autograd.graph.register_multi_grad_hook(
                watched, lambda grad: self.events.append("backward"), mode="any"))
        self._handles.append(optimizer.register_step_pre_hook(self._before_step))
        for owner in (optimizer, model) if model is not None else (optimizer,):
            self._count_zero_grad(owner)

    def _count_zero_grad(self, owner: Any) -> None:
        """`owner.zero_grad()` (the optimizer's, or the model's if given) also records an event."""
        real_zero_grad = owner.zero_grad

        def zero_grad(*args: Any, **kwargs: Any) -> Any:
            self.events.append("zero_grad")
            return real_zero_grad(*args, **kwargs)

        owner.zero_grad = zero_grad  # on this instance only

    def _seen(self, index: int, grad: Any) -> None:
        self._latest[index] = grad.detach().clone()

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        verdicts = []
        for index, p in enumerate(self.params):
            if not p.requires_grad:
                continue
            if index not in self._latest:
                verdicts.append("no-backward")
            elif p.grad is None or not p.grad.any() and self._latest[index].any():
                verdicts.append("cleared")
            else:
                verdicts.append(gradient_verdict(p.grad, self._latest[index]))
        verdict = next((v for v in VERDICTS if v in verdicts), "fresh")
        grads = [p.grad for p in self.params if p.grad is not None]
        norm = float(sum(float(g.detach().double().pow(2).sum()) for g in grads) ** 0.5) if grads else 0.0
        step: dict[str, Any] = {"verdict": verdict, "grad_norm": norm}
        if self.keep_grads:
            step["grads"] = [None if p.grad is None else p.grad.detach().clone() for p in self.params]
        self.steps.append(step)
        self.events.append("step")
        self._latest.clear()

    @property
    def verdicts(self) -> list[str]:
        return [s["verdict"] for s in self.steps]

    @property
    def summed(self) -> list[int]:
        """For each step, how many backward passes had added to `.grad` since it was last cleared: 1 for a
        clean step, 2 or more where gradients were accumulated over batches (on purpose or not)."""
        counts, since = [], 0
        for event in self.events:
            if event == "zero_grad":
                since = 0
            elif event == "backward":
                since += 1
            elif event == "step":
                counts.append(since)
        return counts

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
