"""Read YAML while keeping every node's line and column, so each problem can say `path:line:col`.

PyYAML forgets positions once it builds Python objects; here we compose the node tree first,
record where each key and value starts, then build the objects from the same nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, located for an editor: `path:line:col: message`."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class SpecError(Exception):
    """A definition file (or several) is wrong; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class YamlDoc:
    """Parsed YAML data plus where each piece of it sits in the file (1-based line/column)."""

    path: str
    data: Any
    value_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # found while reading (duplicate keys)

    def where(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """The position of `loc`, or of its nearest ancestor that exists in the file."""
        loc = tuple(loc)
        while True:
            marks = self.key_marks if key else self.value_marks
            if loc in marks:
                return marks[loc]
            if loc in self.value_marks:
                return self.value_marks[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def problem(self, loc: Loc, message: str, *, key: bool = False) -> Problem:
        line, col = self.where(loc, key=key)
        return Problem(self.path, line, col, message)


def _refuse_aliases(text: str, shown: str) -> None:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line, col = _pos(event.start_mark)
                raise SpecError([Problem(shown, line, col, f"*{event.anchor} is a YAML alias: write each answer out "
                                                           "in full instead")])
    except yaml.YAMLError:
        return  # the parse below says where the syntax is wrong


def _pos(mark: yaml.Mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def load_yaml(path: Path, display_path: str | None = None, *, aliases: bool = True) -> YamlDoc:
    """Parse one YAML file; raise SpecError (never a traceback) on unreadable or malformed input.
    `aliases=False`: a file written by a student (a quiz's answers) may not use `*alias` (a few lines of
    aliases nest into billions of values when printed: refused, naming the line)."""
    shown = display_path or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem(shown, 1, 1, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(shown, 1, 1, f"cannot read the file: {exc}")]) from None
    return load_yaml_text(text, shown, aliases=aliases)


def load_yaml_text(text: str, shown: str, *, aliases: bool = True) -> YamlDoc:
    """Parse YAML read elsewhere (a notebook's answer cells), its problems named `shown:line:col`."""
    if not aliases:
        _refuse_aliases(text, shown)
    loader = _Loader(text)
    doc = YamlDoc(shown, None)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError([Problem(shown, 1, 1, "the file is empty")])
        _walk(loader, node, (), doc, doc.problems)
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark else (1, 1)
        what = str(exc.problem or exc.context)
        if exc.context and exc.problem and exc.context_mark:
            start_line, start_col = _pos(exc.context_mark)
            what += f" ({exc.context}, which starts at line {start_line}, column {start_col})"
        raise SpecError([Problem(shown, line, col, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(shown, 1, 1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    return doc


def _walk(loader: Any, node: yaml.Node, loc: Loc, doc: YamlDoc, problems: list[Problem]) -> None:
    doc.value_marks[loc] = _pos(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                key = str(key)
            if key in seen:
                line, col = _pos(key_node.start_mark)
                problems.append(Problem(doc.path, line, col, f"duplicate key '{key}'"))
            seen.add(key)
            doc.key_marks[loc + (key,)] = _pos(key_node.start_mark)
            _walk(loader, value_node, loc + (key,), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(loader, item, loc + (index,), doc, problems)
