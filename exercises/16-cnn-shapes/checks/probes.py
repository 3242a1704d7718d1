"""Probes for exercise 16. They record, without judging:

- `model_facts`: the model `build_model()` returns, run in evaluation mode on seeded batches of
  [N, 3, 32, 32] images for every N in SIZES, each pass traced step by step (every convolution, linear
  layer, pooling and reshaping, however it was written: a layer of the model, a functional call, a
  tensor method), with the step that raised, if one did, and for each convolution or linear step the
  model's own nn.Conv2d or nn.Linear layer whose weight it used (none for a weight made elsewhere);
  whether the output of a pass that ran depends on its input images
  (`grader.checks.independence.input_dependence`); and its parameters, counted after the passes (a lazy
  layer has its size only then);
- `counted`: what count_parameters gives for small models the probe builds from a seed (biases and
  no biases, BatchNorm, frozen layers, a layer used twice), beside the right count and the counts that
  classic mistakes give;
- `computed_shapes`: what output_shape gives for seeded Conv2d and MaxPool2d layers and input shapes
  (`configs`, which the checks call too, and run each layer on zeros themselves), and whether it ran a
  convolution or a pooling to find out.

What a probe measures goes through `grader.checks.pristine` (PyTorch's own functions, bound before the
student's module is imported), and the builtins and hook registration below are bound here for the
same reason."""

import random
from builtins import (all, any, bool, dict, float, getattr, id, int, isinstance, issubclass, len, list, next,  # noqa: A004
                      reversed, sorted, str, sum, tuple, type, vars, zip)

import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from grader.checks import pristine
from grader.checks.data import images
from grader.checks.independence import input_dependence
from grader.checks.observe import describe, describe_error

SIZES = (1, 2, 3, 5, 8, 16, 32, 64)  # batch sizes tried: 1 finds a flattened batch, the large ones a hard-coded one
IMAGE = (3, 32, 32)  # one CIFAR-10-sized RGB image
CLASSES = 10
BUDGET = 100_000  # parameters the model may have, in all
KEPT_STEPS = 40  # steps of a pass kept in a record (a small CNN has about 12)
# The batch size the model's checks judge at: the first of these the model runs with (1 last: a model that
# flattens the batch dimension runs with one image only).
PREFERRED = (2, 8, 3, 5, 16, 32, 64, 1)

# The torch functions a trace records, by the name PyTorch gives them, and what each is.
TRACED = {"conv2d": "conv", "linear": "linear", "max_pool2d": "pool", "avg_pool2d": "pool",
          "adaptive_avg_pool2d": "pool", "adaptive_max_pool2d": "pool", "lp_pool2d": "pool",
          "flatten": "reshape", "view": "reshape", "reshape": "reshape", "squeeze": "reshape"}

_register_pre_hook = pristine.register_module_forward_pre_hook
_register_hook = pristine.register_module_forward_hook


def display_name(path: str) -> str:
    """A layer's place in the model as code: `model.conv1`, `model[0]`, `model.features[3]`."""
    text = "model"
    for part in path.split("."):
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def _shape(value) -> list | None:
    return list(pristine.shape(value)) if pristine.is_tensor(value) else None


def _arguments(args: tuple, kwargs: dict) -> str:
    """The non-tensor arguments of a reshaping call, as written: `-1`, `2, -1`, `start_dim=1`."""
    def text(value) -> str:
        if isinstance(value, (list, tuple)):
            return "(" + ", ".join(text(v) for v in value) + ")"
        return str(int(value)) if isinstance(value, int) else type(value).__name__
    shown = [text(a) for a in args[1:] if not pristine.is_tensor(a)]
    shown += [f"{key}={text(value)}" for key, value in kwargs.items() if not pristine.is_tensor(value)]
    return ", ".join(shown)


