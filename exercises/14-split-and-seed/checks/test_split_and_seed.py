"""Checks for exercise 14. split is judged by what it returned: the sizes of the two parts (compared with the
reference's on the same datasets), which items of the dataset each part holds (every item in exactly one part,
chosen at random, the same for the same seed and other for other seeds), and whether the global random
generators were left as the call found them. No check compares the items with the reference's choice: any
random split is a right one. seed_everything is judged by the next numbers that `random`, `np.random` and torch
draw after it, compared with the reference's, for two seeds.

A split that raised or returned no two parts is explained by `sizes`; parts holding something other than the
dataset's items by `partition`; every other check says it follows from those."""

import probes

from grader.checks import fail
from grader.checks.observe import said_error, said_value

SEED = 14
SEEDS = [3, 14, 15, 92, 65]  # split(dataset, 0.25, s) for each: 10 of 40 items, five random choices
SEEDING = [5, 1234]  # seed_everything(s) for each
PARTS = ("train", "validation")
DRAW_CALLS = {"random": "random.random()", "numpy": "np.random.random()", "torch": "torch.rand()"}
SEEDING_CALLS = {"random": "random.seed", "numpy": "np.random.seed", "torch": "torch.manual_seed"}


def _call_facts(call: dict) -> dict:
    return {"n": call["n"], "fraction": call["fraction"], "seed": call["seed"]}


def _two_parts(call: dict, owner: str | None = "sizes") -> list[dict]:
    """The two parts split returned (training, validation); fail when it raised, did not return two parts, or a
    part has no length. `owner`: the check that explains those (None: this one)."""
    facts = _call_facts(call)
    if call["error"]:
        fail("common.split-raised", error=said_error(call["error"]), because_of=owner, **facts)
    if not call["pair"]:
        fail("common.not-a-pair", returned=said_value(call["returned"]), because_of=owner, **facts)
    for name, part in zip(PARTS, call["parts"]):
        if not part["sized"]:
            fail("common.no-length", part=name, type=part["type"], because_of=owner, **facts)
    return call["parts"]


def _not_items(call: dict, part: dict, name: str, owner: str | None) -> None:
    """Fail when a part could not be read or holds something that is not one of the dataset's items."""
    facts = _call_facts(call)
    if part["read_error"]:
        fail("common.read-raised", part=name, index=part["read_at"], error=said_error(part["read_error"]),
             because_of=owner, **facts)
    if part["unknown"]:
        fail("common.not-items", part=name, unknown=part["unknown"], length=part["length"],
             item=said_value(part["first_unknown"]), because_of=owner, **facts)


def _identified(call: dict) -> tuple[list[int], list[int]]:
    """The dataset indices the training and the validation part hold, in order (for every check but sizes and
    partition, which explain a split they cannot be read from)."""
    parts = _two_parts(call)
    for name, part in zip(PARTS, parts):
        _not_items(call, part, name, owner="partition")
    return parts[0]["ids"], parts[1]["ids"]


def _pattern(ids: list[int]) -> int | None:
    """The step between consecutive items when the sorted indices are evenly spaced (1: a block), else None."""
    found = sorted(set(ids))
    steps = {b - a for a, b in zip(found, found[1:])}
    return steps.pop() if len(found) >= 3 and len(steps) == 1 else None


# ----------------------------------------------------------------------------- sizes


def test_sizes(student, reference):
    for call, want in zip(student.run(probes.cases, seed=SEED), reference.run(probes.cases, seed=SEED)):
        train, val = _two_parts(call, owner=None)
        want_train, want_val = (part["length"] for part in want["parts"])
        got = [train["length"], val["length"]]
        if got == [want_train, want_val]:
            continue
        facts = {**_call_facts(call), "product": call["n"] * call["fraction"], "want_train": want_train,
                 "want_val": want_val, "train": got[0], "val": got[1]}
        if got == [want_val, want_train]:
            fail("sizes.swapped", **facts)
        if got[1] != want_val:
            fail("sizes.validation", **facts)
        # The validation part has its size and the training part not: items are missing, repeated or in both.
        fail("sizes.training", because_of="partition", **facts)


# ----------------------------------------------------------------------------- partition


