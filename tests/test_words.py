"""Facts in the judge, words in the view (grader.render.words): a check records a message id and its facts,
the view says them from the catalogues; a message that cannot be said never breaks a view and is caught
by `grade validate`; the grading process imports neither the renderer nor Jinja."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.checks import SAID, CheckFailed, expect, fail, plain, said
from grader.failures import RUN_KINDS, FailureKind
from grader.render.words import Messages, MessageError, fill, one_cause_once
from grader.results import CheckResult, ExerciseResult, Explained, Failure, Run, Said

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checks(tmp_path: Path) -> Path:
    (tmp_path / "messages.yaml").write_text(
        "short.len: \"len(dataset) is {{ got }}, not {{ want }}\"\n"
        "shape.wrong:\n"
        "  message: >-\n"
        "    {{ name }} has shape {{ shape | tuple }} and mean {{ mean | num('.3f') }}\n"
        "    {%- if extra %} ({{ extra }}){% endif %}.\n"
        "  what_to_try: Reshape {{ name }}.\n"
        "phrase.output: the output of `forward`\n", encoding="utf-8")
    return tmp_path


def test_a_verdict_is_an_id_and_plain_facts():
    with pytest.raises(CheckFailed) as failed:
        fail("short.len", got=(5,), want=4.0, value=float("nan"), because_of="other")
    assert failed.value.said == {SAID: "short.len", "params": {"got": [5], "want": 4.0, "value": "nan"}}
    assert failed.value.because_of == ["other"]
    expect(True, "never.said")  # nothing happens when the condition holds
    with pytest.raises(TypeError, match="plain data"):
        plain({"x": object()})


def test_words_are_said_from_the_catalogue_nested_pieces_first(checks):
    messages = Messages(checks)
    facts = said("shape.wrong", name=said("phrase.output"), shape=[8], mean=0.12345, extra="")
    assert messages.say(facts) == "the output of `forward` has shape (8,) and mean 0.123."
    assert messages.say(facts, "what_to_try") == "Reshape the output of `forward`."
    assert messages.say(said("shape.wrong", name="x", shape=[], mean="nan", extra="NaN")) == \
        "x has shape () and mean nan (NaN)."
    assert messages.say(said("compare.the-result")) == "the result"  # the shared catalogue, after the exercise's


def test_a_message_that_cannot_be_said_never_breaks_a_view(checks):
    messages = Messages(checks)
    with pytest.raises(MessageError, match="no message 'nope'"):
        messages.say(said("nope"))
    with pytest.raises(MessageError, match="short.len"):
        messages.say(said("short.len", got=1))  # `want` has no value
    shown = messages.say_or_explain(Said(id="short.len", params={"got": 1}))
    assert shown.startswith("(This check's message could not be shown") and str(checks) not in shown


def test_a_broken_catalogue_is_named(tmp_path):
    (tmp_path / "messages.yaml").write_text("a: [1, 2]\n")
    with pytest.raises(MessageError, match="must be a text"):
        Messages(tmp_path).entries  # noqa: B018


def test_every_failure_kind_of_a_worker_is_enumerated_once():
    from grader.runner.payload import ERROR_KINDS

    assert ERROR_KINDS <= RUN_KINDS
    assert {FailureKind(k) for k in ("exception", "timeout", "signal", "no-result")} <= RUN_KINDS


def _result(*checks: CheckResult, **facts) -> ExerciseResult:
    return ExerciseResult.from_checks(exercise="03-training-loop", exercise_id=3, title="t", checks=list(checks),
                                      duration=0.1, limits={"time_s": 5, "memory_mb": 512, "processes": 8}, **facts)


def _spec(title: str) -> SimpleNamespace:
    return SimpleNamespace(title=title, why_it_matters="Why.", what_to_try="The check's tip.")


def test_fill_says_verdicts_tips_and_why_only_for_failures_of_their_own(checks):
    verdict = Failure(kind=FailureKind.VERDICT, said=Said(id="short.len", params={"got": 5, "want": 4}))
    own = CheckResult(id="a", title="?", status="failed", points=0, max_points=1, failure=verdict)
    tipped = own.model_copy(update={"id": "b", "failure": Failure(kind=FailureKind.VERDICT, said=Said(
        id="shape.wrong", params={"name": "x", "shape": [2, 3], "mean": 1.0, "extra": ""}), device="meta")})
    follows = own.model_copy(update={"id": "c", "because_of": "a"})
    done = fill(_result(own, tipped, follows), {c: _spec(f"check {c}") for c in "abc"}, checks)
    a, b, c = done.checks
    assert (a.title, a.message, a.why_it_matters, a.what_to_try) == ("check a", "len(dataset) is 5, not 4", "Why.",
                                                                      "The check's tip.")
    assert b.message == "Checked on the CPU, with PyTorch's meta device standing in for a GPU. x has shape (2, 3) " \
                        "and mean 1.000." and b.what_to_try == "Reshape x."
    assert c.message == a.message and c.why_it_matters == c.what_to_try == ""  # the cause's advice, not its own
    assert done.language == "en"


def _raised(check_id: str, line: int = 13) -> CheckResult:
    error = {"kind": "exception", "during": "probe", "type": "RuntimeError", "file": "train.py", "line": line,
             "message": "expected target dtype to be Long or Byte, but got Float", "code": "loss = f(x, y.float())"}
    run = Run(status="error", error=error, explained=Explained(id="target-dtype", facts={"got": "Float"}),
              summary="RuntimeError: expected target dtype to be Long or Byte, but got Float")
    return CheckResult(id=check_id, title=check_id, status="failed", points=0, max_points=1, file="train.py", line=line,
                       failure=Failure(kind=FailureKind.EXCEPTION, run=run))


def test_a_report_says_one_root_cause_once():
    from grader.render import render_result

    result = fill(_result(_raised("first"), _raised("second"), _raised("third", line=20)))
    assert all("PyTorch's own message" in c.message for c in result.checks)  # the JSON keeps each in full
    shown = one_cause_once(result)
    assert shown.checks[0].message == result.checks[0].message
    assert shown.checks[1].message.startswith("Your code raised the same error here as under “first” above "
                                              "(train.py, line 13)")
    assert shown.checks[2].message == result.checks[2].message  # another line: another cause
    text = render_result(result, "text", None)
    assert text.count("PyTorch's own message") == 2 and "the same error here as under “first”" in text
    assert json.loads(render_result(result, "json", None))["checks"][1]["message"] == result.checks[1].message


def test_the_grading_process_imports_neither_the_renderer_nor_jinja():
    code = ("import sys; import grader.runner.judge, grader.runner.plugin, grader.runner.sides, grader.explain, "
            "grader.checks.compare, grader.checks.observe, grader.checks.spies, grader.checks.devices; "
            "from grader.runner.pool import WARM_MODULES; import importlib; "
            "[importlib.import_module(m) for m in WARM_MODULES]; "
            "print([m for m in sys.modules if m.startswith(('grader.render', 'jinja2'))])")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert ran.stdout.strip() == "[]"


def test_validate_names_a_message_id_no_catalogue_has(tmp_path):
    from grader.spec import _message_problems

    (tmp_path / "messages.yaml").write_text("known: Known.\n")
    (tmp_path / "test_x.py").write_text("from grader.checks import expect, fail\n\ndef test_x(student):\n"
                                        "    fail('known')\n    expect(False, 'unknown.id', what_to_try='no.tip')\n")
    problems = [str(p) for p in _message_problems(tmp_path, tmp_path)]
    assert problems == ["test_x.py:5:19: no message 'unknown.id' in messages.yaml",
                        "test_x.py:5:45: no message 'no.tip' in messages.yaml"]


def test_every_shipped_exercise_names_only_messages_it_has():
    from grader.course import Course

    for spec in Course(ROOT).load_all():  # loading runs the static check; a problem would raise
        if spec.kind == "code":
            assert Messages(spec.checks_folder).entries


def test_an_error_said_in_a_sentence_ends_it_once():
    """PyTorch's messages often end with a full stop, and the check's sentence ends with its own."""
    from grader.checks.observe import said_error
    from grader.render.words import failure_words

    error = {"kind": "exception", "during": "probe", "type": "RuntimeError",
             "message": "function ClippedReLUBackward returned an incorrect number of gradients (expected 2, got 1)."}
    words = said("forward.raised", error=said_error(error))
    failure = Failure(kind=FailureKind.VERDICT, said=Said(id=words[SAID], params=words["params"]))
    messages = Messages(None)
    messages.entries["forward.raised"] = {"message": "Calling backward {{ error }}."}
    message, _ = failure_words(failure, "a", {}, messages)
    assert message.startswith("Calling backward raised RuntimeError: function ClippedReLUBackward returned an incorrect "
                              "number of gradients (expected 2, got 1).") and ").." not in message


def test_an_error_the_probe_caught_is_explained_and_counted_like_one_that_escaped():
    from grader import batch
    from grader.checks.observe import said_error
    from grader.runner.plugin import caught_run

    error = {"kind": "exception", "during": "probe", "type": "RuntimeError", "file": "model.py", "line": 23,
             "message": "mat1 and mat2 shapes cannot be multiplied (4x6272 and 1568x128)", "code": "x = self.fc1(x)"}
    words = said("forward.raised", error=said_error(error))
    run = caught_run(words)
    assert run.explained.id == "matmul-shapes" and run.summary.startswith("RuntimeError: mat1 and mat2")
    failure = Failure(kind=FailureKind.VERDICT, said=Said(id=words[SAID], params=words["params"]), run=run)
    check = CheckResult(id="a", title="a", status="failed", points=0, max_points=1, failure=failure)
    from grader.render.words import failure_words

    messages = Messages(None)  # an exercise's message, as its catalogue would hold it
    messages.entries["forward.raised"] = {"message": "For a batch of 4 images forward {{ error }}."}
    message, tip = failure_words(failure, "a", {}, messages)
    assert message.startswith("For a batch of 4 images forward raised RuntimeError: mat1 and mat2 shapes")
    assert "6272 numbers per example" in message and "Most likely:" in message and "nn.Linear(6272" in tip
    stats = batch.error_statistics([batch.Record("ann", _result(check))])
    assert stats["explained"] == [{"entry": "matmul-shapes", "count": 1}]
    assert batch.failure_key(check) == "forward.raised"
