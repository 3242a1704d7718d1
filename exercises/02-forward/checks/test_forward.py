"""Checks for exercise 2. Each check judges one habit of a correct forward pass, so one bug fails
the check that names it:

- output-shape tries many batch sizes; every other check runs at a batch size the student's forward
  handles (one image when it can: no mixing of samples can show there), so a hard-coded batch size
  or a squeeze fails only output-shape;
- the layer-by-layer checks judge each step against the student's *own* previous step (what the
  layer before returned), so a missing ReLU, dropout left on, or a softmax at the end each fail only
  their own check, and forward-pass judges the order of the layers around them;
- only a forward pass with no such explanation must land on the reference's logits.
"""

import probes
import torch
import torch.nn.functional as F

from grader.checks import expect, fail
from grader.checks.batch import mixed_samples
from grader.checks.observe import said

SEED = 2
ROLES = ("conv1", "conv2", "fc1", "fc2")
# Batch size the checks after output-shape use: 1 first (no mixing of samples can show there), then
# any other size the student's forward handles, so a hard-coded batch size fails only output-shape.
PREFERRED = (1, 8, 2, 4, 5, 7, 16, 32, 64)
SHAPE_TITLE = "“forward returns logits of shape [N, 10] for any batch size”"
ATOL, RTOL = 1e-5, 1e-4


# ----------------------------------------------------------------------------- helpers


def _shapes(student) -> dict:
    return student.run(probes.output_shapes, seed=SEED)


def _right_shape(entry: dict, n: int) -> bool:
    value = entry.get("value")
    return bool(value) and value["kind"] == "tensor" and value["shape"] == [n, 10]


def _working_size(student) -> int:
    """A batch size for which forward returns [N, 10]; fail pointing to output-shape if there is none."""
    shapes = _shapes(student)
    for n in PREFERRED:
        if _right_shape(shapes[n], n):
            return n
    tried = ", ".join(str(n) for n in probes.SIZES)
    fail(f"This check needs a forward pass that returns logits of shape [N, 10], and yours did not for any of "
         f"the batch sizes tried ({tried}), so it could not look further.", because_of="output-shape")


def _same(a, b) -> bool:
    return (a is not None and b is not None and a.shape == b.shape
            and torch.allclose(a.double(), b.double(), rtol=RTOL, atol=ATOL))


def _largest_difference(a, b) -> str:
    if a.shape != b.shape:
        return f"shape {tuple(a.shape)} instead of {tuple(b.shape)}"
    return f"values differ by up to {float((a.double() - b.double()).abs().max()):.3g}"


def _dropout_pattern(after, base):
    """If `after` is `base` with some entries zeroed and the rest multiplied by one common scale
    (what dropout does), return (fraction of the non-zero entries zeroed, scale); else None.
    (0.0, 1.0) means `after` equals `base`."""
    if after is None or base is None or after.shape != base.shape:
        return None
    live = base.abs() > 1e-6
    if not live.any() or ((~live).any() and float(after[~live].abs().max()) > 1e-5):
        return None
    zeroed = live & (after.abs() <= 1e-6)
    kept = live & ~zeroed
    if not kept.any():
        return 1.0, 0.0
    ratios = after[kept] / base[kept]
    scale = float(ratios.median())
    if not torch.allclose(ratios, torch.full_like(ratios, scale), rtol=1e-3, atol=1e-4):
        return None
    return float(zeroed.sum()) / float(live.sum()), scale


def _fc2_input_verdict(fc2_in, fc1_out):
    """How fc2's input came from fc1's output: ('clean'|'dropout', fraction, scale, relu: bool) or None."""
    for base, relu in ((F.relu(fc1_out), True), (fc1_out, False)):
        pattern = _dropout_pattern(fc2_in, base)
        if pattern is not None:
            fraction, scale = pattern
            clean = fraction == 0.0 and abs(scale - 1.0) < 1e-4
            return ("clean" if clean else "dropout"), fraction, scale, relu
    return None


OTHER_ACTIVATIONS = (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("leaky ReLU", F.leaky_relu), ("ELU", F.elu),
                     ("GELU", F.gelu), ("SiLU", F.silu), ("softmax", lambda t: torch.softmax(t, dim=1)))


