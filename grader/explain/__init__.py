"""PyTorch errors explained to a beginner.

When the student's code raises, the worker describes the exception as plain data
(`grader.runner.sandbox.describe_exception`: type, message, the student's last line, the functions it
was raised in, and the real error inside a DataLoader worker). Here the judge looks that description
up in the catalogue (`catalogue.yaml`, first matching entry wins): each entry recognises one error by
its type and message and pulls the facts out of the message (the two shapes, the devices, the dtypes);
the result records the entry's id and those facts (`grader.results.Explained`). In the view, the
entry's words, filled from the facts, say what the message means, the most likely cause in this kind
of code and what to try, with the glossary concepts behind it (`grader.render.words`, and
`templates/probe_failure.txt.j2` above PyTorch's own message). An error no entry knows gets the short,
honest account it got before (type, line, message), and is counted (`Run.summary` without `explained`)
so the catalogue can grow from what students hit (`grade batch` lists the most common ones).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

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


def recognise(error: dict[str, Any]) -> tuple[Entry, dict[str, Any]] | None:
    """The catalogue entry that knows a described exception, and the facts it pulls out of the message;
    None when no entry knows it. The judge records both (`grader.results.Explained`); the views fill the
    entry's words with the facts (`grader.render.words`)."""
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
        return entry, facts
    return None


def entry_by_id(entry_id: str) -> Entry | None:
    """The catalogue's entry with this id."""
    try:
        return next((e for e in catalogue() if e.id == entry_id), None)
    except (OSError, ValueError, yaml.YAMLError):
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
