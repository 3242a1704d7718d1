"""`grader.check(3)` inside a running notebook, tested in a real Jupyter kernel (nbclient + ipykernel, the
`notebook` extra): the notebooks `grade export notebooks` writes, with the reference solution pasted in,
pass; with a known mistake they show the failed check's feedback; a cell with a syntax error is named by
its run and line; a quiz answered in its answer cells is graded as its answers.yaml would be; the set-up
cell installs the grader from a local wheel. The kernel runs the student's code; the grading runs in a
process of its own, as `grade exercise` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from markupsafe import escape
from nbclient import NotebookClient

from grader import kernel, notebooks
from grader.course import Course
from grader.quiz.grading import compute_key

ROOT = Path(__file__).resolve().parent.parent
SPECS = {s.id: s for s in Course(ROOT).load_all()}
STUDENT = "grace-hopper"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, grade) -> Path:
    out = tmp_path_factory.mktemp("notebooks")
    ran = grade("export", "notebooks", str(out / "nb"), "--course-url", "https://github.com/example/course.git")
    assert ran.code == 0, ran.stderr
    return out / "nb"


@pytest.fixture()
def kernel_env(monkeypatch: pytest.MonkeyPatch, session_env: dict[str, str], tmp_path: Path) -> None:
    """The kernel inherits this process's environment: the session's cache, a progress file of this test's."""
    for key in [k for k in os.environ if k.startswith("TORCHGRADE_")]:
        monkeypatch.delenv(key)
    for key in ("TORCHGRADE_CACHE_DIR", "NO_COLOR"):
        monkeypatch.setenv(key, session_env[key])
    monkeypatch.setenv("TORCHGRADE_PROGRESS", str(tmp_path / "progress.json"))
    monkeypatch.setenv("TORCHGRADE_LANG", "en")


