"""Checks for exercise 3. Each check looks at one habit of a correct loop, so one bug fails the
check that names it: the probes record what happened in the student's run, and where a check can
judge a number against the student's own run (the losses their loss function returned) it does so,
and compares with the reference only when the earlier habits are right."""

import probes
import torch

from grader.checks import expect, fail
from grader.checks.observe import close, said
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
    return (f"the mean of the {len(losses)} batch losses your loop computed is {per_batch:.6g}, and their mean over "
            f"the {sum(seen['count'] for seen in losses)} samples is {per_sample:.6g}")


def _forward_calls(run, function):
    """The model's forward calls recorded during `function`; there must be some."""
    expect(run["calls"], f"{function} never called the model on a batch.",
           what_to_try="Inside the loop over batches: `outputs = model(inputs)`.")
    return run["calls"]


def _mixed_modes(calls, function, want):
    """Fail when, in some passes, the model's own `training` flag said `want` but layers in it were in the
    other mode: the flag was set by hand (`model.training = ...`), or `train()`/`eval()` did not reach them."""
    mixed = [c for c in calls if mode_of(c) == "mixed" and c["training"] == (want == "training")]
    if not mixed:
        return
    other = "evaluation" if want == "training" else "training"
    layers = acting_layers(sorted({name for c in mixed for name in c["layers_in_other_mode"]}))
    method = "train" if want == "training" else "eval"
    fail(f"For {len(mixed)} of {len(calls)} forward passes in {function} the model said it was in {want} mode "
         f"(`model.training` was {want == 'training'}), but its layer{'s' if len(layers) > 1 else ''} "
         f"{', '.join(layers[:4])} {'were' if len(layers) > 1 else 'was'} in {other} mode, and each layer computes "
         f"in its own mode. Setting `model.training` by hand changes the flag of the model object alone; "
         f"`model.{method}()` switches the model and every layer in it.",
         what_to_try=f"Call `model.{method}()` at the start of {function} (do not set `model.training` yourself).")


def test_epoch_loss(student):
    run = student.run(probes.train_epoch, seed=SEED)
    returned, losses = run["returned"], run["losses"]
    if returned["kind"] == "tensor":
        if returned["has_graph"]:
            fail(f"train_one_epoch returned {said(returned)}. A total made of loss tensors (`total += loss`, say) "
                 "links every batch's loss into one computation graph, which grows with each batch and stays in "
                 "memory, and the caller gets a tensor instead of a number.",
                 what_to_try="Add up plain numbers: `total += loss.item()`, and return `total / number_of_batches`.")
        fail(f"train_one_epoch returned {said(returned)}, not a Python float.",
             what_to_try="Turn each batch's loss into a number with `loss.item()` before adding it up.")
    expect(returned["kind"] == "number",
           f"train_one_epoch returned {said(returned)}; it should return the mean training loss as a float.")
    expect(losses, "train_one_epoch never called the loss function it was given (`loss_fn`), so no loss was "
                   "computed on the batches.")
    kept = max(seen["graphs_kept"] for seen in losses)
    if kept >= 3:
        fail(f"train_one_epoch returned a float, but while it ran it kept the loss tensors of earlier batches: when the "
             f"loss of batch {len(losses)} was computed, {kept} earlier loss tensors were still alive, each still "
             "attached to the computation graph that produced it (its `grad_fn`), which stays in memory as long as "
             "the tensor does: what the loop holds grows with every batch of an epoch.",
             what_to_try="Keep numbers, not loss tensors: `losses.append(loss.item())` (or `loss.detach()`), and "
                         "average those.")
    last = (" That is the last batch's loss alone." if close(returned["value"], losses[-1]["loss"], rel=1e-6)
            else f" (The last batch's loss was {losses[-1]['loss']:.6g}.)")
    expect(_is_a_mean(returned["value"], losses),
           f"train_one_epoch returned {returned['value']:.6g}, but {_said_means(losses)}.{last}",
           what_to_try="Add `loss.item()` for every batch to a running total, and divide by the number of batches "
                       "at the end (after the loop, not inside it).")


