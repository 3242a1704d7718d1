"""Checks for exercise 5. Mixed precision is graded for real on the CPU (bfloat16 autocast and
`torch.amp.GradScaler("cpu")`), and on the GPU with float16 as well when there is one. The probe runs
three steps of the student's code and injects a non-finite gradient into the third, which is what
the scaler exists to survive. One more check only runs on a GPU: AMP must lower peak memory there."""

import math

import probes

from grader.checks import expect, fail, said
from grader.checks.devices import on_devices
from grader.checks.observe import close, said_error, said_value

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


def _observed(run, items, what: dict, missing: str, check: str):
    """What the check needs to judge (`items`); if the student's code raised before producing any, the
    check fails and says it could not see `what` (a said phrase; it never passes unobserved), pointing at
    the check that explains the error when it is another check's habit. `missing`: the message id for
    when nothing was produced and nothing raised."""
    if items:
        return items
    if run["error"]:
        owner = _owner(run["error"])
        fail("observed.could-not-see", what=what, error=said_error(run["error"]),
             because_of=owner if owner != check else None)
    fail(missing)


def _done(run, check: str):
    return _observed(run, [s for s in run["steps"] if "returned" in s], said("phrase.a-finished-step"),
                     "observed.no-finished-step", check)


def _mixed_precision(run, device: str) -> None:
    """The parameters' dtype, the cleared gradients and the returned loss are judged on a mixed-precision
    step: one whose forward pass ran under autocast at least once. A step with none (the float32 step the
    exercise starts from) fails here "because of" autocast-forward, which says what is missing."""
    if run["forwards"] and not any(f["autocast"][device] for f in run["forwards"]):
        fail("observed.not-mixed-precision", device=device, because_of="autocast-forward")


def _regions(run) -> dict:
    regions = run["autocast_regions"]
    if not regions:
        return said("phrase.no-autocast-region")
    entered = {(r.get("api", "torch.autocast"), r["device_type"], bool(r["enabled"])) for r in regions}
    # In the order the words sort in: the api's name and the device type, each closed by its quote mark,
    # then enabled before disabled.
    entered = sorted(entered, key=lambda e: (e[0] + "`", e[1] + "'", not e[2]))
    only = {r["api"] for r in regions if r.get("api", "").startswith(("torch.cuda.amp", "torch.cpu.amp"))}
    return said("phrase.autocast-regions", older=sorted(only)[0] if only else None,
                regions=[{"api": api, "device_type": device_type, "enabled": enabled}
                         for api, device_type, enabled in entered])


def test_scaler_device(student):
    run = student.run(probes.make_scaler)
    for device_type, answer in run.items():
        if "error" in answer:
            fail("scaler-device.raised", device_type=device_type, error=said_error(answer["error"]))
        expect(answer["is_scaler"], "scaler-device.not-a-scaler", device_type=device_type, type=answer["type"])
        if answer["device"] != device_type:
            fail("scaler-device.wrong-device", device_type=device_type, device=answer["device"],
                 api=answer.get("api", "torch.amp.GradScaler"),
                 older_class=answer.get("api") == "torch.cuda.amp.GradScaler",
                 switched_off=answer["device"] == "cuda" and device_type == "cpu")
    expect(run["cpu"]["enabled"], "scaler-device.disabled")


@on_devices("cpu", "cuda")
def test_autocast_forward(student, device):
    run = _run(student, device)
    forwards = _observed(run, run["forwards"], said("phrase.a-forward-pass"), "observed.model-never-called",
                         "autocast-forward")
    low = run["low_precision"]
    off = [f for f in forwards if not f["autocast"][device]]
    if off:
        fail("autocast-forward.off", device=device, off=len(off), total=len(forwards), regions=_regions(run))
    lower = [f for f in forwards if f.get("computed_in") not in (low,)]
    if lower:
        computed = lower[0].get("computed_in")
        asked = sorted({r["dtype"] for r in run["autocast_regions"] if r["device_type"] == device and r["enabled"]
                        and r["dtype"] != low})
        fail("autocast-forward.precision", device=device, computed=computed, low=low,
             asked=asked[0] if asked else None)


