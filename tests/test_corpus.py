"""The real-world corpus (`tests/corpus/NN-slug/*.py`) and the metamorphic variants (`metamorphic.py`)
get their right verdicts. Each corpus file is a submission written in the idiom of one piece of public
code, which its docstring cites (`Seen in:`), and says what it must get (`Expect: pass`, or
`Expect: fails CHECK[, CHECK]`): a correct one passes every check; a bug fails exactly the checks that
name it, and any other check it fails says it follows from one of those ("because of"). Every file is
graded by one `grade batch` of every code exercise (warm processes: the same verdicts as `grade exercise`)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import has_gpu
from grader.course import Course
from metamorphic import variants

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SPECS = {s.name: s for s in Course(ROOT).load_all() if s.kind == "code"}


@dataclass
class Submission:
    exercise: str
    name: str
    source: str
    fails: list[str]  # empty: must pass
    seen_in: str = ""

    @property
    def id(self) -> str:
        return f"{self.exercise}:{self.name}"


def _corpus() -> list[Submission]:
    found = []
    for path in sorted(CORPUS.glob("*/*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        expect = re.search(r"^Expect: (pass|fails (.+))$", doc, re.MULTILINE)
        seen = re.search(r"^Seen in: (.+)$", doc, re.MULTILINE)
        fails = [c.strip() for c in expect.group(2).split(",")] if expect and expect.group(2) else []
        found.append(Submission(path.parent.name, path.stem, path.read_text(), fails if expect else ["?"],
                                seen.group(1) if seen else ""))
    return found


def _metamorphic() -> list[Submission]:
    return [Submission(name, f"metamorphic-{variant}", source, [])
            for name, spec in SPECS.items() for variant, source in variants(name, spec.files[0]).items()]


CORPUS_SUBMISSIONS = _corpus()
METAMORPHIC = _metamorphic()


def test_the_corpus_is_large_cited_and_labelled():
    assert len(CORPUS_SUBMISSIONS) >= 40
    correct = [s for s in CORPUS_SUBMISSIONS if not s.fails]
    assert len(correct) * 2 >= len(CORPUS_SUBMISSIONS)
    for exercise in SPECS:
        assert [s for s in CORPUS_SUBMISSIONS if s.exercise == exercise], f"no corpus submission for {exercise}"
    for submission in CORPUS_SUBMISSIONS:
        assert submission.exercise in SPECS, submission.id
        assert submission.fails != ["?"], f"{submission.id}: no `Expect: pass` or `Expect: fails CHECK` line"
        assert re.search(r"[\w.-]+/[\w.-]+, \S", submission.seen_in), f"{submission.id}: `Seen in: owner/repo, path`"
        known = {c.id for c in SPECS[submission.exercise].checks}
        assert set(submission.fails) <= known, f"{submission.id}: no such check {set(submission.fails) - known}"


def test_every_rewrite_applies_somewhere_and_each_exercise_has_variants():
    from metamorphic import REWRITES

    used = {s.name.removeprefix("metamorphic-") for s in METAMORPHIC}
    assert set(REWRITES) <= used
    assert {s.exercise for s in METAMORPHIC} == set(SPECS)


@pytest.fixture(scope="module")
def verdicts(grade, tmp_path_factory) -> dict[str, dict]:
    """Every corpus submission and metamorphic variant graded, by one `grade batch` of every code exercise
    (student sNNN hands in the NNN-th submission of each exercise, in its NN-slug/ folder; results for
    exercises a student did not hand in are left out): id -> result (JSON)."""
    folder = tmp_path_factory.mktemp("corpus")
    students = folder / "students"
    submissions: dict[tuple[str, str], Submission] = {}
    for exercise, spec in SPECS.items():
        mine = [s for s in CORPUS_SUBMISSIONS + METAMORPHIC if s.exercise == exercise]
        for i, submission in enumerate(mine):
            (students / f"s{i:03d}" / exercise).mkdir(parents=True)
            (students / f"s{i:03d}" / exercise / spec.files[0]).write_text(submission.source)
            submissions[f"s{i:03d}", exercise] = submission
    ran = grade("batch", str(students), *(str(spec.id) for spec in SPECS.values()), "--workers", "2",
                "--out", str(folder / "grades.json"), timeout=2400)
    assert ran.code in (0, 1), ran.stderr[-3000:]
    found = {}
    for line in (folder / "grades.records.jsonl").read_text().splitlines():
        record = json.loads(line)
        key = (record["student"], record["result"]["exercise"])
        if key in submissions:
            found[submissions[key].id] = record["result"]
    assert len(found) == len(submissions)
    return found


def _judge(spec, submission: Submission, result: dict) -> list[str]:
    """What is wrong with the verdict on `submission`: nothing for the right one."""
    gpu_only = {c.id for c in spec.checks if c.gpu_only}
    problems = []
    for check in result["checks"]:
        status, cid = check["status"], check["id"]
        if "message could not be shown" in check["message"]:  # grader.render.words: an id or a value missing
            problems.append(f"{cid}: {check['message'][:300]}")
        if status == "skipped" and (cid not in gpu_only or has_gpu()):
            problems.append(f"{cid} was skipped")
        elif status == "error":
            problems.append(f"{cid} ended in an error: {check['message'][:300]}")
        elif status == "failed" and cid not in submission.fails and not check["because_of"]:
            problems.append(f"{cid} failed on its own, and the submission's bug is not its habit: {check['message'][:300]}")
        elif status == "passed" and cid in submission.fails:
            problems.append(f"{cid} passed: the bug went unnoticed")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("submission", CORPUS_SUBMISSIONS + METAMORPHIC, ids=lambda s: s.id)
def test_each_submission_gets_its_verdict(verdicts, submission):
    result = verdicts[submission.id]
    assert not _judge(SPECS[submission.exercise], submission, result), result
    for check in result["checks"]:
        if check["id"] in submission.fails:  # a diagnosis in words, pointing at the right habit
            assert check["message"].strip() and not check["because_of"], check