def test_fresh_gradients(student):
    run = student.run(probes.train_epoch, seed=SEED)
    steps = run["steps"]
    expect(steps, "Your loop never called `optimizer.step()`, so there was no update whose gradients could be "
                  "checked.", because_of="optimizer-steps")
    summed = run["summed"]
    for number, verdict in enumerate(steps, start=1):  # "scaled" (clipped gradients) is fine
        if verdict == "stale" and len(steps) != run["batches"] and summed[number - 1] > 1:
            fail(f"At optimizer step {number}, `.grad` held the gradients of {summed[number - 1]} batches added up: "
                 f"{summed[number - 1]} backward passes ran since the gradients were last cleared (gradient "
                 "accumulation), and one step followed them.", because_of="optimizer-steps")
        if verdict == "stale":
            earlier = summed[number - 1] - 1
            before = {0: " left from before", 1: " of the batch before it"}.get(earlier, f" of the {earlier} batches "
                                                                                       "before it")
            fail(f"At optimizer step {number} of {len(steps)}, the parameters' `.grad` held this batch's gradient "
                 f"plus the gradients{before}. `loss.backward()` adds to `.grad`; it never replaces it, so unless the "
                 "gradients are cleared once per batch, each step also follows old gradients.",
                 what_to_try="Call `optimizer.zero_grad()` once per batch, before `loss.backward()` (at the start "
                             "of the loop body, or right after `optimizer.step()`).")
        if verdict == "cleared":
            fail(f"At optimizer step {number}, the gradients had been cleared after `loss.backward()` computed "
                 "them, so `optimizer.step()` had nothing to follow and the model did not learn from that batch.",
                 what_to_try="Move `optimizer.zero_grad()` so it runs before `loss.backward()`, never between "
                             "`backward()` and `step()`.")
        if verdict == "no-backward":
            fail(f"Optimizer step {number} happened without a `loss.backward()` since the previous step, so it "
                 "had no new gradients to use.",
                 what_to_try="For every batch: forward, loss, `loss.backward()`, then `optimizer.step()`.")


def test_optimizer_steps(student, reference):
    run = student.run(probes.train_epoch, seed=SEED)
    steps, batches = run["steps"], run["batches"]
    expect(len(steps) == batches,
           f"The loader had {batches} batches and your loop called `optimizer.step()` {len(steps)} time(s). "
           "Each batch should give exactly one update of the weights.",
           what_to_try="Call `optimizer.step()` once inside the loop over batches, after `loss.backward()`.")
    if all(s in ("fresh", "scaled") for s in steps) and all(mode_of(c) == "train" for c in run["calls"]):
        # Only a loop that is right in every other way must land on the reference's weights. A loop that
        # clips its gradients ("scaled" steps) is compared with a reference run whose gradients are clipped
        # exactly as its own were at each step, and on the gradients backward computed at every step (which
        # clipping does not touch, however small it makes the update).
        clipped = "scaled" in steps
        expected = (reference.run(probes.train_epoch, seed=SEED, clipping=run["clipping"]) if clipped
                    else reference.run(probes.train_epoch, seed=SEED))
        how = (" with its gradients clipped as yours were, although each step clipped only that batch's gradients"
               if clipped else ", although each step had fresh gradients")
        if clipped:
            for number, (got_step, want_step) in enumerate(zip(run["fresh"], expected["fresh"]), start=1):
                same = all(got is None and want is None or got is not None and want is not None
                           and got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-6)
                           for got, want in zip(got_step, want_step))
                expect(same,
                       f"At optimizer step {number}, the gradients `loss.backward()` computed (before your code "
                       "clipped them) differ from those of a correct loop on the same batch, with its gradients "
                       "clipped as yours were at every step before.",
                       what_to_try="Use each batch exactly once, in the order the loader gives it: forward the "
                                   "batch's inputs, compute `loss_fn(outputs, targets)`, backward, step.")
        for got, want in zip(run["params"], expected["params"]):
            expect(got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-5),
                   "After one epoch your model's weights differ from those a correct loop reaches on the same "
                   f"batches{how}.",
                   what_to_try="Use each batch exactly once, in the order the loader gives it: forward the "
                               "batch's inputs, compute `loss_fn(outputs, targets)`, backward, step.")


def test_train_mode(student):
    run = student.run(probes.train_epoch, seed=SEED)
    calls = _forward_calls(run, "train_one_epoch")
    _mixed_modes(calls, "train_one_epoch", "training")
    off = sum(1 for c in calls if mode_of(c) != "train")
    expect(off == 0,
           f"The model was in evaluation mode for {off} of {len(calls)} forward passes in train_one_epoch. The "
           "check handed your function a model left in evaluation mode (as after a validation pass), and it "
           "trained it that way: batch normalisation normalised each batch with its stored statistics instead of the "
           "batch's own, and did not update them (a dropout layer would stay off too).",
           what_to_try="Call `model.train()` at the start of train_one_epoch, before the loop.")
    expect(all(c["grad_enabled"] for c in calls),
           "Some training forward passes ran with gradient tracking switched off, so backward could not "
           "compute gradients for them.",
           what_to_try="Do not wrap the training step in `torch.no_grad()`; that belongs in evaluate.")


