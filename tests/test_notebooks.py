"""A Jupyter notebook handed in is graded as the module its code cells make: what a module must not run on
import is left out and said, the student's line is told as "cell 7, line 3", a notebook that cannot be read
gets a result naming it, and every exercise gives the same verdicts from a notebook as from its `.py`."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import notebooks
from grader.course import Course

ROOT = Path(__file__).resolve().parent.parent
SPECS = {s.id: s for s in Course(ROOT).load_all()}


def _read(*cells, **kwargs) -> notebooks.Notebook:
    book = new_notebook()
    book.cells = list(cells)
    return notebooks.read(nbformat.writes(book).encode(), "work.ipynb", kwargs.get("module", "train.py"))


def _tagged(source: str, tag: str):
    cell = new_code_cell(source)
    cell.metadata["tags"] = [tag]
    return cell


def _left_out(book: notebooks.Notebook) -> list[tuple[int, int, str]]:
    return [(item.cell, item.line, item.reason) for item in book.left_out]


# ----------------------------------------------------------------------------- what stays, what goes
def test_imports_definitions_and_constants_stay_and_what_runs_is_left_out():
    book = _read(
        new_markdown_cell("# My training loop"),
        new_code_cell("!pip install torch\n%matplotlib inline\nimport torch\nimport matplotlib.pyplot as plt\n"
                      "LR = 0.1\ndevice = torch.device('cuda' if torch.cuda.is_available() else 'cpu')"),
        new_code_cell("@torch.no_grad()\ndef evaluate(model):\n    %time x = 1\n    return model\n\n"
                      "class Net(torch.nn.Module):\n    pass"),
        new_code_cell("model = Net()\nhistory = evaluate(model)\nprint(history)\nplt.plot([1, 2])\n"
                      "data = torchvision.datasets.MNIST('.', download=True)\nsize = len(data)"),
        new_code_cell("%%time\nfor epoch in range(3):\n    pass"),
        _tagged("evaluate(model)", "skip-grading"),
        new_code_cell("if __name__ == '__main__':\n    evaluate(model)\nwith torch.no_grad():\n    pass"),
    )
    assert _left_out(book) == [
        (2, 1, "magic"), (2, 2, "magic"), (2, 4, "notebook-only"), (3, 3, "magic"),
        (4, 2, "runs"), (4, 3, "runs"), (4, 4, "runs"), (4, 5, "runs"), (4, 6, "uses"),
        (5, 1, "cell-magic"), (6, 1, "tagged"), (7, 1, "runs"), (7, 3, "runs")]
    module = ast.parse(book.source)  # a module Python reads
    kept = [type(s).__name__ for s in module.body if not isinstance(s, ast.Pass)]  # a magic line is `pass`
    assert kept == ["Import", "Assign", "Assign", "FunctionDef", "ClassDef", "Assign"]
    assert "LR = 0.1" in book.source and "model = Net()" in book.source and "pass" in book.source  # `%time` -> pass
    assert next(i for i in book.left_out if i.reason == "uses").name == "data"


def test_every_line_of_the_module_knows_its_cell_and_line():
    book = _read(new_markdown_cell("intro"), new_code_cell("import torch\n\n\nX = 1"),
                 new_code_cell("def f():\n    return X\nprint(f())"))
    lines = book.source.splitlines()
    for number, text in enumerate(lines, start=1):
        if text.strip():
            cell, line = book.place(number)
            assert text == [None, None, "import torch\n\n\nX = 1", "def f():\n    return X\nprint(f())"][cell] \
                .splitlines()[line - 1]
    assert book.place(lines.index("    return X") + 1) == (3, 2)
    assert book.place(0) is None and book.place(len(lines) + 5) is None and book.place("3") is None


def test_a_cell_tagged_grade_is_kept_whole_and_one_python_cannot_read_is_kept_for_its_error():
    book = _read(_tagged("train(model)\nfor i in range(2):\n    pass", "grade"),
                 new_code_cell("def f(:\n    pass"))
    assert book.left_out == []
    assert "train(model)" in book.source and "def f(:" in book.source


def test_python_that_looks_like_ipython_syntax_stays():
    book = _read(new_code_cell("x = 7 % 3\ny = x != 1\n# what is this?\ns = 'why?'"))
    assert book.left_out == [] and "x = 7 % 3" in book.source and "s = 'why?'" in book.source


@pytest.mark.parametrize(("data", "said"), [
    (b"{\"cells\": [", "notebook-invalid"),
    (b"\xff\xfe not text", "notebook-invalid"),
    (b"[1, 2]", "notebook-invalid"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}).encode(), "notebook-invalid"),
    (json.dumps({"nbformat": 1, "worksheets": 5}).encode(), "notebook-old"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "markdown", "metadata": {}, "source": "only words"}]}).encode(),
     "notebook-no-code"),
], ids=["cut-short", "not-utf8", "a-list", "cells-not-a-list", "nbformat-1", "no-code-cells"])
def test_a_notebook_that_cannot_be_read_says_why(data, said):
    with pytest.raises(notebooks.NotebookError) as raised:
        notebooks.read(data, "work.ipynb", "train.py")
    assert raised.value.said.id == f"grader.handed-in.{said}"


def test_code_nested_too_deeply_is_a_clear_problem_not_a_crash():
    for deep in ("x = " + "-" * 200_000 + "1", "x = " + "[" * 100_000 + "]" * 100_000, "?" + "(" * 100_000):
        try:
            book = _read(new_code_cell(deep))
        except notebooks.NotebookError as exc:
            assert exc.said.id == "grader.handed-in.notebook-invalid"
        else:  # kept whole for Python to report, or left out as IPython syntax
            assert book.source.strip() == deep or book.left_out


def test_an_older_notebook_is_converted():
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "def f():\n    return 1", "language": "python", "outputs": []}]}]}
    assert "def f():" in notebooks.read(json.dumps(old).encode(), "old.ipynb", "train.py").source


# ----------------------------------------------------------------------------- graded through the CLI
def _notebook_of(source: str, path: Path) -> Path:
    """`source` (a module) written the way a notebook holds it: set-up lines first, one cell per top-level
    statement after a Markdown title, and a last cell that tries the code out."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells = [new_markdown_cell("# My exercise"), new_code_cell("!pip install torch torchvision\n%matplotlib inline")]
    for statement in tree.body:
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        cells.append(new_code_cell("\n".join(lines[start - 1:statement.end_lineno])))
    cells.append(new_code_cell("import matplotlib.pyplot as plt\nprint('trying it out')\nplt.show()"))
    book = new_notebook()
    book.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(book), encoding="utf-8")
    return path


