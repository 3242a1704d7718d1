"""Golden folders (after Exercism's test runner): each `tests/golden/CASE/` holds a submission for
exercise 3 that breaks in one way, optional extra CLI arguments (`args.json`), and the exact result
expected (`expected.json`, timings left out). Regenerate after an intended change of wording with
`TORCHGRADE_UPDATE_GOLDEN=1 pytest tests/test_golden.py`, then read the diff."""

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


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_golden(grade, case):
    folder = GOLDEN / case
    extra = json.loads((folder / "args.json").read_text()) if (folder / "args.json").is_file() else []
    ran = grade("exercise", "3", "--submission", str(folder / "train.py"), "--format", "json", *extra)
    got = _normalised(ran.json())
    expected_file = folder / "expected.json"
    if os.environ.get("TORCHGRADE_UPDATE_GOLDEN") or not expected_file.is_file():
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
        pytest.skip(f"wrote {expected_file}; read it and commit it")
    assert got == json.loads(expected_file.read_text())
    assert ran.code == 1  # never passed, and the grader never crashed
    assert not ran.stderr.strip(), ran.stderr