def test_eval_mode(student):
    run = student.run(probes.evaluate, seed=SEED)
    calls = _forward_calls(run, "evaluate")
    _mixed_modes(calls, "evaluate", "evaluation")
    on = sum(1 for c in calls if mode_of(c) != "eval")
    if on:
        extra = (" Batch normalisation's running statistics changed too: evaluating this way alters the model."
                 if run["running_stats_changed"] else "")
        fail(f"The model was still in training mode for {on} of {len(calls)} forward passes in evaluate, so "
             f"dropout kept switching off random units and the scores change from run to run.{extra}",
             what_to_try="Call `model.eval()` at the start of evaluate.")
    expect(not run["running_stats_changed"],
           "evaluate changed the model's batch-normalisation statistics, which only happens in training mode.",
           what_to_try="Call `model.eval()` before the loop and keep it in that mode for every batch.")


def test_no_grad_in_eval(student):
    run = student.run(probes.evaluate, seed=SEED)
    calls = _forward_calls(run, "evaluate")
    # Grad mode as PyTorch holds it, and its effect: an output attached to a computation graph.
    tracked = sum(1 for c in calls if c["grad_enabled"] or c.get("output_graph"))
    expect(tracked == 0,
           f"Gradient tracking was on for {tracked} of {len(calls)} forward passes in evaluate. PyTorch then "
           "records a computation graph for every batch that nobody will call backward on: memory and time "
           "spent for nothing.",
           what_to_try="Run the loop of evaluate inside `with torch.no_grad():` (or `torch.inference_mode()`).")
    expect(not run["weights_changed"], "evaluate changed the model's weights; it should only measure them.",
           what_to_try="Remove `backward()` and any optimizer use from evaluate.")


def test_evaluate_results(student):
    run = student.run(probes.evaluate, seed=SEED)
    returned, losses = run["returned"], run["losses"]
    expect(returned["kind"] == "sequence" and returned["length"] == 2,
           f"evaluate returned {said(returned)}; it should return two numbers: `return mean_loss, accuracy`.")
    loss, accuracy = returned["items"]
    for name, item in (("mean loss", loss), ("accuracy", accuracy)):
        expect(item["kind"] == "number",
               f"The {name} evaluate returned is {said(item)}, not a Python float.",
               what_to_try="Turn tensors into numbers with `.item()` before adding them up.")
    expect(losses, "evaluate never called the loss function it was given (`loss_fn`).")
    expect(_is_a_mean(loss["value"], losses),
           f"evaluate returned a mean loss of {loss['value']:.6g}, but {_said_means(losses)}.",
           what_to_try="Add `loss.item()` for every batch and divide by the number of batches after the loop.")
    correct = sum(seen["correct"] for seen in losses)
    count = sum(seen["count"] for seen in losses)
    per_batch = _mean([seen["correct"] / seen["count"] for seen in losses])
    expect(0.0 <= accuracy["value"] <= 1.0,
           f"evaluate returned an accuracy of {accuracy['value']:.6g}; accuracy is a fraction between 0 and 1 "
           f"(here {correct} right out of {count} samples is {correct / count:.4g}).",
           what_to_try="Divide the number of correct predictions by the number of samples.")
    if close(accuracy["value"], per_batch, rel=1e-6) and not close(per_batch, correct / count, rel=1e-6):
        sizes = sorted({seen["count"] for seen in losses}, reverse=True)
        fail(f"evaluate returned an accuracy of {accuracy['value']:.6g}: the mean of the {len(losses)} per-batch "
             f"accuracies. The batches were not all the same size ({' and '.join(map(str, sizes))} samples), so each "
             f"sample of the smaller last batch counted for more. Over all samples the model was right for {correct} "
             f"of {count}, which is {correct / count:.4g}.",
             what_to_try="Count the correct predictions over every batch, `(outputs.argmax(dim=1) == targets).sum()"
                         ".item()`, and divide the total once, by the number of samples (`len(loader.dataset)`).")
    expect(close(accuracy["value"], correct / count, rel=1e-6),
           f"evaluate returned an accuracy of {accuracy['value']:.6g}, but the model's predictions were right for "
           f"{correct} of {count} samples, which is {correct / count:.4g}.",
           what_to_try="Count `(outputs.argmax(dim=1) == targets).sum().item()` over every batch, and divide by the "
                       "total number of samples (`len(loader.dataset)`).")