class _Trace(pristine.FunctionMode):
    """While active: every traced torch function call (TRACED) with the layer it belongs to, its input's
    and output's shapes, and whether it raised. A global module hook keeps the stack of modules being
    called, so that a pooling or a flattening done by a layer is named after that layer."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.steps: list[dict] = []
        modules = list(pristine.named_modules(model))
        self._names = {id(m): name for name, m in modules}
        self._types = {name: type(m).__name__ for name, m in modules}
        params = list(pristine.named_parameters(model))
        self._owners = {id(p): name.rpartition(".")[0] for name, p in params}
        self._index = {id(p): i for i, (_, p) in enumerate(params)}
        # The weight of each of the model's own nn.Conv2d and nn.Linear layers (lazy ones included): a step
        # counts as that layer only when it used that very tensor.
        self._own: dict = {}
        for name, m in modules:
            kind = "conv" if isinstance(m, nn.Conv2d) else "linear" if isinstance(m, nn.Linear) else None
            weight = vars(m).get("_parameters", {}).get("weight") if kind else None
            if weight is not None:
                self._own[id(weight)] = (kind, display_name(name) if name else "model")
        self._stack: list = []
        self._handles: list = []

    def __enter__(self):
        self._handles = [_register_pre_hook(self._entered), _register_hook(self._left, always_call=True)]
        return super().__enter__()

    def _entered(self, module, args) -> None:
        self._stack.append(module)

    def _left(self, module, args, output) -> None:  # a hook that returns nothing leaves the output as it is
        if self._stack:
            self._stack.pop()

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        return super().__exit__(*exc)

    def _layer(self, weight) -> tuple[str | None, str | None]:
        """(where the step's layer is in the model, its class), from its weight or the module being called."""
        if weight is not None and id(weight) in self._owners:
            owner = self._owners[id(weight)]
            return display_name(owner) if owner else "model", self._types.get(owner)
        if self._stack:
            module = self._stack[-1]
            name = self._names.get(id(module))
            if name is None:  # a module made elsewhere (inside forward)
                return None, type(module).__name__
            if name:
                return display_name(name), type(module).__name__
        return None, None  # a functional call in forward itself

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        kind = TRACED.get(name)
        if kind is None or not args or not pristine.is_tensor(args[0]):
            return func(*args, **kwargs)
        weight = args[1] if kind in ("conv", "linear") and len(args) > 1 and pristine.is_tensor(args[1]) else None
        layer, layer_type = self._layer(weight)
        step = {"op": name, "kind": kind, "layer": layer, "type": layer_type, "input": _shape(args[0]),
                "weight": _shape(weight), "weight_index": self._index.get(id(weight), -1) if weight is not None else None,
                "module": self._own[id(weight)][1] if weight is not None and id(weight) in self._own
                and self._own[id(weight)][0] == kind else None,
                "arguments": _arguments(args, kwargs) if kind == "reshape" else "", "output": None, "failed": False,
                "groups": int(args[6]) if kind == "conv" and len(args) > 6 and isinstance(args[6], int)
                else int(kwargs.get("groups", 1)) if kind == "conv" else None}
        if len(self.steps) < 4 * KEPT_STEPS:
            self.steps.append(step)
        try:
            out = func(*args, **kwargs)
        except Exception:
            step["failed"] = True
            raise
        step["output"] = _shape(out)
        return out


def _images(seed: int, n: int) -> torch.Tensor:
    return images(1000 * seed + n, n, channels=IMAGE[0], size=IMAGE[1:])


def _pass(module, model: nn.Module, seed: int, n: int) -> dict:
    """One forward pass on n seeded images, in evaluation mode without gradients, traced."""
    x = _images(seed, n)
    trace = _Trace(model)
    try:
        with trace, pristine.no_grad():
            out = model(x)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        failed = next((s for s in reversed(trace.steps) if s["failed"]), None)
        return {"n": n, "error": describe_error(exc, module), "value": None, "failed": failed,
                "steps": trace.steps[-KEPT_STEPS:]}
    return {"n": n, "error": None, "value": describe(out), "failed": None, "steps": trace.steps[:KEPT_STEPS]}


def _dependence(model: nn.Module, seed: int, n: int) -> dict:
    """Whether each output row of a batch of n other seeded images depends on its own image ({"own": [bool per
    row checked]}), or None for each when the output has no row per image; {"error": ...} when it raised."""
    try:
        facts = input_dependence(lambda x: model(x), _images(seed + 1, n), seed=seed)
    except Exception as exc:  # noqa: BLE001 - judged elsewhere: the traced passes ran
        return {"n": n, "own": None, "error": type(exc).__name__}
    if facts["rows"] is None:
        return {"n": n, "own": None, "error": None}
    vf = pristine.VF
    own = [float(pristine.item(vf.select(vf.select(facts["dependence"], 0, r), 0, j))) > 0
           for r, j in enumerate(facts["rows"])]
    return {"n": n, "own": own, "rows": list(facts["rows"]), "error": None, "method": facts["method"]}


def _parameter_facts(model: nn.Module) -> dict:
    """Every parameter of the model counted once (frozen ones too), the layers that hold the most, and
    the parameters a lazy layer has not given a size yet."""
    named = list(pristine.named_parameters(model))
    lazy = [name for name, p in named if isinstance(p, UninitializedParameter)]
    sizes: dict[str, int] = {}
    types: dict[str, str] = {}
    modules = dict(pristine.named_modules(model))
    for name, p in named:
        if isinstance(p, UninitializedParameter):
            continue
        owner = name.rpartition(".")[0]
        sizes[owner] = sizes.get(owner, 0) + int(pristine.numel(p))
        types[owner] = type(modules.get(owner)).__name__ if owner in modules else ""
    biggest = sorted(sizes, key=lambda owner: -sizes[owner])[:3]
    return {"total": sum(sizes.values()), "uninitialised": [display_name(n) for n in lazy[:4]],
            "biggest": [{"layer": display_name(o) if o else "model", "type": types[o], "numel": sizes[o]}
                        for o in biggest],
            "convs": [display_name(name) for name, m in modules.items() if isinstance(m, nn.Conv2d) and name],
            "linears": [display_name(name) for name, m in modules.items() if isinstance(m, nn.Linear) and name]}


def model_facts(module, seed: int) -> dict:
    """build_model(), then one traced pass per batch size in SIZES (smallest first) and its parameters."""
    torch.manual_seed(seed)
    try:
        model = module.build_model()
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module)}
    if not isinstance(model, nn.Module):
        made_from = model.__name__ if isinstance(model, type) and issubclass(model, nn.Module) else None
        return {"error": None, "model": False, "returned": describe(model), "class": made_from}
    pristine.set_training(model, False)  # evaluation mode: a dropout does nothing, BatchNorm uses its statistics
    passes = {n: _pass(module, model, seed, n) for n in SIZES}
    ran = next((n for n in PREFERRED if passes[n]["error"] is None), None)
    depends = _dependence(model, seed, ran) if ran is not None else None
    return {"error": None, "model": True, "type": type(model).__name__, "passes": passes, "depends": depends,
            "parameters": _parameter_facts(model)}