@pytest.mark.slow
def test_every_exercise_gives_the_same_verdicts_from_a_notebook(grade, tmp_path):
    """The reference solution and one mutant of exercises 1-5, each as its `.py` and as a notebook beside
    no `.py` (a folder a batch grades): the same status and points for every check."""
    folder = tmp_path / "class"
    for number in range(1, 6):
        spec = SPECS[number]
        module = spec.files[0]
        versions = {"solution": spec.solution_folder / module, "mutant": spec.solution_folder / spec.mutants[0].file}
        for name, path in versions.items():
            source = path.read_text(encoding="utf-8")
            (folder / f"{name}-py" / spec.name).mkdir(parents=True, exist_ok=True)
            (folder / f"{name}-py" / spec.name / module).write_text(source, encoding="utf-8")
            _notebook_of(source, folder / f"{name}-nb" / spec.name / (Path(module).stem + ".ipynb"))
    ran = grade("batch", str(folder), "1", "2", "3", "4", "5", "--out", str(tmp_path / "grades.csv"), timeout=900)
    assert ran.code in (0, 1), ran.stderr
    records = [json.loads(line) for line in (tmp_path / "grades.records.jsonl").read_text().splitlines()]
    verdicts = {(r["student"], r["result"]["exercise"]): [(c["id"], c["status"], c["points"])
                                                         for c in r["result"]["checks"]] for r in records}
    for number in range(1, 6):
        name = SPECS[number].name
        for version in ("solution", "mutant"):
            assert verdicts[(f"{version}-nb", name)] == verdicts[(f"{version}-py", name)], (version, name)
        assert verdicts[("solution-py", name)] != verdicts[("mutant-py", name)]
        notes = next(r["result"]["notes"] for r in records if r["student"] == "solution-nb" and r["result"]["exercise"] == name)
        assert notes and "Graded from" in notes[0]["text"] and "`!pip install torch torchvision`" in notes[0]["text"]


@pytest.mark.slow
def test_the_students_line_is_told_as_the_cell_and_its_line(grade, tmp_path):
    spec = SPECS[3]
    source = (spec.solution_folder / "train.py").read_text(encoding="utf-8")
    wrong = source.replace("loss = loss_fn(outputs, targets)", "loss = loss_fn(outputs, targets.float())", 1)
    assert wrong != source
    book = _notebook_of(wrong, tmp_path / "work.ipynb")
    ran = grade("exercise", "3", "--submission", str(book), "--format", "json")
    result = ran.json()
    check = next(c for c in result["checks"] if c["id"] == "fresh-gradients")
    cells = nbformat.read(book, as_version=4).cells
    cell = next(n for n, c in enumerate(cells, start=1) if "targets.float()" in c.source)
    line = cells[cell - 1].source.splitlines().index("        loss = loss_fn(outputs, targets.float())") + 1
    assert (check["file"], check["cell"], check["line"]) == ("work.ipynb", cell, line)
    assert f"work.ipynb, cell {cell}, line {line}" in check["message"]
    assert "train.py" not in check["message"]
    chinese = grade("exercise", "3", "--submission", str(book), "--lang", "zh", "--format", "json").json()
    said = next(c for c in chinese["checks"] if c["id"] == "fresh-gradients")["message"]
    assert f"work.ipynb 的第 {cell} 个单元格第 {line} 行" in said and "按 work.ipynb 评分" in chinese["notes"][0]["text"]


