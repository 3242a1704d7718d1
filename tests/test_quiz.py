"""Quizzes end to end: a fully right answers file gets full marks, a partly right one its exact partial
score, malformed answers cost only their own question with a clear message, computed answers agree with
an independent computation for 50 students, and `grade quiz N` works with piped input."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.catalog import Course
from grader.quiz.grading import compute_key, compute_keys, variants
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
        return key + 1000.0
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


INDEPENDENT = {
    ("06-tensors", "randn-shape"): lambda p: [p["a"], p["b"], p["c"]],
    ("06-tensors", "view-minus-one"): lambda p: [p["a"] * p["b"] // p["c"], p["c"]],
    ("06-tensors", "view-impossible"): lambda p: "error" if (p["a"] * p["b"]) % p["c"] else [p["c"], p["a"] * p["b"] // p["c"]],
    ("06-tensors", "matmul-shape"): lambda p: [p["n"], p["m"]],
    ("06-tensors", "matmul-mismatch"): lambda p: [p["n"], p["m"]] if p["k"] == p["j"] else "error",
    ("06-tensors", "sum-dim"): lambda p: [p["c"]] if p["dim"] == 0 else [p["b"]],
    ("06-tensors", "broadcast-result"): lambda p: _broadcast(p["s1"], p["s2"]),
    ("06-tensors", "arange-print"): lambda p: f"torch.Size([2, {p['n'] // 2}])\n",
    ("07-autograd-cnn", "graph-value"): lambda p: (p["a"] + p["b"]) * (p["b"] + 1),
    ("07-autograd-cnn", "graph-grad-a"): lambda p: p["b"] + 1,
    ("07-autograd-cnn", "graph-grad-b"): lambda p: p["a"] + 2 * p["b"] + 1,
    ("07-autograd-cnn", "power-sum-grad"): lambda p: p["n"] * p["v"] ** (p["n"] - 1),
    ("07-autograd-cnn", "neuron-chain-grad"): lambda p: 2 * (p["w"] * p["x"] + p["bias"] - p["t"]) * p["x"],
    ("07-autograd-cnn", "grad-accumulates"): lambda p: f"None tensor({2 * p['k']}.)\n",
    ("07-autograd-cnn", "conv2d-params"): lambda p: p["cout"] * p["cin"] * p["k"] ** 2 + (p["cout"] if p["bias"] else 0),
    ("07-autograd-cnn", "conv3d-weight-shape"): lambda p: [p["cout"], p["cin"], p["kd"], p["kh"], p["kw"]],
    ("07-autograd-cnn", "conv2d-3d-kernel"): lambda p: "error",
    ("07-autograd-cnn", "conv-output-shape"): lambda p: [p["n"], p["cout"], _conv(p["h"], p["k"], p["s"], p["p"]),
                                                         _conv(p["h"], p["k"], p["s"], p["p"])],
    ("07-autograd-cnn", "pool-output-shape"): lambda p: [p["n"], p["c"], p["h"] // p["k"], p["w"] // p["k"]],
    ("07-autograd-cnn", "mnist-shape"): lambda p: [p["n"], 32, 7, 7],
    ("08-training", "iterations-per-epoch"): lambda p: p["n"] // p["b"] if p["drop_last"] else -(-p["n"] // p["b"]),
    ("08-training", "ce-value"): lambda p: math.log(sum(math.exp(z) for z in (p["z0"], p["z1"], p["z2"])))
                                           - (p["z0"], p["z1"], p["z2"])[p["t"]],
    ("08-training", "softmax-sum"): lambda p: p["b"] if p["dim"] == 1 else p["c"],
    ("08-training", "one-hot-shape"): lambda p: [p["b"], p["k"]],
    ("08-training", "mse-value"): lambda p: sum((a - b) ** 2 for a, b in zip(p["pred"], p["target"])) / len(p["pred"]),
    ("08-training", "dropout-eval-print"): lambda p: "tensor([" + ", ".join([f"{p['v']:.0f}."] * p["n"]) + "])\n",
    ("08-training", "zero-grad-accumulate"): lambda p: p["k"] * p["c"],
    ("08-training", "sgd-step"): lambda p: p["w0"] - p["lr"] * 2 * (p["w0"] - p["t"]),
    ("08-training", "finfo-value"): lambda p: {("float16", "max"): 65504.0, ("float16", "tiny"): 2.0 ** -14,
                                               ("float16", "eps"): 2.0 ** -10, ("bfloat16", "tiny"): 2.0 ** -126,
                                               ("bfloat16", "eps"): 2.0 ** -7}[(p["dtype"], p["which"])],
    ("08-training", "precision-recall"): lambda p: p["tp"] / (p["tp"] + (p["fp"] if p["which"] == "precision" else p["fn"])),
}


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
