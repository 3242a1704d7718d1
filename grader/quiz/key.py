"""The answer key of one student's quiz, computed in the grader's child process:
`python -m grader.quiz.key JOB.json` (one key per student the job names).

Computed answers run the question's `answer` code (or, for `output` questions, its snippet) with torch,
after drawing the student's parameters; static answers come from the quiz's key file under solutions/.
Only instructors' code runs here, never anything from the student. The key is written as JSON, in the
normal forms `grader.quiz.answers` compares against.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from grader.quiz.questions import LETTERS, Question, draw, render, seed_for


def shape_of(compute: Callable[[], Any]) -> list[int] | str:
    """The shape of what `compute()` returns, or "error" when PyTorch refuses the operation."""
    try:
        value = compute()
    except (RuntimeError, ValueError, IndexError, TypeError):
        return "error"
    return [int(v) for v in (value.shape if hasattr(value, "shape") else value)]


def _namespace(params: dict[str, Any]) -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.nn import functional

    return {"torch": torch, "nn": nn, "F": functional, "math": math, "shape_of": shape_of, **params}


def normalise(question: Question, value: Any, options: list[str]) -> Any:
    """A computed or static answer in the form answers are compared in."""
    kind = question.type
    if kind == "single":
        return _letter(value, options)
    if kind == "multiple":
        letters = sorted({_letter(v, options) for v in value})
        if not letters:
            raise ValueError("a 'multiple' question needs at least one right option")
        return letters
    if kind == "true-false":
        if not isinstance(value, bool):
            raise TypeError(f"a true-false answer must be true or false, not {value!r}")
        return value
    if kind == "numeric":
        return float(value)
    if kind == "shape":
        if isinstance(value, str):
            if value != "error":
                raise ValueError(f"a shape answer is a list of sizes or 'error', not {value!r}")
            return value
        return [int(v) for v in (value.shape if hasattr(value, "shape") else value)]
    if kind == "text":
        if isinstance(value, dict):
            return {"accepted": [str(v) for v in value.get("accepted", [])], "pattern": value.get("pattern")}
        accepted = value if isinstance(value, list) else [value]
        return {"accepted": [str(v) for v in accepted], "pattern": None}
    return str(value)


def _letter(value: Any, options: list[str]) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(options):
        return LETTERS[value]
    if isinstance(value, str) and len(value) == 1 and value.lower() in LETTERS[: len(options)]:
        return value.lower()
    if isinstance(value, str) and value in options:
        return LETTERS[options.index(value)]
    raise ValueError(f"{value!r} is not an option (a letter, an index or an option's text)")


def answer_for(question: Question, student: str, quiz: str, static: dict[str, Any]) -> dict[str, Any]:
    """{"answer": ...} in normal form, or {"error": ...} when the question's own code is broken."""
    params = draw(question, seed_for(student, quiz, question.id))
    options = [render(o.text, params) for o in question.options]
    try:
        if question.type == "output":
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(render(question.code, params), f"<{question.id} code>", "exec"), _namespace(params))  # noqa: S102
            value: Any = printed.getvalue()
        elif question.answer is not None:
            scope = _namespace(params)
            exec(compile(question.answer, f"<{question.id} answer>", "exec"), scope)  # noqa: S102
            if "answer" not in scope:
                raise NameError("the answer code never set `answer`")
            value = scope["answer"]
        elif question.id in static:
            value = static[question.id]
        elif static.get(WITHHELD):  # a student copy: the static answers stayed with the instructor
            return {"withheld": True}
        else:
            raise KeyError(f"no answer: the key file has no entry '{question.id}' and the question no 'answer' code")
        return {"answer": normalise(question, value, options)}
    except Exception as exc:  # noqa: BLE001 - an instructor's broken question becomes that question's error
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return {"error": f"{type(exc).__name__}: {exc} (in {where.filename}, line {where.lineno})"}


WITHHELD = "__withheld__"  # in `static`: the key file is absent on purpose (a student copy)


def compute_key(questions: list[Question], student: str, quiz: str, static: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    return {q.id: answer_for(q, student, quiz, static) for q in questions}


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    questions = [Question.model_validate(q) for q in job["questions"]]
    keys = {student: compute_key(questions, student, job["quiz"], job["static"]) for student in job["students"]}
    tmp = Path(job["out"] + ".tmp")
    tmp.write_text(json.dumps(keys), encoding="utf-8")
    os.replace(tmp, job["out"])
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1])
    sys.stdout.flush()
    os._exit(code)  # skip tearing down torch's interpreter state
