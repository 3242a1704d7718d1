"""Checks for exercise 16. One probe builds the student's model and runs it on batches of every size in
probes.SIZES, tracing each step; the model's checks read that one record, so one mistake fails the
check that names it:

- layers-chain judges a pass that ran (at any batch size); only when every size raised does it
  explain the crash, with the shapes the trace saw, and then the other model checks say they follow
  from it;
- output-shape judges the sizes: a flattened or hard-coded batch dimension runs at some sizes only;
- two-convolutions and parameter-budget judge what ran and what the model holds.

A pass that ran counts as the model working only when it used at least one of the model's own nn.Conv2d
layers and one of its nn.Linear layers (a step counts as a layer when it used that layer's weight
tensor: a convolution with a weight made in forward is no layer of the model) and its output depends on
the images (`_sound`); a forward that returns zeros or slices its input fails layers-chain, and the other
model checks, which judge only a sound model, say they follow from it (parameter-budget also from
two-convolutions).

count_parameters is given models the probe builds, and output_shape layers the probe builds: what
they return is compared with PyTorch's own answers (the parameters' sizes; each layer run on zeros
here, in the grading process), so a mistake in the model never hides them, and theirs never the model's.
"""

import functools
import math

import probes
import torch
from torch.nn.modules.utils import _pair

from grader.checks import fail, said
from grader.checks.observe import said_error, said_value

SEED = 16
SIZES = probes.SIZES
PREFERRED = probes.PREFERRED  # the batch sizes the model's checks judge at, the first the model runs with
TRACE_SHOWN = 6  # steps of a pass a message shows before the one that raised


# ----------------------------------------------------------------------------- the model


def _facts(student) -> dict:
    return student.run(probes.model_facts, seed=SEED)


def _model(student, owner: str | None = None) -> dict:
    """The model's record; fail when build_model gave no model (`owner`: the check that says so first)."""
    facts = _facts(student)
    if facts["error"]:
        fail("common.build-raised", error=said_error(facts["error"]), because_of=owner)
    if not facts["model"]:
        fail("common.not-a-model", returned=said_value(facts["returned"]), made_from=facts["class"], because_of=owner)
    return facts


def _working(facts: dict) -> dict | None:
    """A pass that ran without raising, at the first batch size of PREFERRED that did."""
    return next((facts["passes"][n] for n in PREFERRED if facts["passes"][n]["error"] is None), None)


def _own_layers(run: dict, kind: str) -> list[str]:
    """The model's own nn.Conv2d ("conv") or nn.Linear ("linear") layers that a pass used, each once, in order."""
    found = []
    for step in run["steps"]:
        if step["kind"] == kind and step["module"] and step["module"] not in found:
            found.append(step["module"])
    return found


def _independent(facts: dict) -> bool:
    """Whether some output row of a pass did not depend on its own image (unknown counts as depending)."""
    depends = facts.get("depends") or {}
    return depends.get("own") is not None and not all(depends["own"])


def _sound(facts: dict) -> dict | None:
    """The pass the model's checks judge: one that ran, used the model's own convolution and linear layers,
    and gave scores that depend on the images; None when there is none."""
    run = _working(facts)
    if run is None or not _own_layers(run, "conv") or not _own_layers(run, "linear") or _independent(facts):
        return None
    return run


def _step_name(step: dict) -> str:
    """A step as the student wrote it: `model.conv1 (Conv2d)`, `view(2, -1)`, `F.max_pool2d`."""
    if step["layer"]:
        return f"{step['layer']} ({step['type']})" if step["type"] else step["layer"]
    if step["kind"] == "reshape":
        return f"{step['op']}({step['arguments']})"
    return f"F.{step['op']}" + (f" ({step['type']}, made in forward)" if step["type"] else "")


def _shown(steps: list[dict]) -> list[dict]:
    """The steps a message lists, each with its name and shapes."""
    return [{"name": _step_name(s), "input": s["input"] or [], "output": s["output"] or []} for s in steps]


def _before(run: dict) -> dict:
    """The last steps of a pass before the one that raised, as words (empty when there were none)."""
    steps = [s for s in run["steps"] if not s["failed"]]
    return said("phrase.steps", steps=_shown(steps[-TRACE_SHOWN:]))


