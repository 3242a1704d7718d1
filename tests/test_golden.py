"""Golden folders (after Exercism's test runner): each `tests/golden/CASE/` holds a submission for
exercise 3 that breaks in one way, optional extra CLI arguments (`args.json`), and the exact result
expected (`expected.json`, timings left out). Regenerate after an intended change of wording with
`TORCHGRADE_UPDATE_GOLDEN=1 pytest tests/test_golden.py`, then read the diff. Each case is graded in every
language (`expected.json` in English, `expected.zh.json` in Chinese), and the facts of the two results
(everything but their words) are the same."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "train.py").is_file())


def _normalised(result: dict) -> dict:
    result = {k: v for k, v in result.items() if k not in ("duration", "isolation")}  # isolation: per machine
    result["checks"] = [{k: v for k, v in c.items() if k not in ("duration", "slowest_probe")} for c in result["checks"]]
    return result


def test_every_outcome_has_a_golden_folder():
    assert {"syntax_error", "import_error", "exception_at_import", "infinite_loop", "sys_exit_at_import"} <= set(CASES)


WORDS = ("message", "title", "why_it_matters", "what_to_try", "language")  # what a language changes in a result


def _facts(result: dict) -> dict:
    facts = {k: v for k, v in result.items() if k not in WORDS}
    facts["checks"] = [{k: v for k, v in c.items() if k not in WORDS} for c in result["checks"]]
    facts["notes"] = [{k: v for k, v in n.items() if k != "text"} for n in result.get("notes", [])]
    return facts


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("case", CASES)
def test_golden(grade, case, language):
    folder = GOLDEN / case
    extra = json.loads((folder / "args.json").read_text()) if (folder / "args.json").is_file() else []
    ran = grade("exercise", "3", "--submission", str(folder / "train.py"), "--format", "json", "--lang", language,
                *extra)
    got = _normalised(ran.json())
    assert got["language"] == language
    expected_file = folder / ("expected.json" if language == "en" else f"expected.{language}.json")
    if os.environ.get("TORCHGRADE_UPDATE_GOLDEN") or not expected_file.is_file():
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
        pytest.skip(f"wrote {expected_file}; read it and commit it")
    assert got == json.loads(expected_file.read_text())
    assert ran.code == 1  # never passed, and the grader never crashed
    assert not ran.stderr.strip(), ran.stderr


@pytest.mark.parametrize("case", CASES)
def test_the_facts_are_the_same_in_every_language(case):
    english = json.loads((GOLDEN / case / "expected.json").read_text())
    chinese = json.loads((GOLDEN / case / "expected.zh.json").read_text())
    assert _facts(english) == _facts(chinese)
    said = [(e["message"], c["message"]) for e, c in zip(english["checks"], chinese["checks"]) if e["message"]]
    assert said and all(e != c for e, c in said)