def _other_activation(got, expected_with) -> str | None:
    """The name of an activation other than ReLU that explains `got`, where expected_with(fn) is
    what the step gives with activation fn."""
    for name, fn in OTHER_ACTIVATIONS:
        try:
            if _same(got, expected_with(fn)):
                return name
        except RuntimeError:
            pass
    return None


def _by_role(calls: list[dict]) -> dict[str, list[dict]]:
    return {role: [c for c in calls if c["role"] == role] for role in ROLES}


def _where(error: dict) -> str:
    if not error.get("file"):
        return ""
    code = f" (`{error['code']}`)" if error.get("code") else ""
    return f" at {error['file']}, line {error['line']}{code}"


def _images_word(n: int) -> str:
    return "a single image" if n == 1 else f"a batch of {n} images"


def _sizes(ns) -> str:
    ns = list(ns)
    return ", ".join(str(n) for n in ns[:-1]) + (" and " if len(ns) > 1 else "") + str(ns[-1]) if ns else "none"


# ----------------------------------------------------------------------------- checks


def _shape_problem(entry: dict, n: int) -> tuple[str, str]:
    """(kind, one sentence) for a batch size whose output was not [n, 10]."""
    if "error" in entry:
        error = entry["error"]
        return "error", (f"With {_images_word(n)}, forward raised `{error.get('type', 'an error')}`{_where(error)}: "
                         f"{error.get('message', '')}.")
    value = entry["value"]
    if value["kind"] != "tensor":
        missing = " Is the `return` statement missing?" if value["type"] == "NoneType" else ""
        return "type", (f"For {_images_word(n)} forward returned {said(value)}; it should return one tensor of "
                        f"logits of shape [{n}, 10].{missing}")
    shape = tuple(value["shape"])
    if n == 1 and shape == (10,):
        return "squeezed", (f"With a single image (a batch of N = 1) forward returned shape {shape} instead of "
                            "(1, 10): the batch dimension disappeared.")
    return "shape", f"For {_images_word(n)} forward returned shape {shape}, not ({n}, 10): one row per image."


def test_output_shape(student):
    shapes = _shapes(student)
    good = [n for n in probes.SIZES if _right_shape(shapes[n], n)]
    bad = [n for n in probes.SIZES if n not in good]
    if not bad:
        return
    problems = [(n, *_shape_problem(shapes[n], n)) for n in bad]
    n, kind, text = problems[0]
    other = next(((m, k, t) for m, k, t in problems if k != kind), None)
    if other is not None:
        text += " " + other[2]
    if len(good) == 1:
        text += f" The right shape came back only for {_images_word(good[0])}."
    elif good:
        text += f" The right shape came back for batches of {_sizes(good)}."
    kinds = {kind} | ({other[1]} if other else set())
    flatten_tip = ("Flatten with `x = torch.flatten(x, 1)` or `x = x.view(x.size(0), -1)`: the batch size comes "
                   "from the input itself, so the same code works for a batch of 1, 5 or 64 images.")
    if "squeezed" in kinds:
        if any(n > 1 for n in good):  # larger batches keep their dimension: something drops dimensions of size 1
            text += (" Only a dimension of size 1 disappeared: that is what `.squeeze()` does, and with one image "
                     "the batch dimension has size 1 too.")
        elif all("error" in shapes[n] for n in bad if n > 1):  # one image fits, more do not: flattened away
            text += (" With one image the batch dimension was flattened into the features and the shapes still "
                     "fit; with more images they did not (`torch.flatten(x)` without a start dimension does this, "
                     "as does `x.view(-1)`).")
        fail(text, what_to_try="Keep dimension 0 for the batch. " + flatten_tip)
    if kind == "type":
        fail(text, what_to_try="End forward with `return self.fc2(x)`.")
    fail(text + " A number written in for the batch size (such as `x.view(64, -1)`) works for that one batch size "
                "only, and the last batch of an epoch or a single image at prediction time has another.",
         what_to_try=flatten_tip)


