"""Spies for probes about training code: they watch what the student's loop does to a model and an
optimizer through PyTorch's own hooks, so any correct way of writing the loop is seen the same way.

- `ForwardRecorder(model)`: for every forward call of the model, its training mode, whether gradient
  tracking was on, the autocast state and the input's shape and device (`.calls`).
- `OptimizerSpy(optimizer)`: every `zero_grad()`, `backward` (through the watched parameters) and
  `step()`, in order (`.events`), and for each step whether the gradients it used were this batch's
  alone (`.steps[i]["verdict"]`), with their norm and, if asked, the gradients themselves.

Both return plain data, ready to be returned from a probe.
"""

from __future__ import annotations

from typing import Any

# What a step's verdict means (OptimizerSpy.steps[i]["verdict"]), worst first.
VERDICTS = {
    "stale": "p.grad held this batch's gradient plus gradients left from earlier backward passes",
    "cleared": "the gradients were cleared after backward and before the step",
    "no-backward": "no backward pass reached this parameter since the previous step",
    "scaled": "the gradients were this batch's, scaled down (gradient clipping does this)",
    "fresh": "p.grad held exactly the gradient of the latest backward pass",
}


class ForwardRecorder:
    """Records each forward call of `model` (a forward pre-hook, so it sees the call before it runs)."""

    def __init__(self, model: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self._handle = model.register_forward_pre_hook(self._record)

    def _record(self, model: Any, args: tuple) -> None:
        import torch

        first = args[0] if args else None
        tensor = isinstance(first, torch.Tensor)
        self.calls.append({
            "training": bool(model.training),
            "grad_enabled": torch.is_grad_enabled(),
            "inference_mode": torch.is_inference_mode_enabled(),
            "autocast_cpu": torch.is_autocast_enabled("cpu"),
            "input_shape": list(first.shape) if tensor else None,
            "input_device": first.device.type if tensor else None,
        })

    def remove(self) -> None:
        self._handle.remove()


def _verdict(grad: Any, fresh: Any) -> str:
    """'fresh' if `grad` equals `fresh` (the latest backward's gradient), 'scaled' if it is `fresh` times a
    factor in (0, 1] (what clip_grad_norm_ does), else 'stale'."""
    import torch

    if torch.allclose(grad, fresh, rtol=1e-5, atol=1e-7):
        return "fresh"
    scale = float((grad * fresh).sum() / (fresh * fresh).sum().clamp_min(1e-30))
    if 0.0 < scale <= 1.0 + 1e-6 and torch.allclose(grad, scale * fresh, rtol=1e-4, atol=1e-7):
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
                verdicts.append(_verdict(p.grad, self._latest[index]))
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

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