def _run(book: Any, cwd: Path = ROOT, kernel_name: str = "python3") -> Any:
    client = NotebookClient(book, timeout=600, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return book


def _tagged(book: Any, tag: str) -> Any:
    return next(cell for cell in book.cells if tag in cell.metadata.get("tags", []))


def _shown(cell: Any) -> tuple[str, str]:
    """What a cell's output showed: the text a console shows, and the HTML a notebook shows."""
    text = html = ""
    for output in cell.outputs:
        data = output.get("data", {})
        text += data.get("text/plain", "") + output.get("text", "") + "\n".join(output.get("traceback", []))
        html += data.get("text/html", "")
    return text, html


def _with_code(exported: Path, number: int, source: str) -> Any:
    book = nbformat.read(exported / f"{SPECS[number].name}.ipynb", as_version=4)
    _tagged(book, "starter").source = source
    return book


def test_the_reference_solution_pasted_in_passes_and_shows_html(exported, kernel_env):
    spec = SPECS[3]
    book = _run(_with_code(exported, 3, (spec.solution_folder / "train.py").read_text(encoding="utf-8")))
    text, html = _shown(_tagged(book, "check"))
    assert "Score: 10/10  All checks passed." in text, text
    assert '<div class="torchgrade"' in html and "all checks passed" in html and "<style>" in html
    assert "<html" not in html  # one block of the notebook's page, not a page of its own
    hint_text, _ = _shown(_tagged(book, "hint"))
    assert spec.hints[0].split()[0] in hint_text
    assert "Traceback" not in text + hint_text


def test_a_known_mistake_shows_the_failed_checks_feedback(exported, kernel_env):
    spec = SPECS[3]
    mutant = spec.mutants[0]
    book = _run(_with_code(exported, 3, (spec.solution_folder / mutant.file).read_text(encoding="utf-8")))
    text, html = _shown(_tagged(book, "check"))
    for failing in mutant.fails:
        title = spec.check(failing).title
        assert f"FAIL   {title}" in text or f"FAIL  {title}" in text, text
        assert str(escape(title)) in html
    assert "Why it matters" in html and 'class="check failed"' in html


def test_the_students_line_is_named_as_the_kernels_traceback_names_it(exported, kernel_env):
    source = (SPECS[3].solution_folder / "train.py").read_text(encoding="utf-8")
    wrong = source.replace("loss = loss_fn(outputs, targets)", "loss = loss_fn(outputs, targets.float())", 1)
    book = _run(_with_code(exported, 3, wrong))
    text, html = _shown(_tagged(book, "check"))
    starter = _tagged(book, "starter")
    line = starter.source.splitlines().index("        loss = loss_fn(outputs, targets.float())") + 1
    assert f"Cell In[{starter.execution_count}], line {line}" in text, text
    assert f"Cell In[{starter.execution_count}], line {line}" in html and "train.py" not in text


def test_a_cell_with_a_syntax_error_is_named_by_its_run_and_line(exported, kernel_env):
    spec = SPECS[3]
    source = (spec.solution_folder / "train.py").read_text(encoding="utf-8")
    book = _with_code(exported, 3, source)
    broken = nbformat.v4.new_code_cell("def evaluate(model, loader, loss_fn):\n    total = 0\n    for x in loader\n"
                                       "        total += 1\n    return total")
    book.cells.insert(book.cells.index(_tagged(book, "starter")) + 1, broken)
    _run(book)
    text, _ = _shown(_tagged(book, "check"))
    assert f"Cell In[{broken.execution_count}], line 3: a syntax error" in text, text
    assert "All checks passed" in text  # it never ran: the kernel's evaluate is the one defined before


def _answered(exported: Path, number: int, answers: dict[str, Any]) -> Any:
    book = nbformat.read(exported / f"{SPECS[number].name}.ipynb", as_version=4)
    setup = _tagged(book, "setup")
    setup.source = setup.source.replace('STUDENT = ""', f'STUDENT = "{STUDENT}"')
    for cell in book.cells:
        if "answer" in cell.metadata.get("tags", []):
            question = cell.source.splitlines()[-1].removesuffix(":")
            if question in answers:
                cell.source = cell.source.rsplit("\n", 1)[0] + "\n" + yaml.safe_dump(
                    {question: answers[question]}, default_flow_style=None, allow_unicode=True).strip()
    return book


def _right(spec, key: dict[str, Any]) -> dict[str, Any]:
    return {q.id: (key[q.id]["answer"]["accepted"][0] if q.type == "text" else key[q.id]["answer"])
            for q in spec.questions if key[q.id].get("answer") is not None}


def test_a_quiz_answered_in_its_cells_is_graded_in_the_kernel(exported, kernel_env):
    spec = SPECS[6]
    right = _right(spec, compute_key(spec, STUDENT))
    first = spec.questions[0].id
    book = _run(_answered(exported, 6, {**right, first: "certainly not a shape"}))
    text, html = _shown(_tagged(book, "check"))
    assert f"{spec.max_score - spec.questions[0].points:g}/{spec.max_score:g}" in text, text
    answer_cells = [c for c in book.cells if "answer" in c.metadata.get("tags", [])]
    assert all("Answers noted" in _shown(c)[0] for c in answer_cells)
    shown, _ = _shown(next(c for c in book.cells if c.source == "grader.show(6)"))
    assert f"Student: `{STUDENT}`" in shown


def test_outside_a_notebook_check_says_where_it_works():
    ran = subprocess.run([sys.executable, "-c", "import grader; grader.check(3)"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert ran.returncode == 0 and "grader.check() grades the cells a notebook has run" in ran.stdout
    assert "grade exercise 3" in ran.stdout and not ran.stderr


def test_the_set_up_cell_installs_the_grader_from_a_local_wheel(exported, kernel_env, tmp_path, monkeypatch):
    """No network: a fresh environment without the grader (torch and Jupyter seen through a .pth of this
    one's site-packages), the wheel built from this checkout named by TORCHGRADE_PACKAGE, the course where
    the set-up cell keeps its copy; the set-up cell installs it and the check cell grades."""
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("torchgrade-*.whl"))
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    here = [p for p in sys.path if p.endswith("site-packages")]
    (site / "torchgrade-test-parent.pth").write_text("\n".join(here) + "\n")
    assert subprocess.run([str(python), "-c", "import grader"], capture_output=True, cwd=tmp_path).returncode != 0
    specs = tmp_path / "kernels" / "kernels" / "fresh"
    specs.mkdir(parents=True)
    (specs / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "fresh", '
        '"language": "python"}' % python)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "kernels"))
    monkeypatch.setenv("TORCHGRADE_PACKAGE", str(wheel))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_DEPS", "1")
    work = tmp_path / "colab"
    work.mkdir()
    (work / "torchgrade-course").symlink_to(ROOT)  # the set-up cell finds its copy there, so it clones nothing
    spec = SPECS[2]
    book = _run(_with_code(exported, 2, (spec.solution_folder / "model.py").read_text(encoding="utf-8")), cwd=work,
                kernel_name="fresh")
    setup_text, _ = _shown(_tagged(book, "setup"))
    assert "Traceback" not in setup_text, setup_text
    text, _ = _shown(_tagged(book, "check"))
    assert "All checks passed" in text, text
    assert (site / "grader" / "kernel.py").is_file()  # installed from the wheel, into the fresh environment


def test_the_kernels_cells_make_the_module_as_they_ran():
    cells = [(1, "import torch\nt = 0; train(); x = 2"), (2, "def f(:\n    pass"), (3, "import grader\ngrader.check(3)"),
             (4, "def f():\n    return 1")]
    book = notebooks.from_kernel(cells, kernel.SHOWN, "train.py")
    assert "train()" not in book.source and "t = 0" in book.source and "x = 2" in book.source
    assert "grader" not in book.source and "def f():" in book.source
    reasons = [(item.cell, item.line, item.reason) for item in book.left_out]
    assert (2, 1, "syntax") in reasons and (1, 2, "runs") in reasons
    told = book.note().said.params["left_out"]
    assert not any(item["params"]["code"].startswith(("import grader", "grader.")) for item in told)  # not said
    assert book.place(book.source.splitlines().index("def f():") + 1) == (4, 1)


def test_answer_cells_keep_the_cells_lines():
    [(cell, text)] = notebooks.answer_cells([(1, "x = 1"), (2, "\n%%answers\n# a comment\nq: [3, 4]")])
    assert cell == 2 and text.split("\n")[3] == "q: [3, 4]"
