"""Quiz questions as written in a quiz's `exercise.yaml` (kind: quiz), and each student's variant of them.

A question may carry parameters (`params`, `cases`) drawn from a seed made of the student's identity,
the quiz and the question, so classmates get different numbers and a student always gets the same
ones. Drawing and rendering use only the standard library and Jinja2 (no torch): the CLI shows a
student their questions without starting the grading process. The answers are computed elsewhere
(`grader.quiz.key`, in the child process).
"""

from __future__ import annotations

import hashlib
import random
from typing import Annotated, Any, Literal, get_args

import jinja2
from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=ID_PATTERN)]
QuestionType = Literal["single", "multiple", "true-false", "numeric", "shape", "text", "output"]
LETTERS = "abcdefghij"

QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)  # how each is answered: `quiz.form.<type>` messages


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One choice of a single- or multiple-choice question."""

    text: str = Field(min_length=1)
    explanation: str = Field("", description="shown to a student who picked this option, when it is wrong")


class Param(_Strict):
    """One parameter: a value drawn from `choice`, or an integer in `range` [low, high] (both included)."""

    choice: list[Any] | None = Field(None, min_length=1)
    range: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Param:
        if (self.choice is None) == (self.range is None):
            raise ValueError("give exactly one of 'choice' (a list of values) or 'range' ([low, high])")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)}: low is above high")
        return self


class Question(_Strict):
    """One question. Its answer is either computed (`answer`: Python run by the grader with torch, which
    sets `answer`; or, for `output` questions, whatever `code` prints) or static, in the quiz's key file
    under solutions/, so a student's copy of the course never holds it."""

    id: Slug
    type: QuestionType
    title: str = Field(min_length=1, description="a short name for tables and reports")
    points: float = Field(1.0, gt=0)
    concepts: list[Slug] = Field(min_length=1, description="glossary ids")
    prompt: str = Field(min_length=1, description="Markdown; a Jinja2 template over the parameters")
    code: str | None = Field(None, description="a snippet shown under the prompt (a template too); "
                                               "for 'output' questions the answer is what it prints")
    options: list[Option] = Field(default_factory=list)
    params: dict[str, Param] = Field(default_factory=dict)
    cases: list[dict[str, Any]] = Field(default_factory=list, description="one is drawn and merged into params")
    answer: str | None = Field(None, description="Python that sets `answer` (torch, nn, F, math and the "
                                                 "parameters are in scope; `shape_of(fn)` gives a shape or 'error')")
    tolerance: float = Field(1e-6, ge=0, description="numeric: absolute tolerance")
    rel_tolerance: float = Field(1e-4, ge=0, description="numeric: relative tolerance")
    significant_digits: int | None = Field(None, ge=1, le=6, description=(
        "numeric: compare by significant digits instead of tolerances: the answer, rounded to this many "
        "significant digits, must equal the key rounded the same way"))
    explanation: str = Field(min_length=1, description="shown after a wrong answer (a template too)")

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        choice = self.type in ("single", "multiple")
        if choice and len(self.options) < 2:
            raise ValueError(f"a '{self.type}' question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a '{self.type}' question has no options (only single and multiple do)")
        if len(self.options) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} options")
        if self.type == "output" and not self.code:
            raise ValueError("an 'output' question needs the code whose output is asked for")
        if self.type == "output" and self.answer:
            raise ValueError("an 'output' question's answer is what its code prints: leave out 'answer'")
        if self.significant_digits is not None:
            if self.type != "numeric":
                raise ValueError("significant_digits is for numeric questions")
            fields = type(self).model_fields
            if (self.tolerance, self.rel_tolerance) != (fields["tolerance"].default, fields["rel_tolerance"].default):
                raise ValueError("give either significant_digits or tolerance/rel_tolerance, not both")
        if (self.params or self.cases) and self.type != "output" and not self.answer:
            raise ValueError("a question with parameters needs 'answer' code: a static key cannot follow them")
        return self

    @property
    def computed(self) -> bool:
        return self.type == "output" or self.answer is not None

    @property
    def parametrised(self) -> bool:
        return bool(self.params or self.cases)


def seed_for(student: str, quiz: str, question: str) -> int:
    """The same number for the same student, quiz and question; different across students."""
    return int(hashlib.sha256(f"{student}\x00{quiz}\x00{question}".encode()).hexdigest()[:16], 16)


def draw(question: Question, seed: int) -> dict[str, Any]:
    """The parameters of one variant of `question`."""
    rng = random.Random(seed)
    values: dict[str, Any] = dict(rng.choice(question.cases)) if question.cases else {}
    for name, param in sorted(question.params.items()):
        values[name] = rng.choice(param.choice) if param.choice is not None else rng.randint(*param.range)  # type: ignore[misc]
    return values


_TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def render(text: str | None, params: dict[str, Any]) -> str:
    return _TEMPLATES.from_string(text).render(**params).strip() if text else ""


class Variant(BaseModel):
    """One student's version of a question: the parameters drawn and the texts they make."""

    id: str
    type: str
    title: str
    points: float
    params: dict[str, Any]
    prompt: str
    code: str
    options: list[str]
    explanation: str


def variant(question: Question, student: str, quiz: str) -> Variant:
    params = draw(question, seed_for(student, quiz, question.id))
    return Variant(id=question.id, type=question.type, title=question.title, points=question.points, params=params,
                   prompt=render(question.prompt, params), code=render(question.code, params),
                   options=[render(o.text, params) for o in question.options],
                   explanation=render(question.explanation, params))
