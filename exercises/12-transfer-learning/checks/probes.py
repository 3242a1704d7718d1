"""Probes for exercise 12. `built` calls the student's build_model and records, without judging, what
the model holds: which of resnet18's own layers (the backbone) still require gradients, what `model.fc`
is now and whether it is trainable, the layers added elsewhere, and what a forward pass on two seeded
3x32x32 images gives (the output's shape, or the error, with the feature width that reached `model.fc`).
`optimizer` and `train_mode` hand make_optimizer and set_train_mode a model the probe built itself (a
frozen resnet18 with a new head), so a mistake in build_model never hides what those two functions do.

What a probe measures goes through `grader.checks.pristine` (PyTorch's own functions, bound before the
student's module is imported), and the builtins and hook registration below are bound here for the
same reason: code that reassigns `torch.Tensor.requires_grad`, `nn.Module.train` or `builtins.sum`
does not change what is recorded."""

from copy import deepcopy as _deepcopy
from builtins import any, bool, id, int, isinstance, len, list, sorted, sum, type, vars, zip  # noqa: A004 - bound before the student's import

import torch
from torch import nn
from torch.nn import BatchNorm2d, Linear
from torch.optim import Optimizer
from torchvision.models import resnet18

from grader.checks import pristine
from grader.checks.data import images
from grader.checks.observe import describe, describe_error

BATCH, SIZE = 2, 32  # two 3x32x32 images: resnet18 runs them in a fraction of a second on a CPU
# resnet18's children (torchvision's ResNet): every one but `fc` is the backbone.
CHILDREN = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")
BACKBONE = CHILDREN[:-1]
CLASSES = (2, 5)  # build_model is asked for both: a head that ignores num_classes gives the same width twice
OWN_CLASSES = 5  # the head of the model the probe builds for make_optimizer and set_train_mode

_register_pre_hook = nn.Module.register_forward_pre_hook
_register_hook = nn.Module.register_forward_hook


def _images(seed: int) -> torch.Tensor:
    return images(seed, BATCH, channels=3, size=(SIZE, SIZE))


def _children(model: nn.Module) -> dict:
    return vars(model).get("_modules", {})


def _layer_facts(layer) -> dict:
    """What a head is: its class, its Linear layers' (in, out) sizes, and which of its tensors train."""
    named = list(pristine.named_parameters(layer))
    linears = [[int(m.in_features), int(m.out_features)] for _, m in pristine.named_modules(layer)
               if isinstance(m, Linear)]
    return {"type": type(layer).__name__, "linears": linears, "tensors": len(named),
            "frozen": [name for name, p in named if not pristine.requires_grad(p)]}


def built(module, seed: int) -> list:
    """build_model(n) for each n in CLASSES, in one worker (a resnet18 takes a while to build)."""
    return [_built(module, num_classes, seed + num_classes) for num_classes in CLASSES]


def _built(module, num_classes: int, seed: int) -> dict:
    """build_model(num_classes): the backbone's trainable tensors, the head, added layers, and a forward pass."""
    torch.manual_seed(seed)
    try:
        model = module.build_model(num_classes)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        return {"error": describe_error(exc, module)}
    if not isinstance(model, nn.Module):
        return {"error": None, "model": False, "returned": describe(model)}
    children = _children(model)
    backbone = [(name, p) for name, p in pristine.named_parameters(model) if name.split(".")[0] in BACKBONE]
    trainable = [(name, p) for name, p in backbone if pristine.requires_grad(p)]
    head = children.get("fc")
    added = [name for name in children if name not in CHILDREN]
    facts = {
        "error": None, "model": True, "type": type(model).__name__,
        "backbone": {"tensors": len(backbone), "numel": sum(int(pristine.numel(p)) for _, p in backbone),
                     "trainable": len(trainable), "trainable_numel": sum(int(pristine.numel(p)) for _, p in trainable),
                     "trainable_names": [name for name, _ in trainable][:4],
                     "trainable_layers": sorted({name.split(".")[0] for name, _ in trainable})},
        "head": _layer_facts(head) if isinstance(head, nn.Module) else None,
        "added": [{"name": name, **_layer_facts(children[name])} for name in added if isinstance(children[name], nn.Module)],
    }
    seen = {"features": None, "called": []}
    handles = []
    if isinstance(head, nn.Module):
        def features(layer, args):  # what reaches model.fc: resnet18's pooled, flattened features
            if args and pristine.is_tensor(args[0]):
                seen["features"] = list(pristine.shape(args[0]))
        handles.append(_register_pre_hook(head, features))
    for name in added:
        if isinstance(children[name], nn.Module):
            handles.append(_register_hook(children[name], lambda layer, args, out, name=name: seen["called"].append(name)))
    x = _images(seed)
    pristine.set_training(model, False)  # evaluation mode: the same output every time, a dropout in a head off
    try:
        with pristine.no_grad():
            out = model(x)
        facts.update(forward_error=None, output=describe(out))
    except Exception as exc:  # noqa: BLE001
        facts.update(forward_error=describe_error(exc, module), output=None)
    for handle in handles:
        handle.remove()
    facts.update(features=seen["features"], added_called=sorted(set(seen["called"])), input=list(pristine.shape(x)))
    return facts


