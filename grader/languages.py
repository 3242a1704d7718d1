"""The languages feedback is said in, and where each language's words live.

English is the language every text is written in first. Another language's words sit beside the English
file they translate, in a file of the same name with the language before the suffix: `exercise.zh.yaml`
beside `exercise.yaml`, `checks/messages.zh.yaml` beside `checks/messages.yaml`, `catalogue.zh.yaml`
beside the error catalogue; a glossary term carries its own `zh:` block. A text without a translation is
shown in English (never an error) and counted, so a course knows what is left to translate.
"""

from __future__ import annotations

import functools
import gettext as gnu
import os
from collections import Counter
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "中文 (Chinese)"}
DEFAULT = "en"
LANGUAGE_ENV = "TORCHGRADE_LANG"

# Texts shown in English for want of a translation, by language, since this process started.
UNTRANSLATED: Counter[str] = Counter()


def choose(option: str | None = None) -> str:
    """The language to speak: `--lang`, else $TORCHGRADE_LANG, else the locale ($LC_ALL, $LC_MESSAGES,
    $LANG: `zh_CN.UTF-8`, `zh_TW`, `zh-Hans` are all Chinese), else English."""
    for value in (option, os.environ.get(LANGUAGE_ENV), os.environ.get("LC_ALL"), os.environ.get("LC_MESSAGES"),
                  os.environ.get("LANG")):
        if value:
            code = value.replace("-", "_").split("_")[0].split(".")[0].lower()
            if code in LANGUAGES:
                return code
            if value in (option, os.environ.get(LANGUAGE_ENV)):
                continue  # an unknown language asked for: the locale may still know better
    return DEFAULT


def beside(path: Path, language: str) -> Path:
    """The file holding `language`'s words for the English file `path`: messages.yaml -> messages.zh.yaml."""
    return path.with_name(f"{path.stem}.{language}{path.suffix}")


def untranslated(language: str, count: int = 1) -> None:
    """Count texts said in English because `language` has no words for them."""
    if language != DEFAULT:
        UNTRANSLATED[language] += count


# ----------------------------------------------------------------------------- words in the grader's own code
# The short words of the templates and the CLI (labels, headings, the CLI's messages) are gettext messages:
# marked `_("...")` in templates and code, extracted with Babel (`pybabel extract -F grader/locale/babel.cfg`),
# translated in grader/locale/LANG/LC_MESSAGES/torchgrade.po and compiled beside it (.mo, shipped).
LOCALE = Path(__file__).resolve().parent / "locale"
DOMAIN = "torchgrade"


class _Counted(gnu.NullTranslations):
    """A language's compiled messages; a message it lacks is said in English and counted."""

    def __init__(self, language: str, found: gnu.NullTranslations):
        super().__init__()
        self.language, self.found = language, found

    def gettext(self, message: str) -> str:
        said = self.found.gettext(message)
        if said is message and message:
            untranslated(self.language)
        return said

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        said = self.found.ngettext(singular, plural, n)
        if said in (singular, plural):
            untranslated(self.language)
        return said


@functools.cache
def translations(language: str) -> gnu.NullTranslations:
    """The compiled gettext messages of `language` (English: the messages themselves)."""
    if language == DEFAULT:
        return gnu.NullTranslations()
    try:
        found: gnu.NullTranslations = gnu.translation(DOMAIN, LOCALE, [language])
    except OSError:
        found = gnu.NullTranslations()
    return _Counted(language, found)


def speaking() -> str:
    """The language of the command running now: its `--lang` (kept in Click's context by the CLI), else
    `choose()`."""
    import click

    context = click.get_current_context(silent=True)
    root = context.find_root() if context is not None else None
    chosen = root.obj.get("language") if root is not None and isinstance(root.obj, dict) else None
    return chosen or choose()


def gettext(message: str, /, **params: object) -> str:
    """The CLI's own `message` (English, marked for Babel: `from grader.languages import gettext as _`) in
    the language of the command running now, its `%(name)s` placeholders filled from `params`."""
    said = translations(speaking()).gettext(message)
    return said % params if params else said


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """`gettext` for a message whose words depend on a number `n` (one problem, 2 problems)."""
    said = translations(speaking()).ngettext(singular, plural, n)
    return said % {"n": n, **params}
