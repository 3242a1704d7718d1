"""Notebook exercises: `grade export notebooks OUT` (one notebook per exercise, for Jupyter, Colab or an
LMS) and `grade export student OUT --notebooks` (a student copy whose exercises are notebooks).

Each notebook holds, in order: the instructions (the Markdown of `grade show`), a set-up cell that installs
the course where it is not installed yet (Colab: `git clone` of the course's repository and `pip install`
of it; `TORCHGRADE_PACKAGE` installs a wheel or path instead) and points the grader at it, the starter code,
a check cell (`grader.check(N)`) and a hint cell (`grader.hint(N)`). A quiz's notebook shows the student's
own questions (`grader.show(N)`) and has one answer cell per question (`%%answers`, the lines of
answers.yaml). Every cell source is rendered from a template (`grader/render/templates/notebook_*`), in the
course's language; the notebook itself is written with nbformat.

The notebook is graded as any notebook handed in (`grader.notebooks`): the set-up cell's grader lines are
left out unsaid, so the same notebook with the reference solution pasted in passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.course import Course
from grader.glossary import GLOSSARY_PAGE_PATH
from grader.notebooks import SUFFIX, named_after
from grader.spec import ExerciseSpec

NOTEBOOKS_FOLDER = "notebooks"
DEFAULT_COURSE_URL = "https://github.com/OWNER/COURSE.git"  # said in the set-up cell until the instructor names it


def notebook_name(spec: ExerciseSpec, beside: bool) -> str:
    """`03-training-loop.ipynb` standing alone; beside the exercise's other files, named after its file
    (`train.ipynb`, `answers.ipynb`), the name a grading looks for when the file itself is not there."""
    return named_after(spec.files[0]) if beside else spec.name + SUFFIX


def export_notebooks(course: Course, out: Path, course_url: str | None = None) -> tuple[list[Path], dict[str, str]]:
    """One notebook per exercise of `course` in `out` (created; the caller makes sure it holds no notebooks:
    they would be students' work). Returns the notebooks written, and the exercises left out with why:
    one of several files (a notebook's cells cannot say which file each belongs in), or whose starter is
    a notebook already (a copy made with `--notebooks`)."""
    out.mkdir(parents=True, exist_ok=True)
    written, left_out = [], {}
    for spec in course.load_all():
        if len(spec.files) != 1:
            left_out[spec.name] = "several-files"
            continue
        if spec.kind == "code" and not (spec.folder / spec.files[0]).is_file():
            left_out[spec.name] = "notebook-already"
            continue
        target = out / notebook_name(spec, beside=False)
        write(notebook_of(spec, course_url, glossary_link=course.glossary_url or _published_glossary(course_url)), target)
        written.append(target)
    return written, left_out


def write(book: Any, target: Path) -> None:
    import nbformat

    nbformat.validate(book)
    target.write_text(nbformat.writes(book), encoding="utf-8")


def notebook_of(spec: ExerciseSpec, course_url: str | None, glossary_link: str | None = None) -> Any:
    """The notebook of one exercise or quiz (an nbformat v4 NotebookNode)."""
    import nbformat.v4 as v4

    from grader.render import answer_forms, environment, render_exercise_page

    env = environment(False, spec.language)
    quiz = spec.kind == "quiz"

    def code(source: str, *tags: str) -> Any:
        cell = v4.new_code_cell(source.rstrip("\n"))
        if tags:
            cell.metadata["tags"] = list(tags)
        return cell

    def markdown(template: str, **values: Any) -> Any:
        return v4.new_markdown_cell(env.get_template(template).render(spec=spec, quiz=quiz, **values).strip())

    cells = [v4.new_markdown_cell(render_exercise_page(spec, glossary_link, in_notebook=True).strip()),
             code(env.get_template("notebook_setup.py.j2").render(course_url=course_url or DEFAULT_COURSE_URL,
                                                                   quiz=quiz), "setup")]
    if quiz:
        cells += [markdown("notebook_questions.md.j2"), code(f"grader.show({spec.id})")]
        forms = answer_forms(spec.language)
        for number, question in enumerate(spec.questions, start=1):
            cells.append(v4.new_markdown_cell(f"### {number}. {question.title}"))
            cells.append(code(env.get_template("notebook_answer.py.j2").render(question=question,
                                                                                form=forms[question.type]), "answer"))
    else:
        starter = (spec.folder / spec.files[0]).read_text(encoding="utf-8")
        cells.append(code(starter, "starter"))
    cells += [markdown("notebook_check.md.j2"), code(f"grader.check({spec.id})", "check")]
    if spec.hints:
        cells += [markdown("notebook_hint.md.j2"), code(f"grader.hint({spec.id})", "hint")]
    book = v4.new_notebook()
    book.cells = cells
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    book.metadata["torchgrade"] = {"exercise": spec.name}
    return book


def _published_glossary(course_url: str | None) -> str | None:
    """The glossary page of a course on GitHub (a notebook standing alone links its terms there), or None."""
    if not course_url or not course_url.startswith("https://github.com/"):
        return None
    return course_url.removesuffix("/").removesuffix(".git") + "/blob/HEAD/" + GLOSSARY_PAGE_PATH
