"""Probes for exercise 5. `amp_steps` runs three of the student's mixed-precision steps on a small
model with an SGD optimizer (Adam hardly notices a gradient's scale, SGD does) and records, at every
step: whether autocast was on for the device type during the forward pass and what precision the
layers computed in, the parameters' dtype, the gradient that reached the loss from backward (the
scale factor when the scaled loss was used), what `.grad` held when the optimizer stepped compared
with the fresh gradient, and the scaler's scale after the step. Step 2 gets a non-finite gradient
injected: a scaler step skips the update and the scale drops.

`device` is the device type: "cpu" (bfloat16 autocast) or "cuda" (float16, on a real GPU).

Everything the probe measures or compares itself (a gradient, the scale, whether weights changed) goes
through `grader.checks.pristine`, PyTorch's own functions bound before the student's module is imported,
so reassigning `torch.allclose`, `torch.isfinite`, `torch.Tensor.item`, `GradScaler.get_scale` or
`Tensor.register_hook` changes nothing recorded."""

from builtins import all, any, bool, enumerate, float, isinstance, len, list, range, sorted, str, vars, zip  # noqa: A004

import torch
from torch import nn
from torch.amp import GradScaler
from torch.nn import Linear, ReLU, Sequential
from torch.optim import SGD

from grader.checks import pristine
from grader.checks.devices import AutocastSpy, api_name, autocast_enabled
from grader.checks.observe import describe, describe_error
from grader.checks.spies import ModelWatch, gradient_verdict

STEPS, INF_STEP, INIT_SCALE = 3, 2, 2.0**8  # steps 1 and 2 clean (a gradient left over shows at 2), then inf
LOW_PRECISION = {"cpu": "torch.bfloat16", "cuda": "torch.float16"}


def _model(seed: int, device: str) -> nn.Sequential:
    torch.manual_seed(seed)
    return Sequential(Linear(16, 32), ReLU(), Linear(32, 3)).to(device)


def _batches(seed: int, device: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed + 1)
    return [(torch.randn(8, 16, generator=g, device="cpu").to(device),
             torch.randint(0, 3, (8,), generator=g, device="cpu").to(device)) for _ in range(STEPS)]


class RecordingLoss(nn.CrossEntropyLoss):
    """CrossEntropyLoss that notes its value, whether autocast was on, and the gradient backward sent it."""

    def __init__(self, device: str):
        super().__init__()
        self.device = device
        self.seen: list[dict] = []

    def forward(self, outputs, targets):
        loss = pristine.cross_entropy(outputs, targets)  # nn.CrossEntropyLoss()'s, whatever F.cross_entropy is now
        record = {"value": pristine.number(pristine.to_float(pristine.detach(loss))),
                  "autocast": autocast_enabled(self.device), "grad_in": None}
        self.seen.append(record)
        if pristine.requires_grad(loss):
            pristine.register_hook(loss, lambda g: record.__setitem__("grad_in", pristine.number(pristine.to_float(g))))
        return loss


def _verdict(grad: torch.Tensor | None, raw: torch.Tensor | None, scale: float) -> str:
    """What `.grad` held at the optimizer step, against the fresh gradient `raw` that backward produced
    and the factor `scale` the loss was multiplied by before backward: 'unscaled' (raw / scale, as it should be), 'clipped' (that,
    clipped by norm or by value), 'scaled' (raw itself: nobody unscaled it), 'non-finite', or 'stale'."""
    if raw is None:
        return "no-backward"
    if grad is None:
        return "cleared"
    vf = pristine.VF
    if not pristine.item(vf.all(vf.isfinite(grad))):
        return "non-finite"
    grad, raw = pristine.to_float(grad), pristine.to_float(raw)
    expected = vf.mul(raw, 1.0 / scale)
    if pristine.allclose(grad, expected, rtol=1e-3, atol=1e-7):
        return "unscaled"
    if scale != 1.0 and pristine.allclose(grad, raw, rtol=1e-3, atol=1e-7):
        return "scaled"
    # Clipping (by norm or by value) after unscale_: the unscaled gradient, scaled down or capped.
    return {"fresh": "unscaled", "scaled": "clipped"}.get(gradient_verdict(grad, expected), "stale")


