"""The student's side of the grader imports where Linux's process tools are missing (Windows has no
`resource` module, no `os.fork`, no `os.pidfd_open`; macOS has no `pidfd_open`): what needs them is
imported where a worker uses it, not when `grade`, the notebook check or the renderers load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STUDENT_SIDE = ["grader", "grader.cli", "grader.kernel", "grader.watch", "grader.submissions", "grader.course",
                "grader.notebooks", "grader.progress", "grader.glossary", "grader.quiz.grading",
                "grader.quiz.interactive", "grader.render", "grader.render.html", "grader.render.words",
                "grader.runner.launch", "grader.runner.isolation", "grader.runner.sandbox",
                "grader.runner.spawned", "grader.runner.windows"]

WITHOUT_LINUX = """
import os, sys
sys.modules["resource"] = None  # `import resource` now raises ImportError, as on Windows
sys.modules["fcntl"] = None  # and fcntl (the progress file's lock is msvcrt's there)
for name in ("fork", "pidfd_open", "forkpty"):
    if hasattr(os, name):
        delattr(os, name)
import importlib
for module in sys.argv[1:]:
    importlib.import_module(module)
print("imported", len(sys.argv) - 1)
"""


def test_the_students_side_imports_without_resource_fork_or_pidfd_open():
    ran = subprocess.run([sys.executable, "-c", WITHOUT_LINUX, *STUDENT_SIDE], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"imported {len(STUDENT_SIDE)}"


def test_the_check_itself_can_fail():
    """The same prelude does stop an import of `resource`: the test above is not vacuous."""
    ran = subprocess.run([sys.executable, "-c", WITHOUT_LINUX + "import resource\n"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert ran.returncode != 0 and "import of resource halted" in ran.stderr
