"""Checks for exercise 5. Mixed precision is graded for real on the CPU (bfloat16 autocast and
`torch.amp.GradScaler("cpu")`), and on the GPU with float16 as well when there is one. The probe runs
three steps of the student's code and injects a non-finite gradient into the third, which is what
the scaler exists to survive. One more check only runs on a GPU: AMP must lower peak memory there."""

import math

import probes

from grader.checks import expect, fail
from grader.checks.devices import on_devices
from grader.checks.observe import close, said, said_error

SEED = 5


def _run(student, device):
    return student.run(probes.amp_steps, device=device, seed=SEED)


# PyTorch's GradScaler refuses a step whose parts come out of order, and each refusal follows from one
# habit: the check that names it explains the error, and the others say they could not see their own.
SCALER_REFUSALS = {
    "did not use scaler.scale": "scaled-backward",
    "_scale is None": "scaled-backward",
    "No inf checks were recorded": "scaler-step",
    "has already been called since the last update": "scaler-update",
}


def _owner(error: dict) -> str | None:
    """The check whose habit a scaler's refusal (an exception) comes from."""
    return next((check for text, check in SCALER_REFUSALS.items() if text in error.get("message", "")), None)


def _observed(run, items, what: str, missing: str, check: str):
    """What the check needs to judge (`items`); if the student's code raised before producing any, the
    check fails and says it could not see `what` (it never passes unobserved), pointing at the check that
    explains the error when it is another check's habit."""
    if items:
        return items
    if run["error"]:
        owner = _owner(run["error"])
        fail(f"This check could not see {what}: train_step_amp {said_error(run['error'])}.",
             because_of=owner if owner != check else None)
    fail(missing)


def _done(run, check: str):
    return _observed(run, [s for s in run["steps"] if "returned" in s], "a finished step",
                     "train_step_amp did not finish a step.", check)


def _regions(run) -> str:
    regions = run["autocast_regions"]
    if not regions:
        return "Your code never entered an autocast region."
    asked = ", ".join(sorted({f"`{r.get('api', 'torch.autocast')}` with device_type='{r['device_type']}'"
                              + ("" if r["enabled"] else " (disabled)") for r in regions}))
    only = {r["api"] for r in regions if r.get("api", "").startswith(("torch.cuda.amp", "torch.cpu.amp"))}
    older = (f" `{sorted(only)[0]}` is the older API for one device type only (PyTorch deprecates it); "
             "`torch.autocast(device_type=...)` works for every device.") if only else ""
    return f"Your code entered {asked}.{older}"


def test_scaler_device(student):
    run = student.run(probes.make_scaler)
    for device_type, answer in run.items():
        if "error" in answer:
            fail(f"make_scaler({device_type!r}) {said_error(answer['error'])}.")
        expect(answer["is_scaler"], f"make_scaler({device_type!r}) returned a {answer['type']}, not a "
                                    "`torch.amp.GradScaler`.",
               what_to_try="`return torch.amp.GradScaler(device_type)`.")
        if answer["device"] != device_type:
            made = f"a `{answer.get('api', 'torch.amp.GradScaler')}` for `{answer['device']}`"
            if answer.get("api") == "torch.cuda.amp.GradScaler":
                why = (" That older class always makes a CUDA scaler, whatever the device (PyTorch deprecates it for "
                       "`torch.amp.GradScaler(device)`)")
            else:
                why = " A `torch.amp.GradScaler` works on one device type, and CUDA is the one it takes when none is given"
            if answer["device"] == "cuda" and device_type == "cpu":
                why += ": on a machine without a GPU it switches itself off with a warning, and scaling silently never happens."
            else:
                why += "."
            fail(f"make_scaler({device_type!r}) returned {made}.{why}",
                 what_to_try="Pass the device type on: `torch.amp.GradScaler(device_type)`.")
    expect(run["cpu"]["enabled"], "make_scaler('cpu') returned a scaler that is switched off (`enabled=False`), so "
                                  "it does nothing.", what_to_try="`return torch.amp.GradScaler(device_type)`.")


