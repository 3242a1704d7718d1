"""GitHub Classroom's view of a result. Its reporter action (`classroom-resources/autograding-grading-reporter`)
reads each grading step's `result` output, base64 of the JSON object built here, and records the sum of
the tests' `score` over the sum of the steps' `max_score`. On a workflow run, `publish` also writes that
output, the Markdown feedback to the run's summary page and an annotation on each line a failed check
points at."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from grader.languages import DEFAULT, translations
from grader.render import check_feedback, for_view, student_path, terminal_text, test_name
from grader.results import ExerciseResult

if TYPE_CHECKING:
    from grader.glossary import Glossary

STATUS = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "error"}  # the reporter knows 3


def report(results: list[ExerciseResult], glossary: Glossary | None) -> dict[str, Any]:
    """The reporter's JSON object: one test per check, scores exactly the grader's points. The reporter prints
    each message in the run's log, so the student's text in it is cleaned as a terminal's (`terminal_text`)."""
    tests = []
    for result in (for_view(r, terminal_text) for r in results):
        for check in result.checks:
            tests.append({
                "name": test_name(result, check, len(results) > 1),
                "status": STATUS[check.status],
                "score": check.points,
                "message": check_feedback(result, check, glossary),
                "test_code": f"grade exercise {result.exercise_id}  # check {check.id}",
                "filename": student_path(result, check.file),
                "line_no": None if check.cell else check.line,  # a notebook's line is not the file's
                "duration": round(check.duration * 1000),
            })
    statuses = {r.status for r in results}
    status = "error" if "error" in statuses else "fail" if "failed" in statuses else "pass"
    return {"version": 1, "status": status, "max_score": sum(r.max_score for r in results), "tests": tests}


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def encode(payload: dict[str, Any]) -> str:
    """The step output's value: base64 of the compact JSON, as the reporter decodes it."""
    return base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode("ascii")


def publish(payload: dict[str, Any], summary_markdown: str, environ: Mapping[str, str] = os.environ,
            language: str = DEFAULT) -> list[str]:
    """On a GitHub Actions run: append `result=<base64>` to $GITHUB_OUTPUT and the feedback to
    $GITHUB_STEP_SUMMARY. Returns the workflow commands (annotations, in `language`) to print on stdout."""
    if environ.get("GITHUB_OUTPUT"):
        with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"result={encode(payload)}\n")
    if environ.get("GITHUB_STEP_SUMMARY"):
        with open(environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(summary_markdown.rstrip("\n") + "\n\n")
    return annotations(payload["tests"], language)


def annotations(tests: list[dict[str, Any]], language: str = DEFAULT) -> list[str]:
    """`::error file=…,line=…,title=…::message` for each failed test that points at a line: GitHub shows
    it on that line of the student's file. Checks failing for one reason (code that does not import)
    share one annotation."""
    found: dict[tuple[str, int, str], list[str]] = {}
    for test in tests:
        if test["status"] != "pass" and test["filename"] and test["line_no"]:
            found.setdefault((test["filename"], test["line_no"], test["message"]), []).append(test["name"])
    commands = []
    for (filename, line, message), names in found.items():
        title = names[0] if len(names) == 1 else translations(language).gettext(
            "%(count)s checks could not pass: %(first)s, ...") % {"count": len(names), "first": names[0]}
        commands.append(f"::error file={_escape_property(filename)},line={line},title={_escape_property(title)}::"
                        f"{_escape_data(message)}")
    return commands


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def summary_links(environ: Mapping[str, str] = os.environ) -> str | None:
    """Where glossary links should point from a workflow run's summary page: the glossary page of the
    commit being graded (a relative link would resolve against github.com's run page and break)."""
    server, repo, sha = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if server and repo and sha:
        return f"{server}/{repo}/blob/{sha}/glossary/README.md"
    return None
