"""Every view of a result is filled from the one result model (`grader.results`): terminal text
(coloured or plain), Markdown, HTML and JSON here, GitHub Classroom, Gradescope and JUnit in their own
modules beside this one. All feedback words come from the Jinja2 templates in `templates/`; plus the
glossary page and the explanations of failures of the student's code that become check messages."""

from __future__ import annotations

import functools
import os
import re
import textwrap
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import jinja2

from grader.languages import DEFAULT, translations
from grader.results import CheckResult, CourseResult, ExerciseResult, Said

if TYPE_CHECKING:
    from grader.glossary import Glossary

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("text", "markdown", "json", "html", "junit", "classroom", "gradescope")
WIDTH = 92  # terminal text is wrapped to this many columns


@functools.cache
def environment(color: bool, language: str = DEFAULT) -> jinja2.Environment:
    """The templates' environment: coloured or not, its `_()` words in `language` (grader.languages)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]

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
                wrap = wrap_wide if any(_wide(char) for char in block) else textwrap.wrap
                out += wrap(block, WIDTH, initial_indent=pad, subsequent_indent=pad + hang,
                            break_long_words=False, break_on_hyphens=False)
        return "\n".join(out)

    def points(value: float) -> str:
        return f"{value:g}"

    def regex_search(text: str, pattern: str) -> str:
        """The first group of `pattern` in `text`, or an empty string."""
        match = re.search(pattern, str(text))
        return match.group(1) if match else ""

    env.filters.update(style=style, indent_all=indent_all, points=points, regex_search=regex_search)
    add_word_filters(env, language)
    return env


def status_word(status: Any, language: str) -> str:
    """'passed', 'failed', 'error', 'skipped' (a check's or a result's status) in `language`."""
    return _status_words(language).get(str(status), str(status))


@functools.cache
def _status_words(language: str) -> dict[str, str]:
    gettext = translations(language).gettext
    return {"passed": gettext("passed"), "failed": gettext("failed"), "error": gettext("error"),
            "skipped": gettext("skipped")}


def add_word_filters(env: jinja2.Environment, language: str) -> None:
    """The filters every view's templates share for their words in `language`: a status as a word, a
    device's run, code names as a list, and the width of text in a terminal's columns (a Chinese character
    takes two) to line up tables by."""
    def in_language(status: Any) -> str:
        return status_word(status, language)

    def device_run(run: Any) -> str:
        """'meta: passed' for one device a check ran on ('meta' is the CPU's stand-in for a GPU)."""
        return f"{run.device}: {status_word(run.status, language)}"

    def codes(names: Any) -> str:
        """`a`, `b`: names as code, in a list."""
        return ", ".join(f"`{name}`" for name in names)

    def pad(text: Any, width: int) -> str:
        """`text` padded with spaces to `width` columns (`"%-*s"`, counting a wide character as two)."""
        text = str(text)
        return text + " " * (width - columns(text))

    env.filters.update(status_word=in_language, device_run=device_run, codes=codes, columns=columns, pad=pad)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def columns(text: Any) -> int:
    """How many columns of a terminal `text` takes: a wide (Chinese, Japanese, Korean) character two."""
    return sum(2 if _wide(char) else 1 for char in str(text))


_NO_LINE_START = frozenset("，。、：；！？）》」』”’…,.;:!?)]}")  # punctuation that never starts a line
_NO_LINE_END = frozenset("（《「『“‘")  # nor ends one


def wrap_wide(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "",
              **_options: Any) -> list[str]:
    """`textwrap.wrap` for text in Chinese: lines of at most `width` columns (a wide character takes two),
    broken between any two Chinese characters or at a space, never inside a word of Latin letters or
    before closing punctuation. A space between two Chinese characters (where lines were joined) goes."""
    units: list[str] = []
    for char in text:
        if char.isspace():
            if units and not units[-1].isspace():
                units.append(" ")
        elif _wide(char) or not units or units[-1].isspace() or _wide(units[-1][-1]):
            units.append(char)
        else:
            units[-1] += char
    lines: list[str] = []
    line, used, empty, space = initial_indent, columns(initial_indent), True, False
    for index, unit in enumerate(units):
        if unit == " ":
            before, after = units[index - 1] if index else "", units[index + 1] if index + 1 < len(units) else ""
            space = not (before and after and _wide(before[-1]) and _wide(after[0]))
            continue
        gap = 1 if space and not empty else 0
        if (not empty and used + gap + columns(unit) > width and unit[0] not in _NO_LINE_START
                and line[-1] not in _NO_LINE_END):
            lines.append(line)
            line, used, gap = subsequent_indent, columns(subsequent_indent), 0
        line += " " * gap + unit
        used += gap + columns(unit)
        empty, space = False, False
    if not empty:
        lines.append(line)
    return lines


def language_of(result: ExerciseResult | CourseResult) -> str:
    """The language a result's words are in (`grade all`: its first exercise's), and so its view's."""
    results = results_of(result)
    return (results[0].language if results else "") or DEFAULT


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


# ----------------------------------------------------------------------------- the student's text in a view
# A result's messages carry what the student's run put there (its printed output, what it raised, its line,
# file and function names): text a student can choose to the last character. Each view takes it in through
# one cleaner of its own kind, `for_view(result, clean)`: `terminal_text` for the terminal and the logs
# (text, Classroom, JUnit, the batch summary), `markdown_text` for Markdown (the report, the Actions step
# summary, Gradescope), `visible` for HTML, whose template escapes the markup itself. JSON is the model.

MAX_LINE = 1_000  # characters of one line a view shows of a message
MAX_TEXT = 12_000  # characters of one message a view shows
_NOT_PLAIN = re.compile(r"[^\t\n -~]")  # looked at one by one: everything but printable ASCII, tabs, newlines
_NOT_PLAIN_LINE = re.compile(r"[^\t -~]")  # the same, newlines included
_COMMAND = re.compile(r"(?<!\S)::|##\[")  # what GitHub's runner reads as a workflow command (see terminal_text)
_MARKDOWN_CHAR = re.compile(r"[\\`*_\[<&|~]")
_MARKDOWN_LINE_START = re.compile(r"^( *)([#>+=:*-]|\d+[.)])")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def _shown_as(char: str, one_line: bool) -> str:
    if char == "\n":
        return "\\n" if one_line else char
    if char == "\t" or char.isprintable() or unicodedata.category(char) == "Zs":
        return char
    if char == "\r":
        return "\\r"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str, one_line: bool = False) -> str:
    """`text` as every view may show it: each character that is not printable (escape sequences, carriage
    returns, backspaces, bidi overrides, zero-width characters, line separators, lone surrogates) written
    the way Python writes it in a string (`\\x1b[2J`, `\\r`, `\\u202e`), so it reads as what it is and does
    nothing; with `one_line`, newlines too (a file or function name). Lines beyond MAX_LINE characters and
    text beyond MAX_TEXT are cut, saying how much was left out."""
    text, special = str(text), _NOT_PLAIN_LINE if one_line else _NOT_PLAIN
    if special.search(text):
        text = special.sub(lambda m: _shown_as(m.group(), one_line), text)
    if len(text) > MAX_LINE and any(len(line) > MAX_LINE for line in text.split("\n")):
        text = "\n".join(line if len(line) <= MAX_LINE else
                         f"{line[:MAX_LINE]} … ({len(line) - MAX_LINE} more characters)" for line in text.split("\n"))
    if len(text) > MAX_TEXT:
        text = f"{text[:MAX_TEXT]}\n… ({len(text) - MAX_TEXT} more characters not shown)"
    return text


