"""JUnit XML, the report format every CI system reads: one <testsuite> per exercise, one <testcase>
per check (<failure>, <error> or <skipped> with the plain-text feedback), points as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from grader.render import check_feedback, for_view, student_path, terminal_text
from grader.results import ExerciseResult

if TYPE_CHECKING:
    from grader.glossary import Glossary


def report(results: list[ExerciseResult], glossary: Glossary | None) -> str:
    # Plain text, as a CI log prints it; `visible` inside it leaves no character XML 1.0 forbids.
    results = [for_view(r, terminal_text) for r in results]
    root = ET.Element("testsuites", name="torchgrade", tests=str(sum(len(r.checks) for r in results)),
                      failures=str(_count(results, "failed")), errors=str(_count(results, "error")),
                      skipped=str(_count(results, "skipped")), time=f"{sum(r.duration for r in results):.3f}")
    for result in results:
        suite = ET.SubElement(root, "testsuite", name=result.exercise, tests=str(len(result.checks)),
                              failures=str(_count([result], "failed")), errors=str(_count([result], "error")),
                              skipped=str(_count([result], "skipped")), time=f"{result.duration:.3f}")
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="score", value=f"{result.score:g}")
        ET.SubElement(properties, "property", name="max_score", value=f"{result.max_score:g}")
        for check in result.checks:
            case = ET.SubElement(suite, "testcase", classname=result.exercise, name=f"{check.id}: {check.title}",
                                 time=f"{check.duration:.3f}")
            if check.file:
                case.set("file", student_path(result, check.file))
                if not check.cell:  # a notebook's line is its cell's, not the file's
                    case.set("line", str(check.line))
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="points", value=f"{check.points:g}")
            ET.SubElement(props, "property", name="max_points", value=f"{check.max_points:g}")
            if check.status == "passed":
                continue
            said = (check.message or result.message).strip()
            tag = {"failed": "failure", "error": "error", "skipped": "skipped"}[check.status]
            element = ET.SubElement(case, tag, message=said.splitlines()[0][:200] if said else "")
            if check.status != "skipped":
                element.text = check_feedback(result, check, glossary)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _count(results: list[ExerciseResult], status: str) -> int:
    return sum(1 for r in results for c in r.checks if c.status == status)
