"""Exercise definitions (`exercises/NN-slug/exercise.yaml`): the models and a loader that reports
every problem in a file as `path:line:col: message`, never a traceback.

Checks are pytest functions in `checks/test_*.py`; check id `fresh-gradients` is the test
function `test_fresh_gradients`. Test names are found by parsing the files (no import, no torch).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema

from grader.notebooks import named_after
from grader.quiz.questions import Question
from grader.yamlfile import Problem, SpecError, YamlDoc, load_yaml

KEY_FILE = "key.yaml"  # a quiz's static answers, under solutions/NN-slug/
RECORDED_FOLDER = "recorded"  # checks/recorded/: a student copy's recorded reference answers
STUDENT_COPY_FILE = "student-copy.yaml"  # exercises/student-copy.yaml marks a copy made by `grade export student`

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=ID_PATTERN)]


REQUIREMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?\s*([<>=!~]=?[^;\s]+(\s*,\s*[<>=!~]=?[^;\s]+)*)?$"


def requirement_name(requirement: str) -> str:
    """A pip requirement's distribution name, normalised (`Pandas>=2` -> `pandas`, `scikit_learn` -> `scikit-learn`)."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0)  # type: ignore[union-attr]
    return re.sub(r"[-_.]+", "-", name).lower()


def packages_of(specs: list[ExerciseSpec]) -> list[str]:
    """Every package some of `specs` allows beyond torch and torchvision (`packages:`), once each, in
    exercise order: what a course's set-up installs."""
    found: dict[str, str] = {}
    for spec in specs:
        for requirement in spec.packages:
            found.setdefault(requirement_name(requirement), requirement)
    return list(found.values())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """How long, how much memory and how many processes one probe of the student's code may take."""

    time_s: float = Field(10.0, gt=0, le=600, description="wall-clock seconds per probe")
    memory_mb: int = Field(2048, gt=0, description="memory the student's code may add, in MiB")
    processes: int = Field(64, ge=4, le=4096, description="processes and threads the student's code may run at "
                                                         "once (DataLoader workers and torch's threads count)")


class CheckSpec(_Strict):
    """One graded check: a pytest function plus what a student reads when it fails."""

    id: Slug
    title: str = Field(min_length=1)
    points: float = Field(gt=0)
    hidden: bool = Field(False, description="hidden checks are not listed to students before grading")
    gpu_only: bool = Field(False, description="runs only on a CUDA GPU (its test is marked `cuda`); without one it "
                                              "is skipped and left out of the maximum score")
    concepts: list[Slug] = Field(min_length=1, description="glossary ids this check is about")
    why_it_matters: str = Field(min_length=1)
    what_to_try: str = Field(min_length=1)

    @property
    def test_name(self) -> str:
        return "test_" + self.id.replace("-", "_")


class VariantSpec(_Strict):
    """A file that replaces the student's file: a known mistake (mutant) or another valid style."""

    file: str = Field(min_length=1, description="path relative to solutions/NN-slug/")
    description: str = Field(min_length=1)


class MutantSpec(VariantSpec):
    fails: list[Slug] = Field(min_length=1, description="ids of the checks that must catch it")


