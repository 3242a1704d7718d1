"""Device helpers for checks about CUDA and mixed precision, so that they grade for real on a machine
without a GPU and run on the GPU as well when there is one.

- `on_devices("meta", "cuda")` parametrises a test over devices; the `cuda` case carries the `cuda`
  marker, so without a GPU it is reported as skipped (never passed), and the result lists each device.
- `StandInGPU` (in a probe) lets PyTorch's `meta` device play the GPU on the CPU: tensors on it have a
  shape, a dtype and a device but no data, so mixing them with CPU tensors raises just as mixing CUDA
  and CPU tensors does, while forward, backward and optimizer steps run. Reading values back (`.item()`,
  `float()`, `.cpu()`, `.to("cpu")`) gives placeholders and is recorded, so a check can tell that a result
  was brought back to the CPU.
- `simulated_cuda(available)` answers `torch.cuda.is_available()` (and `torch.accelerator`) as told.
- `AutocastSpy` records every `torch.autocast(...)` the code enters (device type, dtype, enabled).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

from grader.checks import pristine  # PyTorch's own functions, bound before any student code is imported

if TYPE_CHECKING:
    import pytest

PLACEHOLDER = 0.0  # what `.item()` / `float()` of a stand-in GPU tensor returns


def on_devices(*devices: str) -> pytest.MarkDecorator:
    """Run a check once per device; a `cuda` run is skipped, and reported so, where there is no GPU."""
    import pytest  # here, not at the top: probes import this module too, and a worker never loads pytest
    params = [pytest.param(d, marks=pytest.mark.cuda, id=d) if d.startswith("cuda") else pytest.param(d, id=d)
              for d in devices]
    return pytest.mark.parametrize("device", params)


def tensor_device(value: Any) -> str | None:
    import torch

    return value.device.type if isinstance(value, torch.Tensor) else None


class StandInGPU:
    """Within this context the `meta` device stands in for a GPU (see the module's docstring).

    `copied_back` lists (shape, dtype) for every meta tensor brought back to the CPU; `read_values` counts
    `.item()`/`float()`/`int()` calls on meta tensors. `torch.__future__` swap-on-conversion is switched on,
    so `module.to("meta")` keeps the Parameter objects (as moving to CUDA does) and an optimizer built
    before the move still updates the model's parameters."""

    def __init__(self) -> None:
        self.copied_back: list[tuple[tuple[int, ...], str]] = []
        self.read_values = 0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> StandInGPU:
        import torch

        swap = torch.__future__.get_swap_module_params_on_conversion()
        torch.__future__.set_swap_module_params_on_conversion(True)
        self._stack.callback(torch.__future__.set_swap_module_params_on_conversion, swap)
        tensor = torch.Tensor
        real_to, real_cpu = tensor.to, tensor.cpu

        def back_to_cpu(t: Any, dtype: Any = None) -> Any:
            self.copied_back.append((tuple(t.shape), str(dtype or t.dtype)))
            return torch.full(t.shape, PLACEHOLDER, dtype=dtype or t.dtype)

        def to(t: Any, *args: Any, **kwargs: Any) -> Any:
            if t.is_meta:
                device, dtype, _, _ = torch._C._nn._parse_to(*args, **kwargs)
                if device is not None and device.type == "cpu":
                    return back_to_cpu(t, dtype)
            return real_to(t, *args, **kwargs)

        def cpu(t: Any, *args: Any, **kwargs: Any) -> Any:
            return back_to_cpu(t) if t.is_meta else real_cpu(t, *args, **kwargs)

        def reader(name: str, convert: Any) -> Any:
            real = getattr(tensor, name)

            def read(t: Any, *args: Any, **kwargs: Any) -> Any:
                if t.is_meta:
                    self.read_values += 1
                    return convert(PLACEHOLDER)
                return real(t, *args, **kwargs)

            return read

        patches = {"to": to, "cpu": cpu, "item": reader("item", float), "__float__": reader("__float__", float),
                   "__int__": reader("__int__", int), "tolist": reader("tolist", float)}
        for name, replacement in patches.items():
            _patch(self._stack, tensor, name, replacement)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


@contextlib.contextmanager
def simulated_cuda(available: bool) -> Iterator[None]:
    """`torch.cuda.is_available()` (and `torch.accelerator`'s answers, where torch has it) say `available`.
    With a simulated GPU, the questions code asks about it at start-up (its name, its number, its
    capability) get answers too, and choosing it (`torch.cuda.set_device(0)`) does nothing."""
    import torch

    with contextlib.ExitStack() as stack:
        _patch(stack, torch.cuda, "is_available", lambda: available)
        _patch(stack, torch.cuda, "device_count", lambda: 1 if available else 0)
        if available:
            _patch(stack, torch.cuda, "get_device_name", lambda *a, **k: "Simulated GPU (torchgrade)")
            _patch(stack, torch.cuda, "get_device_capability", lambda *a, **k: (8, 0))
            _patch(stack, torch.cuda, "current_device", lambda: 0)
            _patch(stack, torch.cuda, "set_device", lambda *a, **k: None)
        accelerator = getattr(torch, "accelerator", None)
        if accelerator is not None:
            _patch(stack, accelerator, "is_available", lambda: available)
            _patch(stack, accelerator, "current_accelerator",
                   lambda *a, **k: torch.device("cuda") if available else None)
        yield


def api_name(obj: Any) -> str:
    """The public name of the AMP class `obj` was made with, as the student wrote it: the device-generic
    `torch.autocast` / `torch.amp.GradScaler`, or the older CUDA-only (`torch.cuda.amp.*`) or CPU-only
    (`torch.cpu.amp.*`) ones, which PyTorch deprecates."""
    module, name = type(obj).__module__, type(obj).__name__
    for prefix in ("torch.cuda.amp", "torch.cpu.amp"):
        if module.startswith(prefix):
            return f"{prefix}.{name}"
    return "torch.autocast" if name == "autocast" else f"torch.amp.{name}"


class AutocastSpy:
    """Records each `torch.autocast(...)` region entered: its device type, dtype, whether enabled, and the
    API it was entered with (`api_name`)."""

    def __init__(self) -> None:
        self.entered: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> AutocastSpy:
        from torch.amp import autocast_mode

        cls = autocast_mode.autocast
        real_enter = cls.__enter__

        def enter(region: Any) -> Any:
            self.entered.append({"device_type": str(region.device), "dtype": str(region.fast_dtype),
                                 "enabled": bool(region._enabled), "api": api_name(region)})
            return real_enter(region)

        _patch(self._stack, cls, "__enter__", enter)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _patch(stack: contextlib.ExitStack, owner: Any, name: str, value: Any) -> None:
    """Set `owner.name = value` until `stack` closes; an attribute that was inherited is removed again."""
    if not hasattr(owner, name):
        return
    if name in vars(owner):
        stack.callback(setattr, owner, name, vars(owner)[name])
    else:
        stack.callback(delattr, owner, name)
    setattr(owner, name, value)


def autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for `device_type` right now, as PyTorch's C++ side holds it (not through
    `torch.is_autocast_enabled`, which the student's code could reassign: see grader.checks.pristine)."""
    return pristine.autocast_enabled(device_type)


class MoveSpy:
    """Records every `.to(...)`, `.cuda()` and `.cpu()` called on the watched tensors (by identity), and
    the device asked for, so a check can tell "moved but the result was thrown away" from "never moved"."""

    def __init__(self, **watched: Any) -> None:
        self.watched = watched
        self.moves: list[dict[str, str]] = []
        self._stack = contextlib.ExitStack()

    def _name(self, t: Any) -> str | None:
        return next((name for name, w in self.watched.items() if w is t), None)

    def __enter__(self) -> MoveSpy:
        import torch

        tensor = torch.Tensor
        real = {name: getattr(tensor, name) for name in ("to", "cuda", "cpu")}

        def spy(method: str) -> Any:
            def moved(t: Any, *args: Any, **kwargs: Any) -> Any:
                name = self._name(t)
                if name is not None:
                    if method == "to":
                        device = torch._C._nn._parse_to(*args, **kwargs)[0]
                        target = device.type if device is not None else t.device.type
                    else:
                        target = method
                    self.moves.append({"tensor": name, "method": method, "device": target})
                return real[method](t, *args, **kwargs)

            return moved

        for method in real:
            _patch(self._stack, tensor, method, spy(method))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
