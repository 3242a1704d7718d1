"""The catalogue of PyTorch errors (grader/explain/catalogue.yaml), tested against real errors: each case
is a small piece of buggy student code that raises with the installed PyTorch; the exception is
described as a worker describes it and explained as the judge explains it. No test types a message by
hand, so a PyTorch release that rewords one breaks a test here instead of silently losing the
explanation. The line marked `# <- here` is the line the explanation must point at."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from grader.explain import catalogue, recognise, summary
from grader.glossary import load_glossary
from grader.render import visible
from grader.render.words import explanation, run_words
from grader.runner.sandbox import ProbeOutcome, describe_exception
from grader.runner.sides import run_failure

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Explained:
    id: str
    facts: dict
    concepts: list


def explain(error: dict) -> Explained | None:
    """The catalogue entry that recognises `error`, as the judge records it."""
    found = recognise(error)
    return Explained(found[0].id, found[1], list(found[0].concepts)) if found else None


@dataclass
class Said:
    message: str
    what_to_try: str | None
    concepts: list
    explained_by: str
    summary: str


def explain_failure(outcome: ProbeOutcome, title: str, limits: dict) -> Said:
    """A failed run as the student reads it: the judge's facts (`run_failure`), put into words by the view."""
    run = run_failure(outcome).run
    words = explanation(run)
    return Said(run_words(run, title, limits), words["what_to_try"] if words else None,
                words["concepts"] if words else [], run.explained.id if run.explained else "", run.summary)
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.utils.data import DataLoader, Dataset\n"


@dataclass
class Case:
    code: str  # defines run(); the line that raises carries "# <- here" (when the student's code raises it)
    facts: dict[str, object] = field(default_factory=dict)
    says: list[str] = field(default_factory=list)  # words the explanation must contain
    cuda: bool = False  # the error needs a GPU to happen
    subprocess: bool = False  # run where no GPU is visible (CUDA_VISIBLE_DEVICES=""), as a CPU probe is


