"""Reading quiz answers and comparing them with keys (pure Python, no torch): every way a student
may reasonably write an answer is accepted, and every malformed one gets a message saying how to
write it; numbers asked to N significant digits are compared that way; a question with several right
options gives partial credit, and every view of the result shows it and adds it up."""

from __future__ import annotations

import json

import pytest

from grader.quiz.answers import AnswerError, choice_credit, is_right, parse, shown
from grader.quiz import grading
from grader.quiz.questions import Question, draw, seed_for, variant
from grader.render.words import fill_check
from grader.results import ExerciseResult


def judge(*args, **kwargs):
    """A question judged (its facts) and said in English, as `grade quiz` shows it."""
    return fill_check(grading.judge(*args, **kwargs))


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


# ------------------------------------------------------------------ significant digits


@pytest.mark.parametrize(("raw", "key", "digits"), [
    ("65504", 65504.0, 4), ("6.550e4", 65504.0, 4), ("65500", 65504.0, 4), ("6.5504E4", 65504.0, 4),
    ("-6.550e4", -65504.0, 4), ("6.104e-05", 2.0 ** -14, 4), ("6.1035e-5", 2.0 ** -14, 4),
    ("0.0009766", 2.0 ** -10, 4), ("0.0009765625", 2.0 ** -10, 4),
    # 0.0078125 lies exactly halfway between two 4-digit values: either rounding is right
    ("7.812e-3", 2.0 ** -7, 4), ("7.813e-3", 2.0 ** -7, 4), ("0.0078125", 2.0 ** -7, 4),
    ("0.036", 0.035976, 3), ("1.23", 1.2345, 3), ("1.2345", 1.2345, 3),
])
def test_significant_digits_accept_the_right_value_however_it_is_written(raw, key, digits):
    assert is_right("numeric", parse("numeric", raw), key, significant_digits=digits)


@pytest.mark.parametrize(("raw", "key", "digits"), [
    ("65536", 65504.0, 4),  # 2^16: within 0.05 %, which a relative tolerance of 5e-4 accepted
    ("65535", 65504.0, 4), ("65520", 65504.0, 4), ("65510", 65504.0, 4), ("6.5e4", 65504.0, 4),
    ("65504", -65504.0, 4), ("6.103e-05", 2.0 ** -14, 4),  # cut off instead of rounded
    ("7.811e-3", 2.0 ** -7, 4), ("0.0078", 2.0 ** -7, 4), ("0.0353", 0.035976, 3), ("inf", 65504.0, 4),
])
def test_significant_digits_reject_near_misses(raw, key, digits):
    assert not is_right("numeric", parse("numeric", raw), key, significant_digits=digits)


def test_a_float32_key_next_to_a_rounding_boundary_accepts_both_roundings():
    # 0.12345 in float32 is 0.123450003...; a student who computed it exactly writes 0.1235 or 0.1234
    import struct

    key = struct.unpack("f", struct.pack("f", 0.12345))[0]
    assert is_right("numeric", 0.1234, key, significant_digits=4) and is_right("numeric", 0.1235, key, significant_digits=4)
    assert not is_right("numeric", 0.1236, key, significant_digits=4)


def _numeric(**extra) -> dict:
    return {"id": "q", "type": "numeric", "title": "t", "concepts": ["tensor"], "prompt": "p", "explanation": "e",
            **extra}


@pytest.mark.parametrize(("extra", "message"), [
    ({"significant_digits": 4, "rel_tolerance": 0.001}, "either significant_digits or tolerance"),
    ({"significant_digits": 0}, "greater than or equal to 1"),
    ({"significant_digits": 9}, "less than or equal to 6"),
    ({"significant_digits": 3, "type": "shape"}, "significant_digits is for numeric questions"),
])
def test_significant_digits_are_checked_when_a_quiz_loads(extra, message):
    with pytest.raises(ValueError, match=message):
        Question.model_validate(_numeric(**extra))


# ------------------------------------------------------------------ partial credit


@pytest.mark.parametrize(("given", "key", "credit"), [
    (["a", "c", "d"], ["a", "c", "d"], 1.0), (["a", "c"], ["a", "c", "d"], 2 / 3), (["a"], ["a", "c", "d"], 1 / 3),
    (["a", "b", "c"], ["a", "c", "d"], 1 / 3), (["a", "b"], ["a", "c", "d"], 0.0), (["b", "e"], ["a", "c", "d"], 0.0),
    (["a", "b", "c", "d", "e", "f"], ["a", "c", "d"], 0.0), (["b"], ["b"], 1.0), (["a", "b"], ["b"], 0.0),
])
def test_partial_credit_counts_right_picks_minus_wrong_ones(given, key, credit):
    assert choice_credit(given, key) == pytest.approx(credit)


