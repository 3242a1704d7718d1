"""Every view of a result is filled from the one result model (`grader.results`): terminal text
(coloured or plain), Markdown, HTML and JSON here, GitHub Classroom, Gradescope and JUnit in their own
modules beside this one. All feedback words come from the Jinja2 templates in `templates/`; plus the
glossary page and the explanations of failures of the student's code that become check messages."""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import jinja2

from grader.results import CheckResult, CourseResult, ExerciseResult, RaisedError

if TYPE_CHECKING:
    from grader.glossary import Glossary

TEMPLATES = Path(__file__).parent / "templates"
GLOSSARY_LINK_ENV = "TORCHGRADE_GLOSSARY_URL"
FORMATS = ("text", "markdown", "json", "html", "junit", "classroom", "gradescope")
WIDTH = 92  # terminal text is wrapped to this many columns


def _environment(color: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )

    def style(text: Any, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
        return click.style(str(text), fg=fg, bold=bold, dim=dim) if color else str(text)

    def indent_all(text: str, width: int = 4) -> str:
        """Indent and re-flow prose to fit; code lines (indented) and list items keep their own lines."""
        pad = " " * width
        out: list[str] = []
        for block in _blocks(str(text)):
            if not block:
                out.append("")
            elif block.startswith((" ", "\t")):
                out.append(pad + block)
            else:
                hang = "  " if block.startswith(("- ", "* ")) else ""
                out += textwrap.wrap(block, WIDTH, initial_indent=pad, subsequent_indent=pad + hang,
                                     break_long_words=False, break_on_hyphens=False)
        return "\n".join(out)

    def points(value: float) -> str:
        return f"{value:g}"

    def regex_search(text: str, pattern: str) -> str:
        """The first group of `pattern` in `text`, or an empty string."""
        match = re.search(pattern, str(text))
        return match.group(1) if match else ""

    def device_run(run: Any) -> str:
        """'meta: passed' for one device a check ran on ('meta' is the CPU's stand-in for a GPU)."""
        return f"{run.device}: {run.status}"

    env.filters.update(style=style, indent_all=indent_all, points=points, regex_search=regex_search,
                       device_run=device_run)
    return env


def _blocks(text: str) -> list[str]:
    """Lines joined into paragraphs: a blank line, an indented (code) line or a list item starts a new one."""
    blocks: list[str] = []
    joinable = False
    for line in text.strip("\n").splitlines():
        stripped = line.rstrip()
        if not stripped:
            blocks.append("")
            joinable = False
        elif stripped.startswith((" ", "\t")):
            blocks.append(stripped)
            joinable = False
        elif joinable and not stripped.startswith(("- ", "* ")):
            blocks[-1] += " " + stripped
        else:
            blocks.append(stripped)
            joinable = True
    return blocks


def use_color(stream_is_tty: bool) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream_is_tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def glossary_link(term_id: str) -> str:
    base = os.environ.get(GLOSSARY_LINK_ENV, "glossary/README.md")
    return f"{base}#{term_id}"


def _concepts(results: list[ExerciseResult], glossary: Glossary | None) -> dict[str, Any]:
    found = {}
    for result in results:
        for check in result.checks:
            for concept in check.concepts:
                if glossary is not None and concept in glossary:
                    found[concept] = glossary[concept]
    return found


def results_of(result: ExerciseResult | CourseResult) -> list[ExerciseResult]:
    """The exercise results inside one result (`grade exercise`) or a whole run (`grade all`)."""
    return result.results if isinstance(result, CourseResult) else [result]


def render_result(result: ExerciseResult | CourseResult, fmt: str, glossary: Glossary | None, color: bool = False,
                  *, hidden_visibility: str = "after_published") -> str:
    """The result of one exercise, or of `grade all`, in one of FORMATS."""
    results = results_of(result)
    if fmt == "json":
        return result.model_dump_json(indent=2) + "\n"
    if fmt == "classroom":
        from grader.render import classroom

        return classroom.dumps(classroom.report(results, glossary))
    if fmt == "gradescope":
        from grader.render import gradescope

        return gradescope.dumps(gradescope.report(results, glossary, hidden_visibility))
    if fmt == "junit":
        from grader.render import junit

        return junit.report(results, glossary)
    if fmt == "html":
        from grader.render.html import render_html

        return render_html(result, glossary)
    whole = isinstance(result, CourseResult)
    template = {"text": "result.txt.j2", "markdown": "result.md.j2"}[fmt]
    if whole:
        template = template.replace("result.", "all.")
    return _environment(color and fmt == "text").get_template(template).render(
        result=result, course=result, terms=_concepts(results, glossary), link=glossary_link
    )


def check_feedback(result: ExerciseResult, check: CheckResult, glossary: Glossary | None, markdown: bool = False,
                   links: bool = True) -> str:
    """One check's feedback on its own, as plain text or Markdown (a platform's per-test message). A
    submission that could not be graded at all gives every check the same message: that message alone. A
    skipped check says it was not run and not counted (a platform's test must never read as passed)."""
    if check.status == "passed":
        return ""
    if check.status == "skipped":
        return f"Not run here, and not counted in your score: {check.message}"
    if result.message and check.message == result.message:
        return result.message
    template = "check.md.j2" if markdown else "check.txt.j2"
    return _environment(False).get_template(template).render(
        check=check, result=result, whole="", quiz=result.kind == "quiz", terms=_concepts([result], glossary),
        link=glossary_link if links else None,
    ).strip("\n")


@dataclass
class Failure:
    """A run of the student's code that did not finish, in words: the message, and when the catalogue of
    PyTorch errors knows what was raised, its advice and glossary concepts (`grader.explain`)."""

    message: str
    what_to_try: str | None = None
    concepts: list[str] = field(default_factory=list)
    exception: RaisedError | None = None


def explain_failure(outcome: Any, check_title: str | None, limits: dict[str, Any]) -> Failure:
    """Plain words for a run of the student's code that did not finish (raised, exited, hung...)."""
    from grader.explain import explain, summary

    error = outcome.error or {}
    explained = explain(error)
    message = _environment(False).get_template("probe_failure.txt.j2").render(
        status=outcome.status, error=error, output=outcome.output_tail.strip(),
        check=check_title, limits=limits, explained=explained,
    ).strip()
    raised = None
    # Running out of memory and unwritten code (NotImplementedError) have explanations of their own here;
    # any other exception the catalogue does not know is counted as not explained yet.
    if error.get("type") and (error.get("kind") == "exception" or explained is not None):
        raised = RaisedError(type=str(error["type"]), summary=summary(error),
                             explained_by=explained.id if explained else "")
    if explained is None:
        return Failure(message, exception=raised)
    return Failure(message, explained.what_to_try, explained.concepts, raised)


def explain_probe_failure(outcome: Any, check_title: str | None, limits: dict[str, Any]) -> str:
    """The message alone (`explain_failure`)."""
    return explain_failure(outcome, check_title, limits).message


def render_batch_summary(summary: dict[str, Any], color: bool) -> str:
    """`grade batch` / `grade merge`: per exercise the mean and pass count, per check the pass rate and
    the most common reasons for failing (`grader.batch.summary`)."""
    return _environment(color).get_template("batch_summary.txt.j2").render(**summary)


def render_glossary_page(glossary: Glossary) -> str:
    return _environment(False).get_template("glossary.md.j2").render(terms=list(glossary.terms.values()))


def render_term(term: Any, glossary: Glossary, color: bool) -> str:
    return _environment(color).get_template("term.txt.j2").render(term=term, glossary=glossary)


def render_exercise_page(spec: Any) -> str:
    """An exercise's instructions as the Markdown page kept beside it (`exercises/NN-slug/README.md`)."""

    def link(term_id: str) -> str:  # the page sits two folders below the course root
        url = glossary_link(term_id)
        return url if GLOSSARY_LINK_ENV in os.environ else "../../" + url

    return _environment(False).get_template("exercise.md.j2").render(spec=spec, link=link)


def render_exercise_list(rows: list[dict[str, Any]], color: bool) -> str:
    return _environment(color).get_template("list.txt.j2").render(rows=rows)


def render_quiz_question(q: Any, number: int, total: int, color: bool) -> str:
    """One question of `grade quiz`, as the terminal shows it."""
    from grader.quiz.questions import ANSWER_FORMS

    return _environment(color).get_template("quiz_question.txt.j2").render(
        q=q, number=number, total=total, form=ANSWER_FORMS[q.type])


def render_quiz_verdict(check: Any, glossary: Glossary | None, color: bool) -> str:
    """What `grade quiz` says right after an answer: right, or not and why, with the glossary terms."""
    terms = {c: glossary[c] for c in check.concepts if glossary is not None and c in glossary}
    return _environment(color).get_template("quiz_verdict.txt.j2").render(check=check, terms=terms)


def render_quiz_questions(spec: Any, student: str, questions: list[Any]) -> str:
    """A student's own questions (their drawn numbers), as Markdown: `grade quiz N --show`."""
    from grader.quiz.questions import ANSWER_FORMS

    return _environment(False).get_template("quiz_questions.md.j2").render(
        spec=spec, student=student, questions=questions, forms=ANSWER_FORMS)


def render_answers_starter(spec: Any) -> str:
    """The answers file a quiz ships with: every question id, no answer (and no key)."""
    return _environment(False).get_template("answers.yaml.j2").render(spec=spec)


def render_validation(reports: list[Any], color: bool) -> str:
    """The table `grade validate` prints, and every problem under it."""
    return _environment(color).get_template("validate.txt.j2").render(reports=reports)


def test_name(result: ExerciseResult, check: CheckResult, several: bool) -> str:
    """A check's name as a platform's test: its title, led by its exercise when a run grades several."""
    return f"{result.exercise_id}. {result.title}: {check.title}" if several else check.title


def student_path(result: ExerciseResult, file: str) -> str:
    """The student's file as their repository names it (platforms run at the repository's root)."""
    return f"exercises/{result.exercise}/{file}" if file else ""
