"""torchgrade: grades PyTorch exercises and quizzes, and explains every mistake to a beginner.

The command line is `grade` (grader.cli). In a notebook, `import grader` gives `grader.check(3)`,
`grader.hint(3)` and `grader.show(3)` (grader.kernel), and the `%%answers` cell magic of a quiz's answer
cells. Importing the package imports neither torch nor the command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def check(exercise: int | str, **options: Any) -> None:
    """Grade exercise `exercise` from the cells this notebook has run (grader.kernel.check)."""
    from grader import kernel

    kernel.check(exercise, **options)


def hint(exercise: int | str, **options: Any) -> None:
    """Show the next hint of `exercise` (grader.kernel.hint)."""
    from grader import kernel

    kernel.hint(exercise, **options)


def show(exercise: int | str, **options: Any) -> None:
    """Show the instructions of `exercise` (grader.kernel.show)."""
    from grader import kernel

    kernel.show(exercise, **options)


def use_course(folder: str | os.PathLike[str], *, student: str | None = None) -> None:
    """Grade with the course in `folder` where it holds one (a notebook's set-up cell: Colab's copy of the
    course), else with the course found from the working folder up; `student`: whose quiz numbers."""
    path = Path(folder)
    if (path / "exercises").is_dir():
        os.environ["TORCHGRADE_COURSE"] = str(path.resolve())
    if student and student.strip():
        os.environ["TORCHGRADE_STUDENT"] = student.strip()


def _register_answers_magic() -> None:
    """`%%answers`: a quiz notebook's answer cell runs (its YAML is read, and a typo said at once); what is
    graded is the cell's text, from the kernel's history or the notebook file (grader.notebooks)."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    from grader import kernel

    shell.register_magic_function(kernel.answers_magic, magic_kind="cell", magic_name="answers")


_register_answers_magic()
