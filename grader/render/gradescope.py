"""Gradescope's view of a result: the `results.json` its autograder harness reads from
/autograder/results/. One test per check with the check's points; feedback in Markdown; a hidden
check's test is shown to the student only when the instructor says (`after_published` by default).
The top-level output holds no check's feedback, so it never shows what a hidden check found."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from grader.languages import DEFAULT, translations
from grader.render import (check_feedback, environment, for_view, language_of, markdown_text,
                            test_name)
from grader.results import ExerciseResult

if TYPE_CHECKING:
    from grader.glossary import Glossary

def report(results: list[ExerciseResult], glossary: Glossary | None,
           hidden_visibility: str = "after_published") -> dict[str, Any]:
    """Gradescope's results.json: `score` is the grader's total, each test carries its own points."""
    links = glossary is not None and glossary.url is not None  # a relative link leads nowhere there: names only
    tests, shown = [], []
    for original in results:
        result = _shown(for_view(original, markdown_text), hidden_visibility)
        shown.append(result)
        for number, (check, named) in enumerate(zip(result.checks, original.checks), start=1):
            tests.append({
                "name": test_name(original, named, len(results) > 1),
                "number": f"{result.exercise_id}.{number}",
                "score": check.points,
                # a check that could not run is not owed
                "max_score": 0.0 if check.status == "skipped" else check.max_points,
                "status": "passed" if check.status == "passed" else "failed",
                "output": check_feedback(result, check, glossary, markdown=True, links=links),
                "output_format": "md",
                "tags": list(check.concepts),
                "visibility": hidden_visibility if check.hidden else "visible",
            })
    language = language_of(results[0]) if results else DEFAULT
    summary = environment(False, language).get_template("gradescope_summary.md.j2").render(results=shown)
    return {
        "score": round(sum(r.score for r in results), 6),
        "execution_time": round(sum(r.duration for r in results)),
        "output": summary,
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _shown(result: ExerciseResult, hidden_visibility: str) -> ExerciseResult:
    """What the feedback may say of hidden checks: a visible check's failure that follows from a hidden one's
    does not name it, unless hidden checks are shown (`hidden_visibility="visible"`)."""
    if hidden_visibility == "visible" or not any(c.hidden for c in result.checks):
        return result
    hidden = translations(language_of(result)).gettext("a hidden check")
    return result.model_copy(update={"checks": [c.model_copy(update={"title": hidden}) if c.hidden else c
                                                for c in result.checks]})


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
