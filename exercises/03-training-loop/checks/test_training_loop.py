"""Checks for exercise 3. Each check looks at one habit of a correct loop, so one bug fails the
check that names it: the probes record what happened in the student's run, and where a check can
judge a number against the student's own run (the losses their loss function returned) it does so,
and compares with the reference only when the earlier habits are right."""

import probes
import torch

from grader.checks import expect, fail, said
from grader.checks.observe import close, said_value
from grader.checks.spies import acting_layers, mode_of

SEED = 3


def _mean(values):
    return sum(values) / len(values)


def _means(losses):
    """The two right answers for a mean loss: over batches, and over samples (each batch's mean loss
    weighted by its size, as `loss.item() * inputs.size(0)` summed and divided by the sample count)."""
    per_sample = sum(seen["loss"] * seen["count"] for seen in losses) / sum(seen["count"] for seen in losses)
    return _mean([seen["loss"] for seen in losses]), per_sample


def _is_a_mean(value, losses):
    return any(close(value, mean, rel=1e-4) for mean in _means(losses))


def _said_means(losses):
    per_batch, per_sample = _means(losses)
    return said("phrase.means", batches=len(losses), per_batch=per_batch,
                samples=sum(seen["count"] for seen in losses), per_sample=per_sample)


def _forward_calls(run, function):
    """The model's forward calls recorded during `function`; there must be some."""
    expect(run["calls"], "forward.never-called", function=function)
    return run["calls"]


def _mixed_modes(calls, function, want):
    """Fail when, in some passes, the model's own `training` flag said `want` but layers in it were in the
    other mode: the flag was set by hand (`model.training = ...`), or `train()`/`eval()` did not reach them."""
    mixed = [c for c in calls if mode_of(c) == "mixed" and c["training"] == (want == "training")]
    if not mixed:
        return
    layers = acting_layers(sorted({name for c in mixed for name in c["layers_in_other_mode"]}))
    fail("forward.mixed-modes", mixed=len(mixed), calls=len(calls), function=function,
         training=want == "training", layers=layers)


def test_epoch_loss(student):
    run = student.run(probes.train_epoch, seed=SEED)
    returned, losses = run["returned"], run["losses"]
    if returned["kind"] == "tensor":
        if returned["has_graph"]:
            fail("epoch-loss.tensor-with-graph", returned=said_value(returned))
        fail("epoch-loss.tensor", returned=said_value(returned))
    expect(returned["kind"] == "number", "epoch-loss.not-a-number", returned=said_value(returned))
    expect(losses, "epoch-loss.no-loss")
    kept = max(seen["graphs_kept"] for seen in losses)
    if kept >= 3:
        fail("epoch-loss.graphs-kept", batch=len(losses), kept=kept)
    expect(_is_a_mean(returned["value"], losses), "epoch-loss.not-a-mean", value=returned["value"],
           means=_said_means(losses), last_alone=close(returned["value"], losses[-1]["loss"], rel=1e-6),
           last=losses[-1]["loss"])


def test_fresh_gradients(student):
    run = student.run(probes.train_epoch, seed=SEED)
    steps = run["steps"]
    expect(steps, "fresh-gradients.no-step", because_of="optimizer-steps")
    summed = run["summed"]
    for number, verdict in enumerate(steps, start=1):  # "scaled" (clipped gradients) is fine
        if verdict == "stale" and len(steps) != run["batches"] and summed[number - 1] > 1:
            fail("fresh-gradients.accumulated", number=number, summed=summed[number - 1],
                 because_of="optimizer-steps")
        if verdict == "stale":
            fail("fresh-gradients.stale", number=number, steps=len(steps), earlier=summed[number - 1] - 1)
        if verdict == "cleared":
            fail("fresh-gradients.cleared", number=number)
        if verdict == "no-backward":
            fail("fresh-gradients.no-backward", number=number)


