"""Every way a check can end without passing, enumerated once (after Exercism's one `Status` enum).

`ProbeStatus` is how one run of code in a worker ended; `FailureKind` is why a check did not pass: a
verdict of the check itself, a run of the student's code that did not finish (the worker's error record's
`kind`, one member per way a run can end), the reference failing, or the grader failing. The judge
records a kind with its facts (`grader.results.Failure`); the views put it into words. No module depends
on anything here but the standard library: the worker imports it too.
"""

from __future__ import annotations

from enum import StrEnum


class ProbeStatus(StrEnum):
    """How one run of a probe in a worker ended."""

    OK = "ok"
    ERROR = "error"  # raised, or the run's result could not be used
    TIMEOUT = "timeout"
    EXITED = "exited"  # the process ended without a result
    CRASHED = "crashed"  # killed by a signal


class FailureKind(StrEnum):
    """Why a check did not pass."""

    # The check's own verdict: `grader.checks.fail(message_id, ...)`.
    VERDICT = "verdict"
    # A run of the student's code that did not finish; the same names as the worker's error records.
    EXCEPTION = "exception"
    SYNTAX = "syntax"
    NOT_IMPLEMENTED = "not-implemented"
    EXIT = "exit"  # sys.exit() or KeyboardInterrupt
    MEMORY = "memory"
    FILE_SIZE = "file-size"
    PROCESS_LIMIT = "process-limit"
    TIMEOUT = "timeout"
    CPU_TIME = "cpu-time"
    SIGNAL = "signal"
    EXIT_CODE = "exit-code"
    NO_RESULT = "no-result"
    TOO_LARGE = "too-large"
    BAD_RESULT = "bad-result"
    UNSAFE = "unsafe"  # the grader refused to run the code (a root grader that cannot drop root)
    GRADER = "grader"  # the worker itself failed before or around the student's code
    # The check could not judge the student's code.
    HANDED_IN = "handed-in"  # what was handed in cannot be graded (missing, a link, too large, unreadable)
    REFERENCE_FAILED = "reference-failed"
    NOT_RECORDED = "not-recorded"  # a student copy lacks the reference's answer for this call
    INTERNAL = "internal"  # the check's own code raised
    NOT_COLLECTED = "not-collected"
    SKIPPED = "skipped"  # not run here (a GPU check without a GPU): never a pass, never counted


# The kinds a worker's error record may carry (`grader.runner.payload` validates them).
RUN_KINDS = frozenset({FailureKind.EXCEPTION, FailureKind.SYNTAX, FailureKind.NOT_IMPLEMENTED, FailureKind.EXIT,
                       FailureKind.MEMORY, FailureKind.FILE_SIZE, FailureKind.PROCESS_LIMIT, FailureKind.TIMEOUT,
                       FailureKind.CPU_TIME, FailureKind.SIGNAL, FailureKind.EXIT_CODE, FailureKind.NO_RESULT,
                       FailureKind.TOO_LARGE, FailureKind.BAD_RESULT, FailureKind.UNSAFE, FailureKind.GRADER})
