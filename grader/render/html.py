"""A standalone HTML page of a result (one exercise or `grade all`) that a student can open in a
browser: every check, its feedback, and the glossary words of each check linked to their definitions
on the same page and explained on hover. Everything from the student's run is HTML-escaped."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from grader.languages import translations
from grader.render import TEMPLATES, add_word_filters, for_view, glossary_terms, language_of, results_of, visible
from grader.results import CourseResult, ExerciseResult

if TYPE_CHECKING:
    from grader.glossary import Glossary, Term


HTML_LANG = {"zh": "zh-Hans"}  # the page's `lang`: Simplified Chinese, so a browser picks fonts to match


def render_html(result: ExerciseResult | CourseResult, glossary: Glossary | None, *, fragment: bool = False) -> str:
    """The page, in the result's language; `fragment`: the same report as one <div> with its styles scoped to
    it, for a notebook's cell output (`grader.kernel`), its anchors unique to this report."""
    from grader.render.words import one_cause_once

    language = language_of(result)
    result = for_view(one_cause_once(result), visible)  # the template escapes markup; `visible` what markup cannot show
    results = results_of(result)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    add_word_filters(env, language)
    terms = glossary_terms(results, glossary, language)
    env.filters["points"] = lambda value: f"{value:g}"
    env.filters["with_terms"] = lambda text, concepts: link_terms(str(text), [terms[c] for c in concepts if c in terms])
    return env.get_template("result.html.j2").render(
        results=results, course=result if isinstance(result, CourseResult) else None, terms=terms,
        language=HTML_LANG.get(language, language), fragment=fragment,
        anchor=f"torchgrade-{secrets.token_hex(4)}-" if fragment else "")


def link_terms(text: str, terms: list[Term]) -> Markup:
    """`text`, escaped, with `code` spans shown as code and the first mention of each term (its name, an
    alias or, in another language, its English name, outside code) linked to its definition below and
    explained on hover."""
    names = {name.lower(): term for term in terms for name in (term.term, *term.aliases, getattr(term, "english", ""))
             if _linkable(name)}
    pattern = _names_pattern(sorted(names, key=len, reverse=True)) if names else None
    linked: set[str] = set()
    out: list[Any] = []
    for index, part in enumerate(re.split(r"`([^`\n]+)`", text)):
        if index % 2:  # inside backticks
            out.append(Markup("<code>{}</code>").format(part))
        else:
            out.append(_link_prose(part, pattern, names, linked))
    return Markup("").join(out)


def _linkable(name: str) -> bool:
    """A name worth linking: longer than two letters, or a word of two or more Chinese characters (梯度)."""
    return len(name) > 2 or (len(name) == 2 and not name.isascii())


def _names_pattern(names: list[str]) -> re.Pattern[str]:
    """The terms' names, longest first, each a whole word. Chinese is written without spaces, so a name in
    Chinese characters is found anywhere; a name in Latin letters only between word boundaries."""
    if all(name.isascii() for name in names):
        return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
    return re.compile("(" + "|".join(re.escape(n) if not n.isascii() else r"\b" + re.escape(n) + r"\b"
                                     for n in names) + ")", re.IGNORECASE)


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