# ----------------------------------------------------------------------------- count_parameters

def _layer_code(kind: str, args: list, kwargs: dict | None = None) -> str:
    shown = [str(a) for a in args] + [f"{k}={v}" for k, v in (kwargs or {}).items()]
    return f"nn.{kind}({', '.join(shown)})"


def _build(layers: list) -> tuple[nn.Module, str]:
    """An nn.Sequential of (kind, args, kwargs) entries, or an index of an earlier entry (the same layer
    again), and the code that builds it."""
    made, code = [], []
    for entry in layers:
        if isinstance(entry, int):
            made.append(made[entry])
            code.append(f"model[{entry}]")
            continue
        kind, args, kwargs = entry
        made.append(getattr(nn, kind)(*args, **kwargs))
        code.append(_layer_code(kind, args, kwargs))
    return nn.Sequential(*made), "nn.Sequential(" + ", ".join(code) + ")"


def count_cases(seed: int) -> list[dict]:
    """Seeded small models, each with what makes it a test of counting: (name, model, code, frozen layers)."""
    rng = random.Random(seed)
    a, b, classes = rng.randint(4, 12), rng.randint(6, 16), rng.randint(3, 9)
    k1, k2 = rng.choice((3, 5)), rng.choice((1, 3))
    width, hidden = rng.randint(5, 12), rng.randint(4, 10)
    cases = []
    plain = [("Conv2d", [3, a, k1], {}), ("ReLU", [], {}), ("MaxPool2d", [2], {}), ("Conv2d", [a, b, k2], {}),
             ("ReLU", [], {}), ("AdaptiveAvgPool2d", [1], {}), ("Flatten", [], {}), ("Linear", [b, classes], {})]
    normed = [("Conv2d", [3, a, k1], {"bias": False}), ("BatchNorm2d", [a], {}), ("ReLU", [], {}),
              ("Conv2d", [a, b, k2], {"bias": False}), ("BatchNorm2d", [b], {}), ("ReLU", [], {}),
              ("AdaptiveAvgPool2d", [1], {}), ("Flatten", [], {}), ("Linear", [b, classes], {})]
    shared = [("Linear", [width, width], {}), ("ReLU", [], {}), 0, ("ReLU", [], {}), ("Linear", [width, hidden], {})]
    for name, layers, frozen in (("plain", plain, []), ("no-bias", normed, []), ("frozen", normed, [0, 1, 3]),
                                 ("all-frozen", plain, [0, 3, 7]), ("shared", shared, [])):
        torch.manual_seed(seed)
        model, code = _build(layers)
        for index in frozen:
            for p in pristine.parameters(model[index]):
                pristine.requires_grad_(p, False)
        cases.append({"name": name, "model": model, "code": code, "frozen": frozen})
    return cases