def terminal_text(text: str, one_line: bool = False) -> str:
    """`visible` text that a terminal or a CI log shows as it is. GitHub's runner takes a line for a
    workflow command (an annotation, a step output, a mask, stop-commands) when it starts with `::` once
    leading white space is trimmed, or holds `##[` anywhere; wrapping can bring any word to a line's start,
    so every `::` that starts a word is written `\\::`, and `##[` `#\\#[`."""
    return _COMMAND.sub(lambda m: "\\::" if m.group() == "::" else "#\\#[", visible(text, one_line))


def markdown_text(text: str, one_line: bool = False) -> str:
    """`visible` text as Markdown that renders to exactly that text: outside `code spans` and indented code
    blocks (which Markdown shows literally), every character that could start markup (emphasis, a link
    or image, raw HTML, an entity, a table, a code span) is backslash-escaped, and so is whatever starts a
    line (a heading, a quote, a list, a rule, a setext underline); trailing spaces (a hard line break) go."""
    out: list[str] = []
    code = blank = False
    for number, line in enumerate(visible(text, one_line).expandtabs(4).split("\n")):
        line = line.rstrip()
        if not line:
            blank = True
            out.append("")
            continue
        # An indented code block: four spaces after a blank line or more code. Never the first line, which
        # follows the template's own words.
        code = number > 0 and len(line) - len(line.lstrip(" ")) >= 4 and (blank or code)
        blank = False
        if code:
            out.append(line)
            continue
        parts = [part if index % 2 else _MARKDOWN_CHAR.sub(_markdown_escape, part)
                 for index, part in enumerate(_CODE_SPAN.split(line))]
        parts[0] = _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + _escape_start(m.group(2)), parts[0])
        out.append("".join(parts))
    return "\n".join(out)


