"""Probes for exercise 11. Each trains a small seeded model with the checks' own loop, calls the student's
save_checkpoint and load_checkpoint in a temporary folder, and records what came back as plain data: the
model's and the optimizer's state before saving and after loading, the layers' training modes, what the
file holds when loaded with `weights_only=True`, where the restored tensors are, and the weights a
resumed run ends with (checks/test_checkpoint.py compares them with the reference's uninterrupted run).

Two machines are simulated. A checkpoint "saved on a GPU" is written while `torch.serialization.location_tag`
names every storage `cuda:0`, as a GPU machine's file does, and loaded while PyTorch says no GPU is
available (from before the student's module is imported): `torch.load` then fails exactly as on a
CPU-only machine, unless `map_location` says where the tensors go. "Restoring onto the GPU" runs on the
`meta` device, the grader's stand-in (grader.checks.devices.StandInGPU), and on `cuda` where there is one.

What a probe reads and compares goes through `grader.checks.pristine` (PyTorch's own functions, bound
before the student's module is imported), and `torch.load` and the builtins below are bound here for the
same reason."""

import contextlib
import os
import re
import tempfile
from builtins import any, dict, getattr, id, int, isinstance, len, list, range, set, sorted, str, sum, type, vars, zip  # noqa: A004

import torch
import torch.serialization as serialization
from torch import load as torch_load
from torch.nn import BatchNorm1d, Dropout, Linear, ReLU, Sequential
from torch.optim import SGD, Adam

from grader.checks import before_import, pristine
from grader.checks.data import classification_loader
from grader.checks.devices import StandInGPU, simulated_cuda
from grader.checks.observe import describe, describe_error

FIRST_RUN = 2  # the interrupted run trains epochs 0 and 1, saving after each
TOTAL = 4  # the resumed run trains the rest: epochs 2 and 3
CPU = torch.device("cpu")
_copy = torch._C.TensorBase.copy_  # PyTorch's own, whatever torch.Tensor.copy_ is later


def _model(seed: int) -> Sequential:
    torch.manual_seed(seed)
    return Sequential(Linear(6, 16), BatchNorm1d(16), ReLU(), Dropout(0.25), Linear(16, 3))


def _optimizer(kind: str, model) -> torch.optim.Optimizer:
    params = list(pristine.parameters(model))
    return SGD(params, lr=0.1, momentum=0.9) if kind == "sgd" else Adam(params, lr=0.01)


def _train_epoch(model, optimizer, seed: int, epoch: int) -> None:
    """The checks' own loop, one epoch: other batches every epoch, dropout seeded by the epoch's number (so
    an interrupted run and an uninterrupted one draw the same numbers), and no `model.train()`: like many
    scripts, the checks' loop sets training mode once, before its first epoch."""
    torch.manual_seed(1000 * seed + epoch)
    for inputs, targets in classification_loader(1000 * seed + epoch, batches=3, batch_size=8):
        optimizer.zero_grad()
        loss = pristine.cross_entropy(model(inputs), targets)
        pristine.backward(loss)
        optimizer.step()


def _path() -> str:
    return os.path.join(tempfile.mkdtemp(prefix="ex11-"), "checkpoint.pt")


def _tensors(model) -> dict:
    """The model's parameters and buffers by name (its state_dict's entries), read from its own dictionaries."""
    found = {}
    for owner, module in pristine.named_modules(model):
        for kind in ("_parameters", "_buffers"):
            for name, value in vars(module)[kind].items():
                if value is not None:
                    found[f"{owner}.{name}" if owner else name] = value
    return found


def _snapshot(model) -> dict:
    return {name: pristine.clone(pristine.detach(t)) for name, t in _tensors(model).items()}


def _same(a, b) -> bool:
    return (pristine.is_tensor(a) and pristine.is_tensor(b) and pristine.shape(a) == pristine.shape(b)
            and pristine.dtype(a) == pristine.dtype(b) and pristine.device(b).type == pristine.device(a).type
            and pristine.equal(a, pristine.detach(b)))


