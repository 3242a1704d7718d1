"""Quizzes end to end: a fully right answers file gets full marks, a partly right one its exact partial
score, malformed answers cost only their own question with a clear message, computed answers agree with
an independent computation for 50 students, and `grade quiz N` works with piped input. And the quizzes
themselves: drawn questions give a class of 30 different versions, the classic wrong answers of every
numeric question are rejected for the student's own numbers, and no title or explanation shown after a
wrong answer holds the right one."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.course import Course
from grader.quiz.answers import is_right, normalise_text
from grader.quiz.grading import compute_key, compute_keys, judge, variants
from grader.quiz.questions import LETTERS, Question, render, variant
from grader.render import render_answers_starter

ROOT = Path(__file__).resolve().parent.parent
QUIZZES = [s for s in Course(ROOT).load_all() if s.kind == "quiz"]
STUDENT = "ada-lovelace"


def _raw(question, key: Any) -> Any:
    """The key written the way a student writes an answer in answers.yaml."""
    if question.type == "text":
        return key["accepted"][0]
    return key


def _wrong(question, key: Any) -> Any:
    kind = question.type
    if kind == "single":
        return next(letter for letter in "abcdefghij"[: len(question.options)] if letter != key)
    if kind == "multiple":
        everything = list("abcdefghij"[: len(question.options)])
        return everything if key != everything else everything[:1]
    if kind == "true-false":
        return not key
    if kind == "numeric":
        return abs(key) * 2 + 1000.0  # wrong in every digit that counts, for 3.4e38 as for 0.25
    if kind == "shape":
        return [999] if key == "error" else "error"
    return "certainly not this"


@pytest.fixture(scope="module")
def keys() -> dict[str, dict[str, Any]]:
    return {spec.name: compute_key(spec, STUDENT) for spec in QUIZZES}


def _write(tmp_path: Path, spec, answers: dict[str, Any]) -> Path:
    path = tmp_path / f"{spec.name}-answers.yaml"
    path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    return path


def test_the_course_ships_three_quizzes_with_thirty_questions():
    assert len(QUIZZES) >= 3 and sum(len(q.questions) for q in QUIZZES) >= 30
    for spec in QUIZZES:
        types = {q.type for q in spec.questions}
        assert len(types) >= 3, spec.name


def test_every_answer_computes(keys):
    for spec in QUIZZES:
        broken = {qid: entry for qid, entry in keys[spec.name].items() if "error" in entry}
        assert not broken, f"{spec.name}: {broken}"


@pytest.mark.slow
@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_fully_right_answers_get_full_marks(grade, tmp_path, keys, spec):
    answers = {q.id: _raw(q, keys[spec.name][q.id]["answer"]) for q in spec.questions}
    ran = grade("exercise", str(spec.id), "--student", STUDENT, "--submission", str(_write(tmp_path, spec, answers)),
                "--format", "json")
    result = ran.json()
    assert [c["id"] for c in result["checks"] if c["status"] != "passed"] == [], result
    assert (result["kind"], result["score"], result["max_score"], result["passed"], ran.code) == (
        "quiz", spec.max_score, spec.max_score, True, 0)


@pytest.mark.slow
@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_partly_right_answers_get_the_exact_partial_score(grade, tmp_path, keys, spec):
    right = spec.questions[::2]
    answers = {q.id: (_raw(q, keys[spec.name][q.id]["answer"]) if q in right else _wrong(q, keys[spec.name][q.id]["answer"]))
               for q in spec.questions}
    result = grade("exercise", str(spec.id), "--student", STUDENT, "--submission",
                   str(_write(tmp_path, spec, answers)), "--format", "json").json()
    assert result["score"] == sum(q.points for q in right)
    by_id = {c["id"]: c for c in result["checks"]}
    for question in spec.questions:
        check = by_id[question.id]
        if question in right:
            assert check["status"] == "passed"
        else:  # wrong: the explanation and the glossary concepts, but never the answer itself
            assert check["status"] == "failed" and "which is not right" in check["message"], check
            assert check["why_it_matters"] and check["concepts"] == question.concepts
            assert "The answer is" not in check["message"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_malformed_answers_cost_only_their_question(grade, tmp_path, keys, spec):
    key = keys[spec.name]
    shape_q = next(q for q in spec.questions if q.type == "shape" and isinstance(key[q.id]["answer"], list)
                   and len(key[q.id]["answer"]) >= 2)
    tf_q = next(q for q in spec.questions if q.type == "true-false")
    missing_q = spec.questions[-1]
    answers = {q.id: _raw(q, key[q.id]["answer"]) for q in spec.questions if q is not missing_q}
    answers[shape_q.id] = "x".join(str(v) for v in key[shape_q.id]["answer"])  # written like 3x4
    answers[tf_q.id] = [1, 2]  # the wrong type
    result = grade("exercise", str(spec.id), "--student", STUDENT, "--submission",
                   str(_write(tmp_path, spec, answers)), "--format", "json").json()
    by_id = {c["id"]: c for c in result["checks"]}
    assert "written like a size on paper" in by_id[shape_q.id]["message"]
    assert "[" + ", ".join(str(v) for v in key[shape_q.id]["answer"]) + "]" in by_id[shape_q.id]["message"]
    assert "neither true nor false" in by_id[tf_q.id]["message"]
    assert by_id[missing_q.id]["message"] == "No answer yet."
    bad = {shape_q.id, tf_q.id, missing_q.id}
    assert result["score"] == spec.max_score - sum(q.points for q in spec.questions if q.id in bad)
    assert all(c["status"] == "passed" for c in result["checks"] if c["id"] not in bad)


@pytest.mark.slow
def test_an_unreadable_answers_file_names_the_line(grade, tmp_path):
    spec = QUIZZES[0]
    path = tmp_path / "answers.yaml"
    path.write_text(f"{spec.questions[0].id}: [3, 4\n{spec.questions[1].id}: b\n")
    ran = grade("exercise", str(spec.id), "--submission", str(path))
    assert ran.code == 1 and "Traceback" not in ran.stdout + ran.stderr
    assert f"{path}:" in ran.stdout and "YAML syntax error" in ran.stdout
    (tmp_path / "empty").mkdir()
    missing = grade("exercise", str(spec.id), "--submission", str(tmp_path / "empty"))  # no answers.yaml there
    assert missing.code == 1 and "There is no answers file" in missing.stdout


def test_starter_answers_files_are_current_and_hold_no_answer():
    for spec in QUIZZES:
        starter = spec.folder / "answers.yaml"
        assert starter.read_text(encoding="utf-8") == render_answers_starter(spec), (
            f"{starter} is stale: run `grade quiz {spec.id} --starter > exercises/{spec.name}/answers.yaml`")
        data = yaml.safe_load(starter.read_text(encoding="utf-8"))
        assert list(data) == [q.id for q in spec.questions] and set(data.values()) == {None}
        assert not list(spec.folder.glob("key*")), "answer keys belong under solutions/"


# ------------------------------------------------------------------ computed answers, checked independently


def _broadcast(a: list[int], b: list[int]) -> list[int] | str:
    out = []
    for x, y in zip(reversed([1] * (len(b) - len(a)) + a), reversed([1] * (len(a) - len(b)) + b)):
        if x != y and 1 not in (x, y):
            return "error"
        out.append(max(x, y))
    return out[::-1]


def _conv(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _two_blocks(p: dict[str, Any], size: int = 28) -> int:
    """Height (= width) after conv, pool, conv, pool with the question's kernel `k` and padding `p`."""
    return _conv(_conv(size, p["k"], 1, p["p"]) // 2, p["k"], 1, p["p"]) // 2


def _finfo(dtype: str, which: str) -> float:
    """torch.finfo from the bits of each format: (exponent bits, fraction bits)."""
    exponent, fraction = {"float16": (5, 10), "bfloat16": (8, 7), "float32": (8, 23), "float64": (11, 52)}[dtype]
    largest = (2 - 2.0 ** -fraction) * 2.0 ** (2 ** (exponent - 1) - 1)
    digits = math.floor(fraction * math.log10(2))  # decimal digits held reliably
    return {"max": largest, "min": -largest, "tiny": 2.0 ** (2 - 2 ** (exponent - 1)), "eps": 2.0 ** -fraction,
            "resolution": 10.0 ** -digits}[which]


INDEPENDENT = {
    ("06-tensors", "randn-shape"): lambda p: [p["a"], p["b"], p["c"]],
    ("06-tensors", "view-minus-one"): lambda p: [p["a"] * p["b"], p["c"]],
    ("06-tensors", "view-fixed-first"): lambda p: "error" if (p["a"] * p["b"]) % p["c"] else [p["c"], p["a"] * p["b"] // p["c"]],
    ("06-tensors", "matmul-shape"): lambda p: [p["n"], p["m"]],
    ("06-tensors", "matmul-flattened"): lambda p: [p["n"], p["m"]] if p["k"] == p["j"] else "error",
    ("06-tensors", "sum-dim"): lambda p: [p["c"]] if p["dim"] == 0 else [p["b"]],
    ("06-tensors", "broadcast-shape"): lambda p: _broadcast(p["s1"], p["s2"]),
    ("06-tensors", "arange-print"): lambda p: "torch.Size([%d, %d])\n" % ((p["r"], p["m"]) if p["rows_first"] else (p["m"], p["r"])),
    ("07-autograd-cnn", "graph-value"): lambda p: (p["a"] + p["b"]) * (p["b"] + 1),
    ("07-autograd-cnn", "graph-grad-a"): lambda p: p["b"] + 1,
    ("07-autograd-cnn", "graph-grad-b"): lambda p: p["a"] + 2 * p["b"] + 1,
    ("07-autograd-cnn", "power-sum-grad"): lambda p: p["n"] * p["v"] ** (p["n"] - 1),
    ("07-autograd-cnn", "neuron-chain-grad"): lambda p: 2 * (p["w"] * p["x"] + p["bias"] - p["t"]) * p["x"],
    ("07-autograd-cnn", "grad-accumulates"): lambda p: f"None tensor({2 * p['k']}.)\n",
    ("07-autograd-cnn", "conv2d-params"): lambda p: p["cout"] * p["cin"] * p["k"] ** 2 + (p["cout"] if p["bias"] else 0),
    ("07-autograd-cnn", "conv3d-weight-shape"): lambda p: [p["cout"], p["cin"], p["kd"], p["kh"], p["kw"]],
    ("07-autograd-cnn", "conv2d-kernel-sizes"): lambda p: "error" if len(p["kernel"]) == 3 else [
        p["n"], 32, p["size"] - p["kernel"][0] + 1, p["size"] - p["kernel"][1] + 1],
    ("07-autograd-cnn", "conv-output-shape"): lambda p: [p["n"], p["cout"], _conv(p["h"], p["k"], p["s"], p["p"]),
                                                         _conv(p["h"], p["k"], p["s"], p["p"])],
    ("07-autograd-cnn", "pool-output-shape"): lambda p: [p["n"], p["c"], p["h"] // p["k"], p["w"] // p["k"]],
    ("07-autograd-cnn", "mnist-shape"): lambda p: [p["n"], p["c2"], _two_blocks(p), _two_blocks(p)],
    ("07-autograd-cnn", "mnist-flatten"): lambda p: p["c2"] * _two_blocks(p) ** 2,
    ("08-training", "iterations-per-epoch"): lambda p: p["n"] // p["b"] if p["drop_last"] else -(-p["n"] // p["b"]),
    ("08-training", "ce-value"): lambda p: math.log(sum(math.exp(z) for z in (p["z0"], p["z1"], p["z2"])))
                                           - (p["z0"], p["z1"], p["z2"])[p["t"]],
    ("08-training", "softmax-sum"): lambda p: p["b"] if p["dim"] == 1 else p["c"],
    ("08-training", "one-hot-shape"): lambda p: [p["b"], p["k"]],
    ("08-training", "mse-value"): lambda p: sum((a - b) ** 2 for a, b in zip(p["pred"], p["target"])) / len(p["pred"]),
    ("08-training", "dropout-eval-print"): lambda p: "tensor([" + ", ".join([f"{p['v']:.0f}."] * p["n"]) + "])\n",
    ("08-training", "zero-grad-accumulate"): lambda p: p["k"] * p["c"],
    ("08-training", "sgd-step"): lambda p: p["w0"] - p["lr"] * 2 * (p["w0"] - p["t"]),
    ("08-training", "finfo-value"): lambda p: _finfo(p["dtype"], p["which"]),
    ("08-training", "precision-recall"): lambda p: p["tp"] / (p["tp"] + (p["fp"] if p["which"] == "precision" else p["fn"])),
    ("08-training", "step-lr"): lambda p: p["lr0"] * p["gamma"] ** (p["epochs"] // p["step"]),
    ("08-training", "confusion-precision"): lambda p: _per_class(p),
}


def _confusion(p: dict) -> list[list[int]]:
    return [[p["d0"], p["e01"], p["e02"]], [p["e10"], p["d1"], p["e12"]], [p["e20"], p["e21"], p["d2"]]]


def _per_class(p: dict, other: bool = False) -> float:
    """Precision (the class's column) or recall (its row) of class k, in plain Python."""
    cm, k = _confusion(p), p["k"]
    column = sum(row[k] for row in cm)
    precision = (p["which"] == "precision") != other
    return cm[k][k] / (column if precision else sum(cm[k]))


def test_every_parametrised_question_has_an_independent_check():
    parametrised = {(spec.name, q.id) for spec in QUIZZES for q in spec.questions if q.parametrised}
    assert parametrised - set(INDEPENDENT) == set()


@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_computed_answers_match_an_independent_computation_for_50_students(spec):
    import torch  # noqa: F401 - compute_key's child imports it; here only to fail early without torch

    students = [f"student-{i:02d}" for i in range(50)]
    keys = compute_keys(spec, students)  # one child process for all 50
    params_seen: dict[str, set[str]] = {}
    for student in students:
        key = keys[student]
        for text in variants(spec, student):
            question = next(q for q in spec.questions if q.id == text.id)
            if not question.parametrised:
                continue
            params_seen.setdefault(text.id, set()).add(repr(sorted(text.params.items())))
            expected = INDEPENDENT[(spec.name, text.id)](text.params)
            got = key[text.id]["answer"]
            if question.type == "numeric":
                assert math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6), (student, text.id, text.params)
            elif question.type == "output":
                assert got.strip() == str(expected).strip(), (student, text.id, text.params)
            else:
                assert got == expected, (student, text.id, text.params, got, expected)
    for qid, seen in params_seen.items():
        assert len(seen) >= 2, f"{spec.name}/{qid}: 50 students all got the same variant"


@pytest.mark.slow
def test_grade_quiz_in_a_terminal_with_piped_input(grade, keys):
    spec = QUIZZES[0]
    key = keys[spec.name]
    lines = []
    for number, question in enumerate(spec.questions):
        answer = key[question.id]["answer"]
        written = {"true-false": lambda a: "true" if a else "false", "shape": lambda a: a if a == "error" else str(a),
                   "multiple": lambda a: ", ".join(a), "text": lambda a: a["accepted"][0]}.get(question.type, str)(answer)
        if question.type == "output":
            written = answer.strip().splitlines()[0]
        if number == 0:
            lines.append("3 by 4 by 5")  # unreadable: asked again, costs nothing
        if number == 1:
            written = ""  # skipped
        lines.append(written)
    ran = grade("quiz", str(spec.id), "--student", STUDENT, input="\n".join(lines) + "\n")
    assert "Question 1 of" in ran.stdout and "Try again" in ran.stdout and "Right." in ran.stdout
    assert "Skipped." in ran.stdout
    skipped = spec.questions[1].points
    assert f"Score: {spec.max_score - skipped:g}/{spec.max_score:g}" in ran.stdout
    assert ran.code == 1  # one question skipped


# ------------------------------------------------------------------ draws: classmates get different questions

CLASS = [f"student-{i:02d}" for i in range(30)]
MIN_VERSIONS = 12  # distinct versions of each drawn question among the 30 students of CLASS
MAX_SAME = 1 / 16  # the chance that two students get the same version of a drawn question


def _same_version_probability(question) -> float:
    """The exact chance that two students draw the same parameters: one case, then each parameter, uniformly."""
    probability = 1.0
    pools = [[repr(case) for case in question.cases]] if question.cases else []
    pools += [[repr(v) for v in p.choice] if p.choice is not None else list(range(p.range[0], p.range[1] + 1))
              for p in question.params.values()]
    for pool in pools:
        probability *= sum((pool.count(v) / len(pool)) ** 2 for v in set(pool))
    return probability


@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_drawn_questions_give_a_class_different_versions(spec):
    for question in (q for q in spec.questions if q.parametrised):
        texts = {(v.prompt, v.code, tuple(v.options)) for v in (variant(question, s, spec.name) for s in CLASS)}
        assert len(texts) >= MIN_VERSIONS, f"{spec.name}/{question.id}: {len(texts)} versions for 30 students"
        same = _same_version_probability(question)
        assert same <= MAX_SAME, f"{spec.name}/{question.id}: two students get the same version with p = {same:.3f}"


@pytest.fixture(scope="module")
def class_keys() -> dict[str, dict[str, dict[str, Any]]]:
    """Each quiz's keys for every student of CLASS (one child process per quiz)."""
    return {spec.name: compute_keys(spec, CLASS) for spec in QUIZZES}


# ------------------------------------------------------------------ near misses: classic wrong answers rejected

def _precision_recall(p: dict[str, Any], other: bool = False) -> float:
    recall = (p["which"] == "recall") != other
    return p["tp"] / (p["tp"] + (p["fn"] if recall else p["fp"]))


def _mse_parts(p: dict[str, Any]) -> tuple[list[float], float]:
    differences = [a - b for a, b in zip(p["pred"], p["target"])]
    return differences, sum(d * d for d in differences)


def _ce_loss(p: dict[str, Any]) -> float:
    return INDEPENDENT[("08-training", "ce-value")](p)


def _sizes_after_first_conv(p: dict[str, Any], padding: int) -> int:
    return _conv(_conv(28, p["k"], 1, padding) // 2, p["k"], 1, padding)


# The classic wrong answers of each numeric question, as functions of the student's parameters. Each must be
# rejected for every student of CLASS whose right answer it differs from (a mistake can land on the right
# number by chance, e.g. the two paths of a gradient when a = 1); each must differ for some student.
NEAR_MISSES: dict[tuple[str, str], dict[str, Any]] = {
    ("07-autograd-cnn", "graph-value"): {
        "forgot the + 1": lambda p: (p["a"] + p["b"]) * p["b"],
        "added the factors": lambda p: (p["a"] + p["b"]) + (p["b"] + 1),
        "no parentheses, a + b * (b + 1)": lambda p: p["a"] + p["b"] * (p["b"] + 1),
    },
    ("07-autograd-cnn", "graph-grad-a"): {
        "the factor of a itself, c": lambda p: p["a"] + p["b"],
        "forgot the + 1": lambda p: p["b"],
        "a + 1 instead of b + 1": lambda p: p["a"] + 1,
    },
    ("07-autograd-cnn", "graph-grad-b"): {
        "only the path through c": lambda p: p["b"] + 1,
        "only the path through d": lambda p: p["a"] + p["b"],
        "forgot the + 1 of d": lambda p: p["a"] + 2 * p["b"],
        "a left out, 2b + 1": lambda p: 2 * p["b"] + 1,
    },
    ("07-autograd-cnn", "power-sum-grad"): {
        "the power, not its derivative": lambda p: p["v"] ** p["n"],
        "forgot the factor n": lambda p: p["v"] ** (p["n"] - 1),
        "did not lower the power": lambda p: p["n"] * p["v"] ** p["n"],
        "x.grad[0] (off by one)": lambda p: p["n"] * 1.0,
        "x.grad[2] (off by one)": lambda p: p["n"] * 3.0 ** (p["n"] - 1),
        "the sum of all the gradients": lambda p: p["n"] * (1 + p["v"] ** (p["n"] - 1) + 3.0 ** (p["n"] - 1)),
    },
    ("07-autograd-cnn", "neuron-chain-grad"): {
        "forgot the 2": lambda p: (p["w"] * p["x"] + p["bias"] - p["t"]) * p["x"],
        "forgot the x (that is the bias's gradient)": lambda p: 2 * (p["w"] * p["x"] + p["bias"] - p["t"]),
        "sign flipped, t - y": lambda p: -2 * (p["w"] * p["x"] + p["bias"] - p["t"]) * p["x"],
        "the loss itself": lambda p: (p["w"] * p["x"] + p["bias"] - p["t"]) ** 2,
    },
    ("07-autograd-cnn", "conv2d-params"): {
        "the bias the other way": lambda p: p["cout"] * p["cin"] * p["k"] ** 2 + (0 if p["bias"] else p["cout"]),
        "one bias for the whole layer": lambda p: p["cout"] * p["cin"] * p["k"] ** 2 + (1 if p["bias"] else 0),
        "kernel counted once, not squared": lambda p: p["cout"] * p["cin"] * p["k"] + (p["cout"] if p["bias"] else 0),
        "input channels left out": lambda p: p["cout"] * p["k"] ** 2 + (p["cout"] if p["bias"] else 0),
    },
    ("07-autograd-cnn", "mnist-flatten"): {
        "forgot the last pooling": lambda p: p["c2"] * _sizes_after_first_conv(p, p["p"]) ** 2,
        "the first layer's channels": lambda p: p["c1"] * _two_blocks(p) ** 2,
        "channels left out": lambda p: _two_blocks(p) ** 2,
        "padding ignored": lambda p: p["c2"] * _two_blocks({**p, "p": 0}) ** 2,
        "padding on one side only": lambda p: p["c2"] * (_conv(_conv(28 - p["p"], p["k"], 1, p["p"]) // 2 - p["p"],
                                                               p["k"], 1, p["p"]) // 2) ** 2,
        "the famous 32 × 7 × 7": lambda p: 1568,
    },
    ("08-training", "iterations-per-epoch"): {
        "rounded the other way (drop_last misread)": lambda p: -(-p["n"] // p["b"]) if p["drop_last"] else p["n"] // p["b"],
        "one more for a last batch that is not there": lambda p: p["n"] // p["b"] + 1,
        "not rounded at all": lambda p: p["n"] / p["b"],
    },
    ("08-training", "ce-value"): {
        "base-10 logarithm": lambda p: _ce_loss(p) / math.log(10),
        "base-2 logarithm": lambda p: _ce_loss(p) / math.log(2),
        "sign dropped": lambda p: -_ce_loss(p),
        "the probability, not the loss": lambda p: math.exp(-_ce_loss(p)),
        "1 - p instead of -log p": lambda p: 1 - math.exp(-_ce_loss(p)),
        "log-sum-exp without the true logit": lambda p: _ce_loss(p) + (p["z0"], p["z1"], p["z2"])[p["t"]],
    },
    ("08-training", "softmax-sum"): {
        "one distribution, so 1": lambda p: 1,
        "the other dimension": lambda p: p["c"] if p["dim"] == 1 else p["b"],
        "every element": lambda p: p["b"] * p["c"],
    },
    ("08-training", "mse-value"): {
        "the sum, not the mean": lambda p: _mse_parts(p)[1],
        "mean absolute error": lambda p: sum(abs(d) for d in _mse_parts(p)[0]) / len(p["pred"]),
        "root mean squared error": lambda p: math.sqrt(_mse_parts(p)[1] / len(p["pred"])),
        "square of the mean difference": lambda p: (sum(_mse_parts(p)[0]) / len(p["pred"])) ** 2,
        "divided by n - 1": lambda p: _mse_parts(p)[1] / (len(p["pred"]) - 1),
    },
    ("08-training", "zero-grad-accumulate"): {
        "one pass only (gradients replaced)": lambda p: p["c"],
        "one pass too few": lambda p: (p["k"] - 1) * p["c"],
        "one pass too many": lambda p: (p["k"] + 1) * p["c"],
        "zero": lambda p: 0,
    },
    ("08-training", "sgd-step"): {
        "without the factor 2": lambda p: p["w0"] - p["lr"] * (p["w0"] - p["t"]),
        "a step up the gradient": lambda p: p["w0"] + p["lr"] * 2 * (p["w0"] - p["t"]),
        "the step, not the new weight": lambda p: p["lr"] * 2 * (p["w0"] - p["t"]),
        "the gradient": lambda p: 2 * (p["w0"] - p["t"]),
        "w unchanged": lambda p: p["w0"],
    },
    ("08-training", "step-lr"): {
        "no decay": lambda p: p["lr0"],
        "one decay too many": lambda p: p["lr0"] * p["gamma"] ** (p["epochs"] // p["step"] + 1),
        "one decay too few": lambda p: p["lr0"] * p["gamma"] ** (p["epochs"] // p["step"] - 1),
        "decayed every epoch": lambda p: p["lr0"] * p["gamma"] ** p["epochs"],
        "the factor alone": lambda p: p["gamma"] ** (p["epochs"] // p["step"]),
    },
    ("08-training", "confusion-precision"): {
        "the other one (the row for the column)": lambda p: _per_class(p, other=True),
        "the accuracy of the whole matrix": lambda p: sum(_confusion(p)[i][i] for i in range(3)) / sum(map(sum, _confusion(p))),
        "the class's count over everything": lambda p: _confusion(p)[p["k"]][p["k"]] / sum(map(sum, _confusion(p))),
        "one minus it": lambda p: 1 - _per_class(p),
    },
    ("08-training", "precision-recall"): {
        "the other one (precision for recall)": lambda p: _precision_recall(p, other=True),
        "F1 score": lambda p: 2 * p["tp"] / (2 * p["tp"] + p["fp"] + p["fn"]),
        "TP / (TP + FP + FN)": lambda p: p["tp"] / (p["tp"] + p["fp"] + p["fn"]),
        "one minus it": lambda p: 1 - _precision_recall(p),
    },
}


def _as_written(question, value: float) -> list[Any]:
    """A number as a student types it for this question: exactly, and rounded as the prompt asks."""
    if question.significant_digits:
        return [value, f"{value:.{question.significant_digits - 1}e}", f"{value:.{question.significant_digits}g}"]
    if question.tolerance >= 1e-4:  # "give at least 3 (or 4) decimals"
        return [value, f"{value:.{round(-math.log10(question.tolerance))}f}"]
    return [value, f"{value:g}"]


def _accepts(spec, question, student: str, raw: Any, key_entry: dict[str, Any]) -> bool:
    return judge(question, variant(question, student, spec.name), raw, key_entry).status == "passed"


def test_every_numeric_question_has_its_near_misses_listed():
    numeric = {(spec.name, q.id) for spec in QUIZZES for q in spec.questions if q.type == "numeric" and q.parametrised}
    assert numeric - set(NEAR_MISSES) == {("08-training", "finfo-value")}  # listed value by value below


@pytest.mark.parametrize(("quiz", "qid"), sorted(NEAR_MISSES))
def test_near_misses_are_rejected_and_the_key_accepted(class_keys, quiz, qid):
    spec = next(s for s in QUIZZES if s.name == quiz)
    question = next(q for q in spec.questions if q.id == qid)
    tried = dict.fromkeys(NEAR_MISSES[(quiz, qid)], 0)
    for student in CLASS:
        entry = class_keys[quiz][student][qid]
        params = variant(question, student, quiz).params
        right = INDEPENDENT[(quiz, qid)](params)
        for raw in _as_written(question, entry["answer"]):
            assert _accepts(spec, question, student, raw, entry), (student, params, raw)
        for mistake, wrong in NEAR_MISSES[(quiz, qid)].items():
            value = float(wrong(params))
            if math.isclose(value, right, rel_tol=1e-12, abs_tol=1e-12):
                continue  # for this student the mistake happens to give the right number
            tried[mistake] += 1
            for raw in _as_written(question, value):
                assert not _accepts(spec, question, student, raw, entry), (student, params, mistake, raw, right)
    assert all(tried.values()), f"mistakes no student of CLASS could make: {[m for m, n in tried.items() if not n]}"


# torch.finfo, value by value: how students write the right value (4 significant digits, or more), and
# the classic wrong answers, which a relative tolerance of 5e-4 partly accepted (65536 for 65504).
FINFO = {
    ("float16", "max"): (["65504", "6.550e4", "65500", "6.5504E4", "65504.0"],
                         ["65536", "65535", "65520", "65510", "32768", "6.5e4", "3.403e38"]),
    ("float16", "min"): (["-65504", "-6.550e4"], ["65504", "6.104e-05", "-65536", "0"]),
    ("float16", "tiny"): (["6.104e-05", "6.1035e-5", "0.00006104", "6.103515625e-05"],
                          ["6.103e-05", "5.960e-08", "3.052e-05", "1.221e-04", "6.1e-05"]),
    ("float16", "eps"): (["9.766e-04", "0.0009766", "0.0009765625"],
                         ["9.765e-04", "4.883e-04", "0.001", "0.0078125", "1.192e-07"]),
    ("bfloat16", "max"): (["3.390e38", "3.3895e+38"], ["3.403e38", "3.389e38", "65504"]),
    ("bfloat16", "min"): (["-3.390e38"], ["-3.403e38", "3.390e38", "1.175e-38"]),
    ("bfloat16", "tiny"): (["1.175e-38", "1.1755e-38"], ["9.184e-41", "5.877e-39", "6.104e-05", "1.18e-38"]),
    ("bfloat16", "eps"): (["7.812e-03", "7.813e-03", "0.0078125"], ["3.906e-03", "9.766e-04", "7.8e-3", "0.008"]),
    ("float32", "max"): (["3.403e38", "3.4028e38"], ["3.390e38", "3.402e38", "1.798e308", "2.147e9"]),
    ("float32", "min"): (["-3.403e38"], ["1.175e-38", "3.403e38"]),
    ("float32", "tiny"): (["1.175e-38", "1.1755e-38"], ["1.401e-45", "1.175e-37", "6.104e-05"]),
    ("float32", "eps"): (["1.192e-07", "1.1921e-7"], ["5.960e-08", "1.19e-07", "2.220e-16", "9.766e-04"]),
    ("float64", "tiny"): (["2.225e-308", "2.2251e-308"], ["4.941e-324", "1.175e-38", "2.226e-308"]),
    ("float64", "eps"): (["2.220e-16", "2.2204e-16"], ["1.110e-16", "2.221e-16", "1.192e-07"]),
    ("float16", "resolution"): (["0.001", "1e-3", "1.000e-03"], ["9.766e-04", "0.01", "0.0001"]),
    ("bfloat16", "resolution"): (["0.01", "1e-2"], ["7.812e-03", "0.001", "0.1"]),
    ("float32", "resolution"): (["1e-06", "0.000001"], ["1.192e-07", "1e-07", "1e-05"]),
    ("float64", "resolution"): (["1e-15", "1.000e-15"], ["2.220e-16", "1e-16", "1e-14"]),
}


def test_finfo_near_misses_are_rejected_and_every_way_of_writing_the_value_accepted():
    spec = next(s for s in QUIZZES if s.name == "08-training")
    question = next(q for q in spec.questions if q.id == "finfo-value")
    students = {}
    for name in (f"student-{i:03d}" for i in range(1000)):
        params = variant(question, name, spec.name).params
        students.setdefault((params["dtype"], params["which"]), name)
    assert set(students) == set(FINFO), "every version of the question is checked"
    keys = compute_keys(spec, list(students.values()))
    for version, (rights, wrongs) in FINFO.items():
        student = students[version]
        entry = keys[student][question.id]
        assert math.isclose(entry["answer"], _finfo(*version), rel_tol=1e-12), version
        for raw in rights:
            assert _accepts(spec, question, student, raw, entry), (version, raw)
        for raw in wrongs:
            assert not _accepts(spec, question, student, raw, entry), (version, raw)


# ------------------------------------------------------------------ what a wrong answer shows gives nothing away

REVEALING_WORDS = re.compile(r"\b(error|errors|fails?|cannot|can't|impossible|mismatch\w*|wrong|invalid|refuses?)\b")
FORMULA_CONSTANTS = {0.0, 1.0, 2.0}  # numbers an explanation may hold whatever the answer (x², b + 1)


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").lower().split())


def _giveaways(question, text, key: Any) -> list[str]:
    """The forms of the right answer a student must not find in the title or in what a wrong answer shows:
    the question's explanation and the explanations of its wrong options. (A true-false question is left
    out: once one answer is wrong, the other is right, whatever the explanation says.)"""
    shown_after = [text.explanation] + [render(o.explanation, text.params) for letter, o in
                                        zip(LETTERS, question.options) if letter not in key]
    kind, found = question.type, []
    for where, said in [("title", question.title)] + [("explanation", s) for s in shown_after]:
        plain = _plain(said)
        if kind in ("single", "multiple"):
            for letter in key:
                option = _plain(text.options[LETTERS.index(letter)])
                if option in plain or re.search(rf"\b(option|answer|choice)\s*\(?{letter}\b", plain):
                    found.append(f"{where} names the right option ({letter}) {option}")
        elif kind == "numeric":
            for token in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", plain):
                number = float(token)
                if number not in FORMULA_CONSTANTS and is_right(kind, number, key, question.tolerance,
                                                                question.rel_tolerance, question.significant_digits):
                    found.append(f"{where} holds the right value {token}")
        elif kind == "shape" and key != "error":
            if re.search(r"[\[(]\s*" + r"\s*,\s*".join(str(v) for v in key) + r"\s*,?\s*[\])]", plain) and len(key) > 1:
                found.append(f"{where} holds the right shape {key}")
        elif kind == "output" and _plain(key) in plain:
            found.append(f"{where} holds the printed output")
        elif kind == "text":
            for accepted in key["accepted"]:
                if re.search(rf"\b{re.escape(normalise_text(accepted))}\b", normalise_text(said)):
                    found.append(f"{where} holds an accepted answer, {accepted}")
    if kind == "shape" and key == "error":  # the id and the title are shown before any answer
        for where, said in (("id", question.id.replace("-", " ")), ("title", question.title)):
            if REVEALING_WORDS.search(said.lower()):
                found.append(f"the {where} says it fails: {said}")
    return found


@pytest.mark.parametrize("spec", QUIZZES, ids=lambda s: s.name)
def test_titles_and_explanations_never_give_the_answer_away(class_keys, spec):
    problems = set()
    for student in CLASS[:10]:
        for question, text in zip(spec.questions, variants(spec, student)):
            if question.type == "true-false":
                continue
            key = class_keys[spec.name][student][question.id]["answer"]
            problems.update(f"{question.id}: {g}" for g in _giveaways(question, text, key))
    assert not problems, "\n".join(sorted(problems))


def test_the_giveaway_check_catches_what_it_is_for():
    question = Question.model_validate({
        "id": "view-impossible", "type": "shape", "title": "A view that cannot work", "concepts": ["tensor"],
        "prompt": "p", "answer": "answer = 'error'", "explanation": "e"})
    assert len(_giveaways(question, variant(question, "alice", "06-x"), "error")) == 2
    numeric = _giveaway_question("numeric", "the largest float16 is 65504, just below 2^16")
    assert _giveaways(numeric, variant(numeric, "alice", "08-x"), 65504.0) == ["explanation holds the right value 65504"]
    shape = _giveaway_question("shape", "For example `[8, 1, 6, 1]` and `[7, 1, 5]` give `[8, 7, 6, 5]`.")
    assert _giveaways(shape, variant(shape, "alice", "06-x"), [8, 7, 6, 5]) == ["explanation holds the right shape [8, 7, 6, 5]"]
    choice = Question.model_validate({
        "id": "q", "type": "single", "title": "t", "concepts": ["tensor"], "prompt": "p",
        "options": [{"text": "`[4, 3]` and `[3]`", "explanation": "Unlike [4, 3] and [4], those broadcast."},
                    {"text": "`[4, 3]` and `[4]`"}], "explanation": "e"})
    assert _giveaways(choice, variant(choice, "alice", "06-x"), "b") == [
        "explanation names the right option (b) [4, 3] and [4]"]


def _giveaway_question(kind: str, explanation: str) -> Question:
    return Question.model_validate({"id": "q", "type": kind, "title": "t", "concepts": ["tensor"], "prompt": "p",
                                    "answer": "answer = 1", "explanation": explanation})


# ------------------------------------------------------------------ partial credit, end to end


@pytest.mark.slow
def test_half_right_multiple_choice_answers_earn_partial_credit(grade, tmp_path, keys):
    for spec in (s for s in QUIZZES if any(q.type == "multiple" for q in s.questions)):
        key = keys[spec.name]
        answers = {q.id: _raw(q, key[q.id]["answer"]) for q in spec.questions}
        expected = spec.max_score
        for question in (q for q in spec.questions if q.type == "multiple"):
            right = key[question.id]["answer"]
            answers[question.id] = right[:1]  # one right option of several, no wrong one
            earned = round(question.points / len(right), 2)
            expected += earned - question.points
        result = grade("exercise", str(spec.id), "--student", STUDENT, "--submission",
                       str(_write(tmp_path, spec, answers)), "--format", "json").json()
        assert result["score"] == pytest.approx(expected) and result["status"] == "failed"
        for check in result["checks"]:
            question = next(q for q in spec.questions if q.id == check["id"])
            if question.type == "multiple":
                assert check["status"] == "failed" and 0 < check["points"] < check["max_points"], check
                assert "which earns" in check["message"], check
