"""Reading quiz answers and comparing them with keys (pure Python, no torch): every way a student
may reasonably write an answer is accepted, and every malformed one gets a message saying how to
write it."""

from __future__ import annotations

import pytest

from grader.quiz.answers import AnswerError, is_right, parse, shown
from grader.quiz.questions import Question, draw, seed_for


@pytest.mark.parametrize(("qtype", "raw", "expected"), [
    ("shape", [3, 4], [3, 4]), ("shape", "(3, 4)", [3, 4]), ("shape", "torch.Size([3, 4])", [3, 4]),
    ("shape", "[]", []), ("shape", 7, [7]), ("shape", "Error", "error"),
    ("single", "B", "b"), ("single", "b)", "b"), ("single", "(c)", "c"),
    ("multiple", ["c", "a"], ["a", "c"]), ("multiple", "a, c", ["a", "c"]), ("multiple", "[a c]", ["a", "c"]),
    ("true-false", True, True), ("true-false", "no", False), ("true-false", "True", True),
    ("numeric", 28, 28.0), ("numeric", "0.25", 0.25), ("numeric", "1/4", 0.25), ("numeric", "1_000", 1000.0),
    ("text", "Cross Entropy", "Cross Entropy"), ("output", "torch.Size([2, 3])", "torch.Size([2, 3])"),
])
def test_accepted_ways_of_writing_an_answer(qtype, raw, expected):
    assert parse(qtype, raw, n_options=4) == expected


@pytest.mark.parametrize(("qtype", "raw", "hint"), [
    ("shape", "3x4", "[3, 4]"), ("shape", "3 × 4 × 5", "[3, 4, 5]"), ("shape", "three by four", "[3, 4]"),
    ("shape", [3, -1], "[3, 4]"), ("single", "e", "a, b, c, d"), ("single", 2, "letter"),
    ("multiple", {"a": 1}, "[a, c]"), ("true-false", "maybe", "true or false"), ("numeric", "about 3", "number"),
    ("numeric", True, "number"), ("text", ["a"], "text"),
])
def test_malformed_answers_say_how_to_write_them(qtype, raw, hint):
    with pytest.raises(AnswerError, match=__import__("re").escape(hint)):
        parse(qtype, raw, n_options=4)


def test_comparisons():
    assert is_right("numeric", 0.3333, 1 / 3, tolerance=1e-3)
    assert not is_right("numeric", 0.33, 1 / 3, tolerance=1e-6, rel_tolerance=1e-4)
    key = {"accepted": ["cross-entropy", "cross entropy loss"], "pattern": None}
    assert is_right("text", "Cross_Entropy", key) and not is_right("text", "entropy", key)
    assert is_right("text", "logit", {"accepted": [], "pattern": r"logits?"})
    assert is_right("output", "torch.Size([2, 3])  \n", "torch.Size([2, 3])\n")
    assert is_right("shape", [2, 3], [2, 3]) and not is_right("shape", [3, 2], [2, 3])
    assert shown("shape", []) == "[]" and shown("multiple", ["a", "c"]) == "[a, c]" and shown("true-false", False) == "false"


def test_parameters_follow_the_student_not_chance():
    question = Question.model_validate({
        "id": "q", "type": "numeric", "title": "t", "concepts": ["tensor"], "prompt": "{{ a }}", "answer": "answer = a",
        "explanation": "e", "params": {"a": {"range": [1, 1000]}}})
    assert draw(question, seed_for("alice", "06-x", "q")) == draw(question, seed_for("alice", "06-x", "q"))
    values = {draw(question, seed_for(name, "06-x", "q"))["a"] for name in ("alice", "bob", "carol", "dave")}
    assert len(values) > 1
    assert seed_for("alice", "06-x", "q") != seed_for("alice", "06-x", "r")