@on_devices("cpu", "cuda")
def test_float32_parameters(student, device):
    run = _run(student, device)
    forwards = _observed(run, run["forwards"], said("phrase.a-forward-pass"), "observed.model-never-called",
                         "float32-parameters")
    _mixed_precision(run, device)
    changed = [f for f in forwards if f["param_dtypes"] != ["torch.float32"]]
    after = run["param_dtypes_after"]
    if changed or after != ["torch.float32"]:
        fail("float32-parameters.converted", dtypes=changed[0]["param_dtypes"] if changed else after)


@on_devices("cpu", "cuda")
def test_scaled_backward(student, device):
    run = _run(student, device)
    losses = _observed(run, run["losses"], said("phrase.a-loss"), "observed.loss-never-called",
                       "scaled-backward")
    for step, seen in zip(run["steps"], losses):
        scale = step["scale_before"]
        expect(seen["grad_in"] is not None, "scaled-backward.not-reached")
        if close(seen["grad_in"], 1.0) and scale != 1.0:
            fail("scaled-backward.unscaled", scale=scale)
        expect(close(seen["grad_in"], scale, rel=1e-3), "scaled-backward.other", grad_in=seen["grad_in"], scale=scale)


@on_devices("cpu", "cuda")
def test_scaler_step(student, device):
    run = _run(student, device)
    for number, step in enumerate(run["steps"], start=1):
        if step["injected"] and step["optimizer_step"] == "non-finite":
            fail("scaler-step.stepped-on-infinite", step=number)
        if step["optimizer_step"] == "scaled":
            fail("scaler-step.scaled", step=number, scale=step["scale_before"])
    done = _done(run, "scaler-step")
    injected = _observed(run, [s for s in done if s["injected"]], said("phrase.the-infinite-step"),
                         "observed.stopped-before-infinite-step", "scaler-step")
    step = injected[0]
    expect(not step["weights_changed"] and step["weights_finite"], "scaler-step.weights-changed",
           finite=step["weights_finite"])
    expect(any(s["optimizer_calls"] for s in done if not s["injected"]), "scaler-step.never-stepped")


@on_devices("cpu", "cuda")
def test_scaler_update(student, device):
    run = _run(student, device)
    if run["error"] and "update()" in run["error"].get("message", ""):
        fail("scaler-update.refused", error=said_error(run["error"]))
    injected = _observed(run, [s for s in run["steps"] if s["injected"] and "returned" in s],
                         said("phrase.the-infinite-step"), "observed.stopped-before-infinite-step", "scaler-update")
    step = injected[0]
    expect(step["scale_after"] < step["scale_before"], "scaler-update.scale-kept", scale=step["scale_after"])


@on_devices("cpu", "cuda")
def test_fresh_gradients(student, device):
    run = _run(student, device)
    _observed(run, [s for s in run["steps"] if s["optimizer_calls"]], said("phrase.an-optimizer-step"),
              "fresh-gradients.never-stepped", "fresh-gradients")
    _mixed_precision(run, device)
    for number, step in enumerate(run["steps"], start=1):
        if step["optimizer_step"] == "stale":
            fail("fresh-gradients.stale", step=number)
        if step["optimizer_step"] == "cleared":
            fail("fresh-gradients.cleared", step=number)


@on_devices("cpu", "cuda")
def test_returns_loss(student, device):
    run = _run(student, device)
    _mixed_precision(run, device)
    for step, seen in zip(_done(run, "returns-loss"), run["losses"]):
        returned = step["returned"]
        if returned["kind"] == "tensor":
            fail("returns-loss.tensor", returned=said_value(returned))
        expect(returned["kind"] == "number", "returns-loss.not-a-number", returned=said_value(returned))
        if close(returned["value"], seen["value"] * step["scale_before"], rel=1e-3) and step["scale_before"] != 1.0:
            fail("returns-loss.scaled", value=returned["value"], scale=step["scale_before"])
        both_nan = math.isnan(returned["value"]) and math.isnan(seen["value"])  # after a bad step, elsewhere
        expect(both_nan or close(returned["value"], seen["value"], rel=1e-3), "returns-loss.wrong-value",
               value=returned["value"], loss=seen["value"])


@on_devices("cuda")
def test_amp_saves_memory(student, device):
    run = student.run(probes.amp_memory, device=device, seed=SEED)
    if run["error"]:
        fail("amp-saves-memory.raised", error=said_error(run["error"]))
    float32, amp = run["float32_mib"], run["amp_mib"]
    expect(amp < 0.8 * float32, "amp-saves-memory.not-lower", amp_mib=amp, float32_mib=float32)