def _escape_start(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker


def _markdown_escape(match: re.Match[str]) -> str:
    char, start, end = match.group(), match.start(), match.end()
    before, after = match.string[start - 1:start], match.string[end:end + 1]
    if char == "_" and before.isalnum() and after.isalnum():  # intraword: train_one_epoch is never emphasis
        return char
    if char == "*" and before.isspace() and after.isspace():  # `c * d` is never emphasis
        return char
    return "\\" + char


def for_view(result: Any, clean: Any) -> Any:
    """A copy of `result` (an ExerciseResult or a CourseResult) whose messages, advice and file names are
    passed through `clean`, the one cleaner of the view about to show it."""
    if isinstance(result, CourseResult):
        return result.model_copy(update={"results": [for_view(r, clean) for r in result.results]})
    checks = [check.model_copy(update={"message": clean(check.message), "what_to_try": clean(check.what_to_try),
                                       "why_it_matters": clean(check.why_it_matters),
                                       "file": clean(check.file, one_line=True)}) for check in result.checks]
    notes = [note.model_copy(update={"text": clean(note.text)}) for note in result.notes]
    return result.model_copy(update={"message": clean(result.message), "checks": checks, "notes": notes})


def _cleaned(value: Any, clean: Any) -> Any:
    """Every string inside `value` (plain data: dicts, lists) passed through `clean`, one line each."""
    if isinstance(value, str):
        return clean(value, one_line=True)
    if isinstance(value, dict):
        return {key: _cleaned(item, clean) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cleaned(item, clean) for item in value]
    return value


def use_color(stream_is_tty: bool) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream_is_tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def glossary_link(glossary: Glossary | None) -> Any:
    """The function templates link a term id with: to the glossary's published page, or the course's own."""
    from grader.glossary import GLOSSARY_PAGE_PATH

    return glossary.link if glossary is not None else (lambda term_id: f"{GLOSSARY_PAGE_PATH}#{term_id}")


def glossary_terms(results: list[ExerciseResult], glossary: Glossary | None, language: str = DEFAULT) -> dict[str, Any]:
    """The glossary terms of the results' checks, in `language` (`Term.said_in`)."""
    found = {}
    for result in results:
        for check in result.checks:
            for concept in check.concepts:
                if glossary is not None and concept in glossary and concept not in found:
                    found[concept] = glossary[concept].said_in(language)
    return found


def results_of(result: ExerciseResult | CourseResult) -> list[ExerciseResult]:
    """The exercise results inside one result (`grade exercise`) or a whole run (`grade all`)."""
    return result.results if isinstance(result, CourseResult) else [result]


def render_result(result: ExerciseResult | CourseResult, fmt: str, glossary: Glossary | None, color: bool = False,
                  *, hidden_visibility: str = "after_published", first_failure_only: bool = False) -> str:
    """The result of one exercise, or of `grade all`, in one of FORMATS, in the result's language.
    `first_failure_only`: the text tells only the first failed check in full (`grade watch`)."""
    results = results_of(result)
    language = language_of(result)
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
    from grader.render.words import one_cause_once

    whole = isinstance(result, CourseResult)
    result = for_view(one_cause_once(result), markdown_text if fmt == "markdown" else terminal_text)
    template = {"text": "result.txt.j2", "markdown": "result.md.j2"}[fmt]
    if whole:
        template = template.replace("result.", "all.")
    return environment(color and fmt == "text", language).get_template(template).render(
        result=result, course=result, terms=glossary_terms(results, glossary, language), link=glossary_link(glossary),
        first_only=first_failure_only,
    )


def render_watch(result: ExerciseResult, changes: Any, following: Any, glossary: Glossary | None, color: bool,
                 watching_own: bool = True) -> str:
    """One grading of `grade watch`: what changed since the last (`grader.watch.Changes`), the report with only
    the first failed check in full, and the exercise that comes next (`following`), in the result's language."""
    report = render_result(result, "text", glossary, color, first_failure_only=True)
    return environment(color, language_of(result)).get_template("watch.txt.j2").render(
        result=result, changes=changes, following=following, report=report.rstrip("\n"), watching_own=watching_own)


def check_feedback(result: ExerciseResult, check: CheckResult, glossary: Glossary | None, markdown: bool = False,
                   links: bool = True) -> str:
    """One check's feedback on its own, as plain text or Markdown (a platform's per-test message), from a
    result already cleaned for that view (`for_view`: each platform's report does it once). A
    submission that could not be graded at all gives every check the same message: that message alone. A
    skipped check says it was not run and not counted (a platform's test must never read as passed). In
    the result's language."""
    language = language_of(result)
    if check.status == "passed":
        return ""
    if check.status == "skipped":
        return translations(language).gettext("Not run here, and not counted in your score: %(message)s") % {
            "message": check.message}
    if result.message and check.message == result.message:
        return result.message
    template = "check.md.j2" if markdown else "check.txt.j2"
    return environment(False, language).get_template(template).render(
        check=check, result=result, whole="", quiz=result.kind == "quiz", terms=glossary_terms([result], glossary, language),
        link=glossary_link(glossary) if links else None,
    ).strip("\n")


def failed_run_text(run: Any, check_title: str | None, limits: dict[str, Any], explained: dict[str, Any] | None,
                    language: str = DEFAULT) -> str:
    """Plain words in `language` for a run of the student's code that did not finish (raised, exited,
    hung...), from the run's facts (`grader.results.Run`) and the error catalogue's words for it, if any
    (`explained`, already in `language`)."""
    output, left_out = _last_lines(run.output.strip())
    return environment(False, language).get_template("probe_failure.txt.j2").render(
        status=run.status, error=_facts(run.error), output=output, output_left_out=left_out,
        check=check_title, limits=limits, explained=explained,
    ).strip()


ONE_LINE_FACTS = ("type", "file", "function", "code", "worker", "exit_code", "signal")
MAX_FACT = 300  # characters of a name or a source line in a message
OUTPUT_LINES, OUTPUT_CHARS = 40, 2_000  # of the printed output's end, in a message
MESSAGE_LINES, MESSAGE_CHARS = 60, 2_000  # of an exception's message, in a message


def _facts(error: dict[str, Any]) -> dict[str, Any]:
    """A failed run's facts as a message may use them: the student chose every one. A name or a source line
    stays one short line (a newline in a function name must not start a line of the message), a line or
    column number is a number, an exception's message is bounded."""
    facts = dict(error)
    for key in ONE_LINE_FACTS:
        if isinstance(facts.get(key), str):
            value = visible(facts[key], one_line=True)
            cut = len(value) - MAX_FACT
            facts[key] = value if cut <= 0 else f"{value[:MAX_FACT]} … ({cut} more characters)"
    for key in ("line", "column"):
        if key in facts:
            value = str(facts[key])
            facts[key] = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0
    if isinstance(facts.get("message"), str):
        facts["message"] = visible("\n".join(facts["message"].split("\n")[:MESSAGE_LINES])[:MESSAGE_CHARS])
    return facts


def _last_lines(output: str) -> tuple[str, int]:
    """The end of the printed output (the part a student needs: what was printed just before it failed),
    `visible` (a carriage return shows as \\r, not as the start of a line), and how many earlier lines are
    left out."""
    lines = output.split("\n")
    kept = "\n".join(lines[-OUTPUT_LINES:])[-OUTPUT_CHARS:]
    return visible(kept), len(lines) - len(kept.split("\n")) if output else 0


def render_batch_summary(summary: dict[str, Any], color: bool) -> str:
    """`grade batch` / `grade merge`: per exercise the mean and pass count, per check the pass rate and
    the most common reasons for failing (`grader.batch.summary`)."""
    return environment(color).get_template("batch_summary.txt.j2").render(**_cleaned(summary, terminal_text))


def render_glossary_page(glossary: Glossary, language: str = DEFAULT) -> str:
    """The whole glossary as one Markdown page (glossary/README.md), in `language`."""
    return environment(False, language).get_template("glossary.md.j2").render(
        terms=[term.said_in(language) for term in glossary.terms.values()])


def render_term(term: Any, glossary: Glossary, color: bool, language: str = DEFAULT) -> str:
    """One glossary term as `grade glossary TERM` prints it, in `language` (its English name beside)."""
    return environment(color, language).get_template("term.txt.j2").render(term=term.said_in(language),
                                                                           glossary=glossary)


def render_exercise_page(spec: Any, glossary_url: str | None = None, in_notebook: bool = False) -> str:
    """An exercise's instructions as the Markdown page kept beside it (`exercises/NN-slug/README.md`), in
    the spec's language; its terms link to the glossary published at `glossary_url`, or to the course's.
    `in_notebook`: the first cell of its notebook, without the page's note and the commands of a terminal."""
    from grader.glossary import GLOSSARY_PAGE_PATH

    def link(term_id: str) -> str:  # the page sits two folders below the course root
        return f"{glossary_url}#{term_id}" if glossary_url else f"../../{GLOSSARY_PAGE_PATH}#{term_id}"

    return environment(False, spec.language).get_template("exercise.md.j2").render(spec=spec, link=link,
                                                                                 in_notebook=in_notebook)


def render_hints(spec: Any, shown: int, color: bool) -> str:
    """`grade hint N`: the first `shown` hints of an exercise, in its language (or that it has none)."""
    return environment(color, spec.language).get_template("hints.txt.j2").render(spec=spec, shown=shown)


def render_exercise_list(rows: list[dict[str, Any]], color: bool, language: str = DEFAULT) -> str:
    """`grade list`: the exercises, their kinds, titles and last scores, in `language`."""
    return environment(color, language).get_template("list.txt.j2").render(rows=rows)


def answer_forms(language: str) -> dict[str, str]:
    """How each type of question is answered (messages `quiz.form.<type>`), in `language`."""
    from grader.quiz.questions import QUESTION_TYPES
    from grader.render.words import Messages

    messages = Messages(None, language)
    return {kind: messages.say(Said(id=f"quiz.form.{kind}")) for kind in QUESTION_TYPES}


def render_quiz_question(q: Any, number: int, total: int, color: bool, language: str = DEFAULT) -> str:
    """One question of `grade quiz`, as the terminal shows it, in `language`."""
    return environment(color, language).get_template("quiz_question.txt.j2").render(
        q=q, number=number, total=total, form=answer_forms(language)[q.type])


def render_quiz_verdict(check: Any, glossary: Glossary | None, color: bool, language: str = DEFAULT) -> str:
    """What `grade quiz` says right after an answer: right, or not and why, with the glossary terms, in
    `language`."""
    terms = {c: glossary[c].said_in(language) for c in check.concepts if glossary is not None and c in glossary}
    check = check.model_copy(update={key: terminal_text(getattr(check, key))
                                     for key in ("message", "why_it_matters", "what_to_try")})
    return environment(color, language).get_template("quiz_verdict.txt.j2").render(check=check, terms=terms)


def render_quiz_questions(spec: Any, student: str, questions: list[Any], in_notebook: bool = False) -> str:
    """A student's own questions (their drawn numbers), as Markdown: `grade quiz N --show`, in the spec's
    language; `in_notebook`: `grader.show(N)` in a quiz's notebook, answered in its answer cells."""
    return environment(False, spec.language).get_template("quiz_questions.md.j2").render(
        spec=spec, student=student, questions=questions, forms=answer_forms(spec.language), in_notebook=in_notebook)


def render_answers_starter(spec: Any) -> str:
    """The answers file a quiz ships with: every question id, no answer (and no key)."""
    return environment(False).get_template("answers.yaml.j2").render(spec=spec)


def render_validation(reports: list[Any], color: bool) -> str:
    """The table `grade validate` prints, and every problem under it."""
    return environment(color).get_template("validate.txt.j2").render(reports=reports)


def test_name(result: ExerciseResult, check: CheckResult, several: bool) -> str:
    """A check's name as a platform's test: its title, led by its exercise when a run grades several."""
    return f"{result.exercise_id}. {result.title}: {check.title}" if several else check.title


def student_path(result: ExerciseResult, file: str) -> str:
    """The student's file as their repository names it (platforms run at the repository's root)."""
    return f"exercises/{result.exercise}/{file}" if file else ""