class ExerciseSpec(_Strict):
    """Everything `exercise.yaml` says about one exercise: code (checks) or a quiz (questions)."""

    id: int = Field(ge=1, le=99)
    slug: Slug
    kind: Literal["code", "quiz"] = "code"
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    instructions: str = Field(min_length=1)
    files: list[str] = Field(min_length=1, description="the student's file names, the first is the main module "
                                                        "(a quiz: its answers file, answers.yaml)")
    limits: Limits = Limits()
    packages: list[Annotated[str, Field(pattern=REQUIREMENT_PATTERN)]] = Field(
        default_factory=list, description="packages beyond torch, torchvision and the standard library that students "
        "may import in this exercise, as pip requirements (e.g. pandas, tqdm>=4): the student README's set-up, "
        "the Classroom workflow and Gradescope's setup.sh install them")
    checks: list[CheckSpec] = Field(default_factory=list, description="code exercises: the graded checks")
    questions: list[Question] = Field(default_factory=list, description="quizzes: the questions")
    hints: list[str] = Field(default_factory=list)
    mutants: list[MutantSpec] = Field(default_factory=list)
    alternatives: list[VariantSpec] = Field(
        default_factory=list, description="correct solutions in other styles; each must pass every check"
    )

    # Set by the loader, not read from YAML.
    folder: SkipJsonSchema[Path] = Field(Path("."), exclude=True)
    solution_folder: SkipJsonSchema[Path] = Field(Path("."), exclude=True)
    language: SkipJsonSchema[str] = Field("en", exclude=True, description="the language of its texts")

    @model_validator(mode="after")
    def _kind_fits(self) -> ExerciseSpec:
        if self.kind == "code":
            for name in self.files:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", name):
                    raise ValueError(f"files: '{name}' is not a Python file name a module can be imported from")
            if not self.checks:
                raise ValueError("a code exercise needs at least one check under 'checks'")
            if self.questions:
                raise ValueError("'questions' belong to quizzes (kind: quiz), not to code exercises")
        else:
            if self.files != ["answers.yaml"]:
                raise ValueError("files: a quiz has one file, [answers.yaml]")
            if not self.questions:
                raise ValueError("a quiz needs at least one question under 'questions'")
            if self.checks or self.mutants or self.alternatives:
                raise ValueError("a quiz has questions, not checks, mutants or alternatives")
        return self

    @property
    def name(self) -> str:
        """The folder name, e.g. `03-training-loop`."""
        return f"{self.id:02d}-{self.slug}"

    @property
    def checks_folder(self) -> Path:
        return self.folder / "checks"

    @property
    def recorded_folder(self) -> Path:
        """In a student copy: the reference solution's recorded answers, in place of the solution."""
        return self.checks_folder / RECORDED_FOLDER

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks) + sum(q.points for q in self.questions)

    @property
    def key_file(self) -> Path:
        """A quiz's static answers (kept under solutions/, out of the student's copy)."""
        return self.solution_folder / KEY_FILE

    def check(self, check_id: str) -> CheckSpec:
        return next(c for c in self.checks if c.id == check_id)