def _counts(model: nn.Module) -> dict:
    """The right count and what classic mistakes count, for one model (PyTorch's own functions only)."""
    named = list(pristine.named_parameters(model))  # each tensor once, as model.parameters() gives them
    trainable = [(n, p) for n, p in named if pristine.requires_grad(p)]
    numel = lambda pairs: sum(int(pristine.numel(p)) for _, p in pairs)  # noqa: E731
    every_use = [p for _, m in _every_module(model) for p in vars(m).get("_parameters", {}).values() if p is not None]
    every_buffer = [b for _, m in _every_module(model) for b in vars(m).get("_buffers", {}).values() if b is not None]
    formula = 0
    for _, m in pristine.named_modules(model):
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            formula += m.in_channels * m.out_channels * kh * kw + m.out_channels
        elif isinstance(m, nn.Linear):
            formula += m.in_features * m.out_features + m.out_features
    return {
        "want": numel(trainable),
        "mistakes": {
            "frozen-counted": numel(named),
            "no-biases": numel([(n, p) for n, p in trainable if not n.endswith("bias")]),
            "state-dict": sum(int(pristine.numel(t)) for t in every_use + every_buffer),
            "tensors": len(trainable),
            "all-tensors": len(named),
            "frozen-only": numel(named) - numel(trainable),
            "first-dimension": sum(int(pristine.shape(p)[0]) for _, p in trainable if pristine.dim(p)),
            "shared-twice": sum(int(pristine.numel(p)) for p in every_use if pristine.requires_grad(p)),
            "formula": formula,
        },
        "frozen_tensors": len(named) - len(trainable),
        "buffers": len(list(pristine.buffers(model))),
    }


def _every_module(model: nn.Module, prefix: str = ""):
    """Every module under `model`, one used twice as often as it appears (as `state_dict()` walks them)."""
    yield prefix, model
    for name, child in vars(model).get("_modules", {}).items():
        if child is not None:
            yield from _every_module(child, f"{prefix}.{name}" if prefix else name)


