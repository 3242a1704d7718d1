"""Finds the course (the folder holding `exercises/`, `solutions/`, `glossary/`) and resolves what a
user typed (`3`, `03-training-loop`, `training-loop`) to an exercise definition."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import click

from grader.glossary import GLOSSARY_URL_ENV, Glossary, load_glossary
from grader.languages import gettext as _
from grader.spec import STUDENT_COPY_FILE, ExerciseSpec, in_language, load_exercise, load_words, packages_of
from grader.yamlfile import SpecError

FOLDER_PATTERN = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")


class CourseNotFound(click.UsageError):
    pass


class UnknownExercise(click.UsageError):
    pass


@dataclass
class Course:
    root: Path
    language: str = "en"  # the language its exercises' texts are shown in (grader.languages)
    glossary_url: str | None = None  # where its glossary page is published (grader.glossary.Glossary.url)
    _specs: dict[Path, ExerciseSpec] = field(default_factory=dict, repr=False)
    _translated: dict[Path, ExerciseSpec] = field(default_factory=dict, repr=False)

    @property
    def exercises_folder(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_folder(self) -> Path:
        return self.root / "solutions"

    @property
    def glossary_folder(self) -> Path:
        return self.root / "glossary"

    @property
    def student_copy(self) -> bool:
        """A copy made by `grade export student`: no solutions/, recorded reference answers instead."""
        return (self.exercises_folder / STUDENT_COPY_FILE).is_file()

    @cached_property
    def glossary(self) -> Glossary:
        glossary = load_glossary(self.glossary_folder, self.root)
        glossary.url = self.glossary_url
        return glossary

    def exercise_folders(self) -> list[Path]:
        """Every `NN-slug/` folder holding an `exercise.yaml`, in number order."""
        if not self.exercises_folder.is_dir():
            return []
        folders = [p for p in self.exercises_folder.iterdir() if p.is_dir() and FOLDER_PATTERN.match(p.name)]
        return sorted(f for f in folders if (f / "exercise.yaml").is_file())

    def load(self, folder: Path) -> ExerciseSpec:
        """The validated definition in `folder`, its texts in the course's language; SpecError lists every
        problem (glossary ones and those of the translation too)."""
        if folder not in self._specs:
            concepts = set(self.glossary.terms)  # a broken glossary raises its own problems first
            self._specs[folder] = load_exercise(folder, self.solutions_folder, concepts, self.root, self.student_copy)
        if self.language == "en":
            return self._specs[folder]
        if folder not in self._translated:
            spec = self._specs[folder]
            self._translated[folder] = in_language(spec, load_words(spec, self.language, self.root, self.student_copy),
                                                       self.language)
        return self._translated[folder]

    def load_all(self) -> list[ExerciseSpec]:
        """Every exercise, collecting the problems of all files before raising."""
        specs, problems = [], []
        for folder in self.exercise_folders():
            try:
                specs.append(self.load(folder))
            except SpecError as exc:
                problems += exc.problems
        if problems:
            raise SpecError(problems)
        return specs

    def packages(self) -> list[str]:
        """Every package some exercise allows beyond torch and torchvision: what the course's set-up installs."""
        return packages_of(self.load_all())

    def resolve(self, ref: str) -> ExerciseSpec:
        """The exercise named by a number, a folder name or a slug."""
        ref = ref.strip().rstrip("/").split("/")[-1]
        folders = self.exercise_folders()
        for folder in folders:
            number, slug = FOLDER_PATTERN.match(folder.name).groups()  # type: ignore[union-attr]
            if ref in (folder.name, slug) or (ref.isdigit() and int(ref) == int(number)):
                return self.load(folder)
        if not folders:
            raise UnknownExercise(_("there is no exercise '%(ref)s': %(folder)s holds none.", ref=ref,
                                    folder=self.exercises_folder))
        raise UnknownExercise(_("there is no exercise '%(ref)s'. Exercises in %(folder)s: %(known)s", ref=ref,
                                folder=self.exercises_folder, known=", ".join(f.name for f in folders)))


def course_for(explicit: str | None, language: str) -> Course:
    """The course `grade` or a notebook's check works on (`find_course`), its texts in `language` and its
    glossary linked where $TORCHGRADE_GLOSSARY_URL says it is published."""
    found = find_course(explicit=explicit)
    found.language = language
    found.glossary_url = os.environ.get(GLOSSARY_URL_ENV)
    return found


def find_course(start: Path | None = None, explicit: str | None = None) -> Course:
    """The course named on the command line or in TORCHGRADE_COURSE, else the nearest one upwards."""
    named = explicit or os.environ.get("TORCHGRADE_COURSE")
    if named:
        root = Path(named).expanduser().resolve()
        if not (root / "exercises").is_dir():
            raise CourseNotFound(_("%(folder)s is not a course folder: it has no exercises/ folder", folder=root))
        return Course(root)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "exercises").is_dir() and (folder / "glossary").is_dir():
            return Course(folder)
    bundled = Path(__file__).resolve().parent.parent
    if (bundled / "exercises").is_dir():
        return Course(bundled)
    raise CourseNotFound(_("no course found in %(folder)s or above it (a course folder holds exercises/ and "
                           "glossary/). Run grade inside the course repository, or pass --course DIR.", folder=here))
