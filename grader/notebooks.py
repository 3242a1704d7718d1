"""A Jupyter notebook handed in as the student's module (`grade exercise 3 --submission work.ipynb`).

Its code cells become the module the checks import, in order, keeping what a module may run on import:
imports, definitions (functions, classes) and constants. Left out, and said in the result:

- IPython's magics and shell lines (`%matplotlib inline`, `!pip install ...`, a `%%time` cell);
- cells tagged `skip-grading` (a cell tagged `grade` is kept whole, as written: the tags make the
  choice explicit where the rules below guess wrong);
- top-level statements that would run something: a call on its own line (`train(model)`, `plt.show()`),
  a loop, a `with` block, `if __name__ == "__main__":`, and an assignment whose value calls one of the
  notebook's own functions, downloads (`download=True`), plots or reads a file;
- imports of what only a notebook has (matplotlib, seaborn, IPython, google.colab, ipywidgets, plotly);
- a statement that uses a name only a left-out statement defined (it would fail on import).

A cell that Python cannot parse is kept whole, so the student sees its syntax error. Every line of the
module remembers its cell and its line there: the views say "work.ipynb, cell 7, line 3", counting every
cell of the notebook (Markdown ones too) from 1, as a student counts them on the screen. The grader's own
lines (`import grader`, `grader.check(3)`: a notebook made by `grade export notebooks`) are left out unsaid.

`from_kernel` makes the module from the cells a running kernel has run (`grader.check(3)` in a notebook,
`grader.kernel`): in the order they ran, each named as IPython's tracebacks name it, "Cell In[5], line 3".
A cell there that Python cannot parse never ran, so it is left out, and the note says where its error is.

Nothing here imports torch or runs the student's code: the notebook is read as data (`nbformat`).
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checks import said
from grader.results import CheckResult, ExerciseResult, Failure, Note, Run, Said, SaidError

SUFFIX = ".ipynb"
MAX_NOTEBOOK_BYTES = 20_000_000  # a notebook keeps its outputs (plots): larger than a .py, only code is read
KEEP_TAG, SKIP_TAG = "grade", "skip-grading"
GRADER = "grader"  # the reason a line of the grader's own is left out: not said
NOTEBOOK_ONLY = ("matplotlib", "seaborn", "IPython", "google.colab", "ipywidgets", "plotly")
# Calls that, at the top level of a notebook, plot, read files or download.
RUNS = frozenset({"show", "imshow", "plot", "savefig", "subplots", "figure", "hist", "scatter", "display",
                  "read_csv", "read_excel", "read_json", "read_parquet", "open", "load", "urlopen", "urlretrieve",
                  "download_url", "download_and_extract_archive", "fit"})
MAX_LEFT_OUT_SHOWN = 12
_MAGIC = re.compile(r"^\s*(%|!|\?)|^\s*[A-Za-z_][\w.]*\s*=\s*(%|!)|^\s*\S.*\?\s*$")


def named_after(file: str) -> str:
    """The notebook that stands for a file of an exercise: train.ipynb for train.py, answers.ipynb for answers.yaml."""
    return Path(file).stem + SUFFIX


def chosen_in(folder: Path, file: str) -> tuple[str | None, list[str]]:
    """The notebook in `folder` to grade for `file` (the one named after it, else the only one), or None, and
    every notebook there, by name; (None, []) for a folder that cannot be read."""
    try:
        found = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(SUFFIX))
    except OSError:
        return None, []
    if named_after(file) in found:
        return named_after(file), found
    return (found[0] if len(found) == 1 else None), found


def run_name(count: int) -> str:
    """A kernel's cell named by its run, as IPython's tracebacks name it: "Cell In[5]"."""
    return f"Cell In[{count}]"


class NotebookError(SaidError):
    """A notebook that cannot be graded: `said` (`grader.handed-in.notebook-*`) says why and what to do."""

    PREFIX = "grader.handed-in.notebook-"


@dataclass
class LeftOut:
    cell: int
    line: int
    reason: str  # magic, cell-magic, tagged, runs, notebook-only, uses, syntax; grader (not said)
    code: str = ""
    name: str = ""


@dataclass
class Notebook:
    """The module made from a notebook, and where each of its lines came from."""

    shown: str  # the notebook's name, as the student calls it
    module: str  # the file the checks import (train.py)
    source: str
    places: list[tuple[int, int]] = field(default_factory=list)  # module line n+1 -> (cell, line in the cell)
    left_out: list[LeftOut] = field(default_factory=list)
    kernel: bool = False  # made from a running kernel's cells: a cell is named by its run, In[5]

    def place(self, line: Any) -> tuple[int, int] | None:
        if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= len(self.places):
            return None
        return self.places[line - 1]

    def note(self) -> Note:
        """What the student should know about how the notebook was read."""
        told = [item for item in self.left_out if item.reason != GRADER]
        shown = [said(f"grader.notebook.left-out.{item.reason}", cell=self._cell(item.cell), line=item.line,
                      code=item.code, name=item.name) for item in told[:MAX_LEFT_OUT_SHOWN]]
        return Note(said=Said(id="grader.notebook.read-kernel" if self.kernel else "grader.notebook.read", params={
            "notebook": self.shown, "left_out": shown, "more": max(0, len(told) - MAX_LEFT_OUT_SHOWN)}))

    def _cell(self, cell: int) -> Said:
        """A cell in words: "cell 7" (its place in the notebook), or "Cell In[5]" (its run in a kernel)."""
        return said("grader.notebook.cell-run" if self.kernel else "grader.notebook.cell-number", cell=cell)

    def _where(self, cell: int) -> dict[str, Any]:
        """The facts naming a cell of the student's: a notebook's name and its cell, or a kernel's run of one
        as the file IPython's tracebacks name ("Cell In[5]", with no cell number of its own)."""
        return {"file": run_name(cell), "cell": 0} if self.kernel else {"file": self.shown, "cell": cell}

    # ------------------------------------------------------------------------- results about the module
    def relocate(self, result: ExerciseResult) -> ExerciseResult:
        """`result` (facts, before words) with every line of the generated module named by its cell and line
        in the notebook, and the note of what was left out."""
        checks = [self._check(check) for check in result.checks]
        failure = self._failure(result.failure) if result.failure is not None else None
        return result.model_copy(update={"checks": checks, "failure": failure, "notes": [*result.notes, self.note()]})

    def _check(self, check: CheckResult) -> CheckResult:
        update: dict[str, Any] = {}
        if check.failure is not None:
            update["failure"] = self._failure(check.failure)
        if check.file == self.module and (where := self.place(check.line)):
            update.update(**self._where(where[0]), line=where[1])
        return check.model_copy(update=update) if update else check

    def _failure(self, failure: Failure) -> Failure:
        update: dict[str, Any] = {}
        if failure.said is not None:
            update["said"] = failure.said.model_copy(update={"params": self._facts(failure.said.params)})
        if failure.what_to_try is not None:
            update["what_to_try"] = failure.what_to_try.model_copy(update={"params": self._facts(failure.what_to_try.params)})
        if failure.run is not None:
            update["run"] = self._run(failure.run)
        return failure.model_copy(update=update)

    def _run(self, run: Run) -> Run:
        """The error record's place as the notebook's (file, cell, line: the templates of a failed run say it)."""
        error = dict(run.error)
        if error.get("file") == self.module and (where := self.place(error.get("line"))):
            error.update(**self._where(where[0]), line=where[1])
            if not error["cell"]:
                del error["cell"]
        return run.model_copy(update={"error": error})

    def _facts(self, value: Any) -> Any:
        """A message's facts with each `{file: <the module>, line: n}` pair said as the notebook's cell and
        line: `file` becomes words ("work.ipynb, cell 7"), so every message that says "{{ file }}, line
        {{ line }}" says the notebook's place."""
        if isinstance(value, list):
            return [self._facts(item) for item in value]
        if not isinstance(value, dict):
            return value
        facts = {key: self._facts(item) for key, item in value.items()}
        if facts.get("file") == self.module and (where := self.place(facts.get("line"))):
            facts["file"] = run_name(where[0]) if self.kernel else \
                said("grader.notebook.cell", notebook=self.shown, cell=where[0])
            facts["line"] = where[1]
        return facts