def _model_differences(saved: dict, model) -> list[str]:
    """The names of the model's tensors whose values differ from the saved model's."""
    now = _tensors(model)
    return [name for name, value in saved.items() if name not in now or not _same(value, now[name])]


def _eval_layers(model) -> list[str]:
    """The layers (by name, the model itself as "model") in evaluation mode."""
    return [_layer(name, m) for name, m in pristine.named_modules(model) if not pristine.training(m)]


def _train_layers(model) -> list[str]:
    return [_layer(name, m) for name, m in pristine.named_modules(model) if pristine.training(m)]


def _layer(name: str, module) -> str:
    """A layer as a message names it: `1 (BatchNorm1d)`, and the model itself as `model (Sequential)`."""
    return f"{name or 'model'} ({type(module).__name__})"


def _optimizer_params(optimizer) -> list:
    return [p for group in vars(optimizer)["param_groups"] for p in group["params"]]


def _optimizer_state(optimizer) -> list[dict]:
    """Per parameter, in the optimizer's order, its state entries (momentum buffer, Adam's moments and step)."""
    state = vars(optimizer)["state"]
    return [{key: pristine.clone(pristine.detach(v)) if pristine.is_tensor(v) else v
             for key, v in state.get(p, {}).items()} for p in _optimizer_params(optimizer)]


def _differs(want: dict, got: dict) -> bool:
    """Whether one parameter's optimizer state after loading differs from the saved one."""
    if sorted(want) != sorted(got):
        return True
    for key, value in want.items():
        other = got[key]
        if pristine.is_tensor(value) != pristine.is_tensor(other):
            return True
        if pristine.is_tensor(value) and not _same(value, other):
            return True
        if not pristine.is_tensor(value) and value != other:
            return True
    return False


def _optimizer_differences(saved: list[dict], optimizer) -> dict:
    """How the optimizer's state after loading compares with the saved optimizer's, parameter by parameter:
    how many have none (the state was lost) and how many have other values."""
    now = _optimizer_state(optimizer)
    empty = sum(1 for want, got in zip(saved, now) if want and not got)
    differ = sum(1 for want, got in zip(saved, now) if got and _differs(want, got))
    return {"params": len(saved), "empty": empty, "differ": differ, "keys": sorted({k for s in saved for k in s})}


def _error(exc: BaseException, module, stage: str) -> dict:
    """The student's exception as facts, with the two refusals of `torch.load` a check explains in its own words."""
    facts = describe_error(exc, module)
    message = str(facts.get("message", ""))
    return {"error": facts, "stage": stage, "first_line": message.strip().splitlines()[0][:300] if message.strip() else "",
            "weights_only": "Weights only load failed" in message,
            "cuda": "Attempting to deserialize object on a CUDA device" in message}


def _trained(kind: str, seed: int, epochs: int = 1):
    model = _model(seed)
    optimizer = _optimizer(kind, model)
    pristine.set_training(model, True)
    for epoch in range(epochs):
        _train_epoch(model, optimizer, seed, epoch)
    return model, optimizer