def test_batch_independence(student):
    shapes = _shapes(student)
    sizes = [n for n in (4, 5, 7, 8, 2, 16, 32, 64) if _right_shape(shapes[n], n)]
    expect(sizes, "This check feeds your model a batch of several images, and your forward did not return "
                  "[N, 10] for any batch of more than one image, so it could not look further.",
           because_of="output-shape")
    runs = [(sizes[0], student.run(probes.batch_independence, seed=SEED, n=sizes[0]))]
    if _right_shape(shapes[1], 1):
        runs.append((1, student.run(probes.batch_independence, seed=SEED, n=1)))
    for n, run in runs:
        for leak in mixed_samples(run):
            j, others = leak["row"], leak["others"]
            if others:
                more = (f" (and {len(others) - 1} other image{'s' if len(others) > 2 else ''})"
                        if len(others) > 1 else "")
                fail(f"With a batch of {n} images (in evaluation mode), the output row for image {j} changed when "
                     f"image {others[0]} changed{more}. "
                     "Each image's logits must depend only on that image. The shape was right, so a `view` or "
                     "`reshape` is probably taking numbers from several images for one row, e.g. "
                     "`x.view(32 * 7 * 7, -1).t()`: the numbers of one image are stored one after another, so the "
                     "batch dimension has to stay first. (A softmax or sum over dimension 0 mixes the images too.)",
                     what_to_try="Flatten with `x = torch.flatten(x, 1)` or `x = x.view(x.size(0), -1)`: batch first, "
                                 "everything else after it.")
            fail(f"With a batch of {n} images, the output row for image {j} does not depend on image {j} at all: "
                 "changing the image does not change its logits.",
                 what_to_try="Each step of forward must use the result of the step before, starting from `x`.")


