"""Checks for exercise 9. The first two look at grad_by_hand (its values against autograd's on the
same graph, and that no backward pass ran while it worked); the others at clipped_relu and its
autograd.Function: its values against the reference, that its result comes from the Function, what
autograd makes of backward's return value, that backward multiplies by a random upstream gradient,
gradcheck on float64 inputs and the reference's gradients, what was saved for backward, and that
neither the input nor grad_output is changed in place. A check whose own habit could not be
observed (forward raised, backward never ran) fails because of the check that owns that problem."""

import re

import probes
import torch

from grader.checks import expect, fail, said
from grader.checks.compare import tensor_difference
from grader.checks.observe import said_error, said_value

SEED = 9
# The checks that can keep gradcheck from judging backward's formula on its own.
GRADCHECK_CAUSES = ["forward-values", "uses-function", "gradient-per-input", "upstream-gradient", "no-in-place"]


def _index(flat: int, shape) -> list[int]:
    index = []
    for size in reversed(list(shape)):
        index.append(flat % size)
        flat //= size
    return list(reversed(index))


def _worst(got, want, rtol=1e-5, atol=1e-6):
    """None when `got` matches `want`; else how many values differ, and the flat position and index of
    the largest difference (NaN counts as a difference)."""
    a, b = got.double(), want.double()
    differs = ~torch.isclose(a, b, rtol=rtol, atol=atol)
    count = int(differs.sum())
    if count == 0:
        return None
    gap = (a - b).abs().nan_to_num(nan=float("inf")).masked_fill(~differs, 0)
    flat = int(gap.flatten().argmax())
    return {"count": count, "total": a.numel(), "flat": flat, "index": _index(flat, a.shape)}


def _at(t, flat: int) -> float:
    return float(t.flatten()[flat]) + 0.0  # + 0.0: a zero is written 0, never -0


def _region(x: float, limit: float) -> dict:
    """Words for where x lies: below 0, between 0 and the limit, above the limit."""
    return said("phrase.region", where="below" if x < 0 else "above" if x > limit else "inside", limit=limit)


def _call(case: dict) -> dict:
    return said("phrase.call", shape=case["shape"], dtype=case["dtype"], limit=case["limit"])


def _backward_ran(part: dict, *, own: bool = False) -> None:
    """Fail, because of the check that owns the problem, unless this run of clipped_relu reached a
    working backward. `own`: backward's own failures are this check's (gradient-per-input)."""
    if part["stage"] == "forward":
        if part["error"]:
            fail("common.forward-raised", error=said_error(part["error"]), because_of="forward-values")
        fail("common.no-result", returned=said_value(part["returned"]), because_of="forward-values")
    if not part["functions"]:
        fail("common.no-function", top=part["top"], because_of="uses-function")
    if part["stage"] == "backward" and not own:
        fail("common.backward-raised", error=said_error(part["error"]), because_of="gradient-per-input")


def test_hand_gradients(student):
    run = student.run(probes.hand, seed=SEED)
    for case in run["cases"]:
        inputs = said("phrase.hand-inputs", shape=case["shape"], dtype=case["dtype"])
        if case["error"]:
            fail("hand-gradients.raised", inputs=inputs, error=said_error(case["error"]))
        returned = case["returned"]
        expect(returned["kind"] == "sequence" and returned["length"] == 2, "hand-gradients.not-a-pair",
               inputs=inputs, returned=said_value(returned))
        a, b = case["a"], case["b"]
        for position, name in enumerate(("de_da", "de_db")):
            got, want = case[name], case["want_" + name[3:]]
            if got is None:
                fail("hand-gradients.not-a-tensor", inputs=inputs, name=name,
                     item=said_value(returned["items"][position]))
            difference = tensor_difference(got, want, name=said("phrase.returned", name=name, inputs=inputs))
            if difference is None:
                continue
            if got.shape != want.shape or got.dtype != want.dtype:
                fail(difference)
            if name == "de_db":
                for kept, alone in (("d", a + b), ("c", b + 1)):
                    if _worst(got, alone) is None:
                        fail("hand-gradients.one-path", inputs=inputs, kept=kept)
            worst = _worst(got, want)
            flat = worst["flat"]
            fail("hand-gradients.wrong", inputs=inputs, name=name, count=worst["count"], total=worst["total"],
                 index=worst["index"], a=_at(a, flat), b=_at(b, flat), got=_at(got, flat), want=_at(want, flat))