def _number(value) -> dict:
    """What count_parameters returned: a whole number (an int, a NumPy integer, a one-value tensor or a
    float without a fractional part), or what else."""
    facts = describe(value)
    if isinstance(value, (bool, str, bytes)):
        return {"number": None, "returned": facts}
    if pristine.is_tensor(value):
        ok = int(pristine.numel(value)) == 1 and not pristine.is_floating_point(value)
        return {"number": int(pristine.item(value)) if ok else None, "returned": facts}
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return {"number": None, "returned": facts}
    if as_float != as_float or as_float in (float("inf"), float("-inf")) or as_float != int(as_float):
        return {"number": None, "returned": facts}
    return {"number": int(as_float), "returned": facts}


def counted(module, seed: int) -> list[dict]:
    """count_parameters(model) for each of count_cases(seed), with the right count and the mistakes' counts."""
    results = []
    for case in count_cases(seed):
        facts = {"name": case["name"], "code": case["code"], "frozen": case["frozen"], **_counts(case["model"])}
        try:
            value = module.count_parameters(case["model"])
        except Exception as exc:  # noqa: BLE001
            facts.update(error=describe_error(exc, module), number=None, returned=None)
        else:
            facts.update(error=None, **_number(value))
        results.append(facts)
    return results


# ----------------------------------------------------------------------------- output_shape

def _pick(rng: random.Random, low: int, high: int, pair: bool):
    return (rng.randint(low, high), rng.randint(low, high)) if pair else rng.randint(low, high)