def _last(steps: list[dict], kind: str) -> dict | None:
    return next((s for s in reversed(steps) if s["kind"] == kind and not s["failed"]), None)


def _flatten_step(run: dict) -> dict | None:
    """The reshaping that fed the first linear layer (or the last one of the pass, when no linear layer ran)."""
    steps = run["steps"]
    first_linear = next((i for i, s in enumerate(steps) if s["kind"] == "linear"), len(steps))
    return _last(steps[:first_linear], "reshape")


def test_layers_chain(student):
    facts = _model(student)
    run = _working(facts)
    if run:
        convs, linears = _own_layers(run, "conv"), _own_layers(run, "linear")
        if not convs or not linears:
            foreign = [_step_name(s) for s in run["steps"] if s["kind"] in ("conv", "linear") and not s["module"]]
            fail("layers-chain.layers-unused", n=run["n"], no_conv=not convs, no_linear=not linears,
                 convs=facts["parameters"]["convs"], linears=facts["parameters"]["linears"],
                 foreign=sorted(set(foreign))[:3], value=said_value(run["value"]))
        if _independent(facts):
            depends = facts["depends"]
            rows = [row for row, own in zip(depends["rows"], depends["own"]) if not own]
            fail("layers-chain.ignores-input", n=depends["n"], rows=rows, value=said_value(run["value"]))
        return
    run = facts["passes"][2]
    failed, steps = run["failed"], _before(run)
    error = said_error(run["error"])
    if failed is None:
        fail("layers-chain.raised", error=error, steps=steps)
    name, shape = _step_name(failed), failed["input"] or []
    earlier = [s for s in run["steps"] if not s["failed"]]
    if failed["kind"] == "conv":
        weight = failed["weight"] or []
        expected = weight[1] * (failed["groups"] or 1) if len(weight) == 4 else None
        if expected is not None and len(shape) == 4 and shape[1] != expected:
            previous = _last(earlier, "conv")
            fail("layers-chain.channels", layer=name, expected=expected, channels=shape[1], shape=shape, steps=steps,
                 previous=_step_name(previous) if previous else None,
                 previous_out=previous["weight"][0] if previous and previous["weight"] else None)
        if len(weight) == 4 and len(shape) == 4:
            fail("layers-chain.too-small", layer=name, shape=shape, kernel=weight[2:], steps=steps, error=error)
    if failed["kind"] == "linear":
        weight = failed["weight"] or []
        if len(weight) == 2 and shape and shape[-1] != weight[1]:
            flat = _last(earlier, "reshape")
            features = math.prod(flat["input"][1:]) if flat and flat["input"] and len(flat["input"]) > 1 else None
            lost = bool(flat and flat["output"] and (len(flat["output"]) < 2 or flat["output"][0] != run["n"]))
            fail("layers-chain.features", layer=name, in_features=weight[1], out_features=weight[0], shape=shape,
                 got=shape[-1], dims=len(shape), steps=steps, batch_lost=lost,
                 flatten=_shown([flat])[0] if flat else None, features=features)
    if failed["kind"] == "reshape":
        fail("layers-chain.reshape", call=name, shape=shape, numel=math.prod(shape), steps=steps, error=error)
    if failed["kind"] == "pool":
        fail("layers-chain.too-small", layer=name, shape=shape, kernel=None, steps=steps, error=error)
    fail("layers-chain.raised-in", layer=name, shape=shape, steps=steps, error=error)


def _right(run: dict, n: int) -> bool:
    value = run["value"]
    return run["error"] is None and value["kind"] == "tensor" and value["shape"] == [n, probes.CLASSES]


def _plain_error(error: dict) -> dict:
    """What was raised, in words, without the error catalogue's explanation (which, for a linear layer given a
    flattened batch, would blame the flattened size rather than the batch dimension)."""
    message = str(error.get("message", "")).strip().rstrip(".")
    return said("phrase.raised", type=error.get("type", ""), message=message, file=error.get("file", ""),
                line=error.get("line", 0), code=error.get("code", ""))


