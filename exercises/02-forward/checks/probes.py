"""Probes for exercise 2. Each builds the student's (or the reference's) MNISTNet with seeded
weights inside a sandboxed worker, feeds it seeded images and records what happened: the output,
what every convolution and linear computation received and returned (however it was written: a
layer made in __init__, one made inside forward, or a functional call on a layer's weights), parameters created during forward, gradients,
and how outputs depend on the inputs. The checks compare these records; the probes judge nothing.
What they read from tensors goes through `grader.checks.pristine` (PyTorch's own functions, bound before
the student's module is imported), and the hooks they register are bound here for the same reason."""


import torch
from torch import nn
from torch.nn.modules.module import register_module_module_registration_hook, register_module_parameter_registration_hook

from grader.checks import pristine
from grader.checks.independence import input_dependence
from grader.checks.observe import describe, describe_error
from grader.checks.spies import ModelWatch

SIZES = (1, 2, 4, 5, 7, 8, 16, 32, 64)  # batch sizes tried; the large ones find a hard-coded batch size
FLAT = 32 * 7 * 7


def _images(seed: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(1000 * seed + n)
    return torch.randn(n, 1, 28, 28, generator=g)


def _model(module, seed: int) -> nn.Module:
    # __init__ is the same in every submission, so the same seed gives the reference's weights.
    torch.manual_seed(seed)
    return module.MNISTNet()


def _role(kind: str, weight_shape: list[int]) -> str | None:
    """Which layer of the architecture a computation plays, by its weight's sizes (works for layers made
    anywhere, and for functional calls such as `F.linear(x, self.fc1.weight, self.fc1.bias)`)."""
    if kind == "Conv2d":
        return {1: "conv1", 16: "conv2"}.get(weight_shape[1])
    if kind == "Linear":
        if weight_shape[1] == FLAT:
            return "fc1"
        if weight_shape == [10, 128]:
            return "fc2"
    return None


class _Watch:
    """While active: every convolution and linear computation (a ModelWatch's: input and output, cloned
    at once so that later in-place operations do not change the record), and every parameter or
    submodule that gets registered on any module."""

    def __init__(self, model: nn.Module):
        self.model_watch = ModelWatch(model, layers=True)
        self.new_params: list[dict] = []
        self.new_modules: list[dict] = []
        self._handles: list = []
        self._owners: list = []  # modules that registered a parameter during the watch

    @property
    def calls(self) -> list[dict]:
        return [{"role": _role(c["kind"], c["weight_shape"]), **c} for c in self.model_watch.layers]

    def _param(self, owner, name, param):
        shape = list(pristine.shape(param)) if pristine.is_tensor(param) else None
        if not any(o is owner for o in self._owners):
            self._owners.append(owner)
        index = next(i for i, o in enumerate(self._owners) if o is owner)
        self.new_params.append({"owner": type(owner).__name__, "owner_index": index, "name": name, "shape": shape})

    def _submodule(self, owner, name, sub):
        self.new_modules.append({"owner": type(owner).__name__, "name": name,
                                 "kind": type(sub).__name__ if sub is not None else "None"})

    def __enter__(self):
        self._handles = [
            register_module_parameter_registration_hook(self._param),
            register_module_module_registration_hook(self._submodule),
        ]
        self.model_watch.__enter__()
        return self

    def __exit__(self, *exc):
        self.model_watch.__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        return False


def output_shapes(module, seed: int) -> dict:
    """Call forward (eval mode, no grad) on batches of every size in SIZES; record what came back.
    This probe is about batch sizes, so an exception at one size is recorded, not raised; when
    forward raises at every size, the problem is not the batch size and the exception goes up."""
    model = _model(module, seed)
    model.eval()
    results: dict[int, dict] = {}
    errors = []
    for n in SIZES:
        try:
            with torch.no_grad():
                out = model(_images(seed, n))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            errors.append(exc)
            results[n] = {"error": describe_error(exc, module)}
            continue
        results[n] = {"value": describe(out)}
    if len(errors) == len(SIZES):
        raise errors[0]
    return results


def batch_independence(module, seed: int, n: int) -> dict:
    """Eval mode: how much each output row depends on each image of a batch of n (see
    grader.checks.independence.input_dependence), and what the first forward call returned."""
    model = _model(module, seed)
    model.eval()
    outputs = []

    def forward(x):
        outputs.append(model(x))
        return outputs[-1]

    facts = input_dependence(forward, _images(seed, n), seed=seed)
    return {"output": describe(outputs[0]), **facts}


def trace(module, seed: int, n: int) -> dict:
    """Eval mode: one forward call watched layer by layer, then a backward pass from the output;
    records which of the parameters made in __init__ received a gradient."""
    model = _model(module, seed)
    model.eval()
    params = list(pristine.named_parameters(model))
    x = _images(seed, n)
    with _Watch(model) as watch:
        out = model(x)
    facts = {
        "input": x, "output": out if pristine.is_tensor(out) else None, "returned": describe(out),
        "calls": watch.calls, "new_params": watch.new_params, "new_modules": watch.new_modules,
        # How many ReLUs forward applied, however written (F.relu, torch.relu, in place, an nn.ReLU module).
        "relus": sum(1 for f in watch.model_watch.functions if f in ("relu", "relu_"))
        + sum(1 for c in watch.model_watch.module_calls if c["kind"] == "ReLU"),
        "params_before": [name for name, _ in params],
        "params_after": [name for name, _ in pristine.named_parameters(model)],
        "has_graph": pristine.is_tensor(out) and bool(pristine.requires_grad(out)),
    }
    if facts["has_graph"]:
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1))
        pristine.backward(pristine.VF.sum(pristine.VF.mul(pristine.to_float(out), weights)))
    grads = {}
    for name, p in params:
        g = pristine.grad(p)
        grads[name] = "none" if g is None else ("zero" if not pristine.item(pristine.VF.any(g)) else "ok")
    facts["grads"] = grads
    return facts