@on_devices("cpu", "cuda")
def test_autocast_forward(student, device):
    run = _run(student, device)
    forwards = _observed(run, run["forwards"], "a forward pass", "train_step_amp never called the model.",
                         "autocast-forward")
    low = run["low_precision"]
    off = [f for f in forwards if not f["autocast"][device]]
    if off:
        fail(f"Autocast was off for `{device}` during {len(off)} of {len(forwards)} forward passes, so every layer "
             f"computed in float32 and nothing was gained. {_regions(run)} The inputs and the model were on "
             f"`{device}`, and an autocast region only acts on the device type it is given.",
             what_to_try="Wrap the forward pass and the loss in `with torch.autocast(device_type=device_type):`, "
                         "using the `device_type` argument, not a fixed string.")
    lower = [f for f in forwards if f.get("computed_in") not in (low,)]
    if lower:
        computed = lower[0].get("computed_in")
        asked = sorted({r["dtype"] for r in run["autocast_regions"] if r["device_type"] == device and r["enabled"]
                        and r["dtype"] != low})
        why = (f" Your autocast region asks for `dtype={asked[0]}`; on `{device}` autocast's own choice is {low}."
               if asked else f" On `{device}`, autocast's low precision is {low}.")
        fail(f"Under autocast the first linear layer computed in {computed}, not in {low}.{why}",
             what_to_try="Leave `dtype` out, so that each device gets autocast's default precision: "
                         "`torch.autocast(device_type=device_type)`.")


@on_devices("cpu", "cuda")
def test_float32_parameters(student, device):
    run = _run(student, device)
    forwards = _observed(run, run["forwards"], "a forward pass", "train_step_amp never called the model.",
                         "float32-parameters")
    changed = [f for f in forwards if f["param_dtypes"] != ["torch.float32"]]
    after = run["param_dtypes_after"]
    if changed or after != ["torch.float32"]:
        dtypes = ", ".join(changed[0]["param_dtypes"] if changed else after)
        fail(f"The model's parameters were {dtypes} instead of float32. Mixed precision keeps the parameters (the "
             "master weights) in float32 and lets autocast run single operations in lower precision: small updates "
             "such as learning rate × gradient vanish when they are added to half-precision weights.",
             what_to_try="Do not convert the model (`.half()`, `.to(torch.bfloat16)`); `torch.autocast` picks the "
                         "precision of each operation for you.")


@on_devices("cpu", "cuda")
def test_scaled_backward(student, device):
    run = _run(student, device)
    losses = _observed(run, run["losses"], "a loss", "train_step_amp never called the loss function (`loss_fn`).",
                       "scaled-backward")
    for step, seen in zip(run["steps"], losses):
        scale = step["scale_before"]
        expect(seen["grad_in"] is not None, "Backward never reached the loss your loss function returned.",
               what_to_try="`scaler.scale(loss).backward()`.")
        if close(seen["grad_in"], 1.0) and scale != 1.0:
            fail(f"Backward ran on the loss itself, not on the scaled loss (the scaler's scale was {scale:g}). In low "
                 "precision, small gradients round to zero; the scaler multiplies the loss by a large factor so the "
                 "gradients stay representable, and divides them back before the step.",
                 what_to_try="`scaler.scale(loss).backward()` instead of `loss.backward()`.")
        expect(close(seen["grad_in"], scale, rel=1e-3),
               f"The gradient that reached the loss was {seen['grad_in']:g}, but scaling by the scaler would give "
               f"{scale:g}: backward ran on something other than `scaler.scale(loss)`.",
               what_to_try="`scaler.scale(loss).backward()`, once per step.")


@on_devices("cpu", "cuda")
def test_scaler_step(student, device):
    run = _run(student, device)
    for number, step in enumerate(run["steps"], start=1):
        if step["injected"] and step["optimizer_step"] == "non-finite":
            fail(f"At step {number} the check made one gradient infinite (as a float16 overflow would), and "
                 "`optimizer.step()` still ran with it, so the weights became inf/NaN. `scaler.step(optimizer)` "
                 "checks the gradients first and skips the update when any is not finite.",
                 what_to_try="Call `scaler.step(optimizer)` instead of `optimizer.step()`.")
        if step["optimizer_step"] == "scaled":
            fail(f"At step {number} the optimizer stepped with gradients still multiplied by the scale "
                 f"({step['scale_before']:g}), so the update was that many times too large. `scaler.step(optimizer)` "
                 "divides the gradients by the scale before stepping; `optimizer.step()` on its own does not.",
                 what_to_try="Call `scaler.step(optimizer)` instead of `optimizer.step()`.")
    done = _done(run, "scaler-step")
    injected = _observed(run, [s for s in done if s["injected"]], "its step with an infinite gradient",
                         "train_step_amp stopped before the step with an infinite gradient.", "scaler-step")
    step = injected[0]
    expect(not step["weights_changed"] and step["weights_finite"],
           "With an infinite gradient the step should have been skipped, but the weights changed"
           + ("" if step["weights_finite"] else " to inf/NaN") + ".",
           what_to_try="Step through the scaler: `scaler.step(optimizer)`.")
    expect(any(s["optimizer_calls"] for s in done if not s["injected"]),
           "The optimizer never stepped on a step whose gradients were finite, so the model did not learn.",
           what_to_try="`scaler.step(optimizer)` after `scaler.scale(loss).backward()`.")


