"""`grade new exercise|quiz SLUG`: scaffold the next-numbered exercise, complete enough to validate and
pass out of the box, for an instructor to edit: exercise.yaml (commented), the student's starter, a
probe, two checks and their messages, the reference solution, two mutants and an alternative (a quiz: two questions,
its key and its empty answers file), and the exercise page."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from grader.course import FOLDER_PATTERN, Course
from grader.spec import ID_PATTERN

TEMPLATES = Path(__file__).parent / "templates"


class ScaffoldError(ValueError):
    """The scaffold cannot be written (a bad slug, or the exercise exists already)."""


def _render(kind: str, name: str, **values: object) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / kind), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    return env.get_template(name).render(**values)


def new_exercise(course: Course, kind: str, slug: str, title: str | None = None) -> list[Path]:
    """Write the scaffold; return the files written (relative to the course root)."""
    if not re.fullmatch(ID_PATTERN, slug):
        raise ScaffoldError(f"'{slug}' is not a slug: use lower-case letters, digits and single hyphens, e.g. my-exercise")
    taken = {FOLDER_PATTERN.match(f.name).group(2): f.name for f in course.exercise_folders()}  # type: ignore[union-attr]
    if slug in taken:
        raise ScaffoldError(f"exercise '{slug}' exists already: exercises/{taken[slug]}/")
    numbers = [int(name[:2]) for name in taken.values()]
    number = max(numbers, default=0) + 1
    if number > 99:
        raise ScaffoldError("exercise numbers go up to 99")
    folder = f"{number:02d}-{slug}"
    module = slug.replace("-", "_")
    module = module if module[0].isalpha() else f"ex_{module}"
    values = {"id": number, "slug": slug, "folder": folder, "module": module,
              "title": title or slug.replace("-", " ").capitalize()}
    exercise, solution = Path("exercises") / folder, Path("solutions") / folder
    if kind == "quiz":
        files = {exercise / "exercise.yaml": _render("quiz", "exercise.yaml.j2", **values),
                 solution / "key.yaml": _render("quiz", "key.yaml.j2", **values),
                 exercise / "answers.yaml": ""}
    else:
        files = {
            exercise / "exercise.yaml": _render("code", "exercise.yaml.j2", **values),
            exercise / f"{module}.py": _render("code", "starter.py.j2", **values),
            exercise / "checks" / "probes.py": _render("code", "probes.py.j2", **values),
            exercise / "checks" / f"test_{module}.py": _render("code", "checks.py.j2", **values),
            exercise / "checks" / "messages.yaml": _render("code", "messages.yaml.j2", **values),
            solution / f"{module}.py": _render("code", "solution.py.j2", **values),
            solution / "mutants" / "adds_factor.py": _render("code", "adds_factor.py.j2", **values),
            solution / "mutants" / "in_place.py": _render("code", "in_place.py.j2", **values),
            solution / "alternatives" / "torch_mul.py": _render("code", "torch_mul.py.j2", **values),
        }
    for path, text in files.items():
        (course.root / path).parent.mkdir(parents=True, exist_ok=True)
        (course.root / path).write_text(text, encoding="utf-8")

    from grader.render import render_answers_starter, render_exercise_page

    spec = course.load(course.root / exercise)
    if kind == "quiz":
        (course.root / exercise / "answers.yaml").write_text(render_answers_starter(spec), encoding="utf-8")
    (course.root / exercise / "README.md").write_text(render_exercise_page(spec), encoding="utf-8")
    return sorted([*files, exercise / "README.md"])