def _outcome(run: dict, prefix: str = "", explained: bool = False) -> dict:
    """What one pass gave, in words: `error` (what it raised, with the error catalogue's explanation only if
    `explained`) or `value` (its output), the other None."""
    words = said_error if explained else _plain_error
    return {prefix + "error": words(run["error"]) if run["error"] else None,
            prefix + "value": None if run["error"] else said_value(run["value"])}


def test_output_shape(student):
    facts = _model(student, owner="layers-chain")
    passes = facts["passes"]
    bad = [n for n in SIZES if not _right(passes[n], n)]
    if not bad:
        if _sound(facts):
            return
        fail("output-shape.not-judged", because_of="layers-chain")
    if all(passes[n]["error"] for n in SIZES):
        fail("output-shape.never-runs", tried=list(SIZES), because_of="layers-chain")
    good = [n for n in SIZES if n not in bad]
    flats = {n: _flatten_step(passes[n]) for n in SIZES}
    lost = [n for n in bad if n > 1 and flats[n] and flats[n]["output"] and flats[n]["output"][0] != n]
    if lost:
        n, flat = lost[0], flats[lost[0]]
        one = passes[1]
        rows = {flats[m]["output"][0] for m in lost if len(flats[m]["output"]) > 1}
        if len(flat["output"]) > 1 and len(rows) == 1:
            fail("output-shape.batch-fixed", n=n, flatten=_shown([flat])[0], rows=flat["output"][0], good=good,
                 **_outcome(passes[n]))
        fail("output-shape.batch-flattened", n=n, flatten=_shown([flat])[0], one_right=_right(one, 1), good=good,
             **_outcome(passes[n]), **_outcome(one, "one_"))
    fixed = sorted((n for n in bad if passes[n]["failed"] and passes[n]["failed"]["kind"] == "reshape"),
                   key=lambda n: n == 1)  # a batch of several images first
    if fixed and good:
        n, step = fixed[0], passes[fixed[0]]["failed"]
        fail("output-shape.reshape-fixed", n=n, call=_step_name(step), shape=step["input"] or [], good=good,
             error=_plain_error(passes[n]["error"]))
    shapes = {n: passes[n]["value"]["shape"] for n in SIZES if passes[n]["error"] is None
              and passes[n]["value"]["kind"] == "tensor"}
    widths = {tuple(s[1:]) for s in shapes.values() if len(s) == 2}
    if len(widths) == 1 and all(len(s) == 2 for s in shapes.values()) and len(shapes) == len(SIZES):
        fail("output-shape.classes", width=shapes[2][1], classes=probes.CLASSES, shape=shapes[2], n=2)
    if bad == [1] and passes[1]["error"] is None and passes[1]["value"].get("shape") == [probes.CLASSES]:
        fail("output-shape.squeezed", good=good)
    n = next((m for m in bad if m > 1), bad[0])
    fail("output-shape.wrong", n=n, good=good, classes=probes.CLASSES, **_outcome(passes[n], explained=True))


def test_two_convolutions(student):
    facts = _model(student, owner="layers-chain")
    run = _sound(facts)
    if run is None:
        if _working(facts):
            fail("two-convolutions.not-judged", because_of="layers-chain")
        fail("two-convolutions.not-seen", count=len(_own_layers(facts["passes"][2], "conv")), because_of="layers-chain")
    convs = _own_layers(run, "conv")
    if len(convs) >= 2:
        return
    foreign = [_step_name(s) for s in run["steps"] if s["kind"] == "conv" and not s["module"]]
    fail("two-convolutions.too-few", count=len(convs), layers=convs, in_model=facts["parameters"]["convs"], n=run["n"],
         foreign=sorted(set(foreign))[:3])


def test_parameter_budget(student):
    facts = _model(student, owner="layers-chain")
    params = facts["parameters"]
    if params["uninitialised"]:
        fail("parameter-budget.uninitialised", layers=params["uninitialised"], because_of="layers-chain")
    run = _sound(facts)
    if run is None:
        fail("parameter-budget.not-judged", total=params["total"], because_of="layers-chain")
    if len(_own_layers(run, "conv")) < 2:
        fail("parameter-budget.too-few-convolutions", total=params["total"], because_of="two-convolutions")
    if params["total"] <= probes.BUDGET:
        return
    flat = _flatten_step(run)
    fail("parameter-budget.over", total=params["total"], budget=probes.BUDGET, biggest=params["biggest"],
         flatten=_shown([flat])[0] if flat else None)