CASES: dict[str, Case] = {
    "matmul-shapes": Case("""
        def run():
            layer = nn.Linear(392, 128)
            x = torch.randn(64, 32, 7, 7)
            return layer(x.view(64, -1))  # <- here
        """, {"rows": "64", "got": "1568", "expected": "392", "out": "128"}, ["1568", "392", "4 times", "nn.Linear(1568, 128)"]),
    "matmul-dtypes": Case("""
        import numpy as np
        def run():
            x = torch.from_numpy(np.ones((4, 3)))
            return nn.Linear(3, 2)(x)  # <- here
        """, {"input": "Double", "weight": "Float"}, ["float64", "x.float()"]),
    "conv-types": Case("""
        import numpy as np
        def run():
            images = torch.from_numpy(np.zeros((2, 1, 8, 8)))
            return nn.Conv2d(1, 4, 3)(images)  # <- here
        """, {"input": "double", "weight": "float"}, ["float64"]),
    "target-dtype": Case("""
        def run():
            outputs = torch.randn(4, 10)
            labels = torch.tensor([1.0, 2.0, 3.0, 4.0])
            return nn.CrossEntropyLoss()(outputs, labels)  # <- here
        """, {"got": "Float"}, ["Float", "torch.long"]),
    "target-probabilities": Case("""
        def run():
            labels = F.one_hot(torch.tensor([0, 1, 2, 0]), 3)
            return nn.CrossEntropyLoss()(torch.randn(4, 3), labels)  # <- here
        """, {"got": "Long"}, ["one-hot"]),
    "target-extra-dimension": Case("""
        def run():
            labels = torch.tensor([[0], [1], [2], [0]])
            return nn.CrossEntropyLoss()(torch.randn(4, 3), labels)  # <- here
        """, {}, ["squeeze(1)"]),
    "batch-size-mismatch": Case("""
        def run():
            x = torch.randn(32, 20, 4, 4)
            outputs = nn.Linear(160, 10)(x.view(-1, 160))  # 64 rows instead of 32
            return nn.CrossEntropyLoss()(outputs, torch.randint(0, 10, (32,)))  # <- here
        """, {"input": "64", "target": "32"}, ["64 rows", "32 labels", "torch.flatten(x, 1)"]),
    "target-size": Case("""
        def run():
            outputs = torch.sigmoid(torch.randn(4, 1))
            return nn.BCELoss()(outputs, torch.rand(4))  # <- here
        """, {"input": "4, 1", "target": "4"}, ["squeeze(1)"]),
    "size-mismatch": Case("""
        def run():
            return nn.MSELoss()(torch.rand(4, 3), torch.rand(4, 5))  # <- here
        """, {"a": "3", "b": "5", "dim": "1"}, ["3 and 5"]),
    "device-mismatch": Case("""
        def run():
            model = nn.Linear(2, 2).to("meta")
            batch = torch.randn(3, 2)
            return model(batch)  # <- here
        """, {"devices": ["meta", "cpu"]}, ["meta and cpu", "stands for the GPU", ".to(device)"]),
    "numpy-requires-grad": Case("""
        def run():
            weights = torch.randn(3, requires_grad=True)
            return (weights * 2).numpy()  # <- here
        """, {}, ["detach()"]),
    "numpy-device": Case("""
        def run():
            predictions = torch.randn(3, device="meta")
            return predictions.numpy()  # <- here
        """, {"device": "meta"}, [".cpu().numpy()"]),
    "item-of-many": Case("""
        def run():
            losses = nn.MSELoss(reduction="none")(torch.randn(3), torch.randn(3))
            return losses.item()  # <- here
        """, {"count": "3"}, ["holds 3"]),
    "no-grad-fn": Case("""
        def run():
            model = nn.Linear(2, 1)
            with torch.no_grad():
                loss = model(torch.randn(4, 2)).sum()
            loss.backward()  # <- here
        """, {"index": "0"}, ["torch.no_grad()"]),
    "backward-twice": Case("""
        def run():
            w = torch.randn(2, requires_grad=True)
            loss = (w * w).sum()
            for _ in range(2):
                loss.backward()  # <- here
        """, {}, ["loss.item()"]),
    "leaf-in-place": Case("""
        def run():
            w = torch.randn(2, requires_grad=True)
            w -= 0.1 * torch.ones(2)  # <- here
        """, {}, ["torch.no_grad()"]),
    "modified-in-place": Case("""
        def run():
            a = torch.randn(3, requires_grad=True)
            b = a.sigmoid()
            b.mul_(2)
            b.sum().backward()  # <- here
        """, {"output": "0", "tensor": "torch.FloatTensor [3]"}, ["Sigmoid", "torch.relu(x)"]),
    "view-not-contiguous": Case("""
        def run():
            images = torch.randn(8, 28, 28, 3).permute(0, 3, 1, 2)
            return images.view(8, -1)  # <- here
        """, {}, [".reshape(...)"]),
    "shape-invalid": Case("""
        def run():
            x = torch.randn(64, 16, 5, 5)
            return x.view(64, 16 * 4 * 4)  # <- here
        """, {"shape": "64, 256", "size": "25600"}, ["16384", "25600"]),
    "conv-input-dimensions": Case("""
        def run():
            image = torch.randn(28, 28)
            return nn.Conv2d(1, 8, 3)(image)  # <- here
        """, {"size": "28, 28", "op": "conv2d"}, ["[1, 28, 28]", "unsqueeze(0)"]),
    "conv-channels": Case("""
        def run():
            grayscale = torch.randn(8, 1, 28, 28)
            return nn.Conv2d(3, 16, 3)(grayscale)  # <- here
        """, {"expected": "3", "got": "1", "input": "8, 1, 28, 28"}, ["grayscale"]),
    "output-too-small": Case("""
        def run():
            x = torch.randn(1, 16, 1, 1)
            return nn.MaxPool2d(2)(x)  # <- here
        """, {"input": "16x1x1", "output": "16x0x0"}, ["padding="]),
    "kernel-too-big": Case("""
        def run():
            x = torch.randn(1, 1, 2, 2)
            return nn.Conv2d(1, 1, 3)(x)  # <- here
        """, {"input": "2 x 2", "kernel": "3 x 3"}, ["(3 x 3) kernel"]),
    "cuda-out-of-memory": Case("""
        def run():
            free, total = torch.cuda.mem_get_info()
            return torch.empty(int(total * 2), dtype=torch.uint8, device="cuda")  # <- here
        """, {}, ["loss.item()"], cuda=True),
    "no-cuda": Case("""
        def run():
            model = nn.Linear(2, 2)
            return model.to("cuda")  # <- here
        """, {}, ["torch.cuda.is_available()"], subprocess=True),
    "collate-type": Case("""
        from PIL import Image
        class Images(Dataset):
            def __len__(self):
                return 4
            def __getitem__(self, i):
                return Image.new("L", (4, 4)), 0
        def run():
            return next(iter(DataLoader(Images(), batch_size=2)))  # <- here
        """, {"found": "PIL.Image.Image"}, ["ToTensor()"]),
    "collate-sizes": Case("""
        class Images(Dataset):
            def __len__(self):
                return 4
            def __getitem__(self, i):
                return torch.zeros(3, 28 + i, 28), 0
        def run():
            return next(iter(DataLoader(Images(), batch_size=2)))  # <- here
        """, {"first": "3, 28, 28", "second": "3, 29, 28"}, ["Resize"]),
    "stack-sizes": Case("""
        def run():
            return torch.stack([torch.zeros(3, 28, 28), torch.zeros(3, 32, 32)])  # <- here
        """, {"first": "3, 28, 28", "second": "3, 32, 32"}, ["torch.cat"]),
    "index-out-of-range": Case("""
        def run():
            embedding = nn.Embedding(10, 4)
            return embedding(torch.tensor([3, 12]))  # <- here
        """, {}, ["num_embeddings"]),
    "target-out-of-bounds": Case("""
        def run():
            scores = nn.Linear(4, 10)(torch.randn(2, 4))
            return nn.CrossEntropyLoss()(scores, torch.tensor([1, 10]))  # <- here
        """, {"target": "10"}, ["out_features"]),
    "none-returned": Case("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 3)
            def forward(self, x):
                x = self.fc(x)
        def run():
            outputs = Net()(torch.randn(4, 2))
            return nn.CrossEntropyLoss()(outputs, torch.tensor([0, 1, 2, 0]))  # <- here
        """, {}, ["return x"]),
    "method-called-with-argument": Case("""
        def run():
            model = nn.Linear(2, 2)
            model = model.eval
            return model(torch.randn(1, 2))  # <- here
        """, {"method": "eval"}, ["model.eval()"]),
    "method-not-called": Case("""
        def run():
            total = 0.0
            for _ in range(2):
                loss = torch.tensor(1.5)
                total += loss.item  # <- here
            return total
        """, {}, ["loss.item()", "total += loss.item"]),
    "unscale-twice": Case("""
        def run():
            model = nn.Linear(2, 1)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            scaler = torch.amp.GradScaler("cpu")
            scaler.scale(model(torch.randn(3, 2)).sum()).backward()
            scaler.unscale_(optimizer)
            scaler.unscale_(optimizer)  # <- here
        """, {}, ["scaler.update()"]),
    "step-without-scale": Case("""
        def run():
            model = nn.Linear(2, 1)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            scaler = torch.amp.GradScaler("cpu")
            model(torch.randn(3, 2)).sum().backward()
            scaler.step(optimizer)  # <- here
        """, {}, ["scaler.scale(loss).backward()"]),
    "unscale-fp16": Case("""
        def run():
            model = nn.Linear(2, 1).half()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            scaler = torch.amp.GradScaler("cpu")
            scaler.scale(model(torch.randn(3, 2).half()).sum()).backward()
            scaler.step(optimizer)  # <- here
        """, {}, [".half()"]),
    "missing-forward": Case("""
        class Net(nn.Module):
            def foward(self, x):
                return x
        def run():
            return Net()(torch.randn(2))  # <- here
        """, {"module": "Net"}, ["forward(self, x)"]),
    "empty-parameters": Case("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = [nn.Linear(2, 2), nn.Linear(2, 1)]
        def run():
            return torch.optim.SGD(Net().parameters(), lr=0.1)  # <- here
        """, {}, ["nn.ModuleList"]),
    "bool-of-tensor": Case("""
        def run():
            outputs = torch.randn(3)
            if outputs > 0:  # <- here
                return 1
        """, {}, [".all()"]),
    "dimension-out-of-range": Case("""
        def run():
            scores = torch.randn(4, 3)
            return F.softmax(scores, dim=2)  # <- here
        """, {"got": "2", "low": "-2", "high": "1"}, ["2 dimensions", "dim=1"]),
    "no-length": Case("""
        class Numbers(Dataset):
            def __getitem__(self, i):
                return torch.tensor(float(i))
        def run():
            return DataLoader(Numbers(), shuffle=True)  # <- here
        """, {"cls": "Numbers"}, ["__len__"]),
    "weights-only-load": Case("""
        import io
        def run():
            buffer = io.BytesIO()
            torch.save(nn.Linear(2, 2), buffer)  # the whole model, not its state_dict
            buffer.seek(0)
            return torch.load(buffer)  # <- here
        """, {"name": "torch.nn.modules.linear.Linear"}, ["torch.nn.modules.linear.Linear", "state_dict()",
                                                          "weights_only=False"]),
    "cuda-checkpoint-on-cpu": Case("""
        import io
        def run():
            buffer = io.BytesIO()
            tag = torch.serialization.location_tag
            torch.serialization.location_tag = lambda storage: "cuda:0"  # saved as a GPU machine saves it
            try:
                torch.save({"weight": torch.ones(2)}, buffer)
            finally:
                torch.serialization.location_tag = tag
            buffer.seek(0)
            return torch.load(buffer)  # <- here
        """, {}, ["map_location=device", "has none"], subprocess=True),
    "index-dtype": Case("""
        def run():
            values = torch.arange(5)
            positions = torch.tensor([1.0, 2.0])
            return values[positions]  # <- here
        """, {}, ["idx.long()"]),
}