# ----------------------------------------------------------------------------- reading a notebook
def read(data: bytes, shown: str, module: str) -> Notebook:
    """The module made from a notebook's bytes; NotebookError if it cannot be read as one."""
    code = code_cells(data, shown)
    if not code:
        raise NotebookError("no-code", path=shown)
    try:
        return _module(code, shown, module)
    except (RecursionError, MemoryError):
        raise NotebookError("invalid", path=shown, reason="a cell's code is nested too deeply to read") from None


def code_cells(data: bytes, shown: str) -> list[tuple[int, dict[str, Any]]]:
    """A notebook's code cells, each with its number among all its cells (from 1); NotebookError if the bytes
    are not a notebook nbformat reads."""
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotebookError("invalid", path=shown, reason=_reason(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise NotebookError("invalid", path=shown, reason="it has no nbformat version")
    try:
        with warnings.catch_warnings():  # a notebook's schema quirks (a cell without an id) are not the student's
            warnings.simplefilter("ignore")
            # An older version is converted; a schema problem is kept (not logged): the cells are read defensively.
            notebook = nbformat.reads(json.dumps(raw), as_version=4, capture_validation_error={})
    except Exception as exc:  # noqa: BLE001 - nbformat's errors are many; each is a notebook it cannot read
        if raw["nbformat"] < 4:
            raise NotebookError("old", path=shown, version=raw["nbformat"]) from None
        raise NotebookError("invalid", path=shown, reason=_reason(exc)) from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("invalid", path=shown, reason="it has no list of cells")
    return [(number, cell) for number, cell in enumerate(cells, start=1)
            if isinstance(cell, dict) and cell.get("cell_type") == "code"]


# ----------------------------------------------------------------------------- a quiz's answer cells
ANSWERS_MAGIC = "%%answers"  # the first line of a quiz notebook's answer cell; the rest is answers.yaml's lines


def answer_cells(sources: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The answer cells among `(cell, source)` pairs: each cell's answers as YAML, the lines up to the magic
    made empty, so that a line of the YAML is the same line of the cell."""
    found = []
    for number, source in sources:
        lines = source.split("\n")
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is not None and lines[first].strip() == ANSWERS_MAGIC:
            found.append((number, "\n" * (first + 1) + "\n".join(lines[first + 1:])))
    return found


def sources_of(cells: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    return [(number, _text(cell.get("source"))) for number, cell in cells]


def from_kernel(inputs: list[tuple[int, str]], shown: str, module: str) -> Notebook:
    """The module made from the cells a kernel ran, `(execution count, source)` in the order they ran (a cell
    run again comes again, and its later definitions win, as they did in the kernel)."""
    cells = [(count, {"cell_type": "code", "source": source}) for count, source in inputs]
    try:
        return _module(cells, shown, module, kernel=True)
    except (RecursionError, MemoryError):
        raise NotebookError("invalid", path=shown, reason="a cell's code is nested too deeply to read") from None


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""


def _tags(cell: dict[str, Any]) -> set[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return {t for t in tags if isinstance(t, str)} if isinstance(tags, list) else set()


def _module(cells: list[tuple[int, dict[str, Any]]], shown: str, module: str, kernel: bool = False) -> Notebook:
    book = Notebook(shown=shown, module=module, source="", kernel=kernel)
    pieces: list[tuple[int, list[str], list[int]]] = []  # cell, lines, their numbers in the cell
    statements: list[tuple[int, ast.stmt, list[str]]] = []  # the candidates, in order
    crowded: dict[tuple[int, int], int] = {}  # (cell, line): how many statements start or end there (`a = 1; f()`)
    defined_functions: set[str] = set()
    for number, cell in cells:
        lines = _text(cell.get("source")).splitlines()
        tags = _tags(cell)
        if SKIP_TAG in tags:
            book.left_out.append(LeftOut(number, 1, "tagged"))
            continue
        if lines and lines[0].lstrip().startswith("%%"):
            book.left_out.append(LeftOut(number, 1, "cell-magic", code=lines[0].strip()))
            continue
        lines = [_without_magic(line, number, index, book) for index, line in enumerate(lines, start=1)]
        if KEEP_TAG in tags:
            pieces.append((number, lines, list(range(1, len(lines) + 1))))
            continue
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            if kernel and isinstance(exc, SyntaxError):  # it never ran: nothing in it is defined in the kernel
                book.left_out.append(LeftOut(number, exc.lineno or 1, "syntax", code=exc.msg))
            else:
                pieces.append((number, lines, list(range(1, len(lines) + 1))))  # its syntax error is the feedback
            continue
        for statement in tree.body:
            statements.append((number, statement, lines))
            start, end = _span(statement)
            for n in {start, end}:
                crowded[(number, n)] = crowded.get((number, n), 0) + 1
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined_functions.add(statement.name)
        pieces.append((number, [], []))  # the cell's place in the order; its kept statements fill it below
    kept = _choose(statements, defined_functions, book)
    out: list[str] = []
    for number, lines, numbers in pieces:
        chosen = [(lines, numbers)] if lines else [
            (_text_of(statement, statement_lines, crowded.get((number, start), 0) > 1 or crowded.get((number, end), 0) > 1),
             list(range(start, end + 1)))
            for cell, statement, statement_lines in kept if cell == number
            for start, end in [_span(statement)]]
        for part, part_numbers in chosen:
            out.extend(part)
            book.places.extend((number, n) for n in part_numbers)
            out.append("")
            book.places.append((number, part_numbers[-1] if part_numbers else 1))
    book.source = "\n".join(out) + "\n"
    book.left_out.sort(key=lambda item: (item.cell, item.line))
    return book


def _text_of(statement: ast.stmt, lines: list[str], shares_a_line: bool) -> list[str]:
    """A kept statement's lines; only its own text where it shares a line with another statement (`t = 0;
    train()`: the call is left out, so it must not come in with the line)."""
    start, end = _span(statement)
    if shares_a_line and not getattr(statement, "decorator_list", None):
        segment = ast.get_source_segment("\n".join(lines), statement)
        if segment is not None:
            own = segment.split("\n")
            return own + [""] * (end - start + 1 - len(own))
    return lines[start - 1:end]


def _without_magic(line: str, cell: int, number: int, book: Notebook) -> str:
    """A line of IPython syntax (a magic, a shell command, `x = !ls`, `obj?`) as `pass`, its indentation kept."""
    if not _MAGIC.match(line) or _is_python(line):
        return line
    book.left_out.append(LeftOut(cell, number, "magic", code=line.strip()[:120]))
    return line[: len(line) - len(line.lstrip())] + "pass"


def _is_python(line: str) -> bool:
    """Whether a line that looks like IPython syntax is plain Python (`x = a % b`, `print(x)  # ok?`)."""
    stripped = line.strip()
    if stripped.startswith(("%", "!", "?")):
        return False
    try:
        ast.parse(stripped)
        return True
    except (SyntaxError, ValueError):
        return False


def _span(statement: ast.stmt) -> tuple[int, int]:
    decorators = getattr(statement, "decorator_list", [])
    start = min([statement.lineno] + [d.lineno for d in decorators])
    return start, statement.end_lineno or statement.lineno


# ----------------------------------------------------------------------------- which statements stay
def _choose(statements: list[tuple[int, ast.stmt, list[str]]], functions: set[str],
            book: Notebook) -> list[tuple[int, ast.stmt, list[str]]]:
    kept = []
    bound_by_kept = set(dir(builtins))
    bound_by_dropped: set[str] = set()
    for cell, statement, lines in statements:
        reason, name = _why_left_out(statement, functions)
        if reason is None:
            missing = sorted((_evaluated_names(statement) & bound_by_dropped) - bound_by_kept)
            if missing:
                reason, name = "uses", missing[0]
        if reason is None:
            kept.append((cell, statement, lines))
            bound_by_kept |= _bound_names(statement)
        else:
            bound_by_dropped |= _bound_names(statement)
            start, _ = _span(statement)
            book.left_out.append(LeftOut(cell, start, reason, code=lines[start - 1].strip()[:120], name=name))
    return kept


def _why_left_out(statement: ast.stmt, functions: set[str]) -> tuple[str | None, str]:
    if _is_grader(statement):
        return GRADER, ""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        names = [statement.module or ""] if isinstance(statement, ast.ImportFrom) else [a.name for a in statement.names]
        only = next((n for n in names if any(n == m or n.startswith(m + ".") for m in NOTEBOOK_ONLY)), None)
        return ("notebook-only", only) if only else (None, "")
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)) or _is_text(statement):
        return None, ""
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        value = statement.value
        runs = _runs(value, functions) if value is not None else None
        return ("runs", runs) if runs else (None, "")
    if isinstance(statement, (ast.If, ast.Try)) and not _is_main_guard(statement):
        inner = [*statement.body, *statement.orelse, *getattr(statement, "finalbody", []),
                 *[s for handler in getattr(statement, "handlers", []) for s in handler.body]]
        for nested in inner:
            reason, name = _why_left_out(nested, functions)
            if reason is not None:
                return reason, name
        return None, ""
    return "runs", ""


def _is_grader(statement: ast.stmt) -> bool:
    """The grader's own line in a notebook: `import grader`, `from grader import check`, `grader.check(3)`."""
    if isinstance(statement, ast.Import):
        return all(a.name == "grader" or a.name.startswith("grader.") for a in statement.names)
    if isinstance(statement, ast.ImportFrom):
        return statement.level == 0 and (statement.module == "grader" or (statement.module or "").startswith("grader."))
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "grader"
    return False


def _is_text(statement: ast.stmt) -> bool:
    """A string on its own line: a docstring, or a comment written as one (it runs nothing)."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _is_main_guard(statement: ast.stmt) -> bool:
    test = getattr(statement, "test", None)
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


def _runs(value: ast.AST, functions: set[str]) -> str | None:
    """The call in `value` that would run something on import (the notebook's own function, a download,
    a plot, a file read), or None."""
    for node in ast.walk(value):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        downloads = any(k.arg == "download" and isinstance(k.value, ast.Constant) and k.value.value is True
                        for k in node.keywords)
        if name in functions or name in RUNS or downloads:
            return name
    return None


def _evaluated_names(statement: ast.stmt) -> set[str]:
    """The names a statement reads when the module is imported (not those inside the functions it defines,
    nor a comprehension's own variables)."""
    names: set[str] = set()
    local: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None],
                            *getattr(node, "decorator_list", [])]:
                visit(default)
            return
        if isinstance(node, ast.comprehension):
            local.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(statement)
    return names - local


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds in the module."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    bound: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(statement)
    return bound
