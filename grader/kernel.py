"""Grading inside a running notebook: `import grader; grader.check(3)` (and `grader.hint(3)`,
`grader.show(3)`) in a Jupyter, Colab or IPython kernel.

The kernel is the student's own process, where their code already runs; it is neither the judge nor a
worker. `check` takes the cells the kernel has run from IPython's history (`input_hist_raw`, in the
order they ran), makes the module of their imports, definitions and constants as for a notebook handed
in (`grader.notebooks.from_kernel`), and grades it with the same pipeline as `grade exercise 3`
(`grader.runner.launch.grade`: a grading process of its own, sandboxed workers, the same verdicts). A
quiz is graded from the kernel's answer cells (`%%answers`). The result is shown as HTML in the cell's
output (the HTML report as one styled block, its glossary links opening in place) and as text in a
plain console (IPython in a terminal): the same facts, two views.

Nothing here imports torch; IPython is imported only when a kernel is running (it always is there).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHOWN = "this notebook"  # how the cells are named where the result says where they came from


def N_(message: str) -> str:  # noqa: N802 - Babel's marker of a message translated later (`_say`)
    return message


@dataclass
class Feedback:
    """What a call shows: text for a console (its repr), HTML for a notebook's output, Markdown where the
    words are the exercise's own (`show`). `result` is the graded result, for whoever wants the facts."""

    text: str
    html: str | None = None
    markdown: str | None = None
    result: Any = None  # a grader.results.ExerciseResult

    def __repr__(self) -> str:  # a plain console (and `print`) shows the text
        return self.text

    __str__ = __repr__

    def _repr_html_(self) -> str | None:
        return self.html

    def _repr_markdown_(self) -> str | None:
        return self.markdown


def check(exercise: int | str, *, lang: str | None = None, course: str | os.PathLike[str] | None = None) -> None:
    """Grade exercise `exercise` (a number, folder name or slug) from what this kernel has run, and show the
    feedback under the cell."""
    if _shell() is None:
        _display(Feedback(text=_say(lang, N_("grader.check() grades the cells a notebook has run, in Jupyter, Colab or "
                                          "IPython. Here, save your code in its file and run `grade exercise %(id)s`."),
                                    id=exercise)))
        return
    _display(_guarded(lambda: feedback(exercise, lang=lang, course=course), lang))


def hint(exercise: int | str, *, lang: str | None = None, course: str | os.PathLike[str] | None = None) -> None:
    """Show the next hint of `exercise` (one more each time, as `grade hint`)."""
    _display(_guarded(lambda: _hints(exercise, lang, course), lang))


def _hints(exercise: int | str, lang: str | None, course: str | os.PathLike[str] | None) -> Feedback:
    from grader.progress import next_hint
    from grader.render import render_hints

    found = _course(course, lang)
    spec = found.resolve(str(exercise))
    try:
        shown = next_hint(found.root, spec.name, len(spec.hints)) if spec.hints else 0
    except OSError:  # a course folder the kernel may not write (installed read-only): show them all
        shown = len(spec.hints)
    text = render_hints(spec, shown, color=False)
    return Feedback(text=text, html=_pre(text))


def show(exercise: int | str, *, lang: str | None = None, course: str | os.PathLike[str] | None = None) -> None:
    """Show the instructions of `exercise` (the Markdown of `grade show`)."""
    _display(_guarded(lambda: _page(exercise, lang, course), lang))


def _page(exercise: int | str, lang: str | None, course: str | os.PathLike[str] | None) -> Feedback:
    from grader.render import render_exercise_page

    found = _course(course, lang)
    spec = found.resolve(str(exercise))
    if spec.kind == "quiz":  # the student's own questions, their numbers drawn as when they are graded
        from grader.quiz.grading import student_identity, variants
        from grader.render import render_quiz_questions

        who = student_identity()
        page = render_quiz_questions(spec, who, variants(spec, who), in_notebook=True)
    else:
        page = render_exercise_page(spec, found.glossary_url, in_notebook=True)
    return Feedback(text=page, markdown=page)


def _guarded(make: Any, lang: str | None) -> Feedback:
    """What `make` shows, or the message of what stopped it (no course, no such exercise, a broken
    definition): a sentence under the cell, never a traceback."""
    import click

    from grader.yamlfile import SpecError

    try:
        return make()
    except click.ClickException as exc:
        return Feedback(text=_say(lang, N_("Error: %(message)s"), message=exc.format_message()))
    except SpecError as exc:
        return Feedback(text=_say(lang, N_("The exercise's definition has problems; tell your instructor:\n%(problems)s"),
                                  problems=exc))


