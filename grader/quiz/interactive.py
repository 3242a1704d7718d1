"""`grade quiz N`: the questions one at a time in the terminal, each graded at once with its
explanation and glossary terms. Input that cannot be read as an answer is asked again (it costs
nothing); an empty line skips the question. Works the same with piped input."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Callable

import click

from grader.languages import translations
from grader.quiz.answers import AnswerError, is_blank, parse
from grader.quiz.grading import compute_key, judge, result_of, variants
from grader.results import ExerciseResult
from grader.spec import ExerciseSpec

if TYPE_CHECKING:
    from grader.render.words import Messages

MAX_RETRIES = 3


def ask(spec: ExerciseSpec, student: str, glossary: Any, color: bool,
        read: Callable[[], str] | None = None) -> ExerciseResult:
    """Ask every question of `spec` for `student`; the result has one check per question."""
    from grader.render import render_quiz_question, render_quiz_verdict
    from grader.render.words import Messages, fill_check

    _ = translations(spec.language).gettext
    started = time.monotonic()
    click.echo(_("Preparing quiz %(id)s for %(student)s...") % {"id": spec.id, "student": student}, err=True)
    key = compute_key(spec, student)
    read = read or (lambda: _prompt(_("Your answer")))
    texts = variants(spec, student)
    checks, messages = [], Messages(None, spec.language)
    for number, (question, text) in enumerate(zip(spec.questions, texts), start=1):
        click.echo("\n" + render_quiz_question(text, number, len(texts), color, spec.language), nl=False)
        raw = _read_answer(question, read, _("Try again (Enter skips)."), messages)
        checks.append(judge(question, text, raw, key[question.id]))
        if raw is None:
            click.echo("  " + _("Skipped."))
        else:
            click.echo(render_quiz_verdict(fill_check(checks[-1], spec.language), glossary, color, spec.language),
                       nl=False)
    from grader.runner.launch import in_words

    return in_words(result_of(spec, checks, started), spec)


def said_score(result: ExerciseResult, language: str) -> str:
    """The line that ends `grade quiz`: the score, how many were right, and that it was recorded."""
    right = sum(1 for c in result.checks if c.status == "passed")
    return translations(language).gettext(
        "Score: %(score)s/%(max_score)s (%(right)s of %(total)s right). Recorded; `grade list` shows your last score."
    ) % {"score": f"{result.score:g}", "max_score": f"{result.max_score:g}", "right": right, "total": len(result.checks)}


def _prompt(label: str) -> str:
    answer = click.prompt(label, default="", show_default=False, prompt_suffix=": ")
    if not sys.stdin.isatty():  # piped answers are not echoed by a terminal: show them, so the log reads well
        click.echo(answer)
    return answer


def _read_answer(question: Any, read: Callable[[], str], again: str, messages: Messages) -> str | None:
    for _ in range(MAX_RETRIES):
        try:
            raw = read()
        except (click.Abort, EOFError):
            return None
        if is_blank(raw):
            return None
        try:
            parse(question.type, raw, len(question.options))
            return raw
        except AnswerError as exc:
            click.echo("  " + translations(messages.language).gettext("%(problem)s. %(again)s") % {
                "problem": messages.say(exc.said), "again": again})
    return raw