# ----------------------------------------------------------------------------- count_parameters

# The mistakes the probe counts, in the order a diagnosis names them (the first that explains every answer).
MISTAKES = ("frozen-counted", "no-biases", "state-dict", "tensors", "all-tensors", "frozen-only", "first-dimension",
            "shared-twice", "formula")


@functools.lru_cache(maxsize=None)
def _wanted() -> list[int]:
    """The right count for each of the probe's models, built and counted here, in the grading process, where
    the student's code cannot have changed nn's classes or how parameters are listed."""
    return [sum(p.numel() for p in case["model"].parameters() if p.requires_grad)
            for case in probes.count_cases(SEED)]


def test_count_parameters(student):
    cases = student.run(probes.counted, seed=SEED)
    for case, want in zip(cases, _wanted()):
        case["want"] = want  # the count the student's process computed is only for naming the mistake
    for case in cases:
        if case["error"]:
            fail("count-parameters.raised", code=case["code"], error=said_error(case["error"]))
    for case in cases:
        if case["number"] is None:
            fail("count-parameters.not-a-number", code=case["code"], returned=said_value(case["returned"]))
    wrong = [case for case in cases if case["number"] != case["want"]]
    if not wrong:
        return
    explained = next((name for name in MISTAKES if all(c["mistakes"][name] == c["number"] for c in cases)), None)
    numbers = [case["number"] for case in cases]
    case = wrong[0]
    fail("count-parameters.wrong", code=case["code"], frozen=[f"model[{i}]" for i in case["frozen"]],
         got=case["number"], want=case["want"], mistake=explained, models=len(cases),
         same=len(set(numbers)) == 1 and explained is None, buffers=case["buffers"])


# ----------------------------------------------------------------------------- output_shape

# Formulas for one spatial dimension that classic mistakes compute: (size, kernel, stride, padding, dilation) -> size.
def _right_size(h, k, s, p, d):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


