"""The glossary: the ids the course promises exist, every term is complete, every concept a check
names is a term, and the rendered page the feedback links into is up to date."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.course import Course
from grader.glossary import load_glossary
from grader.render import render_glossary_page
from grader.yamlfile import SpecError

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = """batch batch-size epoch iteration gradient forward-propagation backpropagation weight bias parameter
label feature channel kernel convolutional-layer pooling-layer fully-connected-layer hidden-layer neural-network
activation-function relu sigmoid softmax logits loss cross-entropy one-hot optimizer sgd learning-rate step
hyperparameter tensor broadcasting autograd computation-graph module dataset dataloader transform validation-set
evaluation-mode dropout inference overfitting precision recall checkpoint transfer-learning device cuda
mixed-precision random-seed chain-rule autograd-function gradcheck vectorization keepdim map-location freezing
normalize data-augmentation random-split accuracy confusion-matrix f1-score padding stride""".split()


def test_required_terms_exist_with_a_definition_and_summary():
    glossary = load_glossary(ROOT / "glossary", ROOT)
    missing = [i for i in REQUIRED if i not in glossary]
    assert not missing
    for term in glossary.terms.values():
        assert term.summary.strip() and "\n" not in term.summary.strip(), term.id
        assert len(term.definition.split()) >= 15, term.id
        assert term.related, term.id


def test_no_name_finds_two_terms():
    """Every id, name and alias (in every language) leads to one term: `grade glossary 步长` must not depend on
    which file happens to be read first."""
    glossary = load_glossary(ROOT / "glossary", ROOT)
    elsewhere = {}
    for term in glossary.terms.values():
        names = [term.id, term.term, *term.aliases] + ([term.zh.term, *term.zh.aliases] if term.zh else [])
        elsewhere.update({name: glossary.find(name).id for name in names if glossary.find(name).id != term.id})
    assert elsewhere == {}


def test_every_concept_used_by_a_check_is_a_term():
    course = Course(ROOT)
    used = {c for spec in course.load_all() for check in spec.checks for c in check.concepts}
    assert used and used <= set(course.glossary.terms)


def test_rendered_page_is_up_to_date():
    page = (ROOT / "glossary" / "README.md").read_text(encoding="utf-8")
    assert page == render_glossary_page(load_glossary(ROOT / "glossary", ROOT)), (
        "glossary/README.md is stale: run `grade glossary --markdown > glossary/README.md`")


def test_lookup_by_alias_ignores_case_and_punctuation():
    glossary = load_glossary(ROOT / "glossary", ROOT)
    assert glossary.find("Zero_Grad").id == "zero-grad"
    assert glossary.find("model.eval()").id == "evaluation-mode"
    assert glossary.find("no such thing") is None


def test_broken_term_files_are_all_reported(tmp_path):
    folder = tmp_path / "glossary"
    shutil.copytree(ROOT / "glossary", folder)
    (folder / "gradient.yaml").write_text("term: Gradient\naliases: []\nsummary: x\ndefinition: y\nrelated: [nope]\ncolour: red\n")
    (folder / "tensor.yaml").write_text("term: [Tensor\n")
    try:
        load_glossary(folder, tmp_path)
    except SpecError as exc:
        text = str(exc)
    else:
        raise AssertionError("the broken glossary loaded")
    assert "glossary/gradient.yaml:6:1: unknown key 'colour'" in text
    assert "glossary/gradient.yaml:5:" in text and "related term 'nope' does not exist" in text
    assert "glossary/tensor.yaml:2:1: YAML syntax error" in text

