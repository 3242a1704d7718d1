"""PyTorch errors explained to a beginner.

When the student's code raises, the worker describes the exception as plain data
(`grader.runner.sandbox.describe_exception`: type, message, the student's last line, the functions it
was raised in, and the real error inside a DataLoader worker). Here the judge looks that description
up in the catalogue (`catalogue.yaml`, first matching entry wins): each entry recognises one error by
its type and message, pulls the facts out of the message (the two shapes, the devices, the dtypes)
and says, in words filled from those facts, what the message means, the most likely cause in this
kind of code and what to try, with the glossary concepts behind it. `templates/probe_failure.txt.j2`
puts that above PyTorch's own message. An error no entry knows gets the short, honest account it got
before (type, line, message), and is counted (`CheckResult.exception`) so the catalogue can grow
from what students hit (`grade batch` lists the most common ones).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field

CATALOGUE = Path(__file__).with_name("catalogue.yaml")
EXPLAINED_KINDS = ("exception", "memory", "not-implemented")  # describe_exception's kinds worth looking up


class Entry(BaseModel):
    """One error of the catalogue. `meaning`, `cause` and `try` are Jinja2 text filled from the facts:
    the named groups of `match`, and for each `extract` name every distinct match of its pattern."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    types: list[str] = Field(min_length=1, description="exception class names, e.g. RuntimeError")
    match: str = Field(description="a regular expression searched in the message")
    inside: list[str] = Field(default_factory=list, description="only when raised in one of these functions "
                                                                 "(names in the traceback, e.g. default_collate)")
    extract: dict[str, str] = Field(default_factory=dict)
    concepts: list[str] = Field(min_length=1, description="glossary ids")
    meaning: str
    cause: str
    try_: str = Field(alias="try")

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.match, re.DOTALL)


@dataclass
class Explanation:
    id: str
    title: str
    facts: dict[str, Any]
    concepts: list[str]
    meaning: str
    cause: str
    what_to_try: str


def explain(error: dict[str, Any]) -> Explanation | None:
    """The catalogue's explanation of a described exception, or None when no entry knows it."""
    if error.get("kind") not in EXPLAINED_KINDS:
        return None
    try:
        entries = catalogue()
    except (OSError, ValueError, yaml.YAMLError):  # a broken catalogue must never stop grading
        return None
    message, kind = str(error.get("message", "")), str(error.get("type", ""))
    origin = set(error.get("origin", []))
    for entry in entries:
        if kind not in entry.types or (entry.inside and not origin & set(entry.inside)):
            continue
        found = entry.pattern.search(message)
        if found is None:
            continue
        facts: dict[str, Any] = {k: v for k, v in found.groupdict().items() if v is not None}
        for name, pattern in entry.extract.items():
            facts[name] = list(dict.fromkeys(re.findall(pattern, message)))
        values = {**facts, "error": error}
        return Explanation(
            id=entry.id, title=entry.title, facts=facts, concepts=list(entry.concepts),
            meaning=_fill(entry.meaning, values), cause=_fill(entry.cause, values),
            what_to_try=_fill(entry.try_, values),
        )
    return None


def summary(error: dict[str, Any]) -> str:
    """An exception in one line for statistics: its type and the first line of its message, numbers
    and quoted names replaced, so the same error with other sizes counts as one."""
    first = str(error.get("message", "")).strip().splitlines()[0] if error.get("message") else ""
    first = re.sub(r"'[^']*'", "'…'", first)
    first = re.sub(r"\d+(?:x\d+)+", lambda m: "x".join("N" * (m.group().count("x") + 1)), first)  # 64x1568
    first = re.sub(r"(?<![A-Za-z_])\d+", "N", first)  # sizes, not the 1 of mat1
    return f"{error.get('type', 'Exception')}: {first[:160]}".rstrip(": ")


@functools.cache
def catalogue() -> list[Entry]:
    """The entries, in order, their patterns compiled (a warm grading process loads them once)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's loader: several times faster
    raw = yaml.load(CATALOGUE.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    entries = [Entry.model_validate(item) for item in raw]
    for entry in entries:
        entry.pattern  # noqa: B018 - compiled now, and a broken pattern found now
    return entries


def _dims(text: Any) -> list[int]:
    """'64, 16, 5, 5' or '16x1x1' -> [64, 16, 5, 5]."""
    return [int(n) for n in re.findall(r"-?\d+", str(text))]


def _product(values: list[int]) -> int:
    return math.prod(values)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(dims=_dims, product=_product)
    return env


@functools.lru_cache(maxsize=512)
def _template(text: str) -> jinja2.Template:
    return _environment().from_string(text)


def _fill(text: str, values: dict[str, Any]) -> str:
    return " ".join(_template(text).render(**values).split())