def resume(module, seed: int, optimizer: str) -> dict:
    """Train FIRST_RUN epochs saving after each, 'crash', build a fresh model and optimizer (other initial
    weights), load, and train the remaining epochs from the epoch load_checkpoint returns."""
    path = _path()
    model = _model(seed)
    opt = _optimizer(optimizer, model)
    pristine.set_training(model, True)  # the checks' loop calls model.train() once, before its first epoch
    epochs = []
    for epoch in range(FIRST_RUN):
        epochs.append({"epoch": epoch, "run": "first", "eval_layers": _eval_layers(model)})
        _train_epoch(model, opt, seed, epoch)
        try:
            module.save_checkpoint(path, model, opt, epoch)
        except Exception as exc:  # noqa: BLE001 - the student's error is a finding
            return _error(exc, module, "save")
    saved, saved_state = _snapshot(model), _optimizer_state(opt)
    if not os.path.isfile(path):
        return {"error": None, "file_written": False}
    fresh = _model(seed + 1)  # the restarted script builds its model and optimizer anew
    fresh_opt = _optimizer(optimizer, fresh)
    try:
        start = module.load_checkpoint(path, fresh, fresh_opt, CPU)
    except Exception as exc:  # noqa: BLE001
        return _error(exc, module, "load")
    held = {id(p) for p in _optimizer_params(fresh_opt)}
    run = {
        "error": None, "file_written": True, "returned": describe(start),
        "model_differs": _model_differences(saved, fresh), "model_tensors": len(saved),
        "optimizer": _optimizer_differences(saved_state, fresh_opt),
        "detached": sum(1 for p in pristine.parameters(fresh) if id(p) not in held),
        "params": len(list(pristine.parameters(fresh))),
    }
    if type(start) is int and 0 <= start <= TOTAL:
        for epoch in range(start, TOTAL):
            epochs.append({"epoch": epoch, "run": "resumed", "eval_layers": _eval_layers(fresh)})
            try:
                _train_epoch(fresh, fresh_opt, seed, epoch)
            except Exception as exc:  # noqa: BLE001 - what the restored model and optimizer did in the loop
                run.update(training_error=describe_error(exc, module), failed_epoch=epoch)
                break
    run.update(epochs=epochs, final=[pristine.clone(pristine.detach(p)) for p in pristine.parameters(fresh)],
               names=[name for name, _ in pristine.named_parameters(fresh)])
    return run


def uninterrupted(module, seed: int, optimizer: str) -> dict:
    """The same TOTAL epochs trained in one go (for the reference side: the student's module is not used)."""
    model, _ = _trained(optimizer, seed, epochs=TOTAL)
    return {"final": [pristine.clone(pristine.detach(p)) for p in pristine.parameters(model)]}


def _object_kind(value) -> str | None:
    if isinstance(value, torch.nn.Module):
        return "module"
    if isinstance(value, torch.optim.Optimizer):
        return "optimizer"
    return None