def test_optimizer_steps(student, reference):
    run = student.run(probes.train_epoch, seed=SEED)
    steps, batches = run["steps"], run["batches"]
    expect(len(steps) == batches, "optimizer-steps.count", batches=batches, steps=len(steps))
    if all(s in ("fresh", "scaled") for s in steps) and all(mode_of(c) == "train" for c in run["calls"]):
        # Only a loop that is right in every other way must land on the reference's weights. A loop that
        # clips its gradients ("scaled" steps) is compared with a reference run whose gradients are clipped
        # exactly as its own were at each step, and on the gradients backward computed at every step (which
        # clipping does not touch, however small it makes the update).
        clipped = "scaled" in steps
        expected = (reference.run(probes.train_epoch, seed=SEED, clipping=run["clipping"]) if clipped
                    else reference.run(probes.train_epoch, seed=SEED))
        if clipped:
            for number, (got_step, want_step) in enumerate(zip(run["fresh"], expected["fresh"]), start=1):
                same = all(got is None and want is None or got is not None and want is not None
                           and got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-6)
                           for got, want in zip(got_step, want_step))
                expect(same, "optimizer-steps.backward-gradients-differ", number=number)
        for got, want in zip(run["params"], expected["params"]):
            expect(got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-5),
                   "optimizer-steps.weights-differ", clipped=clipped)


def test_train_mode(student):
    run = student.run(probes.train_epoch, seed=SEED)
    calls = _forward_calls(run, "train_one_epoch")
    _mixed_modes(calls, "train_one_epoch", "training")
    off = sum(1 for c in calls if mode_of(c) != "train")
    expect(off == 0, "train-mode.eval", off=off, calls=len(calls))
    expect(all(c["grad_enabled"] for c in calls), "train-mode.no-grad")


def test_eval_mode(student):
    run = student.run(probes.evaluate, seed=SEED)
    calls = _forward_calls(run, "evaluate")
    _mixed_modes(calls, "evaluate", "evaluation")
    on = sum(1 for c in calls if mode_of(c) != "eval")
    if on:
        fail("eval-mode.training", on=on, calls=len(calls), stats_changed=bool(run["running_stats_changed"]))
    expect(not run["running_stats_changed"], "eval-mode.stats-changed")


def test_no_grad_in_eval(student):
    run = student.run(probes.evaluate, seed=SEED)
    calls = _forward_calls(run, "evaluate")
    # Grad mode as PyTorch holds it, and its effect: an output attached to a computation graph.
    tracked = sum(1 for c in calls if c["grad_enabled"] or c.get("output_graph"))
    expect(tracked == 0, "no-grad-in-eval.tracked", tracked=tracked, calls=len(calls))
    expect(not run["weights_changed"], "no-grad-in-eval.weights-changed")


def test_evaluate_results(student):
    run = student.run(probes.evaluate, seed=SEED)
    returned, losses = run["returned"], run["losses"]
    expect(returned["kind"] == "sequence" and returned["length"] == 2, "evaluate-results.not-a-pair",
           returned=said_value(returned))
    loss, accuracy = returned["items"]
    for name, item in ((said("evaluate-results.mean-loss"), loss), (said("evaluate-results.accuracy"), accuracy)):
        expect(item["kind"] == "number", "evaluate-results.item-not-a-number", name=name, item=said_value(item))
    expect(losses, "evaluate-results.no-loss")
    expect(_is_a_mean(loss["value"], losses), "evaluate-results.loss-not-a-mean", value=loss["value"],
           means=_said_means(losses))
    correct = sum(seen["correct"] for seen in losses)
    count = sum(seen["count"] for seen in losses)
    per_batch = _mean([seen["correct"] / seen["count"] for seen in losses])
    expect(0.0 <= accuracy["value"] <= 1.0, "evaluate-results.accuracy-out-of-range", value=accuracy["value"],
           correct=correct, count=count, fraction=correct / count)
    if close(accuracy["value"], per_batch, rel=1e-6) and not close(per_batch, correct / count, rel=1e-6):
        sizes = sorted({seen["count"] for seen in losses}, reverse=True)
        fail("evaluate-results.accuracy-per-batch-mean", value=accuracy["value"], batches=len(losses), sizes=sizes,
             correct=correct, count=count, fraction=correct / count)
    expect(close(accuracy["value"], correct / count, rel=1e-6), "evaluate-results.accuracy-wrong",
           value=accuracy["value"], correct=correct, count=count, fraction=correct / count)