def _multiple() -> Question:
    options = [{"text": f"statement {n}", "explanation": f"why {n} is false" if n in (2, 5) else ""} for n in range(1, 7)]
    return Question.model_validate({"id": "pick", "type": "multiple", "title": "t", "points": 2, "concepts": ["tensor"],
                                    "prompt": "p", "explanation": "the idea", "options": options})


@pytest.mark.parametrize(("raw", "status", "points"), [
    ("[a, c, d]", "passed", 2.0), ("[a, c]", "failed", 1.33), ("a", "failed", 0.67), ("[a, b, c]", "failed", 0.67),
    ("[a, b]", "failed", 0.0), ("[a, b, c, d, e, f]", "failed", 0.0), ("", "failed", 0.0),
])
def test_a_multiple_choice_question_earns_its_share_of_the_points(raw, status, points):
    question = _multiple()
    check = judge(question, variant(question, "alice", "07-x"), raw, {"answer": ["a", "c", "d"]})
    assert (check.status, check.points, check.max_points) == (status, points, 2.0)
    if 0 < points < 2:
        assert f"which earns {points:g} of 2 points" in check.message and "share of the points" in check.what_to_try
    if raw == "[a, b, c]":
        assert "(b) why 2 is false" in check.message and "why 5" not in check.message


def test_a_partly_right_result_adds_up_in_every_view():
    from grader.render import FORMATS, render_result

    question = _multiple()
    text = variant(question, "alice", "07-x")
    checks = [judge(question, text, "[a, c]", {"answer": ["a", "c", "d"]}),
              judge(question.model_copy(update={"id": "other"}), text, "[a, c, d]", {"answer": ["a", "c", "d"]})]
    result = ExerciseResult.from_checks(exercise="07-x", exercise_id=7, title="Quiz", checks=checks, duration=0.1,
                                        kind="quiz")
    assert (result.score, result.max_score, result.status) == (3.33, 4.0, "failed")
    views = {fmt: render_result(result, fmt, None) for fmt in FORMATS}
    assert "1.33/2" in views["text"] and "Score: 3.33/4" in views["text"]
    assert "1.33 / 2" in views["markdown"] and "3.33 / 4" in views["markdown"] and "3.33 / 4" in views["html"]
    assert '"points": 1.33' in views["json"] and 'name="points" value="1.33"' in views["junit"]
    classroom, gradescope = json.loads(views["classroom"]), json.loads(views["gradescope"])
    assert [t["score"] for t in classroom["tests"]] == [1.33, 2.0] and classroom["max_score"] == 4.0
    assert gradescope["score"] == 3.33 and [t["score"] for t in gradescope["tests"]] == [1.33, 2.0]


def test_the_terminal_says_partly_right():
    from grader.render import render_quiz_verdict

    question = _multiple()
    said = render_quiz_verdict(judge(question, variant(question, "alice", "07-x"), "[a, c]", {"answer": ["a", "c", "d"]}),
                               None, color=False)
    assert "Partly right. +1.33" in said and "Not right" not in said


def test_an_answer_rounded_to_more_digits_is_not_rounded_twice():
    # 2^-126 = 1.17549...e-38 is 1.1755e-38 to 5 digits, and that, halfway, must not become 1.176e-38
    assert is_right("numeric", 1.1755e-38, 2.0 ** -126, significant_digits=4)
    assert not is_right("numeric", 1.1765e-38, 2.0 ** -126, significant_digits=4)


def test_answers_may_not_use_yaml_aliases(tmp_path):
    """A few lines of aliases nest into billions of values once printed (in the CLI, which reads answers):
    refused with the line, whether in answers.yaml or in a notebook's answer cell."""
    from grader.quiz.grading import answers_from_cells, read_answers
    from grader.yamlfile import SpecError

    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b]\n"
    path = tmp_path / "answers.yaml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(SpecError, match=r"answers.yaml:2:8: \*a is a YAML alias"):
        read_answers(path, "answers.yaml")
    with pytest.raises(SpecError, match=r"Cell In\[4\]:3:8: \*a is a YAML alias"):
        answers_from_cells([("Cell In[4]", "\n" + bomb)])
