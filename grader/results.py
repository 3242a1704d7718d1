"""The one result model. The grading process fills it, the CLI reads it back from JSON, and every
output format (text, Markdown, JSON) is a view of it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from grader.failures import FailureKind

CheckStatus = Literal["passed", "failed", "error", "skipped"]
ResultStatus = Literal["passed", "failed", "error"]


def _unicode(text: str) -> str:
    """Text that UTF-8 can hold. A student's exception message, file or function name can carry lone
    surrogates (`raise ValueError("\\ud800")`; the worker's JSON reply keeps them), which no JSON writer,
    file or platform can encode: a pair written as two halves becomes its character, a lone half U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _unicode_all(value: Any) -> Any:
    """`_unicode` for every string inside plain data (keys too)."""
    if isinstance(value, str):
        return _unicode(value)
    if isinstance(value, dict):
        return {_unicode(str(k)): _unicode_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unicode_all(v) for v in value]
    return value


# A text the student's run may have written (a message, a file name, an exception's type).
Text = Annotated[str, AfterValidator(_unicode)]
# Plain data that may hold such texts (an error record, a message's parameters).
Facts = Annotated[dict[str, Any], AfterValidator(_unicode_all)]


class DeviceRun(BaseModel):
    """One run of a check on one device: `cpu`, `cuda`, or `meta` (PyTorch's data-less device, standing in
    for a GPU on a machine without one)."""

    model_config = ConfigDict(extra="forbid")

    device: str
    status: CheckStatus


class Said(BaseModel):
    """Words as facts: the id of a message in a catalogue (the exercise's `checks/messages.yaml`, the shared
    `grader/checks/messages.yaml`, the grader's `grader/render/messages.yaml`) and the parameters its
    template is filled with. A parameter may itself be words (`{"$said": id, "params": {...}}`)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    params: Facts = Field(default_factory=dict)


class SaidError(Exception):
    """An error whose words are facts: `said`, a message id (the class's PREFIX and the reason given) and its
    parameters, which a view says in the student's language; `str()` is the English, for logs."""

    PREFIX = ""

    def __init__(self, reason: str, /, **params: Any):
        self.said = Said(id=self.PREFIX + reason, params=params)
        super().__init__(self.said.id)

    def __str__(self) -> str:
        from grader.render.words import Messages

        return Messages(None).say_or_explain(self.said)


class Explained(BaseModel):
    """The catalogue entry of PyTorch errors (`grader.explain`) that recognised what was raised, and the
    facts it pulled out of the message (the two shapes, the devices...)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    facts: Facts = Field(default_factory=dict)


class Run(BaseModel):
    """A run of code in a worker that did not finish, as the worker and its zygote described it."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="how the run ended (grader.failures.ProbeStatus)")
    error: Facts = Field(default_factory=dict, description="the error record, validated by "
                                  "grader.runner.payload: kind, type, message, file, line, code, function...")
    output: Text = Field("", description="the end of what the code printed")
    explained: Explained | None = None
    summary: Text = Field("", description="what was raised in one line, numbers and quoted names replaced, for "
                                          "statistics; empty when nothing was raised")


class Failure(BaseModel):
    """Why a check did not pass, as facts: the views put it into words, in the student's language."""

    model_config = ConfigDict(extra="forbid")

    kind: FailureKind
    said: Said | None = Field(None, description="a check's verdict, or the grader's own words")
    what_to_try: Said | None = Field(None, description="a tip of this verdict's own, in place of the check's")
    run: Run | None = Field(None, description="a run of the student's (or, for reference-failed, the reference's) "
                                              "code that did not finish")
    during_import: bool = Field(False, description="the run was the import of the student's file")
    device: str = Field("", description="the device the failing case ran on, when the check ran on several")


class Note(BaseModel):
    """Something the student should know about how the submission was read (a notebook's cells left out)."""

    model_config = ConfigDict(extra="forbid")

    said: Said
    text: Text = Field("", description="`said` in the result's language; empty while only the facts are there")


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    status: CheckStatus
    points: float
    max_points: float
    message: Text = Field("", description="what happened, for the student, in the result's language (a view of "
                                          "`failure`); empty when passed")
    failure: Failure | None = Field(None, description="why the check did not pass, as facts")
    concepts: list[str] = Field(default_factory=list, description="glossary ids")
    why_it_matters: Text = ""
    what_to_try: Text = ""
    hidden: bool = False
    duration: float = 0.0
    slowest_probe: float = Field(0.0, description="seconds of the slowest run of the student's code in this check "
                                                  "(the time limit applies to each run)")
    devices: list[DeviceRun] = Field(default_factory=list, description="where the check ran, for checks run per device")
    file: Text = Field("", description="the student's file where the problem showed (their line that raised); "
                                      "empty when the check cannot point at a line")
    line: int = Field(0, description="the line in `file`; 0 when not known")
    cell: int = Field(0, description="when `file` is a notebook: the cell (counting every cell from 1) `line` is in")
    because_of: str = Field("", description="the id of another failed check whose problem kept this one from "
                                            "judging its own habit; empty when this check's failure is its own")


class ExerciseResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exercise: str = Field(description="the folder name, e.g. 03-training-loop")
    exercise_id: int
    kind: Literal["code", "quiz"] = "code"
    title: str
    score: float
    max_score: float
    passed: bool
    status: ResultStatus
    duration: float
    message: Text = Field("", description="why the whole submission could not be graded, if so")
    failure: Failure | None = Field(None, description="why the whole submission could not be graded, as facts")
    checks: list[CheckResult]
    limits: dict[str, Any] = Field(default_factory=dict, description="what the student's code could use: "
                                   "time_s, memory_mb, processes and the packages beyond torch")
    language: str = Field("", description="the language of the words in this result (`message`, `title`...); "
                                          "empty while only the facts are there")
    isolation: dict[str, str] = Field(default_factory=dict, description="what protected the machine from the "
                                      "student's code: processes, network, leftovers (see docs/security.md)")
    notes: list[Note] = Field(default_factory=list, description="how the submission was read, where the student "
                              "should know it (the cells and lines of a notebook left out)")

    @classmethod
    def from_checks(cls, *, exercise: str, exercise_id: int, title: str, checks: list[CheckResult],
                    duration: float, message: str = "", kind: Literal["code", "quiz"] = "code",
                    isolation: dict[str, str] | None = None, failure: Failure | None = None,
                    limits: dict[str, Any] | None = None) -> ExerciseResult:
        """Totals and overall status derived from the checks: never 'passed' if nothing ran. A skipped check
        (one that needs a GPU this machine lacks) earns nothing and is left out of max_score, so a student
        without a GPU can still reach full marks on what could be checked."""
        ran = [c for c in checks if c.status != "skipped"]
        if message or failure or any(c.status == "error" for c in checks):
            status: ResultStatus = "error"
        elif ran and all(c.status == "passed" for c in ran):
            status = "passed"
        else:
            status = "failed"
        return cls(
            exercise=exercise,
            exercise_id=exercise_id,
            kind=kind,
            title=title,
            score=round(sum(c.points for c in checks), 6),
            max_score=round(sum(c.max_points for c in ran), 6),
            passed=status == "passed",
            status=status,
            duration=round(duration, 3),
            message=message,
            failure=failure,
            checks=checks,
            isolation=isolation or {},
            limits=limits or {},
        )

    def check(self, check_id: str) -> CheckResult:
        return next(c for c in self.checks if c.id == check_id)


class CourseResult(BaseModel):
    """`grade all`: one result per exercise and quiz, and the totals over them."""

    model_config = ConfigDict(extra="forbid")

    results: list[ExerciseResult]
    score: float
    max_score: float
    passed: bool
    status: ResultStatus
    duration: float

    @classmethod
    def from_results(cls, results: list[ExerciseResult]) -> CourseResult:
        """Totals are the exercises' own totals added up; the worst status speaks for the run."""
        statuses = {r.status for r in results}
        status: ResultStatus = "error" if "error" in statuses else "failed" if "failed" in statuses or not results \
            else "passed"
        return cls(results=results, score=round(sum(r.score for r in results), 6),
                   max_score=round(sum(r.max_score for r in results), 6), passed=status == "passed", status=status,
                   duration=round(sum(r.duration for r in results), 3))
