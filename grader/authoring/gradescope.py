"""`grade export gradescope OUT.zip`: Gradescope's autograder. At the zip's root, `setup.sh` (installs
Python's venv, a CPU-only PyTorch and the course) and `run_autograder` (grades /autograder/submission
with `grade all --format gradescope` into /autograder/results/results.json); the course itself, as a
grading copy (every check, recorded reference answers, quiz keys; no solution's code), under `course/`."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from grader.authoring import export_templates
from grader.authoring.classroom import Pins
from grader.authoring.export import Export, ExportError, export_grading_copy
from grader.course import Course

TEMPLATES = Path(__file__).parent / "templates" / "gradescope"
EXECUTABLE = 0o755


def export_gradescope(course: Course, zip_path: Path, *, pins: Pins, hidden_visibility: str = "after_published",
                      jobs: int = 4) -> Export:
    if zip_path.suffix != ".zip":
        raise ExportError(f"{zip_path}: Gradescope takes a .zip file; name it like autograder.zip")
    if zip_path.exists():
        raise ExportError(f"{zip_path} exists already: remove it or choose another name")
    with tempfile.TemporaryDirectory(prefix="torchgrade-gradescope-") as scratch:
        root = Path(scratch)
        made = export_grading_copy(course, root / "course", jobs=jobs)
        for name, text in render_scripts(course, pins, hidden_visibility).items():
            script = root / name
            script.write_text(text, encoding="utf-8")
            script.chmod(EXECUTABLE)
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        _zip(root, zip_path)
    return made


def render_scripts(course: Course, pins: Pins, hidden_visibility: str) -> dict[str, str]:
    """Gradescope's two scripts: `setup.sh` (installs the grader, PyTorch and the packages the course's
    exercises allow) and `run_autograder` (grades a submission into results.json)."""
    env, packages = export_templates(TEMPLATES), course.packages()
    return {name: env.get_template(name + ".j2").render(pins=pins, hidden_visibility=hidden_visibility, packages=packages)
            for name in ("setup.sh", "run_autograder")}


def _zip(folder: Path, zip_path: Path) -> None:
    """Zip `folder`'s contents at the archive's root, keeping the scripts executable."""
    with zipfile.ZipFile(zip_path.with_suffix(".partial"), "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                mode = EXECUTABLE if os.access(path, os.X_OK) else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                archive.writestr(info, path.read_bytes())
    shutil.move(zip_path.with_suffix(".partial"), zip_path)