def _both(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _valid(kind: str, kwargs: dict, size: tuple) -> bool:
    k, s, p, d = (_both(kwargs.get(key, default)) for key, default in
                  (("kernel_size", 1), ("stride", 1), ("padding", 0), ("dilation", 1)))
    if kind == "pool" and any(pi > ki // 2 for pi, ki in zip(p, k)):
        return False  # PyTorch refuses a pooling padded by more than half its kernel
    return all(h + 2 * pi - di * (ki - 1) - 1 >= 0 for h, ki, pi, di in zip(size, k, p, d))


# What each stage of the configurations varies, in order: the first wrong answer names the simplest case.
STAGES = ("basic", "padding", "stride", "dilation", "rectangular", "mixed")


def configs(kind: str, seed: int) -> list[dict]:
    """Seeded Conv2d ("conv") or MaxPool2d ("pool") layers and input shapes, by stage: {"stage", "kwargs"
    (the layer's constructor arguments), "input" [N, C, H, W]}. The checks rebuild each layer from its
    kwargs and run it on zeros of that shape, so the answers are PyTorch's own."""
    rng = random.Random(f"{kind}-{seed}")
    counts = {"basic": 4, "padding": 3, "stride": 4, "dilation": 3, "rectangular": 4, "mixed": 5}
    found = []
    for stage in STAGES:
        made = 0
        while made < counts[stage]:
            rect = stage in ("rectangular", "mixed")
            kwargs: dict = {}
            if kind == "conv":
                kwargs["in_channels"] = rng.randint(1, 6)
                kwargs["out_channels"] = rng.choice([c for c in range(2, 17) if c != kwargs["in_channels"]])
                kernel = rng.choice((1, 3, 5, 7)) if stage == "basic" else _pick(rng, 1, 7, rect)
            else:
                kernel = rng.choice((2, 3)) if stage == "basic" else _pick(rng, 2, 4, rect)
            if rect and kernel[0] == kernel[1]:
                continue  # a rectangular kernel: a mix-up of height and width shows
            kwargs["kernel_size"] = kernel
            if stage in ("rectangular", "mixed"):
                kwargs["stride"] = _pick(rng, 1, 3, True)
            elif stage == "stride":  # a stride other than the default (1 for Conv2d, the kernel for MaxPool2d)
                kwargs["stride"] = rng.choice([s for s in (1, 2, 3) if s != (1 if kind == "conv" else kernel)])
            elif kind == "pool" and stage != "basic" and rng.random() < 0.5:
                kwargs["stride"] = 1
            if stage in ("padding", "rectangular", "mixed"):
                kwargs["padding"] = _pick(rng, 0 if rect else 1, 3, rect)
            if stage in ("dilation", "mixed") or (stage == "rectangular" and rng.random() < 0.5):
                kwargs["dilation"] = _pick(rng, 1 if stage != "dilation" else 2, 3, rect and kind == "conv")
            if kind == "conv" and rng.random() < 0.3:
                kwargs["bias"] = False
            size = (rng.randint(5, 40), rng.randint(5, 40)) if rect else (rng.randint(5, 33),) * 2
            if not _valid(kind, kwargs, size):
                continue
            channels = kwargs.get("in_channels", rng.randint(1, 8))
            found.append({"stage": stage, "kwargs": kwargs, "input": [rng.randint(1, 4), channels, *size]})
            made += 1
    return found


def layer_code(kind: str, kwargs: dict) -> str:
    """The line that builds a configuration's layer: `nn.Conv2d(3, 8, kernel_size=(3, 5), stride=2)`."""
    args = [kwargs["in_channels"], kwargs["out_channels"]] if kind == "conv" else []
    rest = {k: v for k, v in kwargs.items() if k not in ("in_channels", "out_channels")}
    return _layer_code("Conv2d" if kind == "conv" else "MaxPool2d", args, rest)


def make_layer(kind: str, kwargs: dict) -> nn.Module:
    return nn.Conv2d(**kwargs) if kind == "conv" else nn.MaxPool2d(**kwargs)


def _shape_answer(value) -> dict:
    """What output_shape returned: {"items": [each number, or None where it is not one], "floats": [...]}
    for a tuple, list or torch.Size; else {"items": None} with the value's description."""
    if pristine.is_tensor(value) or not isinstance(value, (tuple, list)):
        return {"items": None, "returned": describe(value)}
    items, floats = [], []
    for item in value[:8]:
        if isinstance(item, bool):
            items.append(None)
        elif isinstance(item, float):
            items.append(None)
            floats.append(item)
        else:
            try:
                items.append(int(item.__index__()))
            except (AttributeError, TypeError):
                items.append(None)
    return {"items": items, "length": len(value), "floats": floats, "returned": describe(value)}


class _RunWatch(pristine.FunctionMode):
    """While active: the names of the convolution and pooling functions called, and the modules called."""

    def __init__(self):
        super().__init__()
        self.ran: list[str] = []
        self._handle = None

    def __enter__(self):
        self._handle = _register_pre_hook(lambda m, args: self._note(type(m).__name__))
        return super().__enter__()

    def __exit__(self, *exc):
        self._handle.remove()
        return super().__exit__(*exc)

    def _note(self, name: str) -> None:
        if name not in self.ran:
            self.ran.append(name)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if "conv" in name or "pool" in name:
            self._note(name)
        return func(*args, **(kwargs or {}))


def computed_shapes(module, seed: int) -> dict:
    """output_shape(layer, input_shape) for every configuration of both kinds: its answer or error, and
    what it ran (convolutions, poolings, modules) to find it."""
    results = {}
    for kind in ("conv", "pool"):
        answers = []
        for config in configs(kind, seed):
            torch.manual_seed(seed)
            layer = make_layer(kind, config["kwargs"])
            watch = _RunWatch()
            try:
                with watch:
                    value = module.output_shape(layer, tuple(config["input"]))
            except Exception as exc:  # noqa: BLE001
                answers.append({"error": describe_error(exc, module), "ran": watch.ran})
                continue
            answers.append({"error": None, "ran": watch.ran, **_shape_answer(value)})
        results[kind] = answers
    return results