def _raise(case: Case, tmp_path: Path, name: str) -> dict:
    """Run the case's `run()` as student code and describe what it raised, as a worker does."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    module = "student_" + name.replace("-", "_")
    (code / f"{module}.py").write_text(HEADER + textwrap.dedent(case.code))
    if case.subprocess:
        script = (f"import json, sys\nsys.path.insert(0, {str(code)!r})\nfrom grader.runner.sandbox import describe_exception\n"
                  f"import {module}\ntry:\n    {module}.run()\nexcept BaseException as exc:\n"
                  f"    print(json.dumps(describe_exception(exc, {str(code)!r}, 'probe')))\n")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert done.stdout.strip(), f"{name}: raised nothing\n{done.stderr[-2000:]}"
        return json.loads(done.stdout)
    spec = importlib.util.spec_from_file_location(module, code / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    try:
        loaded.run()
    except BaseException as exc:  # noqa: BLE001 - whatever the buggy code raises is the point
        return describe_exception(exc, str(code), "probe")
    raise AssertionError(f"{name}: the buggy code raised nothing with torch {__import__('torch').__version__}")


def _marked_line(case: Case) -> int:
    lines = (HEADER + textwrap.dedent(case.code)).splitlines()
    return next(i for i, line in enumerate(lines, 1) if "# <- here" in line)


def test_the_catalogue_is_big_enough_and_every_entry_is_tested():
    ids = [entry.id for entry in catalogue()]
    assert len(ids) == len(set(ids)), "two entries share an id"
    assert len(ids) >= 25
    assert set(ids) == set(CASES), f"untested: {set(ids) - set(CASES)}; no such entry: {set(CASES) - set(ids)}"


def test_every_entry_links_existing_glossary_terms():
    glossary = load_glossary(ROOT / "glossary", ROOT)
    for entry in catalogue():
        missing = [c for c in entry.concepts if c not in glossary]
        assert not missing, f"{entry.id}: no glossary term {missing}"


@pytest.mark.filterwarnings("ignore::UserWarning")  # MSELoss warns about the sizes before it raises
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if not c.cuda])
def test_a_real_error_is_explained(name, tmp_path):
    case = CASES[name]
    error = _raise(case, tmp_path, name)
    explained = explain(error)
    assert explained is not None, f"{name}: not recognised: {error['type']}: {error['message'][:300]}"
    assert explained.id == name, f"explained as {explained.id}: {error['message'][:300]}"
    for fact, value in case.facts.items():
        assert explained.facts.get(fact) == value, (fact, explained.facts)
    entry = next(e for e in catalogue() if e.id == name)
    assert explained.concepts == entry.concepts
    assert error.get("line") == _marked_line(case), (error.get("line"), error.get("code"))

    # As the student reads it: the explanation, their line, what to try, then PyTorch's own message.
    failure = explain_failure(ProbeOutcome(status="ok", duration=0.0, error=error), "the check", {})
    words = failure.message + "\n" + (failure.what_to_try or "")
    for said in case.says:
        assert said in words, f"{name}: {said!r} not in:\n{words}"
    assert f"line {_marked_line(case)}" in failure.message
    # The original stays visible (as every view shows text: PyTorch's own bold escapes written out, not obeyed).
    assert visible(error["message"].splitlines()[0]) in failure.message
    assert failure.message.index("Most likely:") < failure.message.index("PyTorch's own message")
    assert failure.concepts == entry.concepts
    assert failure.explained_by == name and failure.summary


@pytest.mark.cuda
def test_cuda_errors_are_explained(tmp_path):
    case = CASES["cuda-out-of-memory"]
    error = _raise(case, tmp_path, "cuda-out-of-memory")
    explained = explain(error)
    assert explained is not None and explained.id == "cuda-out-of-memory", error
    assert error.get("line") == _marked_line(case)
    mixed = Case("""
        def run():
            model = nn.Linear(2, 2).to("cuda")
            return model(torch.randn(3, 2))  # <- here
        """)
    error = _raise(mixed, tmp_path, "device-mismatch-cuda")
    explained = explain(error)
    assert explained is not None and explained.id == "device-mismatch", error
    assert any(d.startswith("cuda") for d in explained.facts["devices"]) and "cpu" in explained.facts["devices"]


def test_the_real_error_inside_a_dataloader_worker_is_explained(tmp_path):
    case = Case("""
        class Pairs(Dataset):
            def __len__(self):
                return 4
            def __getitem__(self, i):
                return torch.stack([torch.zeros(2), torch.zeros(3)])  # <- here
        def run():
            return next(iter(DataLoader(Pairs(), batch_size=2, num_workers=1)))
        """)
    error = _raise(case, tmp_path, "worker")
    assert error["worker"] == "DataLoader worker process 0"
    assert error["type"] == "RuntimeError" and error["message"].startswith("stack expects each tensor")
    assert error["line"] == _marked_line(case) and error["function"] == "__getitem__"
    explained = explain(error)
    assert explained is not None and explained.id == "stack-sizes"
    message = explain_failure(ProbeOutcome(status="ok", duration=0.0, error=error), "the check", {}).message
    assert "inside a DataLoader worker process 0" in message and f"line {_marked_line(case)}" in message
    # An error the catalogue does not know is unwrapped all the same.
    unknown = Case("""
        class Rows(Dataset):
            def __len__(self):
                return 4
            def __getitem__(self, i):
                return {"a": 1}["label"]  # <- here
        def run():
            return next(iter(DataLoader(Rows(), batch_size=2, num_workers=1)))
        """)
    error = _raise(unknown, tmp_path, "worker_unknown")
    assert explain(error) is None and error["type"] == "KeyError" and error["message"] == "'label'"
    message = explain_failure(ProbeOutcome(status="ok", duration=0.0, error=error), "the check", {}).message
    assert message.startswith("Your code raised `KeyError` while the check “the check” was running your code, "
                              "inside a DataLoader worker process 0")
    assert f"line {_marked_line(unknown)}, in __getitem__()" in message


def test_an_unknown_error_gets_an_honest_account_and_is_counted(tmp_path):
    case = Case("""
        def run():
            sizes = {"train": 10}
            return sizes["validation"] + 1  # <- here
        """)
    error = _raise(case, tmp_path, "unknown")
    assert explain(error) is None
    failure = explain_failure(ProbeOutcome(status="ok", duration=0.0, error=error), "the check", {})
    assert "Your code raised `KeyError`" in failure.message and f"line {_marked_line(case)}" in failure.message
    assert "'validation'" in failure.message
    assert failure.what_to_try is None and failure.concepts == []
    assert failure.explained_by == "" and failure.summary == "KeyError: '…'"
    # An entry's pattern is no wider than its mistake: adding a number to text is no missing parenthesis.
    text = Case("""
        def run():
            return 1 + "epochs"  # <- here
        """)
    error = _raise(text, tmp_path, "unknown_operands")
    assert error["message"].startswith("unsupported operand type(s)") and explain(error) is None


def test_statistics_group_the_same_error_with_other_numbers():
    first = {"type": "RuntimeError", "message": "mat1 and mat2 shapes cannot be multiplied (64x1568 and 392x128)"}
    second = {"type": "RuntimeError", "message": "mat1 and mat2 shapes cannot be multiplied (32x800 and 400x10)"}
    assert summary(first) == summary(second) == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"


def test_the_catalogue_file_is_plain_yaml_with_every_field():
    raw = yaml.safe_load((ROOT / "grader" / "explain" / "catalogue.yaml").read_text())
    assert all({"id", "title", "types", "match", "concepts", "meaning", "cause", "try"} <= set(item) for item in raw)


def _variant(tmp_path: Path, solution: str, old: str, new: str) -> Path:
    """The reference solution with one line changed, as a student's submission folder."""
    source = (ROOT / "solutions" / solution).read_text()
    assert old in source
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / Path(solution).name).write_text(source.replace(old, new, 1))
    return folder