def test_partition(student):
    for call in student.run(probes.cases, seed=SEED):
        parts = _two_parts(call)
        for name, part in zip(PARTS, parts):
            _not_items(call, part, name, owner=None)
        facts = _call_facts(call)
        train, val = parts[0]["ids"], parts[1]["ids"]
        both = sorted(set(train) & set(val))
        if both:
            fail("partition.overlap", count=len(both), train=len(train), val=len(val), **facts)
        for name, ids in zip(PARTS, (train, val)):
            if len(set(ids)) != len(ids):
                fail("partition.repeated", part=name, repeats=len(ids) - len(set(ids)), length=len(ids), **facts)
        missing = call["n"] - len(set(train) | set(val))
        if missing:
            fail("partition.missing", missing=missing, train=len(train), val=len(val), **facts)


# ----------------------------------------------------------------------------- shuffled


def test_shuffled(student):
    for call in student.run(probes.over_seeds, seeds=SEEDS):
        _, val = _identified(call)
        step = _pattern(val)
        if step is None:
            continue
        first, last = min(val), max(val)
        facts = {**_call_facts(call), "count": len(set(val)), "first": first, "last": last, "step": step}
        if step == 1:
            fail("shuffled.block", at_start=first == 0, at_end=last == call["n"] - 1, **facts)
        fail("shuffled.evenly-spaced", **facts)


# ----------------------------------------------------------------------------- seeds-differ


def test_seeds_differ(student):
    calls = student.run(probes.over_seeds, seeds=SEEDS)
    chosen = [frozenset(_identified(call)[1]) for call in calls]
    facts = {"n": probes.N, "fraction": probes.FRACTION}
    if len(set(chosen)) == 1:
        # A split that is not shuffled picks the same items whatever the seed: the shuffled check says why.
        fail("seeds-differ.always-the-same", seeds=SEEDS, count=len(chosen[0]), because_of="shuffled", **facts)
    for i, a in enumerate(chosen):
        for j in range(i + 1, len(chosen)):
            if chosen[j] == a:
                fail("seeds-differ.two-the-same", first=SEEDS[i], second=SEEDS[j], count=len(a), **facts)


# ----------------------------------------------------------------------------- reproducible


def _difference(a: tuple[list[int], list[int]], b: tuple[list[int], list[int]]) -> dict:
    """How two splits differ: the validation items in one and not the other, and whether only the order differs."""
    return {"moved": len(set(a[1]) - set(b[1])), "count": len(a[1]),
            "order_only": set(a[0]) == set(b[0]) and set(a[1]) == set(b[1])}


def test_reproducible(student):
    calls = student.run(probes.repeated, seed=SEED)
    first, second, third = (_identified(call) for call in calls)
    facts = _call_facts(calls[0])
    if second != first:
        fail("reproducible.second-call", **_difference(first, second), **facts)
    if third != first:
        fail("reproducible.global-state", **_difference(first, third), **facts)


# ----------------------------------------------------------------------------- rng-untouched


def test_rng_untouched(student):
    run = student.run(probes.global_states, seed=SEED)
    facts = _call_facts(run)
    if run["error"]:
        fail("common.split-raised", error=said_error(run["error"]), because_of="sizes", **facts)
    if run["changed"]:
        fail("rng-untouched.changed", libraries=run["changed"], **facts)


# ----------------------------------------------------------------------------- seeds-random, seeds-numpy, seeds-torch


def _judge_seeding(student, reference, library: str) -> None:
    """The numbers `library` draws after seed_everything(s) are those it draws after its own seeding with s."""
    runs, wants = student.run(probes.seeded, seeds=SEEDING), reference.run(probes.seeded, seeds=SEEDING)
    for run in runs:
        if run["error"]:
            fail("common.seed-raised", seed=run["seed"], error=said_error(run["error"]),
                 because_of=None if library == "random" else "seeds-random")
    got = [run["draws"][library] for run in runs]
    if got == [want["draws"][library] for want in wants]:
        return
    facts = {"library": library, "draw": DRAW_CALLS[library], "seeding": SEEDING_CALLS[library]}
    for run, want in zip(runs, wants):
        if library in run["untouched"]:
            fail("seeds.not-seeded", seed=run["seed"], **facts)
    if got[0] == got[1]:
        fail("seeds.ignores-seed", seeds=SEEDING, **facts)
    for run, want in zip(runs, wants):
        if run["draws"][library] != want["draws"][library]:
            fail("seeds.other-numbers", seed=run["seed"], got=run["draws"][library], want=want["draws"][library],
                 **facts)


def test_seeds_random(student, reference):
    _judge_seeding(student, reference, "random")


def test_seeds_numpy(student, reference):
    _judge_seeding(student, reference, "numpy")


def test_seeds_torch(student, reference):
    _judge_seeding(student, reference, "torch")
