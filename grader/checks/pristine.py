"""PyTorch's own functions and attributes, bound when the grader's check helpers are imported.

In a worker the probe module, and with it `grader.checks.*`, is imported before the student's module
(grader/runner/sandbox.py), so what this module holds are PyTorch's real functions, whatever the
student's code assigns later: `torch.is_grad_enabled = lambda: False`, `torch.allclose = ...`,
`torch.Tensor.item = ...`, `torch.Tensor.dtype = property(...)`, `F.cross_entropy = ...`. Probes and
spies take their observations and compute what they judge in the worker through these only:

- the C-level state of grad mode, inference mode and autocast (`grad_enabled()`, ...), read from
  `torch._C` rather than through `torch.is_grad_enabled`, a module attribute anyone can reassign;
- a tensor's attributes (`requires_grad(t)`, `grad(t)`, `dtype(t)`, `device(t)`...) and methods
  (`item(t)`, `detach(t)`...) from `torch._C.TensorBase`, a C type that Python code cannot change
  (`torch.Tensor`, its Python subclass, can be);
- torch functions as the C functions behind them (`allclose`, `equal`, `isfinite`...);
- `unmodified()`: a context in which no `TorchFunctionMode` or `TorchDispatchMode` the student's code
  pushed sees (or answers for) the grader's own computations.

What this cannot protect: code that patches the grader's own modules, or PyTorch's internals below
its public API, in the worker (docs/security.md, "In-process forgery").
"""

from __future__ import annotations

import contextlib
import types
from builtins import bool, float, getattr, isinstance, setattr, vars  # noqa: A004 - bound now, as everything here
from typing import Any, Iterator

import torch
from torch.autograd.graph import register_multi_grad_hook as _register_multi_grad_hook
from torch.nn.modules import module as _nn_module
from torch.overrides import TorchFunctionMode

_C = torch._C
_T = _C.TensorBase
VF = _C._VariableFunctions

Tensor = torch.Tensor
Module = torch.nn.Module
Optimizer = torch.optim.Optimizer
FunctionMode = TorchFunctionMode

# Global state, as PyTorch's C++ side holds it.
grad_enabled = _C.is_grad_enabled
inference_mode = _C.is_inference_mode_enabled
_autocast_enabled = _C.is_autocast_enabled
_autocast_dtype = _C.get_autocast_dtype
_disable_functions = _C.DisableTorchFunction
_disable_dispatch = _C._DisableTorchDispatch


@contextlib.contextmanager
def unmodified() -> Iterator[None]:
    """No TorchFunctionMode or TorchDispatchMode (the student's, or a watch's own) sees what runs inside.
    Needed for every call below too: while a mode is active, even TensorBase's C getters and methods hand
    the call to the mode, with `torch.Tensor`'s attribute (reassignable) as the function to run."""
    with _disable_functions(), _disable_dispatch():
        yield


