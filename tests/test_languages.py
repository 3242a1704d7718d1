"""Feedback in the student's language (grader.languages): the language chosen from --lang, the
environment or the locale; every gettext message of the code and templates translated and compiled;
the glossary in Chinese, findable by the course notes' own words; a missing translation said in English
and counted, never an error."""

from __future__ import annotations

import gettext
import io
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import Course
from grader.glossary import load_glossary
from grader.languages import LANGUAGES, LOCALE, UNTRANSLATED, beside, choose, translations

babel = pytest.importorskip("babel")
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OTHER = [language for language in LANGUAGES if language != "en"]
# The Chinese course note's words for the ideas of the course (issue 20): `grade glossary 激活函数` finds them.
COURSE_WORDS = {"特征": "feature", "层": "layer", "卷积层": "convolutional-layer", "池化层": "pooling-layer",
                "全连接层": "fully-connected-layer", "算子": "operator", "激活函数": "activation-function",
                "权重": "weight", "偏置": "bias", "通道": "channel", "卷积核": "kernel", "张量": "tensor",
                "正向传播": "forward-propagation", "反向传播": "backpropagation", "损失": "loss", "梯度": "gradient",
                "学习率": "learning-rate", "批量": "batch", "数据集": "dataset", "验证": "validation-set"}


def test_the_language_comes_from_the_option_then_the_environment_then_the_locale(monkeypatch):
    for name in ("TORCHGRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert choose() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert choose() == "zh" and choose("en") == "en"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("TORCHGRADE_LANG", "zh-Hans")
    assert choose() == "zh"
    monkeypatch.setenv("TORCHGRADE_LANG", "klingon")  # unknown: the locale decides, then English
    assert choose() == "en"
    assert beside(Path("checks/messages.yaml"), "zh") == Path("checks/messages.zh.yaml")


def _extracted(tmp_path: Path):
    pot = tmp_path / "torchgrade.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(LOCALE / "babel.cfg"),
                    "-o", str(pot), "--no-location", "grader"], cwd=ROOT, check=True, capture_output=True)
    return read_po(pot.open("rb"))


@pytest.mark.parametrize("language", OTHER)
def test_every_message_of_the_code_and_templates_is_translated_and_compiled(language, tmp_path):
    po_file = LOCALE / language / "LC_MESSAGES" / "torchgrade.po"
    catalog = read_po(po_file.open("rb"), locale=language)
    missing = [m.id for m in _extracted(tmp_path) if m.id and not (catalog.get(m.id) and catalog.get(m.id).string)]
    assert not missing, f"{po_file.relative_to(ROOT)} lacks: {missing}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    shipped = gettext.GNUTranslations((po_file.with_suffix(".mo")).open("rb"))
    assert gettext.GNUTranslations(compiled)._catalog == shipped._catalog, \
        "the .mo is older than the .po: run `pybabel compile -d grader/locale -D torchgrade`"


def test_a_message_without_a_translation_is_english_and_counted():
    before = UNTRANSLATED["zh"]
    assert translations("zh").gettext("A sentence nobody translated.") == "A sentence nobody translated."
    assert UNTRANSLATED["zh"] == before + 1
    assert translations("en").gettext("Related: %(terms)s") == "Related: %(terms)s"


@pytest.mark.parametrize("language", OTHER)
def test_every_glossary_term_has_its_words_in_each_language(language):
    glossary = load_glossary(ROOT / "glossary", ROOT)
    assert [t.id for t in glossary.terms.values() if getattr(t, language) is None] == []


def test_the_course_notes_chinese_words_find_their_terms():
    glossary = load_glossary(ROOT / "glossary", ROOT)
    found = {word: (glossary.find(word).id if glossary.find(word) else None) for word in COURSE_WORDS}
    assert found == COURSE_WORDS


def test_a_term_in_chinese_keeps_its_english_name_beside_it():
    from grader.render import render_term

    glossary = load_glossary(ROOT / "glossary", ROOT)
    text = render_term(glossary["activation-function"], glossary, False, "zh")
    assert text.startswith("激活函数 Activation function") and "相关术语：relu" in text and "`nn.ReLU()`" in text
    assert render_term(glossary["activation-function"], glossary, False).startswith("Activation function  (also:")


def test_an_exercise_without_its_words_in_a_language_is_shown_in_english_and_counted(tmp_path):
    course = Course(ROOT, language="zh")
    spec = course.resolve("1")
    english = Course(ROOT).resolve("1")
    if not beside(spec.folder / "exercise.yaml", "zh").is_file():
        assert spec.title == english.title and spec.language == "zh"


def test_a_broken_translation_is_named_with_its_file_and_line(tmp_path):
    import shutil

    from grader.yamlfile import SpecError

    course = tmp_path / "course"
    for part in ("exercises/01-dataset", "solutions/01-dataset", "glossary"):
        shutil.copytree(ROOT / part, course / part)
    (course / "exercises/01-dataset/exercise.zh.yaml").write_text(
        "title: 读取 CSV 文件中列出的图像\nchecks:\n  length:\n    title: len() 统计数据行\n  no-such-check:\n    title: x\n",
        encoding="utf-8")
    with pytest.raises(SpecError) as failed:
        Course(course).resolve("1")
    assert str(failed.value) == ("exercises/01-dataset/exercise.zh.yaml:5:3: 'no-such-check' is not one of this "
                                 "exercise's checks")
    (course / "exercises/01-dataset/exercise.zh.yaml").write_text("title: 读取\nchecks:\n  length:\n    title: 统计\n",
                                                                 encoding="utf-8")
    spec = Course(course, language="zh").resolve("1")
    assert spec.title == "读取" and spec.check("length").title == "统计"
    assert spec.check("labels").title == Course(course).resolve("1").check("labels").title  # English, counted