def test_forward_pass(student, reference):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    want = reference.run(probes.logits, seed=SEED, n=n)["output"]
    if _same(run["output"], want):
        return
    one = "one image" if n == 1 else f"a batch of {n} images"
    roles = _by_role(run["calls"])
    for role in ROLES:
        expect(roles[role], f"`self.{role}` was never called: on {one}, forward did not apply that layer.",
               what_to_try="Apply every layer in order: conv1, ReLU, pool, conv2, ReLU, pool, flatten, fc1, ReLU, "
                           "dropout, fc2.")
        count = len(roles[role])
        expect(count == 1, f"`self.{role}` was called {count} times in one forward pass; each layer is applied "
                           "exactly once.", what_to_try="Apply every layer once, in order: conv1, ReLU, pool, conv2, "
                                                        "ReLU, pool, flatten, fc1, ReLU, dropout, fc2.")
    conv1, conv2, fc1, fc2 = (roles[role][0] for role in ROLES)
    expect(_same(conv1["input"], run["input"]),
           f"conv1 did not receive the input images unchanged ({_largest_difference(conv1['input'], run['input'])}). "
           "forward starts from the images as they are given: scaling or normalising them belongs in the data "
           "transforms, not in the model.",
           what_to_try="Start forward with `self.conv1(x)` on the `x` you were given.")

    a1 = conv1["output"]
    if not (_same(conv2["input"], F.max_pool2d(F.relu(a1), 2)) or _same(conv2["input"], F.max_pool2d(a1, 2))):
        if _same(conv2["input"], F.relu(a1)) or _same(conv2["input"], a1):
            fail(f"conv2 received conv1's output without pooling: shape {tuple(conv2['input'].shape)} instead of "
                 f"({n}, 16, 14, 14). Pooling after each convolution halves the height and width.",
                 what_to_try="`x = self.pool(F.relu(self.conv1(x)))` before conv2.")
        other = _other_activation(conv2["input"], lambda fn: F.max_pool2d(fn(a1), 2)) \
            or _other_activation(conv2["input"], lambda fn: fn(F.max_pool2d(a1, 2)))
        if other:
            fail(f"conv1's output went through {other} instead of ReLU before pooling and conv2.", because_of="activations")
        fail(f"conv2's input is not conv1's output after ReLU and pooling "
             f"({_largest_difference(conv2['input'], F.max_pool2d(F.relu(a1), 2))}).",
             what_to_try="`x = self.pool(F.relu(self.conv1(x)))`, then `self.conv2(x)`.")

    a2 = conv2["output"]
    features = [F.max_pool2d(F.relu(a2), 2), F.max_pool2d(a2, 2)]
    got = fc1["input"]
    if not any(_same(got, f.reshape(n, -1)) for f in features):
        if got.numel() == features[0].numel():
            for f in features:
                per_image = got.reshape(n, -1).sort(dim=1).values
                if _same(per_image, f.reshape(n, -1).sort(dim=1).values):
                    fail("fc1 received the right numbers for each image, but in a different order than flattening "
                         "[N, 32, 7, 7] gives (channel by channel, then row by row). fc1's weights expect that order; "
                         "a `permute` or `transpose` before flattening changes it.",
                         what_to_try="Flatten the pooled tensor directly: `x = torch.flatten(x, 1)`.")
                if _same(got.reshape(-1).sort().values, f.reshape(-1).sort().values):
                    fail("fc1 received the right numbers, but mixed between the images of the batch: the flattening "
                         "does not keep the batch dimension first (the batch-independence check says more).",
                         what_to_try="Flatten with `x = torch.flatten(x, 1)` or `x = x.view(x.size(0), -1)`.")
        pooled = F.max_pool2d(F.relu(a2), 2).reshape(n, -1)
        other = _other_activation(got, lambda fn: F.max_pool2d(fn(a2), 2).reshape(n, -1)) \
            or _other_activation(got, lambda fn: fn(F.max_pool2d(a2, 2)).reshape(n, -1))
        if other:
            fail(f"conv2's output went through {other} instead of ReLU before pooling and fc1.", because_of="activations")
        if got.dim() == 2 and got.shape[1] != pooled.shape[1]:
            fail(f"fc1 received {got.shape[1]} features per image instead of 32 * 7 * 7 = 1568: after conv2 the "
                 "result must go through ReLU and pooling, then be flattened.",
                 what_to_try="`x = self.pool(F.relu(self.conv2(x)))`, then `x = torch.flatten(x, 1)`.")
        fail(f"fc1's input is not conv2's output after ReLU, pooling and flattening "
             f"({_largest_difference(got, pooled)}).",
             what_to_try="`x = self.pool(F.relu(self.conv2(x)))`, then `x = torch.flatten(x, 1)`, then `self.fc1(x)`.")

    verdict = _fc2_input_verdict(fc2["input"], fc1["output"])
    if verdict is None:
        other = next((name for name, fn in OTHER_ACTIVATIONS
                      if _dropout_pattern(fc2["input"], fn(fc1["output"])) is not None), None)
        expect(other is None, f"fc1's output went through {other} instead of ReLU before fc2.", because_of="activations")
    expect(verdict is not None,
           f"fc2's input is not fc1's output after ReLU and dropout "
           f"({_largest_difference(fc2['input'], F.relu(fc1['output']))}).",
           what_to_try="`x = self.dropout(F.relu(self.fc1(x)))`, then `return self.fc2(x)`.")

    # Every step follows from the one before. Differences that another check judges explain the rest.
    relu_missing = any(float(c["input"].min()) < 0 for c in (conv2, fc1, fc2))
    explained = (relu_missing or verdict[0] == "dropout" or not _same(run["output"], fc2["output"])
                 or any(roles[role][0]["layer"] != role for role in ROLES) or bool(run["new_params"]))
    expect(explained,
           f"Every layer was applied in the right order, yet on {one} your logits differ from the reference "
           f"solution's with the same weights ({_largest_difference(run['output'], want)}).",
           what_to_try="Do not change the layers in forward (their weights or settings), and keep `__init__` exactly "
                       "as it was given.")