def test_hand_without_autograd(student):
    run = student.run(probes.hand, seed=SEED)
    cases = run["cases"]
    calls = sum(case["backward_calls"] for case in cases)
    expect(calls == 0, "hand-without-autograd.backward", calls=calls, cases=len(cases))
    for case in cases:
        if case["error"]:
            fail("common.hand-raised", error=said_error(case["error"]), because_of="hand-gradients")
        # Gradients that are not right are not gradients worked out by hand either: no point for (a, b), say.
        for name in ("de_da", "de_db"):
            got, want = case.get(name), case.get("want_" + name[3:])
            if got is None or got.shape != want.shape or _worst(got, want) is not None:
                fail("common.hand-wrong", because_of="hand-gradients")


def test_forward_values(student, reference):
    run, want = student.run(probes.forward, seed=SEED), reference.run(probes.forward, seed=SEED)
    for case, expected in zip(run["cases"], want["cases"]):
        call = _call(case)
        if case["error"]:
            fail("forward-values.raised", call=call, error=said_error(case["error"]))
        if case["out"] is None:
            fail("forward-values.not-a-tensor", call=call, returned=said_value(case["returned"]))
        difference = tensor_difference(case["out"], expected["out"], name=said("phrase.result-of", call=call))
        if difference is None:
            continue
        if case["out"].shape != expected["out"].shape or case["out"].dtype != expected["out"].dtype:
            fail(difference)
        worst = _worst(case["out"], expected["out"])
        flat = worst["flat"]
        fail("forward-values.wrong", call=call, count=worst["count"], total=worst["total"], index=worst["index"],
             x=_at(case["x"], flat), got=_at(case["out"], flat), want=_at(expected["out"], flat), limit=case["limit"])


def test_uses_function(student):
    run = student.run(probes.forward, seed=SEED)
    for case in run["cases"]:
        if case["error"]:
            fail("common.forward-raised", error=said_error(case["error"]), because_of="forward-values")
        if case["out"] is None:
            fail("common.no-result", returned=said_value(case["returned"]), because_of="forward-values")
        expect(case["functions"], "uses-function.no-function", call=_call(case), top=case["top"])


def test_gradient_per_input(student):
    run = student.run(probes.backward, seed=SEED)
    for part in (run["ones"], run["random"]):
        _backward_ran(part, own=True)
        if part["stage"] == "backward":
            message = part["error"].get("message", "")
            count = re.search(r"incorrect number of gradients \(expected (\d+), got (\d+)\)", message)
            if count:
                fail("gradient-per-input.count", expected=int(count[1]), got=int(count[2]))
            if re.search(r"gradient different than None at position 2", message):
                fail("gradient-per-input.limit-not-none")
            if "invalid gradient at index 0" in message:
                fail("gradient-per-input.invalid", error=said_error(part["error"]))
            fail("gradient-per-input.raised", error=said_error(part["error"]))
        expect(part["grad"] is not None, "gradient-per-input.no-gradient")


def test_upstream_gradient(student):
    run = student.run(probes.backward, seed=SEED)
    ones, random = run["ones"], run["random"]
    for part in (ones, random):
        _backward_ran(part)
        expect(part["grad"] is not None, "common.no-gradient", because_of="gradient-per-input")
    upstream = run["upstream"]
    expected = ones["grad"] * upstream
    worst = _worst(random["grad"], expected, rtol=1e-4, atol=1e-5)
    if worst:
        flat = worst["flat"]
        fail("upstream-gradient.not-multiplied", count=worst["count"], total=worst["total"], index=worst["index"],
             upstream=_at(upstream, flat), local=_at(ones["grad"], flat), got=_at(random["grad"], flat),
             want=_at(expected, flat), ignored=_worst(random["grad"], ones["grad"]) is None)


