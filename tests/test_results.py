"""The one result model and its views: totals and status are derived from the checks (a skipped
check is never counted as passed), and text, Markdown and JSON all render the same model."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from grader.glossary import load_glossary
from grader.render import render_result, use_color
from grader.results import CheckResult, ExerciseResult

ROOT = Path(__file__).resolve().parent.parent


def _check(id_: str, status: str, points: float = 1.0) -> CheckResult:
    return CheckResult(id=id_, title=f"Check {id_}", status=status, points=points if status == "passed" else 0.0,
                       max_points=points, message="" if status == "passed" else f"{id_} went wrong",
                       concepts=["gradient", "optimizer"], why_it_matters="Because.", what_to_try="Try this.")


def _result(*checks: CheckResult, message: str = "") -> ExerciseResult:
    return ExerciseResult.from_checks(exercise="03-training-loop", exercise_id=3, title="Loop", checks=list(checks),
                                      duration=1.5, message=message)


def test_all_passed():
    result = _result(_check("a", "passed", 2), _check("b", "passed"))
    assert (result.passed, result.status, result.score, result.max_score) == (True, "passed", 3, 3)


def test_a_failed_check_fails_the_result():
    result = _result(_check("a", "passed", 2), _check("b", "failed"))
    assert (result.passed, result.status, result.score) == (False, "failed", 2)


def test_an_error_makes_the_result_an_error():
    assert _result(_check("a", "passed"), _check("b", "error")).status == "error"
    assert _result(_check("a", "error"), message="could not import").status == "error"


def test_skipped_checks_earn_nothing_and_never_count_as_passed():
    only_skipped = _result(_check("gpu", "skipped", 3))
    assert (only_skipped.passed, only_skipped.status, only_skipped.score) == (False, "failed", 0)
    mixed = _result(_check("a", "passed"), _check("gpu", "skipped", 3))
    # Out of the maximum too: without a GPU, full marks are what could be checked here.
    assert (mixed.score, mixed.max_score, mixed.passed) == (1, 1, True)


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(ROOT / "glossary", ROOT)


def test_text_view_plain_or_coloured(glossary):
    result = _result(_check("a", "passed"), _check("b", "failed"))
    plain = render_result(result, "text", glossary, color=False)
    assert "\x1b[" not in plain
    assert "FAIL" in plain and "b went wrong" in plain and "Try this." in plain
    assert "Gradient: " in plain  # each concept with its one-line summary
    assert "\x1b[" in render_result(result, "text", glossary, color=True)


def test_no_color_and_dumb_terminals(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(True) and not use_color(False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(True)


def test_markdown_view_links_each_concept(glossary):
    result = _result(_check("b", "failed"))
    text = render_result(result, "markdown", glossary)
    assert "[Gradient](glossary/README.md#gradient)" in text and "[Optimizer](glossary/README.md#optimizer)" in text
    published = copy.copy(glossary)
    published.url = "https://course.example/glossary"  # what the CLI takes from TORCHGRADE_GLOSSARY_URL
    assert "(https://course.example/glossary#gradient)" in render_result(result, "markdown", published)


def test_json_view_is_the_model(glossary):
    result = _result(_check("a", "passed"), _check("b", "skipped"))
    assert ExerciseResult.model_validate_json(render_result(result, "json", glossary)) == result


def test_a_failure_that_follows_from_another_says_so_in_every_view(glossary):
    """One bug, one check: a check that could not judge its habit because of another check's problem points
    there, in every view, instead of giving advice of its own (the grading process left it none)."""
    own = _check("a", "failed")
    follows = CheckResult(id="b", title="Check b", status="failed", points=0.0, max_points=1.0,
                          message="b could not look", concepts=["gradient"], because_of="a")
    result = _result(follows, own)
    for fmt in ("text", "markdown", "html", "gradescope", "junit", "classroom"):
        text = render_result(result, fmt, glossary)
        assert "This follows from the problem under" in text and "Check a" in text, fmt
    assert "\u201cCheck a\u201d below" in render_result(result, "html", glossary)
    assert '"Check a" above' in render_result(_result(own, follows), "markdown", glossary)


def test_the_cause_of_a_failure_is_a_check_that_failed_in_its_own_right():
    from grader.runner.judge import failure_causes
    from grader.runner.plugin import CaseOutcome

    outcomes = {"a": CaseOutcome("failed"), "b": CaseOutcome("failed", because_of=["z", "a"]),
                "c": CaseOutcome("failed", because_of=["b"]), "d": CaseOutcome("failed", because_of=["e"]),
                "e": CaseOutcome("failed", because_of=["d"]), "f": CaseOutcome("passed"),
                "g": CaseOutcome("failed", because_of=["f"])}
    # b: a failed on its own (z is no check); c: through b; d and e only name each other, so neither
    # follows from anything; g names a check that passed: its failure is its own.
    assert failure_causes(outcomes) == {"b": "a", "c": "b"}
