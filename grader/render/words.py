"""Facts into words. The judge records why each check did not pass as facts (`grader.results.Failure`:
a message id and its parameters, or the run of the student's code that did not finish); here, in the
view, they become the sentences a student reads, from the message catalogues:

- the exercise's `checks/messages.yaml`, beside the checks that use its ids;
- the shared `grader/checks/messages.yaml`, for the words of the check helpers (`compare`, `observe`);
- the grader's own `grader/render/messages.yaml` (a skipped check, a reference that failed...);
- the catalogue of PyTorch errors (`grader.explain`), whose entries' words are filled from the facts
  pulled out of PyTorch's message, and `templates/probe_failure.txt.j2`, which tells a failed run.

A catalogue maps an id to a Jinja2 template, or to `{message: ..., what_to_try: ...}` when the message
brings a tip of its own. A message that cannot be said (an id no catalogue has, a placeholder without a
value) never stops a view: it is replaced by a sentence saying so, and `grade validate` reports it.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import jinja2
import yaml

from grader.checks import SAID
from grader.failures import FailureKind
from grader.languages import DEFAULT, beside, untranslated
from grader.results import CheckResult, ExerciseResult, Failure, Run, Said

SHARED = Path(__file__).resolve().parents[1] / "checks" / "messages.yaml"
GRADER = Path(__file__).with_name("messages.yaml")
MESSAGES_FILE = "messages.yaml"  # in an exercise's checks folder


class MessageError(ValueError):
    """A message that cannot be said: no such id, a placeholder without a value, a broken template."""


# ----------------------------------------------------------------------------- the catalogues
MESSAGE_PARTS = ("message", "what_to_try")
EXPLANATION_PARTS = ("title", "meaning", "cause", "try")  # an entry of the error catalogue's translations


@functools.lru_cache(maxsize=64)
def _load(path: str, mtime: float, parts: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """One catalogue file: id -> {part: template}; a bare text is the first part (a message)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - a safe loader
    if not isinstance(raw, dict):
        raise MessageError(f"{path}: a message catalogue is a mapping of ids to messages")
    entries = {}
    for key, value in raw.items():
        entry = {parts[0]: value} if isinstance(value, str) else value
        if not isinstance(entry, dict) or not entry or not all(isinstance(v, str) for v in entry.values()) \
                or set(entry) - set(parts) or (parts == MESSAGE_PARTS and "message" not in entry):
            raise MessageError(f"{path}: message '{key}' must be a text, or a mapping of "
                               f"{', '.join(f'`{part}`' for part in parts)} to texts")
        entries[str(key)] = entry
    return entries


def load_catalogue(path: Path, parts: tuple[str, ...] = MESSAGE_PARTS) -> dict[str, dict[str, str]]:
    """A catalogue file's messages (none when the file does not exist)."""
    try:
        return _load(str(path), path.stat().st_mtime, parts)
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        raise MessageError(f"{path}: {exc}") from exc


class Messages:
    """The messages one exercise's results may use, in one language: its own catalogue, then the shared and
    the grader's, each with its translation beside it (`messages.zh.yaml`); an id or a part (`what_to_try`)
    without a translation is said in English, and counted (`grader.languages.UNTRANSLATED`)."""

    def __init__(self, checks_folder: Path | None, language: str = DEFAULT):
        self.files = [p for p in ((checks_folder / MESSAGES_FILE) if checks_folder else None, SHARED, GRADER) if p]
        self.language = language

    @functools.cached_property
    def entries(self) -> dict[str, dict[str, str]]:
        """Every id's English words."""
        merged: dict[str, dict[str, str]] = {}
        for path in reversed(self.files):
            merged.update(load_catalogue(path))
        return merged

    @functools.cached_property
    def translations(self) -> dict[str, dict[str, str]]:
        """Every id's words in this language, where there are any."""
        merged: dict[str, dict[str, str]] = {}
        if self.language != DEFAULT:
            for path in reversed(self.files):
                merged.update(load_catalogue(beside(path, self.language)))
        return merged

    def __contains__(self, message_id: str) -> bool:
        return message_id in self.entries

    def say(self, said: Said | dict[str, Any], part: str = "message") -> str:
        """The words of `said` (a Said, or the `{"$said": id, "params": ...}` form of a parameter)."""
        message_id, params = (said.id, said.params) if isinstance(said, Said) else (said[SAID], said.get("params", {}))
        entry = self.entries.get(message_id)
        if entry is None:
            raise MessageError(f"no message '{message_id}' in the catalogues")
        if part not in entry:
            return ""
        text = self.translations.get(message_id, {}).get(part)
        if text is None:
            untranslated(self.language)
            text = entry[part]
        values = {key: self._value(value) for key, value in params.items()}
        try:
            return _template(text).render(**values).strip()
        except jinja2.TemplateError as exc:
            raise MessageError(f"message '{message_id}': {exc}") from exc

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict) and SAID in value:
            return self.say(value)
        if isinstance(value, list):
            return [self._value(item) for item in value]
        return value

    def say_or_explain(self, said: Said | None, part: str = "message") -> str:
        """`say`, or a sentence saying why the message could not be said (views never fail on it)."""
        if said is None:
            return ""
        try:
            return self.say(said, part)
        except MessageError as exc:
            return f"(This check's message could not be shown: {exc}. Tell your instructor.)" if part == "message" else ""