def test_gradcheck(student, reference):
    run, want = student.run(probes.backward, seed=SEED), reference.run(probes.backward, seed=SEED)
    limit, check = run["limit"], run["gradcheck"]
    if check["error"]:
        fail("gradcheck.raised", error=said_error(check["error"]), because_of=GRADCHECK_CAUSES)
    if not check["passed"]:
        part, expected = check["gradient"], want["gradcheck"]["gradient"]["grad"]
        worst = _worst(part["grad"], expected) if part.get("grad") is not None else None
        if worst is None:
            fail("gradcheck.failed", message=check["message"], because_of=GRADCHECK_CAUSES)
        flat = worst["flat"]
        x = _at(check["x"], flat)
        fail("gradcheck.failed-at", message=check["message"], count=worst["count"], total=worst["total"],
             index=worst["index"], x=x, region=_region(x, limit), upstream=_at(check["upstream"], flat),
             got=_at(part["grad"], flat), want=_at(expected, flat), because_of=GRADCHECK_CAUSES)
    random = run["random"]
    _backward_ran(random)
    expected = want["random"]["grad"]
    worst = _worst(random["grad"], expected, rtol=1e-4, atol=1e-5) if random["grad"] is not None else None
    if worst:
        flat = worst["flat"]
        x = _at(run["x"], flat)
        fail("gradcheck.differs", count=worst["count"], total=worst["total"], index=worst["index"], x=x,
             region=_region(x, limit), upstream=_at(run["upstream"], flat), got=_at(random["grad"], flat),
             want=_at(expected, flat), because_of=GRADCHECK_CAUSES)


def test_saved_tensors(student):
    run = student.run(probes.backward, seed=SEED)
    random = run["random"]
    _backward_ran(random)
    expect(random["grad"] is not None, "common.no-gradient", because_of="gradient-per-input")
    expect(not random["x_changed"], "common.input-changed", because_of="no-in-place")
    after = run["in_place_after"]
    if after["stage"] == "forward" and after["error"]:
        fail("common.forward-raised", error=said_error(after["error"]), because_of="forward-values")
    if after["stage"] == "forward":
        fail("common.no-graph", because_of="uses-function")
    if after["stage"] == "backward":
        fail("common.backward-raised", error=said_error(after["error"]), because_of="gradient-per-input")
    if not after["refused"]:
        expect(after["grad"] is not None, "common.no-gradient", because_of="gradient-per-input")
        worst = _worst(after["grad"], random["grad"], rtol=1e-4, atol=1e-5)
        if worst:
            flat = worst["flat"]
            fail("saved-tensors.changed-input-used", count=worst["count"], total=worst["total"], index=worst["index"],
                 before=_at(run["x"], flat), after=-_at(run["x"], flat), got=_at(after["grad"], flat),
                 want=_at(random["grad"], flat))
    expect(not run["output_kept"]["kept"], "saved-tensors.output-kept")


def test_no_in_place(student):
    run = student.run(probes.backward, seed=SEED)
    random = run["random"]
    if random["stage"] == "forward" and random["error"]:
        fail("common.forward-raised", error=said_error(random["error"]), because_of="forward-values")
    if random.get("x_changed"):
        worst = _worst(random["x_after"], run["x"], rtol=0, atol=0)
        flat = worst["flat"]
        fail("no-in-place.input", count=worst["count"], total=worst["total"], index=worst["index"],
             before=_at(run["x"], flat), after=_at(random["x_after"], flat), limit=run["limit"])
    _backward_ran(random)
    if random["upstream_changed"]:
        worst = _worst(random["upstream_after"], run["upstream"], rtol=0, atol=0)
        flat = worst["flat"]
        fail("no-in-place.grad-output", count=worst["count"], total=worst["total"], index=worst["index"],
             before=_at(run["upstream"], flat), after=_at(random["upstream_after"], flat))
