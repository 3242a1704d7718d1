"""Spies for probes about training code: they watch what the student's code does to a model and an
optimizer through PyTorch's own hooks, so any correct way of writing the code is seen the same way.

- `ModelWatch(model)` (a context manager): every forward pass of the model, however it is run:
  `model(x)`, `model.forward(x)`, `torch.func.functional_call(model, ...)`, its layers called one by
  one, or functional calls on its parameters (`F.linear(x, model.fc.weight)`). For each pass, the
  state it began in: training mode (of the model and of every layer in it), grad mode, inference
  mode, autocast, the parameters' dtypes and the input's shape and device, and whether its output
  was attached to a computation graph (`.calls`); every layer given a tensor on another device than
  its weights (`.device_mismatches`); and, if asked, every convolution and linear computation (`.layers`).
- `OptimizerSpy(optimizer)`: every `zero_grad()`, `backward` (through the watched parameters) and
  `step()`, in order (`.events`), and for each step whether the gradients it used were this batch's
  alone (`.steps[i]["verdict"]`), how they were clipped, with their norm and, if asked, the gradients
  themselves.
- `replay_clipping(optimizer, clipping)`: clips a (reference) run's gradients at each step exactly as
  a student's run was seen to clip them, so both can be compared.
- `mode_of(call)` (in the check): "train", "eval" or "mixed" for one of ModelWatch's passes.

Both spies return plain data, ready to be returned from a probe. Everything they observe is read
through `grader.checks.pristine` (PyTorch's own functions and C-level state, bound before the
student's module is imported), and their own computations run where no mode the student's code
pushed can see them, so reassigning `torch.is_grad_enabled`, `torch.allclose` or `torch.Tensor.item`,
or flipping `model.training` by hand, changes nothing they record.
"""

from __future__ import annotations