# ----------------------------------------------------------------------------- templates and their filters
def _tuple(values: Any) -> str:
    """A shape as Python writes a tuple: (8, 10), (5,), ()."""
    items = list(values)
    return "(" + ", ".join(str(v) for v in items) + ("," if len(items) == 1 else "") + ")"


def _num(value: Any, spec: str = "g") -> str:
    """A number formatted with `spec` ('.3f', '.6g'); a value that is not a number (nan, a name) as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return format(value, spec)


def _dims(text: Any) -> list[int]:
    """'64, 16, 5, 5' or '16x1x1' -> [64, 16, 5, 5]."""
    return [int(n) for n in re.findall(r"-?\d+", str(text))]


def _regex_search(text: str, pattern: str) -> str:
    """The first group of `pattern` in `text`, or an empty string."""
    match = re.search(pattern, str(text))
    return match.group(1) if match else ""


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of every message and catalogue text."""
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    env.filters.update(tuple=_tuple, repr=repr, num=_num, dims=_dims, product=math.prod, regex_search=_regex_search)
    return env


@functools.lru_cache(maxsize=2048)
def _template(text: str) -> jinja2.Template:
    return environment().from_string(text)


def fill_text(text: str, values: dict[str, Any]) -> str:
    """A catalogue text filled and joined into one paragraph (the error catalogue's `meaning`, `cause`, `try`)."""
    return " ".join(_template(text).render(**values).split())


# ----------------------------------------------------------------------------- a failed run
def explanation(run: Run, language: str = DEFAULT) -> dict[str, Any] | None:
    """The error catalogue's words for what a run raised, in `language` (`catalogue.zh.yaml` beside the
    catalogue, by entry id; English where it has none): title, meaning, cause, what_to_try, concepts."""
    from grader.explain import CATALOGUE, entry_by_id

    if run.explained is None:
        return None
    entry = entry_by_id(run.explained.id)
    if entry is None:
        return None
    english = {"title": entry.title, "meaning": entry.meaning, "cause": entry.cause, "what_to_try": entry.try_}
    words = english
    if language != DEFAULT:
        try:
            translated = load_catalogue(beside(CATALOGUE, language), EXPLANATION_PARTS).get(entry.id, {})
        except MessageError:  # a broken translation: the English words (validate and the tests name the file)
            translated = {}
        words = {key: translated.get("try" if key == "what_to_try" else key) or text for key, text in english.items()}
        untranslated(language, sum(words[key] is english[key] for key in english))
    values = {**run.explained.facts, "error": run.error}
    try:
        return {"id": entry.id, "title": words["title"], "concepts": entry.concepts,
                **{key: fill_text(words[key], values) for key in ("meaning", "cause", "what_to_try")}}
    except jinja2.TemplateError:
        return None


def run_words(run: Run, check_title: str | None, limits: dict[str, Any], language: str = DEFAULT) -> str:
    """A run of the student's code that did not finish, in words (raised, exited, hung...)."""
    from grader.render import failed_run_text

    return failed_run_text(run, check_title, limits, explanation(run, language), language)


