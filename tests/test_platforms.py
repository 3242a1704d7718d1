"""Where courses live: GitHub Classroom (the reporter's JSON, step output, summary, annotations, the
exported workflow), Gradescope (results.json, the autograder zip run end to end), JUnit and HTML.
The platforms' points must be exactly the points `grade` computed."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grader.course import Course
from grader.render import render_result
from grader.render.classroom import annotations, report
from grader.results import CheckResult, CourseResult, ExerciseResult

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = Course(ROOT).glossary


def _check(check_id: str, status: str, points: float, max_points: float, **extra) -> CheckResult:
    return CheckResult(id=check_id, title=f"Check {check_id}", status=status, points=points, max_points=max_points,
                       concepts=["zero-grad"], **extra)


def _result(checks: list[CheckResult], message: str = "", exercise_id: int = 3) -> ExerciseResult:
    return ExerciseResult.from_checks(exercise=f"{exercise_id:02d}-training-loop", exercise_id=exercise_id,
                                      title="Train and evaluate", checks=checks, duration=1.5, message=message)


PARTLY = _result([
    _check("a", "passed", 3, 3),
    _check("b", "failed", 0, 2, message="`total += loss` keeps <every> graph", why_it_matters="Memory grows.",
           what_to_try="Use `loss.item()`.", file="train.py", line=17),
    _check("c", "skipped", 0, 1, message="this check needs a CUDA GPU and this machine has none"),
    _check("d", "error", 0, 1, message="The grader hit an internal problem.", hidden=True),
])


def _reporter_totals(payloads: list[dict]) -> tuple[float, float]:
    """What Classroom's reporter records: every test's score over every runner's max_score."""
    return (sum(t["score"] for p in payloads for t in p["tests"]), sum(p["max_score"] for p in payloads))


def _assert_reporter_fields(payload: dict) -> None:
    assert payload["version"] == 1 and payload["status"] in ("pass", "fail", "error")
    assert isinstance(payload["max_score"], (int, float)) and payload["tests"]
    for test in payload["tests"]:
        assert set(test) == {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
        assert test["status"] in ("pass", "fail", "error") and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["line_no"], int)
        assert isinstance(test["duration"], int) and isinstance(test["filename"], str)
    assert sum(t["score"] for t in payload["tests"]) <= payload["max_score"]


def test_classroom_report_has_every_field_the_reporter_reads():
    payload = report([PARTLY], GLOSSARY)
    _assert_reporter_fields(payload)
    assert _reporter_totals([payload]) == (PARTLY.score, PARTLY.max_score) == (3, 6)
    assert payload["status"] == "error"  # a check that could not be judged is never a plain failure
    by_name = {t["name"]: t for t in payload["tests"]}
    assert by_name["Check a"] == {"name": "Check a", "status": "pass", "score": 3, "message": "",
                                  "test_code": "grade exercise 3  # check a", "filename": "", "line_no": 0,
                                  "duration": 0}
    failed = by_name["Check b"]
    assert failed["status"] == "fail" and failed["filename"] == "exercises/03-training-loop/train.py"
    assert failed["line_no"] == 17
    assert "`total += loss` keeps <every> graph" in failed["message"] and "Use `loss.item()`." in failed["message"]
    assert "optimizer.zero_grad()" in failed["message"] and "\x1b[" not in failed["message"]  # glossary, no colour
    skipped = by_name["Check c"]
    assert skipped["status"] != "pass" and skipped["score"] == 0 and "not counted" in skipped["message"]


def test_classroom_statuses_and_whole_submission_errors():
    passing = _result([_check("a", "passed", 3, 3), _check("c", "skipped", 0, 1, message="no GPU")])
    assert report([passing], GLOSSARY)["status"] == "pass" and report([passing], GLOSSARY)["max_score"] == 3
    failing = _result([_check("a", "failed", 0, 3, message="wrong")])
    assert report([failing], GLOSSARY)["status"] == "fail"
    crash = "train.py has a syntax error on line 20."
    crashed = _result([_check("a", "error", 0, 3, message=crash, file="train.py", line=20),
                       _check("b", "error", 0, 2, message=crash, file="train.py", line=20)], message=crash)
    payload = report([crashed], GLOSSARY)
    _assert_reporter_fields(payload)  # an error still sends tests: the reporter crashes without them
    assert payload["status"] == "error" and [t["message"] for t in payload["tests"]] == [crash, crash]
    assert annotations(payload["tests"]) == [
        "::error file=exercises/03-training-loop/train.py,line=20,title=2 checks could not pass%3A Check a%2C ..."
        "::train.py has a syntax error on line 20."]