import contextlib
import types
from builtins import any, bool, float, getattr, isinstance, len, list, next, set, sorted, str, sum, type  # noqa: A004
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import pristine

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

    `.calls[i]`: {"how": "call" | "forward" | "layers", "training" (the model's own flag),
    "layers_in_other_mode" (its layers whose `training` differs from the model's: set by hand, or by an
    overridden `train()`/`eval()`), "grad_enabled", "inference_mode", "autocast": {"cpu": bool,
    "cuda": bool}, "param_dtypes", "input_shape", "input_device", "output_graph" (whether the pass's
    output was attached to a computation graph, which only real grad mode decides; None before it
    returned or when it returned no tensor)}. Judge the mode with `mode_of(call)`.
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
        self._modules = {id(m): (name, m) for name, m in pristine.named_modules(model)}
        self._params = {id(p): name.rpartition(".")[0] for name, p in pristine.named_parameters(model)}
        self._entered: list[int] = []  # the watched modules being called right now, innermost last
        self._foreign: list[int] = []  # and the other modules
        self._in_forward = 0  # model.forward running (however it was reached)
        self._via_call = False  # the root module's __call__ is about to run forward
        self._stray: set[str] | None = None  # the layers used by the current pass outside forward
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ModelWatch:
        watch, model = self, self.model
        previous = model.__dict__.get("forward")

        def forward(owner: Any, *args: Any, **kwargs: Any) -> Any:
            real = previous if previous is not None and owner is model else types.MethodType(type(owner).forward, owner)
            if owner is not model or watch._in_forward:
                return real(*args, **kwargs)
            call = watch._begin("call" if watch._via_call else "forward", args)
            watch._via_call = False
            watch._in_forward += 1
            try:
                output = real(*args, **kwargs)
            finally:
                watch._in_forward -= 1
            _note_output(call, output)
            return output

        # Bound to the instance, so `copy.deepcopy(model)` binds the copy's to the copy (then unwatched).
        model.forward = types.MethodType(forward, model)
        self._stack.callback(self._restore_forward, previous)
        self._stack.enter_context(pristine.register_module_forward_pre_hook(self._module_pre))
        self._stack.enter_context(pristine.register_module_forward_hook(self._module_post, always_call=True))
        self._stack.enter_context(_function_mode(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _restore_forward(self, previous: Any) -> None:
        if previous is None:
            self.model.__dict__.pop("forward", None)
        else:
            self.model.forward = previous

    def _begin(self, how: str, args: tuple) -> dict[str, Any]:
        if how != "layers":
            self._stray = None
        first = next((a for a in args if pristine.is_tensor(a)), None)
        training = pristine.training(self.model)
        self.calls.append({
            "how": how,
            "training": training,
            "layers_in_other_mode": [f"{name} ({type(m).__name__})" for name, m in self._modules.values()
                                     if m is not self.model and pristine.training(m) != training],
            "grad_enabled": bool(pristine.grad_enabled()),
            "inference_mode": bool(pristine.inference_mode()),
            "autocast": {"cpu": pristine.autocast_enabled("cpu"), "cuda": pristine.autocast_enabled("cuda")},
            "param_dtypes": sorted({str(pristine.dtype(p)) for p in pristine.parameters(self.model)}),
            "input_shape": list(pristine.shape(first)) if first is not None else None,
            "input_device": pristine.device(first).type if first is not None else None,
            "output_graph": None,
        })
        return self.calls[-1]

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
            if not self._busy() and self.calls and self._stray is not None:  # a layer of a pass outside forward
                _note_output(self.calls[-1], output)
        elif self._foreign and self._foreign[-1] == id(module):
            self._foreign.pop()

    def _check_device(self, name: str, module: Any, args: tuple) -> None:
        weights = next(pristine.parameters(module, recurse=False), None)
        first = args[0] if args else None
        if weights is None or not pristine.is_tensor(first):
            return
        if pristine.device(first).type != pristine.device(weights).type:
            self.device_mismatches.append({"layer": f"{name} ({type(module).__name__})",
                                           "input": pristine.device(first).type,
                                           "weights": pristine.device(weights).type})

    def _function_used(self, func: Any, args: tuple, kwargs: dict, output: Any) -> None:
        """A torch function ran: a model parameter used outside any layer call, or a layer computation."""
        if self._in_forward and not self._entered and not self._foreign:
            self.functions.append(getattr(func, "__name__", type(func).__name__))
        if func not in _FORWARD_FUNCTIONS:  # not a layer's computation (an optimizer step, `.to()`, ...)
            return
        owner = next((self._params[id(a)] for a in _tensors(args, kwargs) if id(a) in self._params), None)
        if owner is not None and not self._busy():
            self._layer_used(owner, args)
            _note_output(self.calls[-1], output)
        if not self._keep_layers or func not in _LAYER_FUNCTIONS or len(args) < 2:
            return
        x, weight = args[0], args[1]
        if pristine.is_tensor(x) and pristine.is_tensor(weight) and pristine.is_tensor(output):
            with pristine.unmodified():
                self.layers.append({
                    "kind": _LAYER_FUNCTIONS[func], "layer": self._params.get(id(weight)),
                    "weight_shape": list(pristine.shape(weight)), "input": pristine.clone(pristine.detach(x)),
                    "output": pristine.clone(pristine.detach(output)),
                })


def _note_output(call: dict[str, Any], output: Any) -> None:
    """Whether a pass's output is attached to a computation graph: under `torch.no_grad()` (or inference
    mode) it is not, whatever a patched `torch.is_grad_enabled` says. The first tensor of the output counts."""
    found = _tensors((output,), {}) if not pristine.is_tensor(output) else [output]
    if not found and isinstance(output, dict):
        found = _tensors(tuple(output.values()), {})
    if found:
        call["output_graph"] = bool(pristine.requires_grad(found[0]))


def _tensors(args: tuple, kwargs: dict) -> list[Any]:
    """The tensors among a call's arguments (and one level into lists and tuples)."""
    found = []
    for value in (*args, *kwargs.values()):
        if pristine.is_tensor(value):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if pristine.is_tensor(v))
    return found


# The functions that compute a layer from its weights: convolutions and linear maps (recorded with
# `layers=True`), and every such function that counts as a use of the model (normalisation, embeddings,
# matrix products). Only the outermost call is seen: `F.batch_norm`, not what it calls. Taken when the
# grader's helpers are imported, before the student's module: a wrapper the student assigns to `F.linear`
# later is not taken for the real function, and the real one it calls is still seen.
_LAYER_FUNCTIONS: dict[Any, str] = {F.linear: "Linear", torch.conv1d: "Conv1d", torch.conv2d: "Conv2d",
                                    torch.conv3d: "Conv3d"}
_FORWARD_FUNCTIONS: set[Any] = set(_LAYER_FUNCTIONS) | {
    F.batch_norm, torch.batch_norm, F.layer_norm, torch.layer_norm, F.group_norm, F.embedding, F.prelu,
    F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d, F.bilinear, torch.matmul, torch.mm, torch.addmm,
    torch.bmm, torch.Tensor.matmul, torch.Tensor.mm, torch.Tensor.__matmul__, torch.Tensor.__rmatmul__}


class _Mode(pristine.FunctionMode):
    """A TorchFunctionMode that tells its watch about every torch function call."""

    def __init__(self, watch: ModelWatch) -> None:
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        self.watch._function_used(func, args, kwargs, output)
        return output


def _function_mode(watch: ModelWatch) -> Any:
    return _Mode(watch)


def acting_layers(names: list[str]) -> list[str]:
    """Of the layer names ModelWatch gives ("3 (Dropout)"), those whose computation depends on the mode
    (dropout, batch and instance normalisation), to name first in feedback; all of them if none does."""
    acting = [n for n in names if "Dropout" in n or "BatchNorm" in n or "InstanceNorm" in n]
    return acting or list(names)


def mode_of(call: dict[str, Any]) -> str:
    """For one of ModelWatch's passes: "train" when the model and every layer in it were in training mode,
    "eval" when all were in evaluation mode, "mixed" when its layers disagreed with the model's own flag
    (`model.training` set by hand, or a `train()`/`eval()` that does not reach the layers)."""
    if call.get("layers_in_other_mode"):
        return "mixed"
    return "train" if call["training"] else "eval"


def gradient_verdict(grad: Any, fresh: Any) -> str:
    """'fresh' if `grad` equals `fresh` (the latest backward's gradient), 'scaled' if it is `fresh` times a
    factor in (0, 1] (what clip_grad_norm_ does) or `fresh` capped at a value (clip_grad_value_), else 'stale'."""
    verdict, _ = _judge_gradient(grad, fresh)
    return verdict


def _judge_gradient(grad: Any, fresh: Any) -> tuple[str, list | None]:
    """gradient_verdict's verdict, and for 'scaled' how: ["scale", factor] or ["cap", value]. Computed with
    PyTorch's own functions, out of sight of any mode the student's code pushed."""
    vf, item = pristine.VF, pristine.item
    with pristine.unmodified():
        if pristine.allclose(grad, fresh, rtol=1e-5, atol=1e-7):
            return "fresh", None
        scale = float(item(vf.sum(vf.mul(grad, fresh)))) / max(float(item(vf.sum(vf.mul(fresh, fresh)))), 1e-30)
        if 0.0 < scale <= 1.0 + 1e-6 and pristine.allclose(grad, vf.mul(fresh, scale), rtol=1e-4, atol=1e-7):
            return "scaled", ["scale", scale]
        cap = float(item(vf.max(vf.abs(grad))))
        if 0.0 < cap < float(item(vf.max(vf.abs(fresh)))) and pristine.allclose(
                grad, vf.clamp(fresh, -cap, cap), rtol=1e-5, atol=1e-7):
            return "scaled", ["cap", cap]
        return "stale", None


def replay_clipping(optimizer: Any, clipping: list[list[list | None]], params: list | None = None) -> None:
    """Clip the gradients of `optimizer`'s parameters (or `params`) before its k-th step exactly as
    `clipping[k]` says (one entry per parameter, as `OptimizerSpy.steps[k]["clipping"]` recorded them on
    another run: None, ["scale", factor] or ["cap", value]). A reference run so clipped takes the same
    steps as a student's loop that clipped its gradients, when that loop is right in every other way."""
    params = list(params) if params is not None else [p for g in optimizer.param_groups for p in g["params"]]
    done = [0]

    def clip(opt: Any, args: Any, kwargs: Any) -> None:
        step = clipping[done[0]] if done[0] < len(clipping) else None
        done[0] += 1
        for p, how in zip(params, step or []):
            g = pristine.grad(p)
            if how is None or g is None:
                continue
            with pristine.unmodified(), torch.no_grad():
                if how[0] == "scale":
                    g.mul_(how[1])
                else:
                    g.clamp_(-how[1], how[1])

    pristine.register_step_pre_hook(optimizer, clip)


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
        self.params = list(params) if params is not None else [p for g in optimizer.param_groups for p in g["params"]]
        self.keep_grads = keep_grads
        self.events: list[str] = []
        self.steps: list[dict[str, Any]] = []
        self._latest: dict[int, Any] = {}
        self._handles = []
        watched = [p for p in self.params if pristine.requires_grad(p)]
        for index, p in enumerate(self.params):
            if pristine.requires_grad(p):
                self._handles.append(pristine.register_hook(p, lambda grad, index=index: self._seen(index, grad)))
        if watched:  # one "backward" event per backward pass that reaches any watched parameter
            self._handles.append(pristine.register_multi_grad_hook(
                watched, lambda grad: self.events.append("backward"), mode="any"))
        self._handles.append(pristine.register_step_pre_hook(optimizer, self._before_step))
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
        with pristine.unmodified():
            self._latest[index] = pristine.clone(pristine.detach(grad))

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        with pristine.unmodified():
            self._record_step()

    def _record_step(self) -> None:
        vf, item = pristine.VF, pristine.item
        verdicts, clipping = [], []
        for index, p in enumerate(self.params):
            how = None
            if not pristine.requires_grad(p):
                pass
            elif index not in self._latest:
                verdicts.append("no-backward")
            elif (g := pristine.grad(p)) is None or not item(vf.any(g)) and item(vf.any(self._latest[index])):
                verdicts.append("cleared")
            else:
                verdict, how = _judge_gradient(g, self._latest[index])
                verdicts.append(verdict)
            clipping.append(how)
        verdict = next((v for v in VERDICTS if v in verdicts), "fresh")
        grads = [g for g in (pristine.grad(p) for p in self.params) if g is not None]
        norm = sum(float(item(vf.sum(vf.pow(pristine.to_double(pristine.detach(g)), 2)))) for g in grads) ** 0.5
        step: dict[str, Any] = {"verdict": verdict, "grad_norm": float(norm) if grads else 0.0, "clipping": clipping}
        if self.keep_grads:
            step["grads"] = [None if g is None else pristine.clone(pristine.detach(g))
                             for g in (pristine.grad(p) for p in self.params)]
            step["fresh"] = [self._latest[i] if i in self._latest else None for i in range(len(self.params))]
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