# ----------------------------------------------------------------------------- a result in words
def failure_words(failure: Failure, check_title: str | None, limits: dict[str, Any], messages: Messages,
                  own: bool = True) -> tuple[str, str]:
    """A failure's message and its own tip ('' when the check's tip applies). A verdict that tells of an error
    the probe caught adds the error catalogue's explanation of it, when the failure is the check's `own`
    (one that follows from another check's problem points there instead)."""
    title = None if failure.during_import else check_title
    if failure.kind == FailureKind.VERDICT or (failure.said is not None and failure.run is None):
        message = messages.say_or_explain(failure.said)
        tip = messages.say_or_explain(failure.what_to_try) if failure.what_to_try else \
            messages.say_or_explain(failure.said, "what_to_try")
        # An error the probe caught, which the catalogue of PyTorch errors knows: its explanation too.
        explained = explanation(failure.run, messages.language) if failure.run is not None and own else None
        if explained:
            message += "\n\n" + messages.say_or_explain(Said(id="grader.caught-explained", params={
                "meaning": explained["meaning"], "cause": explained["cause"]}))
            tip = tip or explained["what_to_try"]
    elif failure.kind == FailureKind.REFERENCE_FAILED and failure.run is not None:
        detail = run_words(failure.run, title, limits, messages.language)
        message, tip = messages.say_or_explain(Said(id="grader.reference-failed", params={"detail": detail})), ""
    elif failure.run is not None:
        from grader.render import failed_run_text

        explained = explanation(failure.run, messages.language)  # once: the message and the tip both use it
        message = failed_run_text(failure.run, title, limits, explained, messages.language)
        tip = explained["what_to_try"] if explained else ""
    else:
        message, tip = messages.say_or_explain(failure.said), ""
    if failure.device:
        device = messages.say_or_explain(Said(id=f"grader.device.{failure.device}")) or failure.device
        message = messages.say_or_explain(Said(id="grader.checked-on", params={"device": device, "message": message}))
    return message, tip


def fill(result: ExerciseResult, checks: dict[str, Any] | None = None, checks_folder: Path | None = None,
         language: str = DEFAULT) -> ExerciseResult:
    """`result` with every message, tip and explanation said in words, from its facts, in `language`.
    `checks`: the exercise's checks by id, in that language (their titles, why_it_matters, what_to_try);
    `checks_folder`: where the exercise's own message catalogue is."""
    messages = Messages(checks_folder, language)
    whole = whole_tip = ""  # a file that did not import: said once, the same for every check
    if result.failure is not None:
        whole, whole_tip = failure_words(result.failure, None, result.limits, messages)
    filled = [_filled_check(check, (checks or {}).get(check.id), result.limits, messages, whole, whole_tip)
              for check in result.checks]
    notes = [note.model_copy(update={"text": messages.say_or_explain(note.said)}) for note in result.notes]
    return result.model_copy(update={"checks": filled, "message": whole or result.message, "language": language,
                                     "notes": notes})


def fill_check(check: CheckResult, language: str = DEFAULT) -> CheckResult:
    """One check's result said on its own, from the grader's catalogues (a quiz's question in `grade quiz`)."""
    return _filled_check(check, None, {}, Messages(None, language), "", "")


def _filled_check(check: CheckResult, spec: Any, limits: dict[str, Any], messages: Messages, whole: str,
                  whole_tip: str) -> CheckResult:
    if check.failure is None:
        return check
    update: dict[str, Any] = {}
    if spec is not None:
        update["title"] = spec.title
    title = update.get("title", check.title)
    if whole and check.failure.during_import:
        message, tip = whole, whole_tip
    else:
        message, tip = failure_words(check.failure, title, limits, messages, own=not check.because_of)
    update["message"] = message
    failed = check.status in ("failed", "error")
    # A submission that could not be graded at all (nothing ran: a missing file, a link): the reason is all.
    ungraded = bool(whole) and check.failure.during_import and check.failure.run is None
    own = failed and not check.because_of and not ungraded
    if spec is not None and own:
        update["why_it_matters"] = spec.why_it_matters
        update["what_to_try"] = tip or spec.what_to_try
    elif own:
        update["what_to_try"] = tip
    return check.model_copy(update=update)


def one_cause_once(result: ExerciseResult) -> ExerciseResult:
    """`result` as a whole report shows it: when several checks failed on the same explained error (the
    same catalogue entry, raised at the same line with the same message), the first says it in full and
    each later one points there instead of repeating it."""
    if not isinstance(result, ExerciseResult):
        return result.model_copy(update={"results": [one_cause_once(r) for r in result.results]})
    first: dict[tuple[Any, ...], CheckResult] = {}
    messages = Messages(None, result.language or DEFAULT)
    checks = []
    for check in result.checks:
        run = check.failure.run if check.failure else None
        verdict = check.failure is not None and check.failure.kind == FailureKind.VERDICT  # its own words stay
        if run is None or run.explained is None or check.failure.during_import or result.message or verdict:
            checks.append(check)
            continue
        key = (run.explained.id, run.error.get("file"), run.error.get("cell"), run.error.get("line"),
               run.error.get("message"))
        if key not in first:
            first[key] = check
            checks.append(check)
            continue
        file: Any = check.file
        if check.cell:
            file = {SAID: "grader.notebook.cell", "params": {"notebook": check.file, "cell": check.cell}}
        pointer = messages.say_or_explain(Said(id="grader.same-error", params={
            "title": first[key].title, "file": file, "line": check.line}))
        checks.append(check.model_copy(update={"message": pointer, "what_to_try": ""}))
    return result.model_copy(update={"checks": checks})