def test_annotations_escape_what_github_would_misread():
    tests = [{"name": "a, b: c", "status": "fail", "filename": "exercises/x/y.py", "line_no": 3,
              "message": "100% wrong\nsecond line"}]
    assert annotations(tests) == ["::error file=exercises/x/y.py,line=3,title=a%2C b%3A c::100%25 wrong%0Asecond line"]


def test_grade_all_totals_are_the_exercises_totals():
    quiz = _result([_check("q", "passed", 2, 2)], exercise_id=6)
    course = CourseResult.from_results([PARTLY, quiz])
    assert (course.score, course.max_score, course.status) == (5, 8, "error")
    payload = json.loads(render_result(course, "classroom", GLOSSARY))
    assert _reporter_totals([payload]) == (5, 8)
    assert {t["name"].split(":")[0] for t in payload["tests"]} == {"3. Train and evaluate", "6. Train and evaluate"}
    gradescope = json.loads(render_result(course, "gradescope", GLOSSARY))
    assert gradescope["score"] == 5 and sum(t["max_score"] for t in gradescope["tests"]) == 8


def _assert_gradescope_fields(results: dict) -> None:
    assert {"score", "execution_time", "output", "output_format", "stdout_visibility", "tests"} <= set(results)
    assert results["output_format"] == "md" and isinstance(results["score"], (int, float))
    for test in results["tests"]:
        assert set(test) == {"name", "number", "score", "max_score", "status", "output", "output_format", "tags",
                             "visibility"}
        assert test["status"] in ("passed", "failed") and test["output_format"] == "md"
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert 0 <= test["score"] <= test["max_score"] or test["status"] == "failed"
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def test_gradescope_results_json():
    results = json.loads(render_result(PARTLY, "gradescope", GLOSSARY))
    _assert_gradescope_fields(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert results["score"] == 3 and sum(t["max_score"] for t in tests.values()) == PARTLY.max_score
    assert tests["Check a"]["status"] == "passed" and tests["Check a"]["tags"] == ["zero-grad"]
    assert tests["Check b"]["status"] == "failed" and "**What to try.** Use `loss.item()`." in tests["Check b"]["output"]
    assert "](glossary/" not in tests["Check b"]["output"]  # no relative link that leads nowhere on Gradescope
    assert tests["Check c"]["status"] == "failed" and tests["Check c"]["max_score"] == 0  # never passed, not owed
    assert tests["Check d"]["visibility"] == "after_published" and tests["Check b"]["visibility"] == "visible"
    assert "internal problem" not in results["output"]  # top-level output never shows a hidden check's feedback
    hidden = json.loads(render_result(PARTLY, "gradescope", GLOSSARY, hidden_visibility="hidden"))
    assert {t["name"]: t["visibility"] for t in hidden["tests"]}["Check d"] == "hidden"


def test_junit_xml():
    root = ET.fromstring(render_result(PARTLY, "junit", GLOSSARY))
    assert root.tag == "testsuites" and root.get("tests") == "4"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "1", "1")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["a: Check a"].find("failure") is None
    failure = cases["b: Check b"].find("failure")
    assert failure is not None and "keeps <every> graph" in failure.text and "Use `loss.item()`." in failure.text
    assert cases["b: Check b"].get("line") == "17"
    assert cases["c: Check c"].find("skipped") is not None and cases["d: Check d"].find("error") is not None
    points = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert points == {"score": "3", "max_score": "6"}