def test_activations(student, reference):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    roles = _by_role(run["calls"])
    # What the layer after receives when `fn` is the activation (pooling before or after it, then flattening).
    pooled = lambda out, fn: [F.max_pool2d(fn(out), 2), fn(F.max_pool2d(out, 2))]  # noqa: E731
    points = (("conv1", "conv2", "`x = self.pool(F.relu(self.conv1(x)))`", pooled),
              ("conv2", "fc1", "`x = self.pool(F.relu(self.conv2(x)))`",
               lambda out, fn: [p.reshape(n, -1) for p in pooled(out, fn)]),
              ("fc1", "fc2", "`x = self.dropout(F.relu(self.fc1(x)))`", lambda out, fn: [fn(out)]))
    seen = 0
    for before, after, line, receives in points:
        for call in roles[after]:
            seen += 1
            for out in (c["output"] for c in roles[before][:1]):
                other = next((name for name, fn in OTHER_ACTIVATIONS
                              if any(_same(call["input"], r) for r in receives(out, fn))), None)
                if other is not None:
                    fail(f"The output of {before} went through {other} before reaching {after}, where this model "
                         "uses ReLU (see the table in the instructions): with another activation the same weights "
                         "compute something else.",
                         what_to_try=f"Apply ReLU right after {before}: {line}.")
            negative = int((call["input"] < 0).sum())
            if negative:
                # Three ReLUs ran, and still one layer got negative values: a ReLU's result was thrown away.
                discarded = (f" Your forward does apply ReLU {run['relus']} times, but a ReLU whose result is not "
                             "kept changes nothing: `F.relu(x)` returns a new tensor (`x = F.relu(x)` keeps it)."
                             if run["relus"] >= 3 else "")
                fail(f"The input of {after} had {negative} negative values out of {call['input'].numel()} "
                     f"(the smallest {float(call['input'].min()):.3g}). After a ReLU nothing is negative, so the "
                     f"output of {before} did not go through ReLU before reaching {after}.{discarded} Without an "
                     "activation between them, two layers in a row can only compute what one layer could.",
                     what_to_try=f"Apply ReLU right after {before}: {line}.")
    if not seen:  # no layer computation was seen: only a right result says the ReLUs are there
        expect(_same(run["output"], reference.run(probes.logits, seed=SEED, n=n)["output"]),
               "The check could not see your layers being called, so it could not look at what happens between "
               "them.", what_to_try="Call the layers made in __init__ as functions: `self.conv1(x)`, `self.fc1(x)`...")


def test_raw_logits(student):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    out = run["output"]
    fc2 = _by_role(run["calls"])["fc2"]
    rows = "each row of your output adds" if n == 1 else f"each of the {n} rows of your output adds"
    softmax_tip = ("Return `self.fc2(x)` as it is. `nn.CrossEntropyLoss` applies log-softmax itself; when you need "
                   "probabilities (to show them, not for the loss), call `torch.softmax(model(x), dim=1)` outside "
                   "the model.")
    if fc2:
        logits = fc2[-1]["output"]
        if _same(out, logits):
            return
        named = [("softmax", torch.softmax(logits, dim=1)), ("log-softmax", F.log_softmax(logits, dim=1)),
                 ("ReLU", F.relu(logits)), ("sigmoid", torch.sigmoid(logits)),
                 ("softmax over the batch dimension", torch.softmax(logits, dim=0))]
        applied = next((name for name, value in named if _same(out, value)), None)
    else:  # fc2 was not seen: judge the output alone
        sums = out.sum(dim=1)
        log_sums = out.logsumexp(dim=1)
        if bool(((out >= 0) & (out <= 1)).all()) and torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            applied = "softmax"
        elif torch.allclose(log_sums, torch.zeros_like(log_sums), atol=1e-4):
            applied = "log-softmax"
        else:
            return
    first = ", ".join(f"{v:.3g}" for v in out[0][:4].tolist())
    if applied == "softmax":
        fail(f"Your forward returns probabilities: {rows} up to 1 (the first row starts {first}, ...). "
             "`nn.CrossEntropyLoss` expects raw logits and applies softmax itself, so a softmax in forward is "
             "applied twice: the loss is wrong and learning slows down.", what_to_try=softmax_tip)
    if applied == "log-softmax":
        fail(f"Your forward returns log-probabilities (log-softmax): every value is negative and the "
             f"exponentials of each row add up to 1 (the first row starts {first}, ...). `nn.CrossEntropyLoss` "
             "applies log-softmax itself, so the model must return raw logits (log-softmax output is only right "
             "with `nn.NLLLoss`).", what_to_try=softmax_tip)
    if applied is not None:
        fail(f"Your forward applies {applied} to the output of fc2 (the first row starts {first}, ...). The last "
             "layer's output must come back as it is: logits can be negative, and the loss function turns them "
             "into probabilities itself.", what_to_try="Return `self.fc2(x)` with nothing applied after it.")
    fail(f"Your forward returned something other than the output of fc2 "
         f"({_largest_difference(out, fc2[-1]['output'])}): the logits are fc2's output as it is.",
         what_to_try="End forward with `return self.fc2(x)`.")


