"""Probes for exercise 9. Each runs the student's (or the reference's) functions on seeded tensors
inside a sandboxed worker and records, as plain data, what came back and what autograd did:

- `hand`: grad_by_hand on tensors of several shapes, autograd's gradients of the same graph
  e = (a + b) * (b + 1), and how many backward passes the autograd engine ran during the call;
- `forward`: clipped_relu's results, whether the input was changed, and which autograd.Function
  nodes the result's graph holds;
- `backward`: gradients with an upstream gradient of ones and with a random one, whether the input
  or the upstream gradient was changed, what happens when the input is changed in place after the
  forward pass, whether the output outlives its last reference, and `torch.autograd.gradcheck` on
  float64 inputs.

Gradient inputs stay at least MARGIN away from the kinks of clamp (0 and the limit), where the
derivative is not defined. What a probe measures itself goes through `grader.checks.pristine`
(PyTorch's own functions, bound before the student's module is imported), and the names below are
bound here for the same reason."""

import contextlib
import gc
import weakref
from builtins import bool, enumerate, getattr, isinstance, len, list, str, type  # noqa: A004 - bound before the student's import

import torch
from torch.autograd.function import BackwardCFunction
from torch.autograd.gradcheck import GradcheckError, gradcheck
from torch.autograd.variable import Variable

from grader.checks import pristine
from grader.checks.observe import describe, describe_error

VF = torch._C._VariableFunctions
_T = torch._C.TensorBase
_add, _mul, _sum, _ones_like, _rand, _randperm = VF.add, VF.mul, VF.sum, VF.ones_like, VF.rand, VF.randperm
_mul_, _view, _to, _where, _eq = _T.mul_, _T.view, _T.to, VF.where, VF.eq
_collect, _gc_disable, _gc_enable = gc.collect, gc.disable, gc.enable

MARGIN = 0.05  # how far gradient inputs stay from 0 and from the limit
HAND_CASES = [((5,), torch.float32), ((3, 4), torch.float32), ((), torch.float32), ((2, 3), torch.float64)]
FORWARD_CASES = [((6,), torch.float32, 1.0), ((3, 4), torch.float32, 6.0), ((2, 3, 4), torch.float32, 0.5),
                 ((5,), torch.float64, 2.0)]
LIMITS = [1.0, 1.5, 2.5]
BACKWARD_SHAPE, GRADCHECK_SHAPE = (4, 6), (3, 5)


def _copy(t):
    """A plain, detached copy of a tensor the student's code gave or touched."""
    with pristine.unmodified():
        return _T.clone(_T.detach(t))


def _leaf(t):
    """A fresh leaf tensor holding t's values, requiring gradients."""
    return pristine.requires_grad_(_copy(t), True)


def _away_from_kinks(gen, shape, limit: float, dtype):
    """Values below 0, between 0 and `limit`, and above `limit` (a third each), none within MARGIN of a kink."""
    n = 1
    for size in shape:
        n *= size
    with pristine.unmodified():
        region = _to(VF.remainder(_randperm(n, generator=gen), 3), dtype)  # 0, 1 or 2, shuffled
        u = _rand(n, generator=gen, dtype=dtype)
        # region 0: [-limit, -MARGIN]; 1: [MARGIN, limit - MARGIN]; 2: [limit + MARGIN, 2 limit]
        low = _where(_eq(region, 0), -limit, _where(_eq(region, 1), MARGIN, limit + MARGIN))
        width = _where(_eq(region, 1), limit - 2 * MARGIN, limit - MARGIN)
        return _view(_add(low, _mul(u, width)), shape)


def _random_upstream(gen, shape, dtype):
    """An upstream gradient far from all ones: values of both signs, 0.2 to 3 in size."""
    with pristine.unmodified():
        size = _add(_mul(_rand(shape, generator=gen, dtype=dtype), 2.8), 0.2)
        sign = _add(_mul(VF.floor(_mul(_rand(shape, generator=gen, dtype=dtype), 2)), 2), -1)
        return _mul(size, sign)


