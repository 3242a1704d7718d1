"""The course glossary: one YAML file per term in `glossary/` (the file name is the term's id),
rendered to `glossary/README.md`, whose anchors every piece of feedback links into."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from grader.spec import ID_PATTERN
from grader.yamlfile import Problem, SpecError, YamlDoc, load_yaml

GLOSSARY_PAGE = "README.md"
GLOSSARY_URL_ENV = "TORCHGRADE_GLOSSARY_URL"  # where the course publishes its glossary page (links in feedback)
GLOSSARY_PAGE_PATH = "glossary/README.md"  # the page, from the course's root


class TermWords(BaseModel):
    """A term's words in another language than English: its name there (the English name is kept beside
    it, since PyTorch's names stay English), the other names students meet (a course's own words), and
    its summary and definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=1)
    definition: str = Field(min_length=1)


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    term: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=1, description="one line, shown in the terminal")
    definition: str = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    docs: HttpUrl | None = None
    zh: TermWords | None = Field(None, description="the term in Chinese")

    @property
    def anchor(self) -> str:
        return self.id

    def said_in(self, language: str) -> SaidTerm:
        """The term's words in `language` (English where it has none, counted), its English name beside."""
        from grader.languages import DEFAULT, untranslated

        words = getattr(self, language, None) if language != DEFAULT else None
        if words is None:
            untranslated(language)
            return SaidTerm(self.id, self.term, "", self.aliases, self.summary, self.definition, self.related,
                            str(self.docs or ""))
        return SaidTerm(self.id, words.term, self.term, words.aliases + self.aliases, words.summary, words.definition,
                        self.related, str(self.docs or ""))


@dataclass(frozen=True)
class SaidTerm:
    """A term as a view shows it in one language: `english` is its English name when `term` is another's."""

    id: str
    term: str
    english: str
    aliases: list[str]
    summary: str
    definition: str
    related: list[str]
    docs: str


class Glossary:
    """All terms by id, plus lookup by alias. `url`: where the glossary page is published, for links from
    feedback read elsewhere (a workflow run's summary, Gradescope); None: the course's own page,
    `glossary/README.md`, linked relatively."""

    def __init__(self, terms: dict[str, Term], folder: Path, url: str | None = None):
        self.terms = dict(sorted(terms.items(), key=lambda kv: kv[1].term.lower()))
        self.folder = folder
        self.url = url

    def link(self, term_id: str) -> str:
        """The link to a term's definition."""
        return f"{self.url or GLOSSARY_PAGE_PATH}#{term_id}"

    def __contains__(self, term_id: str) -> bool:
        return term_id in self.terms

    def __getitem__(self, term_id: str) -> Term:
        return self.terms[term_id]

    def find(self, text: str) -> Term | None:
        """A term by id, name or alias, ignoring case, spaces and hyphens."""
        wanted = _fold(text)
        for term in self.terms.values():
            if wanted in {_fold(name) for name in _names(term)}:
                return term
        return None

    def suggestions(self, text: str, limit: int = 5) -> list[Term]:
        """Terms whose names contain `text`, then the closest spellings (for a typo like 'gradiant')."""
        wanted = _fold(text)
        names = {_fold(n): t for t in self.terms.values() for n in _names(t)}
        found = [t for name, t in names.items() if wanted and wanted in name]
        found += [names[n] for n in difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.75)]
        return list({t.id: t for t in found}.values())[:limit]


def _names(term: Term) -> list[str]:
    """Every name a term is found by, in every language."""
    from grader.languages import DEFAULT, LANGUAGES

    translated = [getattr(term, language, None) for language in LANGUAGES if language != DEFAULT]
    other = [name for words in translated if words is not None for name in (words.term, *words.aliases)]
    return [term.id, term.term, *term.aliases, *other]


def _fold(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def load_glossary(folder: Path, display_root: Path | None = None) -> Glossary:
    """Load every term; raise SpecError listing every problem in every file."""
    terms: dict[str, Term] = {}
    docs: dict[str, YamlDoc] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        shown = str(path.relative_to(display_root)) if display_root else str(path)
        try:
            doc = load_yaml(path, shown)
        except SpecError as exc:
            problems += exc.problems
            continue
        if not isinstance(doc.data, dict):
            problems.append(doc.problem((), "a glossary file must be a mapping of keys to values"))
            continue
        problems += doc.problems
        docs[path.stem] = doc
        try:
            terms[path.stem] = Term.model_validate({"id": path.stem, **doc.data})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                key = err["type"] == "extra_forbidden"
                message = f"unknown key '{loc[-1]}'" if key else f"{'.'.join(map(str, loc))}: {err['msg']}"
                problems.append(doc.problem(loc, message, key=key))
    known = {path.stem for path in folder.glob("*.yaml")}  # a broken file is still a term that exists
    for term_id, doc in docs.items():
        related = doc.data.get("related")
        for index, other in enumerate(related if isinstance(related, list) else []):
            if other not in known:
                problems.append(doc.problem(("related", index), f"related term '{other}' does not exist"))
    if problems:
        raise SpecError(problems)
    return Glossary(terms, folder)
