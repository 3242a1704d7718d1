"""For instructors: `new.py` scaffolds an exercise or a quiz (`grade new`), `validate.py` proves one right
(`grade validate`: solution passes, starter fails, every mutant caught by the checks it names)."""

from __future__ import annotations

import shlex
from pathlib import Path

import jinja2


def export_templates(folder: Path) -> jinja2.Environment:
    """The templates of what an export writes (the student README, the Classroom workflow, Gradescope's
    scripts): strict, block-trimmed, and a `quote` filter that makes a value one shell word."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["quote"] = shlex.quote
    return env