class _CountingEngine:
    """Stands in for autograd's engine and counts the backward passes run through it: every
    `backward()`, `torch.autograd.grad` and `torch.func` transform ends in `run_backward`."""

    def __init__(self, engine):
        self.engine, self.calls = engine, 0

    def run_backward(self, *args, **kwargs):
        self.calls += 1
        return self.engine.run_backward(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


@contextlib.contextmanager
def _counting_backward():
    engine = Variable._execution_engine
    spy = _CountingEngine(engine)
    Variable._execution_engine = spy
    try:
        yield spy
    finally:
        Variable._execution_engine = engine


def _functions(output) -> dict:
    """The autograd.Function classes whose backward nodes the graph of `output` holds (a few levels
    deep), and the name of the output's own grad_fn."""
    top = pristine.grad_fn(output)
    found, seen, queue = [], 0, [top] if top is not None else []
    while queue and seen < 50:
        node = queue.pop(0)
        seen += 1
        if isinstance(node, BackwardCFunction):
            found.append(getattr(getattr(node, "_forward_cls", None), "__name__", type(node).__name__))
        queue.extend(n for n, _ in node.next_functions if n is not None)
    return {"functions": found, "top": type(top).__name__ if top is not None else None}


def hand(module, seed: int) -> dict:
    """grad_by_hand on float tensors of several shapes, next to autograd's gradients of the same graph."""
    cases = []
    for number, (shape, dtype) in enumerate(HAND_CASES):
        gen = torch.Generator().manual_seed(seed * 10 + number)
        with pristine.unmodified():
            a = _mul(VF.randn(shape, generator=gen, dtype=dtype), 2.0)
            b = _mul(VF.randn(shape, generator=gen, dtype=dtype), 2.0)
        case = {"shape": list(shape), "dtype": str(dtype), "a": _copy(a), "b": _copy(b), "error": None}
        cases.append(case)
        with _counting_backward() as engine:
            try:
                returned = module.grad_by_hand(a, b)
            except Exception as exc:  # noqa: BLE001 - the student's error is a finding
                case["error"] = describe_error(exc, module)
        case["backward_calls"] = engine.calls
        if case["error"]:
            break
        case["returned"] = describe(returned)
        pair = returned if isinstance(returned, (tuple, list)) and len(returned) == 2 else (None, None)
        case["de_da"], case["de_db"] = (_copy(t) if pristine.is_tensor(t) else None for t in pair)
        # autograd's answer, on fresh leaves with the same values
        a2, b2 = _leaf(case["a"]), _leaf(case["b"])
        with pristine.unmodified():
            e = _mul(_add(a2, b2), _add(b2, 1))
            de_da, de_db = pristine.autograd_grad(_sum(e), (a2, b2))
        case["want_da"], case["want_db"] = _copy(de_da), _copy(de_db)
    return {"cases": cases}


def forward(module, seed: int) -> dict:
    """clipped_relu on inputs that require gradients, kinks included (0 and the limit themselves)."""
    cases = []
    for number, (shape, dtype, limit) in enumerate(FORWARD_CASES):
        gen = torch.Generator().manual_seed(seed * 10 + number)
        with pristine.unmodified():
            x = _add(_mul(VF.randn(shape, generator=gen, dtype=dtype), 1.2 * limit), limit / 2)
            flat = _view(x, -1)
            pristine.set_item(flat, 0, 0.0)
            pristine.set_item(flat, 1, limit)
        x = pristine.requires_grad_(x, True)
        before = _copy(x)
        case = {"shape": list(shape), "dtype": str(dtype), "limit": limit, "x": before, "error": None}
        cases.append(case)
        try:
            out = module.clipped_relu(x, limit)
        except Exception as exc:  # noqa: BLE001
            case["error"] = describe_error(exc, module)
            break
        case["returned"] = describe(out)
        case["out"] = _copy(out) if pristine.is_tensor(out) else None
        case["input_changed"] = not pristine.equal(pristine.detach(x), before)
        case.update(_functions(out) if pristine.is_tensor(out) else {"functions": [], "top": None})
    return {"cases": cases}


def _gradient(module, x0, upstream, limit: float) -> dict:
    """x.grad after clipped_relu(x, limit).backward(upstream), x a fresh leaf holding x0."""
    x = _leaf(x0)
    up = _copy(upstream)
    try:
        y = module.clipped_relu(x, limit)
    except Exception as exc:  # noqa: BLE001
        return {"stage": "forward", "error": describe_error(exc, module)}
    facts = {"stage": "forward", "error": None, "returned": describe(y), "x_after": _copy(x),
             "x_changed": not pristine.equal(pristine.detach(x), x0)}
    if not pristine.is_tensor(y) or list(pristine.shape(y)) != list(pristine.shape(x0)):
        return facts
    facts.update(_functions(y))
    try:
        pristine.backward(y, up)
    except Exception as exc:  # noqa: BLE001
        facts.update(stage="backward", error=describe_error(exc, module))
        return facts
    grad = pristine.grad(x)
    facts.update(stage="done", grad=_copy(grad) if grad is not None else None, upstream_after=_copy(up),
                 upstream_changed=not pristine.equal(up, upstream))
    return facts


def _gradient_after_in_place(module, x0, upstream, limit: float) -> dict:
    """The gradient reaching w when x = w * 1 goes through clipped_relu and x is then negated in place,
    before backward: a tensor saved with save_for_backward makes autograd refuse; a copy kept by
    forward gives the gradient at the old values; a reference kept on ctx sees the new ones."""
    w = _leaf(x0)
    with pristine.unmodified():
        x = _mul(w, 1.0)
    try:
        y = module.clipped_relu(x, limit)
    except Exception as exc:  # noqa: BLE001
        return {"stage": "forward", "error": describe_error(exc, module)}
    if not pristine.is_tensor(y) or pristine.grad_fn(y) is None:
        return {"stage": "forward", "error": None}
    with pristine.unmodified(), pristine.no_grad():
        _mul_(x, -1.0)
    try:
        pristine.backward(y, _copy(upstream))
    except RuntimeError as exc:
        if "modified by an inplace operation" in str(exc):
            return {"stage": "done", "error": None, "refused": True}
        return {"stage": "backward", "error": describe_error(exc, module)}
    except Exception as exc:  # noqa: BLE001
        return {"stage": "backward", "error": describe_error(exc, module)}
    grad = pristine.grad(w)
    return {"stage": "done", "error": None, "refused": False, "grad": _copy(grad) if grad is not None else None}


def _output_kept(module, x0, limit: float) -> dict:
    """Whether clipped_relu's result stays in memory once the caller drops it (before the garbage
    collector runs): storing the output on ctx makes a reference cycle output -> grad_fn -> ctx -> output."""
    x = _leaf(x0)
    _gc_disable()
    try:
        try:
            y = module.clipped_relu(x, limit)
        except Exception as exc:  # noqa: BLE001
            return {"error": describe_error(exc, module), "kept": False}
        if not pristine.is_tensor(y):
            return {"error": None, "kept": False}
        ref = weakref.ref(y)
        del y
        return {"error": None, "kept": ref() is not None}
    finally:
        _gc_enable()
        _collect()


def _gradcheck(module, gen, limit: float) -> dict:
    """torch.autograd.gradcheck of clipped_relu on float64 inputs away from the kinks, and the gradient
    under a random upstream gradient on the same inputs (to say where a failing backward goes wrong)."""
    x0 = _away_from_kinks(gen, GRADCHECK_SHAPE, limit, torch.float64)
    upstream = _random_upstream(gen, GRADCHECK_SHAPE, torch.float64)
    facts = {"x": x0, "upstream": upstream, "passed": False, "error": None, "message": ""}
    try:
        facts["passed"] = bool(gradcheck(lambda t: module.clipped_relu(t, limit), (_leaf(x0),), eps=1e-6, atol=1e-5))
    except GradcheckError as exc:
        facts["message"] = str(exc).strip().splitlines()[0][:300].rstrip(",.:; ")
    except Exception as exc:  # noqa: BLE001
        facts["error"] = describe_error(exc, module)
    facts["gradient"] = _gradient(module, x0, upstream, limit)
    return facts


def backward(module, seed: int) -> dict:
    """clipped_relu's backward seen from outside: with upstream gradients of ones and random ones, after
    an in-place change of its input, the lifetime of its output, and gradcheck."""
    limit = LIMITS[seed % len(LIMITS)]
    gen = torch.Generator().manual_seed(seed)
    x0 = _away_from_kinks(gen, BACKWARD_SHAPE, limit, torch.float32)
    upstream = _random_upstream(gen, BACKWARD_SHAPE, torch.float32)
    with pristine.unmodified():
        ones = _ones_like(x0)
    return {
        "limit": limit, "x": x0, "upstream": upstream,
        "ones": _gradient(module, x0, ones, limit),
        "random": _gradient(module, x0, upstream, limit),
        "in_place_after": _gradient_after_in_place(module, x0, upstream, limit),
        "output_kept": _output_kept(module, x0, limit),
        "gradcheck": _gradcheck(module, gen, limit),
    }