FORMULAS = {
    "no-plus-one": lambda h, k, s, p, d: (h + 2 * p - d * (k - 1) - 1) // s,
    "padding-once": lambda h, k, s, p, d: (h + p - d * (k - 1) - 1) // s + 1,
    "no-padding": lambda h, k, s, p, d: (h - d * (k - 1) - 1) // s + 1,
    "stride-ignored": lambda h, k, s, p, d: h + 2 * p - d * (k - 1),
    "dilation-ignored": lambda h, k, s, p, d: (h + 2 * p - k) // s + 1,
    "ceil": lambda h, k, s, p, d: -(-(h + 2 * p - d * (k - 1) - 1) // s) + 1,
    "rounded": lambda h, k, s, p, d: round((h + 2 * p - d * (k - 1) - 1) / s) + 1,
}
CROSSED = ("height-for-width", "height-out-for-width", "height-settings")  # mix-ups of the two dimensions


def _settings(layer) -> list[tuple]:
    """(kernel, stride, padding, dilation) for the height and for the width, as the layer keeps them."""
    values = [_pair(getattr(layer, name)) for name in ("kernel_size", "stride", "padding", "dilation")]
    return [tuple(v[0] for v in values), tuple(v[1] for v in values)]


def _candidate(name: str, kind: str, layer, size: list) -> list:
    """What the mistake `name` gives for a layer's output height and width."""
    (h, w), (hs, ws) = size, _settings(layer)
    if name == "rule-of-thumb":  # "a convolution keeps the size, a pooling halves it"
        return [h, w] if kind == "conv" else [h // 2, w // 2]
    if name == "height-for-width":
        return [_right_size(h, *hs), _right_size(h, *ws)]
    if name == "height-out-for-width":
        return [_right_size(h, *hs), _right_size(_right_size(h, *hs), *ws)]
    if name == "height-settings":
        return [_right_size(h, *hs), _right_size(w, *hs)]
    return [FORMULAS[name](h, *hs), FORMULAS[name](w, *ws)]


@functools.lru_cache(maxsize=None)
def _cases(kind: str) -> list[tuple[dict, object, list]]:
    """Each configuration, its layer (built here), and the shape PyTorch gives when the layer runs on zeros."""
    cases = []
    for config in probes.configs(kind, SEED):
        layer = probes.make_layer(kind, config["kwargs"])
        with torch.no_grad():
            out = layer(torch.zeros(config["input"]))
        cases.append((config, layer, list(out.shape)))
    return cases


def _judge_shapes(student, kind: str) -> None:
    answers = student.run(probes.computed_shapes, seed=SEED)[kind]
    cases = [(config, layer, want, answer) for (config, layer, want), answer in zip(_cases(kind), answers)]
    code = lambda config: probes.layer_code(kind, config["kwargs"])  # noqa: E731
    for config, layer, want, answer in cases:
        if answer["error"]:
            ints = [name for name in ("kernel_size", "stride", "padding", "dilation")
                    if isinstance(getattr(layer, name), int)]
            raised = said_error(answer["error"])
            if kind == "pool" and ints and answer["error"].get("type") == "TypeError":
                fail("shapes.raised-int", layer=code(config), shape=config["input"], error=raised, ints=ints)
            if kind == "conv" and answer["error"].get("type") == "TypeError":
                pairs = {name: list(getattr(layer, name)) for name in ("kernel_size", "stride", "padding", "dilation")}
                fail("shapes.raised-pairs", layer=code(config), shape=config["input"], error=raised, pairs=pairs)
            fail("shapes.raised", layer=code(config), shape=config["input"], error=raised)
    for config, layer, want, answer in cases:
        if answer["items"] is None or answer["length"] != 4:
            fail("shapes.not-a-shape", layer=code(config), shape=config["input"], returned=said_value(answer["returned"]),
                 length=answer.get("length"))
    for config, layer, want, answer in cases:
        if answer["floats"]:
            fail("shapes.floats", layer=code(config), shape=config["input"], floats=answer["floats"][:4])
    for config, layer, want, answer in cases:
        if None in answer["items"]:
            fail("shapes.not-numbers", layer=code(config), shape=config["input"], returned=said_value(answer["returned"]))
    wrong = [case for case in cases if case[3]["items"] != case[2]]
    if not wrong:
        return
    config, layer, want, answer = wrong[0]
    got = answer["items"]
    facts = dict(layer=code(config), shape=config["input"], got=got, want=want, stage=config["stage"], kind=kind)
    batch = [case for case in wrong if case[3]["items"][0] != case[2][0]]
    if batch:
        config, layer, want, answer = batch[0]
        fail("shapes.batch", **{**facts, "layer": code(config), "shape": config["input"], "got": answer["items"],
                                "want": want})
    channels = [case for case in wrong if case[3]["items"][1] != case[2][1]]
    if channels:
        config, layer, want, answer = channels[0]
        in_channels = kind == "conv" and all(c[3]["items"][1] == c[0]["kwargs"]["in_channels"] for c in channels)
        fail("shapes.channels", **{**facts, "layer": code(config), "shape": config["input"], "got": answer["items"],
                                   "want": want}, in_channels=in_channels)
    names = [*FORMULAS, *CROSSED, "rule-of-thumb"]
    mistake = next((name for name in names if all(_candidate(name, kind, c[1], c[0]["input"][2:]) == c[3]["items"][2:]
                                                  for c in cases)), None)
    settings = dict(zip(("kernel", "stride", "padding", "dilation"), zip(*_settings(layer))))
    fail("shapes.size", **facts, mistake=mistake, settings={k: list(v) for k, v in settings.items()},
         height=got[2] != want[2], width=got[3] != want[3])


def test_conv_output_shape(student):
    _judge_shapes(student, "conv")


def test_pool_output_shape(student):
    _judge_shapes(student, "pool")


def test_shape_by_arithmetic(student):
    run = student.run(probes.computed_shapes, seed=SEED)
    for kind in ("conv", "pool"):
        for (config, layer, want), answer in zip(_cases(kind), run[kind]):
            if answer["ran"]:
                fail("shape-by-arithmetic.ran", layer=probes.layer_code(kind, config["kwargs"]), shape=config["input"],
                     ran=answer["ran"][:4])
    if all(answer["error"] for kind in ("conv", "pool") for answer in run[kind]):
        fail("shape-by-arithmetic.no-answer", because_of=["conv-output-shape", "pool-output-shape"])