def feedback(exercise: int | str, *, lang: str | None = None,
             course: str | os.PathLike[str] | None = None) -> Feedback:
    """The graded result of `exercise` from this kernel's cells, and its two views."""
    from grader.progress import record_results
    from grader.render import render_result
    from grader.render.html import render_html
    from grader.yamlfile import SpecError

    found = _course(course, lang)
    spec = found.resolve(str(exercise))
    result = grade(spec, kernel_cells())
    try:
        record_results(found.root, [result])
    except OSError:  # the course folder may be read-only (an installed course): the feedback is what counts
        pass
    try:
        glossary = found.glossary
    except SpecError:
        glossary = None
    return Feedback(text=render_result(result, "text", glossary), html=render_html(result, glossary, fragment=True),
                    result=result)


def grade(spec: Any, cells: list[tuple[int, str]]) -> Any:
    """The ExerciseResult of `spec` (an ExerciseSpec) graded from `cells`, `(execution count, source)` in the
    order they ran: a code exercise from the module they make, a quiz from their answer cells."""
    from grader import notebooks
    from grader.runner.launch import error_result, grade as grade_file
    from grader.results import Said

    started = time.monotonic()
    if spec.kind == "quiz":
        return _grade_quiz(spec, cells, started)
    if len(spec.files) != 1:
        return error_result(spec, Said(id="grader.handed-in.kernel-several-files", params={
            "files": ", ".join(spec.files), "id": spec.id}), started)
    try:
        book = notebooks.from_kernel(cells, SHOWN, spec.files[0])
    except notebooks.NotebookError as exc:
        return error_result(spec, exc.said, started)
    with tempfile.TemporaryDirectory(prefix="torchgrade-kernel-") as scratch:
        module = Path(scratch) / spec.files[0]
        module.write_text(book.source, encoding="utf-8")
        return grade_file(spec, module, made_from=book)


def _grade_quiz(spec: Any, cells: list[tuple[int, str]], started: float) -> Any:
    from grader import notebooks
    from grader.quiz.grading import answers_from_cells, grade_answers, student_identity
    from grader.results import Said
    from grader.runner.launch import error_result
    from grader.yamlfile import SpecError

    found = notebooks.answer_cells(cells)
    if not found:
        return error_result(spec, Said(id="grader.handed-in.kernel-no-answer-cells", params={"id": spec.id}), started)
    try:
        answers = answers_from_cells([(notebooks.run_name(count), text) for count, text in found])
    except SpecError as exc:
        return error_result(spec, Said(id="quiz.answers-unreadable", params={"problem": str(exc)}), started)
    return grade_answers(spec, answers, student_identity(), started)


def kernel_cells() -> list[tuple[int, str]]:
    """The cells this kernel has run, `(execution count, source as typed)`, the running one last; empty
    outside IPython."""
    shell = _shell()
    if shell is None:
        return []
    history = shell.history_manager.input_hist_raw  # [0] is empty; [n] is In[n]
    return [(count, source) for count, source in enumerate(history) if count and source.strip()]


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def _course(course: str | os.PathLike[str] | None, lang: str | None) -> Any:
    from grader.course import course_for
    from grader.languages import choose

    return course_for(os.fspath(course) if course is not None else None, lang or choose())


def _display(shown: Feedback) -> None:
    """Under the cell in a notebook; as text in a console; printed where there is no IPython at all."""
    shell = _shell()
    if shell is None:
        print(shown.text)
        return
    from IPython.display import display

    display(shown)


def _say(lang: str | None, message: str, /, **params: Any) -> str:
    from grader.languages import choose, translations

    return translations(choose(lang)).gettext(message) % params


def _pre(text: str) -> str:
    from markupsafe import escape

    return f'<pre style="white-space: pre-wrap">{escape(text)}</pre>'


def answers_magic(_line: str, cell: str) -> None:
    """The `%%answers` cell magic: read the cell's answers as `grade exercise` would, and say whether they
    can be read (the grading itself is `grader.check(N)`)."""
    from grader.notebooks import run_name
    from grader.quiz.grading import answers_from_cells
    from grader.yamlfile import SpecError

    count = getattr(_shell(), "execution_count", 0)
    try:
        answers = answers_from_cells([(run_name(count), "\n" + cell)])
    except SpecError as exc:
        print(_say(None, N_("These answers cannot be read yet: %(problem)s"), problem=exc))
        return
    print(_say(None, N_("Answers noted: %(ids)s. Check them with grader.check(N)."),
               ids=", ".join(answers) or "-"))