def test_html_page_escapes_the_run_and_explains_terms():
    page = render_result(PARTLY, "html", GLOSSARY)
    assert page.startswith("<!DOCTYPE html>") and "keeps &lt;every&gt; graph" in page and "<every>" not in page
    term = GLOSSARY["zero-grad"]
    assert f'id="term-zero-grad"' in page and f'title="{term.summary}"' in page
    assert "in train.py, line 17" in page
    assert "<code>total += loss</code>" in page and "<code>loss.item()</code>" in page  # code stays code, unlinked


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory) -> Path:
    """A course of one scaffolded exercise (one check hidden) and one scaffolded quiz: exports take seconds."""
    root = tmp_path_factory.mktemp("tiny") / "course"
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "exercises").mkdir()
    (root / "solutions").mkdir()
    for kind, slug in (("exercise", "demo"), ("quiz", "shapes")):
        subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(root), "new", kind, slug], check=True,
                       capture_output=True)
    yaml_file = root / "exercises/01-demo/exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("    title: scale leaves its input unchanged\n",
                                                       "    title: scale leaves its input unchanged\n    hidden: true\n"))
    return root


def _decode_output(path: Path) -> dict:
    lines = [line for line in path.read_text().splitlines() if line.startswith("result=")]
    assert len(lines) == 1, path.read_text()
    return json.loads(base64.b64decode(lines[0].removeprefix("result=")))


@pytest.mark.slow
def test_classroom_template_and_hidden_checks_from_a_private_copy(tmp_path, grade, tiny_course):
    template, checks = tmp_path / "template", tmp_path / "checks"
    ran = grade("--course", str(tiny_course), "export", "classroom", str(template), "--checks-repo", "prof/checks",
                "--checks-out", str(checks), "--torch", "2.14.1", "--torchvision", "0.29.1")
    assert ran.code == 0, ran.stderr
    workflow = template / ".github/workflows/classroom.yml"
    schema = subprocess.run([Path(sys.executable).parent / "check-jsonschema", "--builtin-schema",
                             "vendor.github-workflows", str(workflow)], capture_output=True, text=True)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    text = workflow.read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu" in text and "cache: pip" in text
    assert "repository: prof/checks" in text and "secrets.TORCHGRADE_CHECKS_TOKEN" in text
    assert "runners: exercise01,exercise02" in text and 'EXERCISE01_RESULTS: "${{ steps.exercise01.outputs.result }}"' in text
    assert "grade exercise 1 --format classroom --checks-from .torchgrade-checks" in text
    # the hidden check is in the private copy only; quiz keys too
    assert "input_unchanged" not in (template / "exercises/01-demo/checks/test_demo.py").read_text()
    assert "input_unchanged" in (checks / "exercises/01-demo/checks/test_demo.py").read_text()
    assert not (template / "solutions").exists() and (checks / "solutions/02-shapes/key.yaml").is_file()
    assert not list(checks.rglob("demo.py"))[1:] and not (checks / "solutions/01-demo").exists()

    # A student's run on GitHub: their mutant, the instructor's checks; raising their own points does nothing.
    shutil.copy(tiny_course / "solutions/01-demo/mutants/in_place.py", template / "exercises/01-demo/demo.py")
    own_yaml = template / "exercises/01-demo/exercise.yaml"
    own_yaml.write_text(own_yaml.read_text().replace("points: 2", "points: 200"))
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "class/ann", "GITHUB_SHA": "abc123",
           "PYTHONPATH": str(template)}
    ran = grade("exercise", "1", "--format", "classroom", "--checks-from", str(checks), cwd=template, env=env)
    assert ran.code == 0, ran.stderr  # the reporter, not this step, fails the job
    payload = _decode_output(output)
    _assert_reporter_fields(payload)
    assert [(t["name"], t["status"], t["score"]) for t in payload["tests"]] == [
        ("scale multiplies every element by the factor", "pass", 2), ("scale leaves its input unchanged", "fail", 0)]
    assert payload["max_score"] == 3 and payload["status"] == "fail"
    assert "scale changed the tensor it was given" in ran.stdout  # the feedback, in the step's log
    assert "[Tensor](https://github.com/class/ann/blob/abc123/glossary/README.md#tensor)" in summary.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("submission, status", [
    ("solutions/03-training-loop/train.py", "pass"),
    ("solutions/03-training-loop/mutants/no_zero_grad.py", "fail"),
    ("tests/golden/exception_at_import/train.py", "error"),
])
def test_classroom_output_of_a_real_grading(tmp_path, grade, submission, status):
    output = tmp_path / "output"
    env = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    ran = grade("exercise", "3", "--submission", str(ROOT / submission), "--format", "classroom", env=env)
    assert ran.code == 0, ran.stderr
    payload = _decode_output(output)
    _assert_reporter_fields(payload)
    truth = grade("exercise", "3", "--submission", str(ROOT / submission), "--format", "json").json()
    assert payload["status"] == status
    assert _reporter_totals([payload]) == (truth["score"], truth["max_score"])
    assert [t["score"] for t in payload["tests"]] == [c["points"] for c in truth["checks"]]
    if status == "error":
        assert {(t["filename"], t["line_no"]) for t in payload["tests"]} == {("exercises/03-training-loop/train.py", 5)}
        assert ran.stdout.startswith("::error file=exercises/03-training-loop/train.py,line=5,")
    if status == "pass":
        assert "::error" not in ran.stdout


