"""The repository's promises: CI (`.ci/run`) installs what the README installs and runs its test command,
then its second pass with the spawn backend."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if line.endswith("python -m pytest"))
    spawn_pass = next(line for line in readme.splitlines() if line.startswith("TORCHGRADE_WORKERS=spawn "))
    ci_steps = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_steps == command.split(" && ") + [spawn_pass]


def test_top_level_holds_only_the_agreed_folders():
    allowed = {"exercises", "solutions", "grader", "glossary", "tests", "pyproject.toml", "README.md", ".ci",
               "docs", "bench", ".git", ".gitignore", ".venv"}
    extra = {p.name for p in ROOT.iterdir()} - allowed
    assert not {e for e in extra if not e.endswith(".egg-info") and e not in {".pytest_cache", "build"}}, extra


def test_every_data_file_of_the_package_is_installed():
    """A non-editable install (a wheel) carries only the package-data globs: every template must match one."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["grader"]
    package = ROOT / "grader"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert data, "the package has templates"
    missed = [d for d in data if not any(fnmatch.fnmatch(d, g) and d.count("/") == g.count("/") for g in globs)]
    assert not missed, missed