@pytest.mark.slow
def test_a_notebook_that_cannot_be_graded_gets_a_result_naming_it(grade, tmp_path):
    broken = tmp_path / "work.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    ran = grade("exercise", "3", "--submission", str(broken), "--format", "json")
    assert ran.code == 1 and "Traceback" not in ran.stderr
    assert ran.json()["message"].startswith(f"{broken} is not a notebook Jupyter can read")
    two = tmp_path / "two"
    two.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (two / name).write_text("{}", encoding="utf-8")
    ran = grade("exercise", "3", "--submission", str(two), "--format", "json")
    assert "several notebooks (a.ipynb, b.ipynb)" in ran.json()["message"] and "train.ipynb" in ran.json()["message"]


@pytest.mark.slow
def test_every_quiz_gives_the_same_result_from_its_notebook(grade, tmp_path):
    """Each quiz's notebook (`grade export notebooks`) with its answer cells filled gives the same result as
    the same answers in answers.yaml: all right, and with every other question wrong."""
    from grader.quiz.grading import compute_key

    out = tmp_path / "nb"
    assert grade("export", "notebooks", str(out)).code == 0
    student = "ada-lovelace"
    for spec in (s for s in SPECS.values() if s.kind == "quiz"):
        key = compute_key(spec, student)
        right = {q.id: key[q.id]["answer"]["accepted"][0] if q.type == "text" else key[q.id]["answer"]
                 for q in spec.questions}
        wrong = {**right, **{q.id: "certainly not this" for q in spec.questions[::2]}}
        for name, answers in (("right", right), ("wrong", wrong)):
            answers_file = tmp_path / f"{spec.name}-{name}.yaml"
            answers_file.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
            book = nbformat.read(out / f"{spec.name}.ipynb", as_version=4)
            for cell in book.cells:
                if "answer" in cell.metadata.get("tags", []):
                    question = cell.source.splitlines()[-1].removesuffix(":")
                    cell.source = cell.source.rsplit("\n", 1)[0] + "\n" + yaml.safe_dump(
                        {question: answers[question]}, default_flow_style=None, allow_unicode=True).strip()
            notebook_file = tmp_path / f"{spec.name}-{name}.ipynb"
            nbformat.write(book, notebook_file)
            results = [grade("exercise", str(spec.id), "--student", student, "--submission", str(path),
                             "--format", "json").json() for path in (answers_file, notebook_file)]
            verdicts = [[(c["id"], c["status"], c["points"]) for c in r["checks"]] for r in results]
            assert verdicts[0] == verdicts[1], (spec.name, name)
            assert (results[0]["score"] == spec.max_score) == (name == "right")


def test_a_quiz_notebook_that_cannot_be_read_names_the_cell_and_line(grade, tmp_path):
    book = new_notebook()
    book.cells = [new_markdown_cell("# Quiz"), new_code_cell("%%answers\nrandn-shape: [3, 4\n")]
    path = tmp_path / "answers.ipynb"
    path.write_text(nbformat.writes(book), encoding="utf-8")
    result = grade("exercise", "6", "--submission", str(path), "--format", "json").json()
    assert f"{path}, cell 2:3:" in result["message"], result["message"]
    empty = tmp_path / "empty.ipynb"
    book.cells = [new_code_cell("x = 1")]
    empty.write_text(nbformat.writes(book), encoding="utf-8")
    said = grade("exercise", "6", "--submission", str(empty), "--format", "json").json()["message"]
    assert "no answer cells: an answer cell starts with %%answers" in said


@pytest.mark.slow
def test_every_exported_notebook_passes_with_the_reference_pasted_in(grade, tmp_path):
    """`grade export notebooks`, each code exercise's starter cell replaced by its reference solution and
    handed in as a class's notebook (no .py beside it): every check passes, and the notebook's own cells
    (set-up, check, hint) are not listed as left out."""
    out = tmp_path / "nb"
    assert grade("export", "notebooks", str(out)).code == 0
    folder = tmp_path / "class" / "ref"
    codes = [spec for spec in SPECS.values() if spec.kind == "code"]
    for spec in codes:
        book = nbformat.read(out / f"{spec.name}.ipynb", as_version=4)
        starter = next(c for c in book.cells if "starter" in c.metadata.get("tags", []))
        starter.source = (spec.solution_folder / spec.files[0]).read_text(encoding="utf-8")
        (folder / spec.name).mkdir(parents=True)
        nbformat.write(book, folder / spec.name / (Path(spec.files[0]).stem + ".ipynb"))
    ran = grade("batch", str(tmp_path / "class"), *[str(s.id) for s in codes], "--out", str(tmp_path / "g.csv"),
                timeout=900)
    assert ran.code in (0, 1), ran.stderr
    records = [json.loads(line) for line in (tmp_path / "g.records.jsonl").read_text().splitlines()]
    assert len(records) == len(codes)
    for record in records:
        result = record["result"]
        assert result["passed"], (result["exercise"], [c for c in result["checks"] if c["status"] != "passed"])
        assert "Nothing was left out." in result["notes"][0]["text"], result["notes"][0]["text"]