def _file_facts(path: str) -> dict:
    """What a checkpoint file holds: does it load with `torch.load(path, weights_only=True)`? If not, which
    entries are pickled objects (a whole nn.Module or optimizer), or which class was refused."""
    if not os.path.isfile(path):
        return {"exists": False}
    try:
        torch_load(path, map_location=CPU, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the file's own problem, said in the check's words
        objects = []
        try:
            content = torch_load(path, map_location=CPU, weights_only=False)
        except Exception:  # noqa: BLE001
            content = None
        for key, value in content.items() if isinstance(content, dict) else [("", content)]:
            kind = _object_kind(value)
            if kind:
                objects.append({"key": str(key), "type": type(value).__name__, "kind": kind})
        return {"exists": True, "weights_only": False, "objects": objects, "unsupported": _unsupported(str(exc))}
    return {"exists": True, "weights_only": True}


def saved(module, seed: int, epochs: list[int]) -> dict:
    """One trained model saved twice: after epochs[0] while in training mode (what the file holds, the mode
    afterwards), and after epochs[1] while in evaluation mode (as after a validation pass). Each file is then
    loaded into a freshly built model (in training mode, as every new model is): what load_checkpoint
    returned, and the mode of the first model afterwards. `stage` says where an error stopped the probe."""
    first, second = _path(), _path()
    model, opt = _trained("sgd", seed)
    found = {"error": None, "returned": []}
    stage = "save"
    try:
        module.save_checkpoint(first, model, opt, epochs[0])
        found["save_train"] = _eval_layers(model)
        found["file"] = _file_facts(first)
        pristine.set_training(model, False)
        module.save_checkpoint(second, model, opt, epochs[1])
        found["save_eval"] = _train_layers(model)
        stage = "load"
        for number, path in enumerate((first, second)):
            fresh = _model(seed + 1)
            pristine.set_training(fresh, True)
            returned = module.load_checkpoint(path, fresh, _optimizer("sgd", fresh), CPU)
            found["returned"].append(describe(returned))
            if number == 0:
                found["load"] = _eval_layers(fresh)
    except Exception as exc:  # noqa: BLE001 - the student's error is a finding
        found.update(_error(exc, module, stage))
    return found


def _unsupported(message: str) -> str:
    """The class `torch.load(weights_only=True)` refused, from its message ("Unsupported global: GLOBAL x.y")."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", message)
    return found.group(1) if found else ""


@contextlib.contextmanager
def _saved_on_gpu():
    """torch.save names every storage `cuda:0`, as it does on a machine where the tensors are on the GPU."""
    real = serialization.location_tag
    serialization.location_tag = lambda storage: "cuda:0"
    try:
        yield
    finally:
        serialization.location_tag = real


@before_import(lambda **_: simulated_cuda(False))
def gpu_checkpoint(module, seed: int) -> dict:
    """A checkpoint saved on a GPU machine, loaded on a machine without a GPU (device: cpu)."""
    path = _path()
    model, opt = _trained("sgd", seed)
    try:
        with _saved_on_gpu():
            module.save_checkpoint(path, model, opt, 0)
    except Exception as exc:  # noqa: BLE001
        return _error(exc, module, "save")
    saved = _snapshot(model)
    fresh = _model(seed + 1)
    try:
        module.load_checkpoint(path, fresh, _optimizer("sgd", fresh), CPU)
    except Exception as exc:  # noqa: BLE001
        return _error(exc, module, "load")
    return {"error": None, "model_differs": _model_differences(saved, fresh)}


@contextlib.contextmanager
def _meta_copies():
    """On the stand-in GPU, copying a meta tensor into a CPU one (`load_state_dict` of a checkpoint mapped
    to the device, into a model still on the CPU) gives placeholders, as a real GPU-to-CPU copy gives values."""
    tensor = pristine.Tensor
    before = vars(tensor).get("copy_")

    def copy_(self, src, non_blocking=False):
        if pristine.is_tensor(src) and pristine.is_meta(src) and not pristine.is_meta(self):
            src = pristine.VF.zeros(pristine.shape(src), dtype=pristine.dtype(src))
        return _copy(self, src, non_blocking)

    tensor.copy_ = copy_
    try:
        yield
    finally:
        if before is None:
            del tensor.copy_
        else:
            tensor.copy_ = before


def on_device(module, device: str, seed: int) -> dict:
    """load_checkpoint(path, model, optimizer, device) with a fresh model and optimizer built on the CPU:
    where the model's tensors and the optimizer's state tensors are afterwards."""
    path = _path()
    model, opt = _trained("sgd", seed)
    try:
        module.save_checkpoint(path, model, opt, 0)
    except Exception as exc:  # noqa: BLE001
        return _error(exc, module, "save")
    fresh = _model(seed + 1)
    fresh_opt = _optimizer("sgd", fresh)
    target = torch.device(device)
    stand_in = device == "meta"
    with StandInGPU() if stand_in else contextlib.nullcontext(), _meta_copies() if stand_in else contextlib.nullcontext():
        try:
            module.load_checkpoint(path, fresh, fresh_opt, target)
        except Exception as exc:  # noqa: BLE001
            return _error(exc, module, "load")
    model_on = sorted({pristine.device(t).type for t in _tensors(fresh).values()})
    state = vars(fresh_opt)["state"]
    tensors = elsewhere = 0
    where = set()
    for p in _optimizer_params(fresh_opt):
        for key, value in state.get(p, {}).items():
            if key == "step" or not pristine.is_tensor(value):  # Adam's step count stays on the CPU by design
                continue
            tensors += 1
            if pristine.device(value).type != pristine.device(p).type:
                elsewhere += 1
                where.add(pristine.device(value).type)
    return {"error": None, "model_on": model_on, "state_tensors": tensors, "elsewhere": elsewhere,
            "state_on": sorted(where), "params_on": sorted({pristine.device(p).type for p in _optimizer_params(fresh_opt)})}
