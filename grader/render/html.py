"""A standalone HTML page of a result (one exercise or `grade all`) that a student can open in a
browser: every check, its feedback, and the glossary words of each check linked to their definitions
on the same page and explained on hover. Everything from the student's run is HTML-escaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from grader.render import TEMPLATES, _concepts, for_view, results_of, visible
from grader.results import CourseResult, ExerciseResult

if TYPE_CHECKING:
    from grader.glossary import Glossary, Term


def render_html(result: ExerciseResult | CourseResult, glossary: Glossary | None) -> str:
    result = for_view(result, visible)  # the template escapes markup; `visible` what markup cannot show
    results = results_of(result)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    terms = _concepts(results, glossary)
    env.filters["points"] = lambda value: f"{value:g}"
    env.filters["with_terms"] = lambda text, concepts: link_terms(str(text), [terms[c] for c in concepts if c in terms])
    return env.get_template("result.html.j2").render(
        results=results, course=result if isinstance(result, CourseResult) else None, terms=terms)


def link_terms(text: str, terms: list[Term]) -> Markup:
    """`text`, escaped, with `code` spans shown as code and the first mention of each term (its name or an
    alias, outside code) linked to its definition below and explained on hover."""
    names = {name.lower(): term for term in terms for name in (term.term, *term.aliases) if len(name) > 2}
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE) if names else None
    linked: set[str] = set()
    out: list[Any] = []
    for index, part in enumerate(re.split(r"`([^`\n]+)`", text)):
        if index % 2:  # inside backticks
            out.append(Markup("<code>{}</code>").format(part))
        else:
            out.append(_link_prose(part, pattern, names, linked))
    return Markup("").join(out)


def _link_prose(text: str, pattern: re.Pattern[str] | None, names: dict[str, Term], linked: set[str]) -> Markup:
    if pattern is None:
        return escape(text)
    out: list[Any] = []
    position = 0
    for match in pattern.finditer(text):
        term = names[match.group(1).lower()]
        if term.id in linked:
            continue
        linked.add(term.id)
        out.append(escape(text[position:match.start()]))
        out.append(Markup('<a class="term" href="#term-{}" title="{}">{}</a>').format(
            term.id, term.summary, match.group(1)))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)