def test_dropout_modes(student):
    n = _working_size(student)
    run = student.run(probes.dropout_trace, seed=SEED, n=n)
    evaluation, training = run["eval"], run["train"]

    def verdict(call):
        if len(call["fc1_out"]) != 1 or len(call["fc2_in"]) != 1:
            return None
        return _fc2_input_verdict(call["fc2_in"][0], call["fc1_out"][0])

    made_layers = any(call["new_params"] for call in evaluation + training)
    eval_verdicts = [verdict(call) for call in evaluation]
    for call, found in zip(evaluation, eval_verdicts):
        if found is not None and found[0] == "dropout":
            if call["dropouts_made_in_forward"]:
                how = ("Your forward makes a new `nn.Dropout` layer each time it runs: a layer made there is not "
                       "part of the model, so `model.eval()` never reaches it, and a new layer is in training mode.")
            elif call["functional_dropout"]:
                how = ("Your forward calls `F.dropout`, which does not know the model's mode: its `training` "
                       "argument is True unless you pass it.")
            else:
                how = "Something in forward applied dropout whatever the model's mode."
            fail(f"In evaluation mode (after `model.eval()`), {found[1]:.0%} of fc1's outputs were set to zero and "
                 f"the rest multiplied by {found[2]:.3g} before fc2: dropout was still on, so evaluation results "
                 f"become random. {how}",
                 what_to_try="Use the layer made in __init__, `x = self.dropout(x)`, which follows `model.train()` "
                             "and `model.eval()`; or pass `training=self.training` to `F.dropout`.")
    if None in eval_verdicts and not made_layers:
        first, second = evaluation[0]["output"], evaluation[1]["output"]
        expect(first is None or second is None or _same(first, second),
               f"In evaluation mode, two calls on the same images gave different outputs "
               f"({_largest_difference(first, second)}): something random is still active, such as dropout.",
               what_to_try="Use `self.dropout(x)` (it switches off in `model.eval()`), not `F.dropout(x, p)`.")

    found = verdict(training[0])
    if found is None:  # fc1 and fc2 were not seen once each: judge the outputs alone
        t1, t2, e = training[0]["output"], training[1]["output"], evaluation[0]["output"]
        if made_layers or any(v is None for v in (t1, t2, e)):
            return
        expect(not _same(t1, t2) and not _same(t1, e),
               "In training mode, the model gave the same output as in evaluation mode on the same images: dropout "
               "was never applied.", what_to_try="Apply `self.dropout` between fc1's ReLU and fc2.")
        return
    kind, fraction, scale, _ = found
    if kind == "clean":
        elsewhere = not made_layers and not _same(training[0]["output"], evaluation[0]["output"])
        if elsewhere:
            fail("In training mode, fc2 received fc1's activations unchanged: dropout was applied somewhere else in "
                 "forward, not between fc1 (with its ReLU) and fc2 where this model uses it.",
                 what_to_try="`x = self.dropout(F.relu(self.fc1(x)))`, then `return self.fc2(x)`.")
        if training[0]["dropout_called"]:
            fail("In training mode (after `model.train()`), fc2 received fc1's activations unchanged, and the outputs "
                 "were exactly those of evaluation mode. Your forward does call `self.dropout`, but its result is not "
                 "what goes on to fc2: a layer returns a new tensor and leaves its input as it was, so the result has "
                 "to be kept (`x = self.dropout(x)`).",
                 what_to_try="`x = self.dropout(F.relu(self.fc1(x)))`, then `return self.fc2(x)`.")
        fail("In training mode (after `model.train()`), fc2 received fc1's activations unchanged, and the outputs "
             "were exactly those of evaluation mode: dropout was never applied. `self.dropout` is created in "
             "__init__, but a layer only acts when forward calls it.",
             what_to_try="`x = self.dropout(F.relu(self.fc1(x)))`, then `return self.fc2(x)`.")
    rate = 1.0 - 1.0 / scale if scale > 0 else 1.0
    expect(abs(rate - 0.25) < 0.01,
           f"In training mode, {fraction:.0%} of fc1's outputs were zeroed and the rest multiplied by {scale:.3g}, "
           f"which is dropout with p = {rate:.2g}; this model's dropout uses p = 0.25 (kept values are multiplied by "
           "1 / (1 - 0.25) = 1.33).",
           what_to_try="Use the layer made in __init__: `x = self.dropout(x)`.")
    train_in, eval_in = training[0]["fc1_in"], evaluation[0]["fc1_in"]
    expect(made_layers or len(train_in) != 1 or len(eval_in) != 1 or _same(train_in[0], eval_in[0]),
           "In training mode, fc1 received different numbers than in evaluation mode for the same images: something "
           "random, such as a second dropout, acts before fc1. This model uses one dropout, between fc1 (with its "
           "ReLU) and fc2.",
           what_to_try="Apply `self.dropout` once: `x = self.dropout(F.relu(self.fc1(x)))`.")