@on_devices("cpu", "cuda")
def test_scaler_update(student, device):
    run = _run(student, device)
    if run["error"] and "update()" in run["error"].get("message", ""):
        fail(f"train_step_amp {said_error(run['error'])}. The scaler records what happened in each step, and "
             "`scaler.update()` closes the step: without it, the scaler refuses the next one.",
             what_to_try="Call `scaler.update()` after `scaler.step(optimizer)`, every step.")
    injected = _observed(run, [s for s in run["steps"] if s["injected"] and "returned" in s],
                         "its step with an infinite gradient",
                         "train_step_amp stopped before the step with an infinite gradient.", "scaler-update")
    step = injected[0]
    expect(step["scale_after"] < step["scale_before"],
           f"After a step with an infinite gradient the scale stayed at {step['scale_after']:g}. The scaler lowers its "
           "scale when gradients overflow (and raises it again after many good steps), but only in "
           "`scaler.update()`; without it the same overflow happens at every step.",
           what_to_try="Call `scaler.update()` after `scaler.step(optimizer)`.")


@on_devices("cpu", "cuda")
def test_fresh_gradients(student, device):
    run = _run(student, device)
    _observed(run, [s for s in run["steps"] if s["optimizer_calls"]], "an optimizer step",
              "The optimizer never stepped, so no gradients could be checked.", "fresh-gradients")
    for number, step in enumerate(run["steps"], start=1):
        if step["optimizer_step"] == "stale":
            fail(f"The check called train_step_amp on a model with no gradients, once per batch. At step {number} the "
                 "optimizer stepped with this batch's gradients plus those left in `.grad` by the step before: "
                 "`backward()` adds to `.grad`, and nothing in train_step_amp cleared it.",
                 what_to_try="Call `optimizer.zero_grad()` at the start of train_step_amp, before the forward pass "
                             "(or at its end, after `scaler.update()`).")
        if step["optimizer_step"] == "cleared":
            fail(f"At step {number} the optimizer stepped with no gradients: they were cleared after backward "
                 "computed them.",
                 what_to_try="Clear the gradients before `scaler.scale(loss).backward()`, never between backward and "
                             "the step.")


@on_devices("cpu", "cuda")
def test_returns_loss(student, device):
    run = _run(student, device)
    for step, seen in zip(_done(run, "returns-loss"), run["losses"]):
        returned = step["returned"]
        if returned["kind"] == "tensor":
            fail(f"train_step_amp returned {said(returned)}, not a Python float.", what_to_try="Return `loss.item()`.")
        expect(returned["kind"] == "number", f"train_step_amp returned {said(returned)}; return the loss as a float.")
        if close(returned["value"], seen["value"] * step["scale_before"], rel=1e-3) and step["scale_before"] != 1.0:
            fail(f"train_step_amp returned {returned['value']:.6g}, the loss multiplied by the scale "
                 f"({step['scale_before']:g}). The scaled loss only exists for backward; report the real loss.",
                 what_to_try="Return `loss.item()`, not `scaler.scale(loss).item()`.")
        both_nan = math.isnan(returned["value"]) and math.isnan(seen["value"])  # after a bad step, elsewhere
        expect(both_nan or close(returned["value"], seen["value"], rel=1e-3),
               f"train_step_amp returned {returned['value']:.6g}, but the loss of the batch was {seen['value']:.6g}.",
               what_to_try="Return `loss.item()` for this batch.")


@on_devices("cuda")
def test_amp_saves_memory(student, device):
    run = student.run(probes.amp_memory, device=device, seed=SEED)
    if run["error"]:
        fail(f"On the GPU, train_step_amp {said_error(run['error'])}.")
    float32, amp = run["float32_mib"], run["amp_mib"]
    expect(amp < 0.8 * float32,
           f"On a model whose activations dominate its memory, one step of your AMP code peaked at {amp:.0f} MiB "
           f"above the model's own memory, against {float32:.0f} MiB for a plain float32 step: mixed precision "
           "should need clearly less (activations kept in float16 take half the space).",
           what_to_try="Run the forward pass under `torch.autocast(device_type=device_type)` and do not keep "
                       "float32 copies of the activations.")