def _catalogues() -> list[Path]:
    """Every English message catalogue the course and the grader ship."""
    from grader.render.words import GRADER, SHARED

    return [GRADER, SHARED, *sorted((ROOT / "exercises").glob("*/checks/messages.yaml"))]


@pytest.mark.parametrize("language", OTHER)
@pytest.mark.parametrize("catalogue", _catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_has_its_words_in_each_language(catalogue, language):
    from grader.render.words import load_catalogue

    english, translated = load_catalogue(catalogue), load_catalogue(beside(catalogue, language))
    missing = [f"{key}.{part}" for key, entry in english.items() for part in entry
               if not translated.get(key, {}).get(part)]
    assert not missing, f"{beside(catalogue, language).relative_to(ROOT)} lacks: {missing}"
    assert set(translated) <= set(english), f"ids no English message has: {set(translated) - set(english)}"


@pytest.mark.parametrize("language", OTHER)
def test_every_error_explanation_has_its_words_in_each_language(language):
    from grader.explain import CATALOGUE, catalogue
    from grader.render.words import EXPLANATION_PARTS, load_catalogue

    translated = load_catalogue(beside(CATALOGUE, language), EXPLANATION_PARTS)
    missing = [f"{e.id}.{part}" for e in catalogue() for part in ("title", "meaning", "cause", "try")
               if not translated.get(e.id, {}).get(part)]
    assert not missing, missing
    assert set(translated) <= {e.id for e in catalogue()}


@pytest.mark.parametrize("language", OTHER)
def test_every_exercise_has_all_its_words_in_each_language(language):
    from grader import languages

    for spec in Course(ROOT).load_all():
        before = languages.UNTRANSLATED[language]
        Course(ROOT, language=language).resolve(str(spec.id))
        assert languages.UNTRANSLATED[language] == before, f"{spec.name}: texts left in English"


ENGLISH_LABELS = ("What happened", "Why it matters", "What to try", "Score", "did not pass", "Read in the glossary",
                  "It happened", "Most likely", "PASS", "FAIL", "Hint ", "That was the last hint")


@pytest.mark.slow
def test_the_starter_is_graded_in_chinese_but_code_and_names(grade, tmp_path):
    ran = grade("exercise", "3", "--lang", "zh")
    assert ran.code == 1 and "发生了什么：" in ran.stdout and "为什么重要：" in ran.stdout and "得分：" in ran.stdout
    assert [label for label in ENGLISH_LABELS if label in ran.stdout] == []
    assert "`optimizer.zero_grad()`" in ran.stdout  # code stays code
    hints = grade("hint", "3", "--lang", "zh", env={"TORCHGRADE_PROGRESS": str(tmp_path / "progress.json")})
    assert hints.code == 0 and hints.stdout.startswith("提示 1（共 4 条）")
    chosen = grade("exercise", "3", env={"TORCHGRADE_LANG": "zh"}).stdout
    assert "发生了什么：" in chosen  # the environment chooses the language too


@pytest.mark.slow
def test_a_quiz_and_the_cli_own_messages_are_said_in_chinese(grade, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("randn-shape: 9x7x2\nview-minus-one: [1, 1]\nnot-a-question: 3\n", encoding="utf-8")
    ran = grade("exercise", "6", "--submission", str(answers), "--lang", "zh", "--student", "alice")
    assert ran.code == 1, ran.stderr
    assert "无法读懂这个答案：'9x7x2' 是在纸上写尺寸的写法：形状请写成列表，例如 [9, 7, 2]。" in ran.stdout
    assert "你的答案是 [1, 1]，这个答案不对。" in ran.stdout and "还没有作答。" in ran.stdout
    assert "作答方式：一个写成列表的形状" in ran.stdout  # the tip: how this type of question is answered
    assert "警告：你的答案文件里的 'not-a-question' 不是这个测验的题目" in ran.stderr
    assert [s for s in ("You answered", "No answer yet", "could not be read", "Answer with", "warning")
            if s in ran.stdout + ran.stderr] == []
    folder = tmp_path / "empty"
    folder.mkdir()
    missing = grade("exercise", "6", "--submission", str(folder), "--lang", "zh")
    assert missing.code == 1 and f"{folder / 'answers.yaml'} 没有答案文件。" in missing.stdout
    code = grade("exercise", "3", "--submission", str(folder), "--lang", "zh", "--format", "json")
    assert code.code == 1 and "里没有文件 train.py。这个练习评的是 train.py" in code.json()["message"]
    unknown = grade("exercise", "99", "--lang", "zh")
    assert unknown.code == 2 and "没有练习 '99'。" in unknown.stderr
    assert "术语表里没有 'tensr'。相近的词条：tensor" in grade("glossary", "tensr", "--lang", "zh").stderr
    not_a_quiz = grade("quiz", "3", "--lang", "zh")
    assert "练习 3（03-training-loop）不是测验：请用 `grade exercise 3` 评分" in not_a_quiz.stderr
