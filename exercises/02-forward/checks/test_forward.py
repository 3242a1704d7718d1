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

from grader.checks import expect, fail, said
from grader.checks.independence import mixed_samples
from grader.checks.observe import said_value

SEED = 2
ROLES = ("conv1", "conv2", "fc1", "fc2")
# Batch size the checks after output-shape use: 1 first (no mixing of samples can show there), then
# any other size the student's forward handles, so a hard-coded batch size fails only output-shape.
PREFERRED = (1, 8, 2, 4, 5, 7, 16, 32, 64)
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
    fail("working-size.none", tried=list(probes.SIZES), because_of="output-shape")


def _same(a, b) -> bool:
    return (a is not None and b is not None and a.shape == b.shape
            and torch.allclose(a.double(), b.double(), rtol=RTOL, atol=ATOL))


def _largest_difference(a, b) -> dict:
    if a.shape != b.shape:
        return said("phrase.shape-instead", got=list(a.shape), want=list(b.shape))
    return said("phrase.values-differ", gap=float((a.double() - b.double()).abs().max()))


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


# Activations by key; `_activation(key)` says their names (phrase.activation).
OTHER_ACTIVATIONS = (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("leaky_relu", F.leaky_relu), ("elu", F.elu),
                     ("gelu", F.gelu), ("silu", F.silu), ("softmax", lambda t: torch.softmax(t, dim=1)))


def _activation(key: str | None) -> dict | None:
    """The name of an activation (a key of OTHER_ACTIVATIONS or of raw-logits' list) as words."""
    return None if key is None else said("phrase.activation", name=key)