def _guarded(function: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        with _disable_functions(), _disable_dispatch():
            return function(*args, **kwargs)

    call.__name__ = getattr(function, "__name__", "call")
    return call


def autocast_enabled(device_type: str) -> bool:
    return bool(_autocast_enabled(device_type))


def autocast_dtype(device_type: str) -> Any:
    return _autocast_dtype(device_type)


def _getter(name: str) -> Any:
    return _guarded(vars(_T)[name].__get__)


# A tensor's attributes, read through TensorBase's own descriptors.
requires_grad = _getter("requires_grad")
grad_fn = _getter("grad_fn")
grad = _getter("grad")
dtype = _getter("dtype")
device = _getter("device")
shape = _getter("shape")
is_meta = _getter("is_meta")

# A tensor's methods, as TensorBase implements them.
detach = _guarded(_T.detach)
clone = _guarded(_T.clone)
item = _guarded(_T.item)
tolist = _guarded(_T.tolist)
numel = _guarded(_T.numel)
dim = _guarded(_T.dim)
to_double = _guarded(_T.double)
to_float = _guarded(_T.float)
is_floating_point = _guarded(_T.is_floating_point)
view = _guarded(_T.view)
requires_grad_ = _guarded(_T.requires_grad_)
add_ = _guarded(_T.add_)
set_item = _guarded(_T.__setitem__)
register_hook = _guarded(Tensor.register_hook)  # a Python function of torch.Tensor: the one PyTorch defines


_VF = _C._VariableFunctions
# torch functions (`pristine.VF.sum(...)`), as the C functions behind them, each out of any mode's sight.
VF = types.SimpleNamespace(**{name: _guarded(getattr(_VF, name)) for name in (
    "sum", "mul", "max", "abs", "clamp", "any", "all", "pow", "eq", "argmax", "isfinite", "allclose", "equal",
    "mean", "sub", "stack", "narrow", "select", "flatten", "randn", "zeros")})
allclose = VF.allclose
equal = VF.equal
isfinite = VF.isfinite
_cross_entropy_loss = _C._nn.cross_entropy_loss


def cross_entropy(outputs: Any, targets: Any) -> Any:
    """`F.cross_entropy(outputs, targets)` with its defaults (mean over the batch), computed by PyTorch's C++
    function and out of sight of any mode the student's code pushed; the result is part of the graph."""
    with unmodified():
        return _cross_entropy_loss(outputs, targets, None, 1, -100, 0.0)


# A module's layers, parameters and buffers, read from its own dictionaries (as `named_modules()` and
# `named_parameters()` do, without going through methods that can be reassigned on nn.Module).
def named_modules(module: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    seen: set[int] = set()

    def walk(m: Any, name: str) -> Iterator[tuple[str, Any]]:
        if id(m) in seen:
            return
        seen.add(id(m))
        yield name, m
        for child_name, child in vars(m).get("_modules", {}).items():
            if child is not None:
                yield from walk(child, f"{name}.{child_name}" if name else child_name)

    return walk(module, prefix)


def _named_members(module: Any, kind: str, recurse: bool) -> Iterator[tuple[str, Any]]:
    seen: set[int] = set()
    owners = named_modules(module) if recurse else iter([("", module)])
    for owner_name, owner in owners:
        for name, value in vars(owner).get(kind, {}).items():
            if value is not None and id(value) not in seen:
                seen.add(id(value))
                yield (f"{owner_name}.{name}" if owner_name else name), value


def named_parameters(module: Any, recurse: bool = True) -> Iterator[tuple[str, Any]]:
    return _named_members(module, "_parameters", recurse)


def parameters(module: Any, recurse: bool = True) -> Iterator[Any]:
    return (p for _, p in named_parameters(module, recurse))


def buffers(module: Any, recurse: bool = True) -> Iterator[Any]:
    return (b for _, b in _named_members(module, "_buffers", recurse))


def set_training(module: Any, mode: bool) -> None:
    """`module.train(mode)`, as PyTorch's own does it (every layer's flag), whatever `train`/`eval` are now."""
    for _, m in named_modules(module):
        vars(m)["training"] = bool(mode)


# Optimizer and hook registration, as PyTorch defines them.
register_forward_hook = Module.register_forward_hook
register_module_forward_pre_hook = _nn_module.register_module_forward_pre_hook
register_module_forward_hook = _nn_module.register_module_forward_hook
register_step_pre_hook = Optimizer.register_step_pre_hook
register_multi_grad_hook = _guarded(_register_multi_grad_hook)
backward = _guarded(torch.autograd.backward)
autograd_grad = _guarded(torch.autograd.grad)
_set_grad_enabled = _C._set_grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """`torch.no_grad()` without going through `torch.is_grad_enabled`/`torch.set_grad_enabled`."""
    before = grad_enabled()
    _set_grad_enabled(False)
    try:
        yield
    finally:
        _set_grad_enabled(before)


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)


def number(t: Any) -> float:
    """A one-element tensor's value as a Python float (what `float(t)` gives when nobody changed it)."""
    return float(item(t))


def training(module: Any) -> bool:
    """The mode `module`'s own forward reads (`self.training`)."""
    return bool(module.training)


def scale_of(scaler: Any) -> float:
    """`scaler.get_scale()` as PyTorch computes it, read from the scaler's own state."""
    state = vars(scaler)
    if not state.get("_enabled", True):
        return 1.0
    scale = state.get("_scale")
    return float(state.get("_init_scale", 1.0)) if scale is None else number(scale)