def _own_model(seed: int) -> nn.Module:
    """A frozen resnet18 with a new, trainable head, built here (not by the student's build_model)."""
    torch.manual_seed(seed)
    model = resnet18(weights=None)
    for p in pristine.parameters(model):
        pristine.requires_grad_(p, False)
    vars(model)["_modules"]["fc"] = Linear(512, OWN_CLASSES)
    return model


def given_model(module, seed: int) -> dict:
    """make_optimizer and set_train_mode, each on its own copy of one frozen resnet18 the probe built."""
    model = _own_model(seed)
    return {"optimizer": _optimizer(module, _deepcopy(model)), "train_mode": _train_mode(module, model, seed)}


def _optimizer(module, model: nn.Module) -> dict:
    """make_optimizer(model) on a frozen resnet18 with a new head: which of the model's tensors it optimises."""
    named = list(pristine.named_parameters(model))
    index = {id(p): i for i, (_, p) in enumerate(named)}
    try:
        opt = module.make_optimizer(model)
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module)}
    if not isinstance(opt, Optimizer):
        return {"error": None, "optimizer": False, "returned": describe(opt)}
    given = [p for group in vars(opt).get("param_groups", []) for p in group.get("params", [])]
    inside = [index[id(p)] for p in given if id(p) in index]
    return {
        "error": None, "optimizer": True, "type": type(opt).__name__,
        "groups": len(vars(opt).get("param_groups", [])),
        "given": len(given), "foreign": len(given) - len(inside),
        "frozen": [named[i][0] for i in inside if not pristine.requires_grad(named[i][1])],
        "frozen_numel": sum(int(pristine.numel(named[i][1])) for i in inside if not pristine.requires_grad(named[i][1])),
        "missing": [name for i, (name, p) in enumerate(named) if pristine.requires_grad(p) and i not in inside],
        "trainable": [name for name, p in named if pristine.requires_grad(p)],
        "tensors": len(named),
    }


def _norm_state(model: nn.Module) -> list:
    """Each BatchNorm layer's running statistics (not `num_batches_tracked`, which counts training passes)."""
    return [[pristine.clone(b) for name, b in vars(m).get("_buffers", {}).items()
             if name in ("running_mean", "running_var") and b is not None]
            for _, m in pristine.named_modules(model) if isinstance(m, BatchNorm2d)]


def _train_mode(module, model: nn.Module, seed: int) -> dict:
    """set_train_mode(model) on a frozen resnet18 left in evaluation mode (as after a validation pass), then
    a forward pass on a seeded batch: did the BatchNorm layers' running statistics change, did they
    normalise with them (the output a model in evaluation mode gives), and is the new head in training mode."""
    pristine.set_training(model, False)
    x = _images(seed + 1)
    with pristine.no_grad():
        want = pristine.clone(model(x))
    norms = [(name, m) for name, m in pristine.named_modules(model) if isinstance(m, BatchNorm2d)]
    before = _norm_state(model)
    try:
        module.set_train_mode(model)
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module)}
    in_training = [name for name, m in norms if bool(vars(m).get("training"))]
    head = _children(model).get("fc")
    head_training = bool(vars(head).get("training")) if isinstance(head, nn.Module) else None
    try:
        with pristine.no_grad():
            got = model(x)
    except Exception as exc:  # noqa: BLE001 - a BatchNorm layer changed by the student's code can raise
        return {"error": describe_error(exc, module)}
    after = _norm_state(model)
    changed = [name for (name, _), old, new in zip(norms, before, after)
               if len(old) != len(new) or any(not pristine.equal(a, b) for a, b in zip(old, new))]
    same_output = (pristine.is_tensor(got) and list(pristine.shape(got)) == list(pristine.shape(want))
                   and bool(pristine.allclose(got, want, rtol=1e-4, atol=1e-5)))
    return {
        "error": None, "norms": len(norms), "in_training": in_training[:4], "in_training_count": len(in_training),
        "changed": changed[:4], "changed_count": len(changed), "same_output": same_output,
        "head_training": head_training, "model_training": bool(vars(model).get("training")),
    }