def amp_steps(module, device: str, seed: int) -> dict:
    model = _model(seed, device)
    params = list(pristine.parameters(model))  # no gradients yet: each step must leave none for the next
    optimizer = SGD(params, lr=0.05)
    scaler = GradScaler(device, init_scale=INIT_SCALE)
    loss_fn = RecordingLoss(device)
    watch = ModelWatch(model)
    # The precision the first layer computed in, noted on the forward pass it belongs to.
    pristine.register_forward_hook(vars(model)["_modules"]["0"], lambda m, args, out: watch.calls[-1].__setitem__(
        "computed_in", str(pristine.dtype(out))) if watch.calls else None)

    latest: dict[int, torch.Tensor] = {}
    inject = [False]

    def remember(index: int):
        def hook(grad):
            if inject[0] and index == 0:
                grad = pristine.clone(grad)
                pristine.set_item(pristine.view(grad, -1), 0, float("inf"))
            latest[index] = pristine.clone(pristine.detach(grad))
            return grad
        return hook

    for index, p in enumerate(params):
        pristine.register_hook(p, remember(index))

    steps: list[dict] = []

    def step_pre_hook(opt, args, kwargs):
        # The factor backward actually ran with: what reached the loss (1.0 for an unscaled backward).
        applied = loss_fn.seen[-1]["grad_in"] if loss_fn.seen and loss_fn.seen[-1]["grad_in"] else 1.0
        scale = float(applied)
        verdicts = [_verdict(pristine.grad(p), latest.get(i), scale) for i, p in enumerate(params)]
        steps[-1]["optimizer_calls"] += 1
        for bad in ("non-finite", "stale", "scaled", "cleared", "no-backward", "clipped", "unscaled"):
            if bad in verdicts:
                steps[-1]["optimizer_step"] = bad
                break
        return None

    pristine.register_step_pre_hook(optimizer, step_pre_hook)
    error = None
    batches = _batches(seed, device)  # made before any mode is active
    with AutocastSpy() as spy, watch:
        for number, (inputs, targets) in enumerate(batches):
            inject[0] = number == INF_STEP
            latest.clear()
            before = [pristine.clone(pristine.detach(p)) for p in params]
            scale_before = pristine.scale_of(scaler)
            steps.append({"optimizer_step": None, "optimizer_calls": 0, "scale_before": scale_before,
                          "injected": inject[0]})
            try:
                returned = module.train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device)
            except Exception as exc:  # noqa: BLE001 - the student's error is a finding
                error = describe_error(exc, module)
                steps[-1]["error"] = True
                break
            steps[-1].update(
                returned=describe(returned), scale_after=pristine.scale_of(scaler),
                weights_changed=any(not pristine.equal(a, pristine.detach(p)) for a, p in zip(before, params)),
                weights_finite=all(bool(pristine.item(pristine.VF.all(pristine.isfinite(p)))) for p in params),
            )
    return {
        "error": error, "steps": steps, "forwards": watch.calls, "losses": loss_fn.seen, "autocast_regions": spy.entered,
        "param_dtypes_after": sorted({str(pristine.dtype(p)) for p in params}), "low_precision": LOW_PRECISION[device],
    }


def make_scaler(module) -> dict:
    """make_scaler("cpu") and make_scaler("cuda"): the device each scaler is for, and whether it is on."""
    answers = {}
    for device_type in ("cpu", "cuda"):
        try:
            scaler = module.make_scaler(device_type)
        except Exception as exc:  # noqa: BLE001
            answers[device_type] = {"error": describe_error(exc, module)}
            continue
        facts = {"type": type(scaler).__name__, "api": api_name(scaler),
                 "is_scaler": isinstance(scaler, GradScaler)}
        if facts["is_scaler"]:  # the scaler's own state, not its (reassignable) methods
            state = vars(scaler)
            facts.update(device=str(state.get("_device", "cuda")), enabled=bool(state.get("_enabled", True)))
        answers[device_type] = facts
    return answers


def _peak_step(step, device: str) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = torch.cuda.memory_allocated()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - start


def amp_memory(module, device: str, seed: int) -> dict:
    """On a GPU: peak memory of one float32 step (the grader's own) against one step of the student's
    AMP code, on a model whose activations dominate its memory (a large batch through narrow layers)."""
    torch.manual_seed(seed)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(512, 512), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(512, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    inputs = torch.randn(16384, 512, device=device)
    targets = torch.randint(0, 10, (16384,), device=device)

    def float32_step():
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()

    float32_step()  # warm-up: gradients exist from here on, as in real training
    float32 = _peak_step(float32_step, device)
    scaler = torch.amp.GradScaler(device)
    try:
        module.train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device)  # warm-up
        amp = _peak_step(lambda: module.train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device), device)
    except Exception as exc:  # noqa: BLE001
        return {"error": describe_error(exc, module), "float32_mib": float32 / 2**20}
    return {"error": None, "float32_mib": float32 / 2**20, "amp_mib": amp / 2**20}