def load_exercise(folder: Path, solutions_root: Path, concepts: set[str], display_root: Path,
                  student_copy: bool = False) -> ExerciseSpec:
    """Load and cross-check one exercise folder; raise SpecError listing every problem. In a student copy
    (`grade export student`) there is no solutions/: code exercises use recorded reference answers, and
    a quiz's static answers are withheld."""
    yaml_path = folder / "exercise.yaml"
    shown = _display(yaml_path, display_root)
    doc = load_yaml(yaml_path, shown)
    problems: list[Problem] = list(doc.problems)
    if not isinstance(doc.data, dict):
        raise SpecError([*problems, doc.problem((), "an exercise file must be a mapping of keys to values")])
    solution_folder = solutions_root / folder.name
    problems += _semantic_problems(doc, folder, solution_folder, concepts, display_root, student_copy)
    try:
        spec = ExerciseSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(problems + _validation_problems(doc, exc)) from None
    if problems:
        raise SpecError(problems)
    spec = spec.model_copy(update={"folder": folder, "solution_folder": solution_folder})
    from grader.languages import LANGUAGES, DEFAULT

    for language in LANGUAGES:  # a broken translation is found when the English is loaded, not by its readers
        if language != DEFAULT:
            try:
                load_words(spec, language, display_root, student_copy)
            except SpecError as exc:
                problems += exc.problems
    if problems:
        raise SpecError(problems)
    return spec


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _validation_problems(doc: YamlDoc, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            problems.append(doc.problem(loc, f"unknown key '{loc[-1]}'", key=True))
        elif kind == "missing":
            where = ".".join(str(p) for p in loc[:-1]) or "the top level"
            problems.append(doc.problem(loc[:-1], f"missing required key '{loc[-1]}' in {where}"))
        else:
            field = ".".join(str(p) for p in loc)
            message = err["msg"].removeprefix("Value error, ")
            problems.append(doc.problem(loc, f"{field}: {message}"))
    return problems


def _semantic_problems(
    doc: YamlDoc, folder: Path, solution_folder: Path, concepts: set[str], display_root: Path,
    student_copy: bool = False,
) -> list[Problem]:
    """Problems a schema cannot see: names, duplicates, concepts, tests and files that must exist."""
    data = doc.data
    problems: list[Problem] = []
    checks = data.get("checks") if isinstance(data.get("checks"), list) else []

    expected = folder.name
    if isinstance(data.get("id"), int) and isinstance(data.get("slug"), str):
        if f"{data['id']:02d}-{data['slug']}" != expected:
            problems.append(
                doc.problem(("slug",), f"the folder is '{expected}' but id and slug make '{data['id']:02d}-{data['slug']}'")
            )

    seen_ids, id_problems = _ids_and_concepts(doc, "checks", concepts)
    problems += id_problems

    if data.get("kind") == "quiz":
        problems += _quiz_problems(doc, solution_folder, concepts, display_root, student_copy)
    else:
        problems += _test_problems(doc, folder, checks, display_root)

    for kind in ("mutants", "alternatives"):
        for index, variant in enumerate(data.get(kind) or []):
            if not isinstance(variant, dict):
                continue
            for fi, fails in enumerate(variant.get("fails") or []):
                if isinstance(fails, str) and fails not in seen_ids:
                    problems.append(doc.problem((kind, index, "fails", fi), f"'{fails}' is not the id of a check in this file"))
            if isinstance(variant.get("file"), str) and not (solution_folder / variant["file"]).is_file():
                shown = _display(solution_folder / variant["file"], display_root)
                problems.append(doc.problem((kind, index, "file"), f"{kind[:-1]} file {shown} does not exist"))

    files = data.get("files") if isinstance(data.get("files"), list) else []
    for fi, name in enumerate(files):  # a notebook named after the file may stand in for it (train.ipynb)
        if isinstance(name, str) and not (folder / name).is_file() and not (folder / named_after(name)).is_file():
            problems.append(doc.problem(("files", fi), f"the starter file {name} is missing from {folder.name}/"))
    if not solution_folder.is_dir() and data.get("kind") != "quiz":  # a quiz's key file is checked above
        if not student_copy:
            problems.append(doc.problem((), f"no reference solution: {_display(solution_folder, display_root)}/ does not exist"))
        elif not (folder / "checks" / RECORDED_FOLDER).is_dir():
            problems.append(doc.problem((), f"this student copy has neither the reference solution nor its recorded answers "
                                            f"({folder.name}/checks/{RECORDED_FOLDER}/): export it again with grade export student"))
    return problems


def _ids_and_concepts(doc: YamlDoc, section: str, concepts: set[str]) -> tuple[dict[str, int], list[Problem]]:
    """The ids in `section` (checks or questions) with their index; duplicates and unknown concepts."""
    items = doc.data.get(section) if isinstance(doc.data.get(section), list) else []
    noun = section[:-1]
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append(doc.problem((section, index, "id"), f"duplicate {noun} id '{item_id}' (first used in {section}[{seen[item_id]}])"))
            seen.setdefault(item_id, index)
        for ci, concept in enumerate(item.get("concepts") or []):
            if isinstance(concept, str) and concept not in concepts:
                problems.append(doc.problem((section, index, "concepts", ci), f"unknown glossary concept '{concept}' (no glossary/{concept}.yaml)"))
    return seen, problems


def _test_problems(doc: YamlDoc, folder: Path, checks: list, display_root: Path) -> list[Problem]:
    """A code exercise: every check has a test function behind it, and every test is declared."""
    tests, problems = _find_tests(folder / "checks", display_root)
    for index, check in enumerate(checks):
        if isinstance(check, dict) and isinstance(check.get("id"), str):
            name = "test_" + check["id"].replace("-", "_")
            if name not in tests:
                problems.append(doc.problem(("checks", index, "id"), f"check '{check['id']}' has no test: expected a function {name}() in checks/test_*.py"))
    problems += _message_problems(folder / "checks", display_root)
    declared = {"test_" + c["id"].replace("-", "_") for c in checks if isinstance(c, dict) and isinstance(c.get("id"), str)}
    for name, (file, line) in sorted(tests.items()):
        if name not in declared:
            check_id = name.removeprefix("test_").replace("_", "-")
            problems.append(Problem(file, line, 1, f"test {name}() is not declared in exercise.yaml (add a check with id '{check_id}')"))

    return problems


def _quiz_problems(doc: YamlDoc, solution_folder: Path, concepts: set[str], display_root: Path,
                   student_copy: bool = False) -> list[Problem]:
    """A quiz: unique question ids, known concepts, and a static answer for every question without code."""
    questions = doc.data.get("questions") if isinstance(doc.data.get("questions"), list) else []
    seen, problems = _ids_and_concepts(doc, "questions", concepts)
    key_path = solution_folder / KEY_FILE
    static = [(i, q["id"]) for i, q in enumerate(questions) if isinstance(q, dict) and isinstance(q.get("id"), str)
              and q.get("type") != "output" and not q.get("answer")]
    if not key_path.is_file():
        if student_copy:  # static answers are withheld from students: those questions are graded later
            return problems
        for index, qid in static:
            problems.append(doc.problem(("questions", index, "id"), f"question '{qid}' has no 'answer' code, and there is no key file {_display(key_path, display_root)}"))
        return problems
    try:
        key_doc = load_yaml(key_path, _display(key_path, display_root))
    except SpecError as exc:
        return problems + exc.problems
    problems += key_doc.problems
    key = key_doc.data if isinstance(key_doc.data, dict) else {}
    if not isinstance(key_doc.data, dict):
        problems.append(key_doc.problem((), "a key file maps question ids to their answers"))
    for index, qid in static:
        if qid not in key:
            problems.append(doc.problem(("questions", index, "id"), f"question '{qid}' has no 'answer' code and no entry in {key_doc.path}"))
    computed = {q["id"] for q in questions if isinstance(q, dict) and isinstance(q.get("id"), str)} - {qid for _, qid in static}
    for qid in key:
        if qid not in seen:
            problems.append(key_doc.problem((qid,), f"'{qid}' is not a question of this quiz", key=True))
        elif qid in computed:
            problems.append(key_doc.problem((qid,), f"question '{qid}' computes its answer; remove it from the key", key=True))
    return problems


# The calls of grader.checks that name a message, and which positional argument is its id.
MESSAGE_CALLS = {"fail": 0, "said": 0, "expect": 1}


def _message_problems(checks_folder: Path, display_root: Path) -> list[Problem]:
    """Every message id the checks name literally (`fail("id")`, `expect(ok, "id")`, `said("id")`,
    `what_to_try="id"`) has a message in the exercise's catalogue (or the shared ones), found by parsing;
    ids made at run time are proved by `grade validate`, which says every failure of every run."""
    from grader.render.words import MESSAGES_FILE, MessageError, Messages

    catalogue = checks_folder / MESSAGES_FILE
    try:
        known = Messages(checks_folder).entries
    except MessageError as exc:
        return [Problem(_display(catalogue, display_root), 1, 1, str(exc).split(": ", 1)[-1])]
    problems = []
    for path in sorted(checks_folder.glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError:
            continue  # said by _find_tests
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            named = []
            if name in MESSAGE_CALLS and len(node.args) > MESSAGE_CALLS[name]:
                named.append(node.args[MESSAGE_CALLS[name]])
            named += [k.value for k in node.keywords if k.arg == "what_to_try"]
            for arg in named:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in known:
                    problems.append(Problem(_display(path, display_root), arg.lineno, arg.col_offset + 1,
                                            f"no message '{arg.value}' in {_display(catalogue, display_root)}"))
    return problems


def _find_tests(checks_folder: Path, display_root: Path) -> tuple[dict[str, tuple[str, int]], list[Problem]]:
    """Names of the top-level test functions in checks/test_*.py, found by parsing (nothing runs)."""
    tests: dict[str, tuple[str, int]] = {}
    problems: list[Problem] = []
    for path in sorted(checks_folder.glob("test_*.py")):
        shown = _display(path, display_root)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            problems.append(Problem(shown, exc.lineno or 1, exc.offset or 1, f"syntax error in check file: {exc.msg}"))
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                tests[node.name] = (shown, node.lineno)
    return tests, problems


def json_schema() -> dict:
    """The JSON Schema of exercise.yaml (code exercises and quizzes), for editors: `grade schema`."""
    schema = ExerciseSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "torchgrade exercise.yaml"
    return schema


# ----------------------------------------------------------------------------- an exercise in another language
class CheckWords(_Strict):
    title: str | None = None
    why_it_matters: str | None = None
    what_to_try: str | None = None


class OptionWords(_Strict):
    text: str | None = None
    explanation: str | None = None


class QuestionWords(_Strict):
    title: str | None = None
    prompt: str | None = None
    code: str | None = Field(None, description="only where the snippet holds words (comments, printed text)")
    explanation: str | None = None
    options: list[OptionWords] = Field(default_factory=list, description="in the order of the English options")


class ExerciseWords(_Strict):
    """`exercise.zh.yaml`: an exercise's words in another language, beside the English `exercise.yaml`.
    Every key is optional: what is left out is shown in English (and counted as untranslated)."""

    title: str | None = None
    summary: str | None = None
    instructions: str | None = None
    hints: list[str] = Field(default_factory=list, description="in the order of the English hints")
    checks: dict[str, CheckWords] = Field(default_factory=dict, description="by check id")
    questions: dict[str, QuestionWords] = Field(default_factory=dict, description="by question id")


def load_words(spec: ExerciseSpec, language: str, display_root: Path, student_copy: bool = False) -> ExerciseWords | None:
    """An exercise's words in `language`, if it has them; SpecError for a broken file or an id that is no
    check or question of the exercise (each with its file and line; in a student copy, the words of the
    checks and questions withheld from it are left unused)."""
    from grader.languages import beside

    path = beside(spec.folder / "exercise.yaml", language)
    if not path.is_file():
        return None
    doc = load_yaml(path, _display(path, display_root))
    problems = list(doc.problems)
    try:
        words = ExerciseWords.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        raise SpecError(problems + _validation_problems(doc, exc)) from None
    for section, known in (("checks", {c.id for c in spec.checks}), ("questions", {q.id for q in spec.questions})):
        for key in [] if student_copy else getattr(words, section):
            if key not in known:
                problems.append(doc.problem((section, key), f"'{key}' is not one of this exercise's {section}", key=True))
    if len(words.hints) > len(spec.hints):
        problems.append(doc.problem(("hints",), f"{len(words.hints)} hints, but exercise.yaml has {len(spec.hints)}"))
    for qid, question in words.questions.items():
        english = next((q for q in spec.questions if q.id == qid), None)
        if english is not None and len(question.options) > len(english.options):
            problems.append(doc.problem(("questions", qid, "options"), f"more options than the English question has"))
    if problems:
        raise SpecError(problems)
    return words


def in_language(spec: ExerciseSpec, words: ExerciseWords | None, language: str) -> ExerciseSpec:
    """`spec` with its texts in the language of `words`; each text without a translation stays English and
    is counted (`grader.languages.untranslated`)."""
    from grader.languages import untranslated

    missing = 0

    def pick(translated: str | None, english: str) -> str:
        nonlocal missing
        missing += translated is None
        return english if translated is None else translated

    words = words or ExerciseWords()
    checks = []
    for check in spec.checks:
        given = words.checks.get(check.id, CheckWords())
        checks.append(check.model_copy(update={key: pick(getattr(given, key), getattr(check, key))
                                               for key in ("title", "why_it_matters", "what_to_try")}))
    questions = []
    for question in spec.questions:
        given = words.questions.get(question.id, QuestionWords())
        options = [option.model_copy(update={
            "text": pick(given.options[i].text if i < len(given.options) else None, option.text),
            "explanation": pick(given.options[i].explanation if i < len(given.options) else None, option.explanation)
            if option.explanation else ""}) for i, option in enumerate(question.options)]
        update = {key: pick(getattr(given, key), getattr(question, key)) for key in ("title", "prompt", "explanation")}
        if given.code is not None:
            update["code"] = given.code
        questions.append(question.model_copy(update={**update, "options": options}))
    hints = [pick(words.hints[i] if i < len(words.hints) else None, hint) for i, hint in enumerate(spec.hints)]
    translated = spec.model_copy(update={
        "title": pick(words.title, spec.title), "summary": pick(words.summary, spec.summary),
        "instructions": pick(words.instructions, spec.instructions), "hints": hints, "checks": checks,
        "questions": questions, "language": language})
    untranslated(language, missing)
    return translated
