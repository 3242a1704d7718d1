"""Reading a student's answer and comparing it with the key, for every question type. Pure Python (no
torch): the CLI grades with it both an answers file and answers typed in the terminal.

Keys arrive normalised by `grader.quiz.key`: single "b"; multiple ["a", "c"]; true-false a bool;
numeric a float; shape a list of ints or "error"; text {"accepted": [...], "pattern": str | None};
output the printed text.
"""

from __future__ import annotations

import ast
import math
import re
from decimal import ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from grader.quiz.questions import LETTERS, QUESTION_TYPES
from grader.results import SaidError


class AnswerError(SaidError, ValueError):
    """The answer cannot be read as an answer of its type: `said` (message `quiz.answer.<reason>` of the
    grader's catalogue, with the answer as written) says how to write it, in the student's language."""

    PREFIX = "quiz.answer."


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def parse(qtype: str, raw: Any, n_options: int = 0) -> Any:
    """The student's answer in the key's normal form, or AnswerError saying how to write it."""
    return _PARSERS[qtype](raw, n_options)


def _letter(raw: Any, n_options: int) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise AnswerError("not-a-letter", raw=repr(raw))
    text = raw.strip().lower().rstrip(").")
    text = text[1:] if text.startswith("(") else text
    valid = LETTERS[:n_options]
    if len(text) != 1 or text not in valid:
        raise AnswerError("not-an-option", raw=str(raw), options=", ".join(valid))
    return text


def _single(raw: Any, n_options: int) -> str:
    return _letter(raw, n_options)


def _multiple(raw: Any, n_options: int) -> list[str]:
    items = raw
    if isinstance(raw, str):
        items = [part for part in re.split(r"[\s,;]+", raw.strip().strip("[]")) if part]
    if not isinstance(items, list):
        raise AnswerError("not-letters", raw=repr(raw))
    return sorted({_letter(item, n_options) for item in items})


def _true_false(raw: Any, _: int) -> bool:
    if isinstance(raw, bool):
        return raw
    words = {"true": True, "false": False, "yes": True, "no": False, "t": True, "f": False}
    if isinstance(raw, str) and raw.strip().lower() in words:
        return words[raw.strip().lower()]
    raise AnswerError("not-true-false", raw=repr(raw))


def _numeric(raw: Any, _: int) -> float:
    if isinstance(raw, bool):
        raise AnswerError("not-a-number", raw=repr(raw))
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip().replace("_", "")
        try:
            return float(Fraction(text)) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError):
            pass
    raise AnswerError("not-a-number-text", raw=repr(raw))


def _shape(raw: Any, _: int) -> list[int] | str:
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in ("error", "err", "invalid", "fails"):
            return "error"
        if re.fullmatch(r"\d+(\s*[x×*]\s*\d+)+", text):
            raise AnswerError("size-on-paper", raw=str(raw), sizes=", ".join(re.split(r"[^0-9]+", text)))
        text = re.sub(r"^torch\.Size\((.*)\)$", r"\1", text)
        try:
            raw = ast.literal_eval(text) if text else []
        except (ValueError, SyntaxError):
            raise AnswerError("not-a-shape-text", raw=str(raw)) from None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]
    if isinstance(raw, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw):
        return [int(v) for v in raw]
    raise AnswerError("not-a-shape", raw=repr(raw))


def _text(raw: Any, _: int) -> str:
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return str(raw)
    raise AnswerError("not-text", raw=repr(raw))


def _output(raw: Any, _: int) -> str:
    if isinstance(raw, bool):
        raise AnswerError("output-not-quoted")
    if isinstance(raw, (str, int, float)):
        return str(raw).replace("\\n", "\n")  # typed on one line in a terminal: \n starts a new line
    raise AnswerError("output-not-text", raw=repr(raw))


_PARSERS = {"single": _single, "multiple": _multiple, "true-false": _true_false, "numeric": _numeric,
            "shape": _shape, "text": _text, "output": _output}
assert set(_PARSERS) == set(QUESTION_TYPES)


def normalise_text(text: str) -> str:
    return " ".join(str(text).lower().replace("-", " ").replace("_", " ").split()).strip(" .")


def normalise_output(text: str) -> str:
    lines = [line.rstrip() for line in str(text).replace("\r\n", "\n").strip("\n").split("\n")]
    return "\n".join(lines).strip()


def is_right(qtype: str, given: Any, key: Any, tolerance: float = 1e-6, rel_tolerance: float = 1e-4,
             significant_digits: int | None = None) -> bool:
    """Whether a parsed answer matches the key."""
    if qtype == "numeric" and significant_digits is not None:
        return same_significant_digits(given, key, significant_digits)
    if qtype == "numeric":
        return math.isclose(given, key, rel_tol=rel_tolerance, abs_tol=tolerance)
    if qtype == "text":
        answer = normalise_text(given)
        if any(answer == normalise_text(a) for a in key.get("accepted", [])):
            return True
        return bool(key.get("pattern")) and re.fullmatch(key["pattern"], answer, flags=re.IGNORECASE) is not None
    if qtype == "output":
        return normalise_output(given) == normalise_output(key)
    return given == key


def round_significant(value: float, digits: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`value` rounded to `digits` significant digits, read as the shortest decimal that prints it, so that
    a typed 1.2345 is 1.2345 and not the binary float just below it."""
    number = Decimal(repr(float(value)))
    if not number.is_finite() or number.is_zero():
        return number
    return number.quantize(Decimal(1).scaleb(number.adjusted() - digits + 1), rounding=rounding)


# A computed key's own rounding error, relative (float32 carries about 7 digits). A key this close to
# halfway between two rounded values, such as 0.0078125 to 4 digits, accepts both: 0.007812 and 0.007813.
KEY_SLACK = 1e-6


def same_significant_digits(given: float, key: float, digits: int) -> bool:
    """The answer rounded to `digits` significant digits equals the key rounded the same way: 65504,
    6.550e4 and 65500 are 65504 to 4 digits; 65536 is not. An answer exactly halfway may round either
    way, so that 1.1755 (1.17549 to 5 digits) is 1.175 to 4."""
    if not (math.isfinite(given) and math.isfinite(key)):
        return given == key
    accepted = {round_significant(key * (1 + slack), digits) for slack in (-KEY_SLACK, KEY_SLACK)}
    return any(round_significant(given, digits, rounding) in accepted for rounding in (ROUND_HALF_DOWN, ROUND_HALF_UP))


def choice_credit(given: list[str], key: list[str]) -> float:
    """The share of a multiple-choice question's points a list of letters earns (PrairieLearn's
    "net-correct"): +1/n for each right option picked, -1/n for each wrong one, n the number of right
    options; never below 0."""
    picked = set(given)
    return max(0.0, (len(picked & set(key)) - len(picked - set(key))) / len(key))


def shown(qtype: str, value: Any) -> str:
    """An answer (the student's or a key's) as a student would write it."""
    if qtype == "multiple":
        return "[" + ", ".join(value) + "]"
    if qtype == "true-false":
        return "true" if value else "false"
    if qtype == "numeric":
        return f"{value:g}"
    if qtype == "shape":
        return value if value == "error" else "[" + ", ".join(str(v) for v in value) + "]"
    if qtype == "text" and isinstance(value, dict):
        return (value.get("accepted") or [value.get("pattern", "")])[0]
    return str(value)