@pytest.mark.slow
def test_gradescope_autograder_runs_end_to_end(tmp_path, grade, tiny_course):
    archive = tmp_path / "autograder.zip"
    ran = grade("--course", str(tiny_course), "export", "gradescope", str(archive), "--torch", "2.14.1",
                "--torchvision", "0.29.1")
    assert ran.code == 0, ran.stderr
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        assert (zipped.getinfo("run_autograder").external_attr >> 16) & 0o111
        assert not [n for n in names if n.startswith("course/solutions/01-demo")]  # no solution code
        assert "course/solutions/02-shapes/key.yaml" in names
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    (root / "source/run_autograder").chmod(0o755)

    def run(files: dict[str, str], python: str = sys.executable) -> dict:
        shutil.rmtree(root / "submission", ignore_errors=True)
        shutil.rmtree(root / "results", ignore_errors=True)
        for name, source in files.items():
            (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / "submission" / name)
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "ann@uni.edu"}]}))
        proc = subprocess.run(["bash", str(root / "source/run_autograder")], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "TORCHGRADE_AUTOGRADER_ROOT": str(root),
                                   "TORCHGRADE_PYTHON": python, "HOME": str(tmp_path)}, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads((root / "results/results.json").read_text())

    solution = tiny_course / "solutions/01-demo/demo.py"
    flat = run({"demo.py": str(tiny_course / "solutions/01-demo/mutants/in_place.py")})
    _assert_gradescope_fields(flat)
    tests = {t["name"]: t for t in flat["tests"]}
    assert tests["1. Demo: scale leaves its input unchanged"]["visibility"] == "after_published"
    assert tests["1. Demo: scale leaves its input unchanged"]["status"] == "failed"
    assert flat["score"] == 2  # the quiz has no answers file in a flat upload: 0 of 2, said in its tests
    assert "exercises/02-shapes/answers.yaml" in tests["2. Shapes: Number of elements"]["output"]

    answers = tmp_path / "answers.yaml"
    answers.write_text("")
    repository = run({"exercises/01-demo/demo.py": str(solution), "exercises/02-shapes/answers.yaml": str(answers)})
    _assert_gradescope_fields(repository)
    assert repository["score"] == 3 and all(t["status"] == "passed" for t in repository["tests"][:2])

    broken = run({"demo.py": str(solution)}, python="/bin/false")  # the grader cannot start at all
    assert broken["score"] == 0 and "not a problem with your work" in broken["output"]


@pytest.mark.slow
def test_grade_all_formats(tmp_path, grade):
    truth = grade("all", "3", "6", "--format", "json").json()
    assert [r["exercise"] for r in truth["results"]] == ["03-training-loop", "06-tensors"]
    assert truth["score"] == sum(r["score"] for r in truth["results"])
    assert truth["max_score"] == sum(r["max_score"] for r in truth["results"])
    classroom = grade("all", "3", "6", "--format", "classroom")
    assert classroom.code == 0
    payload = json.loads(classroom.stdout)
    _assert_reporter_fields(payload)
    assert _reporter_totals([payload]) == (truth["score"], truth["max_score"])
    text = grade("all", "3", "6")
    assert text.code == 1 and "Total" in text.stdout and f"Score: {truth['score']:g}/{truth['max_score']:g}" in text.stdout
    page = tmp_path / "report.html"
    written = grade("all", "3", "6", "--format", "html", "--output", str(page))
    assert written.code == 1 and page.read_text().count("<section id=") >= 2