@pytest.mark.slow
def test_grade_explains_a_forward_that_flattens_to_the_wrong_size(grade, tmp_path):
    folder = _variant(tmp_path, "02-forward/model.py", "x = self.pool(F.relu(self.conv2(x)))", "x = F.relu(self.conv2(x))")
    result = grade("exercise", "2", "--submission", str(folder), "--format", "json").json()
    check = result["checks"][0]
    assert check["status"] == "failed" and check["failure"]["run"]["explained"]["id"] == "matmul-shapes"
    assert "6272 numbers per example" in check["message"] and "built to take 1568" in check["message"]
    assert (check["file"], check["line"]) == ("model.py", 23) and "line 23, in forward()" in check["message"]
    assert "nn.Linear(6272, 128)" in check["what_to_try"]
    assert {"shape", "flatten", "fully-connected-layer"} <= set(check["concepts"])
    text = grade("exercise", "2", "--submission", str(folder)).stdout
    assert "PyTorch's own message (RuntimeError):" in text and "Flatten:" in text  # the glossary term is shown


@pytest.mark.slow
def test_grade_explains_labels_that_are_floats(grade, tmp_path):
    folder = _variant(tmp_path, "03-training-loop/train.py", "loss = loss_fn(outputs, targets)\n",
                      "loss = loss_fn(outputs, targets.float())\n")
    result = grade("exercise", "3", "--submission", str(folder), "--format", "json").json()
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    assert failed and all(c["failure"]["run"]["explained"]["id"] == "target-dtype" for c in failed)
    check = failed[0]
    assert "labels of dtype Float" in check["message"] and '"Long"' in check["message"]
    assert (check["file"], check["line"]) == ("train.py", 13)
    assert ".long()" in check["what_to_try"] and "dtype" in check["concepts"]


@pytest.mark.slow
def test_grade_names_the_two_devices_of_a_batch_left_on_the_cpu(grade, tmp_path):
    folder = _variant(tmp_path, "04-device/device.py", "    inputs = inputs.to(device)\n", "")
    result = grade("exercise", "4", "--submission", str(folder), "--format", "json").json()
    check = next(c for c in result["checks"] if c["id"] == "inputs-on-device")
    assert check["status"] == "failed"
    assert "`meta`" in check["message"] and "`cpu`" in check["message"]
    assert "inputs = inputs.to(device)" in check["what_to_try"]