def logits(module, seed: int, n: int) -> dict:
    """Eval mode, no grad: only the output of one forward call, the same as `trace`'s (what a check needs
    from the reference, kept small: a student copy stores it as a recorded answer)."""
    model = _model(module, seed)
    model.eval()
    with torch.no_grad():
        out = model(_images(seed, n))
    return {"output": out if pristine.is_tensor(out) else None}


def dropout_trace(module, seed: int, n: int) -> dict:
    """Two forward calls in eval mode, then two in training mode, on the same images; for each,
    the output, what fc1 received and returned, and what fc2 received (dropout belongs between)."""
    model = _model(module, seed)
    x = _images(seed, n)

    def watched() -> dict:
        with torch.no_grad(), _Watch(model) as watch:
            out = model(x)
        calls = watch.model_watch.module_calls
        return {
            "output": out if pristine.is_tensor(out) else None,
            # How dropout was applied: the layer of __init__, one made in forward, or F.dropout.
            "dropout_called": any(c["layer"] == "dropout" for c in calls),
            "dropouts_made_in_forward": sum(1 for c in calls if c["layer"] is None and c["kind"].startswith("Dropout")),
            "functional_dropout": "dropout" in watch.model_watch.functions,
            "fc1_in": [c["input"] for c in watch.calls if c["role"] == "fc1"],
            "fc1_out": [c["output"] for c in watch.calls if c["role"] == "fc1"],
            "fc2_in": [c["input"] for c in watch.calls if c["role"] == "fc2"],
            "new_params": len(watch.new_params),
        }

    model.eval()
    torch.manual_seed(seed + 10)
    evaluation = [watched(), watched()]
    model.train()
    torch.manual_seed(seed + 20)
    training = [watched(), watched()]
    return {"eval": evaluation, "train": training}