def _other_activation(got, expected_with) -> str | None:
    """The key of an activation other than ReLU that explains `got`, where expected_with(fn) is
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


def _images_word(n: int) -> dict:
    return said("phrase.images", n=n)


# ----------------------------------------------------------------------------- checks


def _shape_problem(entry: dict, n: int) -> tuple[str, dict]:
    """(kind, one sentence) for a batch size whose output was not [n, 10]."""
    if "error" in entry:
        error = entry["error"]
        return "error", said("output-shape.raised", images=_images_word(n), type=error.get("type"),
                             file=error.get("file"), line=error.get("line"), code=error.get("code"),
                             message=error.get("message", ""))
    value = entry["value"]
    if value["kind"] != "tensor":
        return "type", said("output-shape.not-a-tensor", images=_images_word(n), n=n, returned=said_value(value),
                            type=value["type"])
    shape = tuple(value["shape"])
    if n == 1 and shape == (10,):
        return "squeezed", said("output-shape.squeezed-one", shape=shape)
    return "shape", said("output-shape.shape", images=_images_word(n), n=n, shape=shape)


def test_output_shape(student):
    shapes = _shapes(student)
    good = [n for n in probes.SIZES if _right_shape(shapes[n], n)]
    bad = [n for n in probes.SIZES if n not in good]
    if not bad:
        return
    problems = [(n, *_shape_problem(shapes[n], n)) for n in bad]
    n, kind, first = problems[0]
    other = next(((m, k, t) for m, k, t in problems if k != kind), None)
    text = said("output-shape.problems", first=first, other=other[2] if other is not None else None, good=good,
                only=_images_word(good[0]) if len(good) == 1 else None)
    kinds = {kind} | ({other[1]} if other else set())
    if "squeezed" in kinds:
        # Larger batches keep their dimension: something drops dimensions of size 1. Or one image fits, and
        # more do not (each raised): the batch dimension was flattened away.
        fail("output-shape.squeezed", problems=text, larger_right=any(n > 1 for n in good),
             larger_raised=all("error" in shapes[n] for n in bad if n > 1))
    if kind == "type":
        fail("output-shape.type", problems=text)
    fail("output-shape.wrong", problems=text)


def test_batch_independence(student):
    shapes = _shapes(student)
    sizes = [n for n in (4, 5, 7, 8, 2, 16, 32, 64) if _right_shape(shapes[n], n)]
    expect(sizes, "batch-independence.no-batch", because_of="output-shape")
    runs = [(sizes[0], student.run(probes.batch_independence, seed=SEED, n=sizes[0]))]
    if _right_shape(shapes[1], 1):
        runs.append((1, student.run(probes.batch_independence, seed=SEED, n=1)))
    for n, run in runs:
        for leak in mixed_samples(run):
            j, others = leak["row"], leak["others"]
            if others:
                fail("batch-independence.mixed", n=n, row=j, other=others[0], more=len(others) - 1)
            fail("batch-independence.ignored", n=n, row=j)


def test_forward_pass(student, reference):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    want = reference.run(probes.logits, seed=SEED, n=n)["output"]
    if _same(run["output"], want):
        return
    one = said("phrase.one-image", n=n)
    roles = _by_role(run["calls"])
    for role in ROLES:
        expect(roles[role], "forward-pass.not-called", role=role, one=one)
        count = len(roles[role])
        expect(count == 1, "forward-pass.called-again", role=role, count=count)
    conv1, conv2, fc1, fc2 = (roles[role][0] for role in ROLES)
    expect(_same(conv1["input"], run["input"]), "forward-pass.input-changed",
           difference=_largest_difference(conv1["input"], run["input"]))

    a1 = conv1["output"]
    if not (_same(conv2["input"], F.max_pool2d(F.relu(a1), 2)) or _same(conv2["input"], F.max_pool2d(a1, 2))):
        if _same(conv2["input"], F.relu(a1)) or _same(conv2["input"], a1):
            fail("forward-pass.conv1-not-pooled", shape=list(conv2["input"].shape), n=n)
        other = _other_activation(conv2["input"], lambda fn: F.max_pool2d(fn(a1), 2)) \
            or _other_activation(conv2["input"], lambda fn: fn(F.max_pool2d(a1, 2)))
        if other:
            fail("forward-pass.conv1-activation", activation=_activation(other), because_of="activations")
        fail("forward-pass.conv2-input", difference=_largest_difference(conv2["input"], F.max_pool2d(F.relu(a1), 2)))

    a2 = conv2["output"]
    features = [F.max_pool2d(F.relu(a2), 2), F.max_pool2d(a2, 2)]
    got = fc1["input"]
    if not any(_same(got, f.reshape(n, -1)) for f in features):
        if got.numel() == features[0].numel():
            for f in features:
                per_image = got.reshape(n, -1).sort(dim=1).values
                if _same(per_image, f.reshape(n, -1).sort(dim=1).values):
                    fail("forward-pass.fc1-order")
                if _same(got.reshape(-1).sort().values, f.reshape(-1).sort().values):
                    fail("forward-pass.fc1-mixed")
        pooled = F.max_pool2d(F.relu(a2), 2).reshape(n, -1)
        other = _other_activation(got, lambda fn: F.max_pool2d(fn(a2), 2).reshape(n, -1)) \
            or _other_activation(got, lambda fn: fn(F.max_pool2d(a2, 2)).reshape(n, -1))
        if other:
            fail("forward-pass.conv2-activation", activation=_activation(other), because_of="activations")
        if got.dim() == 2 and got.shape[1] != pooled.shape[1]:
            fail("forward-pass.fc1-features", features=got.shape[1])
        fail("forward-pass.fc1-input", difference=_largest_difference(got, pooled))

    verdict = _fc2_input_verdict(fc2["input"], fc1["output"])
    if verdict is None:
        other = next((name for name, fn in OTHER_ACTIVATIONS
                      if _dropout_pattern(fc2["input"], fn(fc1["output"])) is not None), None)
        expect(other is None, "forward-pass.fc1-activation", activation=_activation(other), because_of="activations")
    expect(verdict is not None, "forward-pass.fc2-input",
           difference=_largest_difference(fc2["input"], F.relu(fc1["output"])))

    # Every step follows from the one before. Differences that another check judges explain the rest.
    relu_missing = any(float(c["input"].min()) < 0 for c in (conv2, fc1, fc2))
    explained = (relu_missing or verdict[0] == "dropout" or not _same(run["output"], fc2["output"])
                 or any(roles[role][0]["layer"] != role for role in ROLES) or bool(run["new_params"]))
    expect(explained, "forward-pass.unexplained", one=one, difference=_largest_difference(run["output"], want))


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
                    fail("activations.other", before=before, after=after, activation=_activation(other), line=line)
            negative = int((call["input"] < 0).sum())
            if negative:
                # Three ReLUs ran (`relus`), and still one layer got negative values: a ReLU's result was thrown away.
                fail("activations.negative", before=before, after=after, line=line, negative=negative,
                     total=call["input"].numel(), smallest=float(call["input"].min()), relus=run["relus"])
    if not seen:  # no layer computation was seen: only a right result says the ReLUs are there
        expect(_same(run["output"], reference.run(probes.logits, seed=SEED, n=n)["output"]), "activations.not-seen")


def test_raw_logits(student):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    out = run["output"]
    fc2 = _by_role(run["calls"])["fc2"]
    if fc2:
        logits = fc2[-1]["output"]
        if _same(out, logits):
            return
        named = [("softmax", torch.softmax(logits, dim=1)), ("log_softmax", F.log_softmax(logits, dim=1)),
                 ("relu", F.relu(logits)), ("sigmoid", torch.sigmoid(logits)),
                 ("softmax_batch", torch.softmax(logits, dim=0))]
        applied = next((name for name, value in named if _same(out, value)), None)
    else:  # fc2 was not seen: judge the output alone
        sums = out.sum(dim=1)
        log_sums = out.logsumexp(dim=1)
        if bool(((out >= 0) & (out <= 1)).all()) and torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            applied = "softmax"
        elif torch.allclose(log_sums, torch.zeros_like(log_sums), atol=1e-4):
            applied = "log_softmax"
        else:
            return
    first = out[0][:4].tolist()  # the first values of the first row
    if applied == "softmax":
        fail("raw-logits.softmax", n=n, first=first)
    if applied == "log_softmax":
        fail("raw-logits.log-softmax", first=first)
    if applied is not None:
        fail("raw-logits.applied", activation=_activation(applied), first=first)
    fail("raw-logits.not-fc2", difference=_largest_difference(out, fc2[-1]["output"]))


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
            # How: a dropout layer made in forward, or F.dropout, or something else.
            fail("dropout-modes.eval-on", fraction=found[1], scale=found[2],
                 made_in_forward=bool(call["dropouts_made_in_forward"]), functional=bool(call["functional_dropout"]))
    if None in eval_verdicts and not made_layers:
        first, second = evaluation[0]["output"], evaluation[1]["output"]
        expect(first is None or second is None or _same(first, second), "dropout-modes.eval-random",
               difference=_largest_difference(first, second))

    found = verdict(training[0])
    if found is None:  # fc1 and fc2 were not seen once each: judge the outputs alone
        t1, t2, e = training[0]["output"], training[1]["output"], evaluation[0]["output"]
        if made_layers or any(v is None for v in (t1, t2, e)):
            return
        expect(not _same(t1, t2) and not _same(t1, e), "dropout-modes.train-like-eval")
        return
    kind, fraction, scale, _ = found
    if kind == "clean":
        elsewhere = not made_layers and not _same(training[0]["output"], evaluation[0]["output"])
        if elsewhere:
            fail("dropout-modes.elsewhere")
        if training[0]["dropout_called"]:
            fail("dropout-modes.result-discarded")
        fail("dropout-modes.never-applied")
    rate = 1.0 - 1.0 / scale if scale > 0 else 1.0
    expect(abs(rate - 0.25) < 0.01, "dropout-modes.wrong-p", fraction=fraction, scale=scale, rate=rate)
    train_in, eval_in = training[0]["fc1_in"], evaluation[0]["fc1_in"]
    expect(made_layers or len(train_in) != 1 or len(eval_in) != 1 or _same(train_in[0], eval_in[0]),
           "dropout-modes.before-fc1")


def test_layers_in_init(student):
    n = _working_size(student)
    run = student.run(probes.trace, seed=SEED, n=n)
    new = run["new_params"]
    if new:
        owners: dict[int, list[dict]] = {}
        for p in new:
            owners.setdefault(p["owner_index"], []).append(p)
        made = [{"owner": ps[0]["owner"], "params": [{"name": p["name"], "shape": p["shape"] or []} for p in ps]}
                for ps in owners.values()]
        fail("layers-in-init.made-in-forward", layers=made)
    expect(run["params_before"] == run["params_after"], "layers-in-init.params-changed",
           before=len(run["params_before"]), after=len(run["params_after"]))
    expect(run["has_graph"], "layers-in-init.no-graph", returned=said_value(run["returned"]))
    # "zero" gradients are fine here: dead ReLUs or an output that does not vary can cause them.
    missing = [name for name, state in run["grads"].items() if state == "none"]
    if not missing:
        return
    layers = list(dict.fromkeys(name.split(".")[0] for name in missing))
    called = [layer for layer in layers if any(c["layer"] == layer for c in run["calls"])]
    if called:
        fail("layers-in-init.detached", layer=called[0], params=[n for n in missing if n.startswith(called[0] + ".")])
    fail("layers-in-init.unused", missing=missing, layers=layers)