def test_layers_in_init(student):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    new = run["new_params"]
    if new:
        owners: dict[int, list[dict]] = {}
        for p in new:
            owners.setdefault(p["owner_index"], []).append(p)
        made = [f"a {ps[0]['owner']} (" + ", ".join(f"{p['name']} of shape {tuple(p['shape'] or ())}" for p in ps) + ")"
                for ps in owners.values()]
        fail(f"Each call of forward created {len(made)} new layer(s) with weights: {', '.join(made[:3])}. A layer made "
             "inside forward starts with fresh random weights on every call, and the optimizer, built from "
             "`model.parameters()` before training, never sees them: that part of the model can never learn. "
             f"Outputs also change from call to call.",
             what_to_try="Create layers once, in __init__ (they are all there already: `self.conv1`, `self.conv2`, "
                         "`self.fc1`, `self.fc2`, `self.dropout`), and in forward only call them: `self.fc1(x)`.")
    expect(run["params_before"] == run["params_after"],
           f"Calling forward changed the model's parameters: before, {len(run['params_before'])} named parameters; "
           f"after, {len(run['params_after'])}.",
           what_to_try="forward should only use the layers made in __init__, never add or replace any.")
    expect(run["has_graph"],
           f"Your forward's output ({said(run['returned'])}) is not connected to the computation graph, so no "
           "gradient can reach the weights and training could not change them.",
           what_to_try="Remove `torch.no_grad()`, `.detach()` and `.data` from forward.")
    # "zero" gradients are fine here: dead ReLUs or an output that does not vary can cause them.
    missing = [name for name, state in run["grads"].items() if state == "none"]
    if not missing:
        return
    layers = list(dict.fromkeys(name.split(".")[0] for name in missing))
    called = [layer for layer in layers if any(c["layer"] == layer for c in run["calls"])]
    if called:
        fail(f"`self.{called[0]}` is called in forward, but after a backward pass from the output its parameters "
             f"({', '.join(n for n in missing if n.startswith(called[0] + '.'))}) had no gradient: that part of "
             "forward runs under `torch.no_grad()`, or its result is detached (`.detach()`, `.data`), so training "
             "could never change those weights.",
             what_to_try="Remove `torch.no_grad()`, `.detach()` and `.data` from forward.")
    fail(f"After a backward pass from the output, {', '.join(missing)} had no gradient: forward does not use "
         f"`self.{layers[0]}`, so training would never change {'its' if len(layers) == 1 else 'their'} weights.",
         what_to_try=f"Call the layers made in __init__ in forward: `self.{layers[0]}(x)`.")
