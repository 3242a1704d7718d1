"""The helpers check authors build on (grader/checks/): each is tried on small pieces of correct and
buggy PyTorch code, in this process (they are plain functions; the sandbox is tested elsewhere)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from grader.checks import CheckFailed  # noqa: E402
from grader.checks.independence import input_dependence, mixed_samples  # noqa: E402
from grader.checks.compare import expect_tensor  # noqa: E402
from grader.checks.compare import tensor_difference as difference_facts  # noqa: E402
from grader.checks.data import (  # noqa: E402
    classification_data, classification_loader, fake_images, images)
from grader.checks.spies import ModelWatch, OptimizerSpy  # noqa: E402

# ----------------------------------------------------------------------------- tensor comparison


def tensor_difference(*args, **kwargs) -> str | None:
    """The difference in the words a student reads (the helper records facts; the view says them)."""
    from grader.render.words import Messages

    facts = difference_facts(*args, **kwargs)
    return None if facts is None else Messages(None).say(facts)


def test_equal_tensors_have_no_difference():
    x = torch.randn(3, 4)
    assert tensor_difference(x.clone(), x) is None
    assert tensor_difference(x + 1e-7, x) is None  # float32 rounding is not a mistake


def test_shape_is_named_first_and_a_rearrangement_is_recognised():
    x = torch.randn(3, 4)
    message = tensor_difference(x.t(), x, name="forward's output")
    assert message.startswith("forward's output has shape (4, 3) where (3, 4) is expected.")
    assert "arranged differently" in message
    assert "2 dimensions instead of 1" in tensor_difference(x, torch.zeros(5))
    assert "(12,)" in tensor_difference(torch.zeros(12), x)


def test_dtype_and_device_are_named():
    x = torch.randn(2, 2)
    assert tensor_difference(x.double(), x) == "the result has dtype torch.float64 where torch.float32 is expected."
    assert tensor_difference(x.to("meta"), x) == "the result is on the meta device where cpu is expected."
    assert tensor_difference(x.double(), x, check_dtype=False) is None


def test_values_say_how_many_differ_and_where_the_largest_difference_is():
    want = torch.zeros(3, 4)
    got = want.clone()
    got[1, 2] = 0.5
    got[2, 3] = -2.0
    message = tensor_difference(got, want, name="scale(x, 3.0)")
    assert "2 of 12 values differ" in message
    assert "at index [2, 3], where you have -2 and a correct solution has 0" in message


def test_nan_is_explained_and_nan_on_both_sides_is_equal():
    want = torch.ones(4)
    got = want.clone()
    got[1] = float("nan")
    message = tensor_difference(got, want)
    assert "index [1]" in message and "NaN" in message
    assert tensor_difference(got, got.clone()) is None


def test_integer_and_scalar_tensors():
    assert "1 of 3 values differ" in tensor_difference(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4]))
    assert "the single value" in tensor_difference(torch.tensor(2.0), torch.tensor(3.0))


def test_a_value_that_is_not_a_tensor_is_described():
    message = tensor_difference(3.0, torch.zeros(2, 5), name="forward")
    assert message == "forward is the number 3, where a tensor of shape (2, 5) is expected."


def test_expect_tensor_fails_the_check_with_the_message_and_tip():
    with pytest.raises(CheckFailed) as failed:
        expect_tensor(torch.zeros(2), torch.ones(2), name="x", what_to_try="grader.not-collected")
    from grader.render.words import Messages

    said = Messages(None).say
    assert said(failed.value.said).startswith("x does not match")
    assert said(failed.value.what_to_try) == "This check did not run (the grader could not collect it)."
    expect_tensor(torch.ones(2), torch.ones(2))  # passes silently


# ----------------------------------------------------------------------------- seeded data


def test_classification_data_is_seeded_learnable_and_has_every_class():
    a, b = classification_data(1, n=200), classification_data(1, n=200)
    assert torch.equal(a.tensors[0], b.tensors[0]) and torch.equal(a.tensors[1], b.tensors[1])
    assert not torch.equal(a.tensors[0], classification_data(2, n=200).tensors[0])
    x, y = a.tensors
    assert y.dtype == torch.int64 and set(y.tolist()) == {0, 1, 2}
    assert torch.equal(y, x[:, :3].argmax(dim=1))
    assert set(classification_data(0, n=400, features=5, classes=5).tensors[1].tolist()) == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match="features >= classes"):
        classification_data(0, features=2, classes=3)


def test_classification_loader_gives_full_batches_in_a_seeded_order():
    loader = classification_loader(0, batches=5, batch_size=4)
    assert [len(y) for _, y in loader] == [4] * 5
    assert [len(y) for _, y in classification_loader(0, batches=3, batch_size=4, last_batch=1)] == [4, 4, 1]
    first = [y.tolist() for _, y in classification_loader(3, shuffle=True)]
    assert first == [y.tolist() for _, y in classification_loader(3, shuffle=True)]


def test_images_and_fake_images_are_seeded():
    assert images(0, 2, channels=3, size=(5, 7)).shape == (2, 3, 5, 7)
    assert torch.equal(images(4, 3), images(4, 3))
    data = fake_images(5, n=4, image_size=(1, 8, 8), classes=3)
    image, label = data[2]
    again, label_again = fake_images(5, n=4, image_size=(1, 8, 8), classes=3)[2]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and torch.equal(image, again)
    assert int(label) == int(label_again) and 0 <= int(label) < 3
    assert not torch.equal(image, fake_images(6, n=4, image_size=(1, 8, 8), classes=3)[2][0])


# ----------------------------------------------------------------------------- spies


def _setup(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, optimizer, classification_loader(seed, batches=3, batch_size=4)


def _loop(model, optimizer, loader, *, zero="before", clip=False, backward=True, clip_value=False):
    loss_fn = nn.CrossEntropyLoss()
    for x, y in loader:
        if zero == "before":
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if backward:
            loss.backward()
        if zero == "between":
            optimizer.zero_grad()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), 1e-3)
        if clip_value:
            nn.utils.clip_grad_value_(model.parameters(), 1e-2)
        optimizer.step()
        if zero == "after-step-model":
            model.zero_grad()


def test_optimizer_spy_sees_a_correct_loop():
    model, optimizer, loader = _setup()
    spy = OptimizerSpy(optimizer, keep_grads=True)
    _loop(model, optimizer, loader)
    assert spy.verdicts == ["fresh"] * 3
    assert spy.events == ["zero_grad", "backward", "step"] * 3
    assert all(s["grad_norm"] > 0 for s in spy.steps)
    assert len(spy.steps[0]["grads"]) == 4 and spy.steps[0]["grads"][0].shape == (8, 6)


@pytest.mark.parametrize("mistake, verdicts", [
    ({"zero": None}, ["fresh", "stale", "stale"]),                 # missing zero_grad
    ({"zero": "between"}, ["cleared"] * 3),                        # zero_grad between backward and step
    ({"backward": False}, ["no-backward"] * 3),                    # step without backward
    ({"clip": True}, ["scaled"] * 3),                              # clipping: legitimate, and recognised
    ({"clip_value": True}, ["scaled"] * 3),                        # clipping by value too
])
def test_optimizer_spy_names_each_mistake(mistake, verdicts):
    model, optimizer, loader = _setup()
    spy = OptimizerSpy(optimizer)
    _loop(model, optimizer, loader, **mistake)
    assert spy.verdicts == verdicts


def test_optimizer_spy_counts_model_zero_grad_when_given_the_model():
    model, optimizer, loader = _setup()
    spy = OptimizerSpy(optimizer, model=model)
    _loop(model, optimizer, loader, zero="after-step-model")
    assert spy.verdicts == ["fresh"] * 3
    assert spy.events == ["backward", "step", "zero_grad"] * 3
    spy.remove()


def test_optimizer_spy_counts_the_backward_passes_each_step_sums():
    model, optimizer, loader = _setup()
    spy = OptimizerSpy(optimizer)
    _loop(model, optimizer, loader, zero=None)
    assert spy.summed == [1, 2, 3]


def test_model_watch_notes_mode_grad_mode_and_autocast():
    model = nn.Linear(4, 2)
    with ModelWatch(model) as watch:
        model.train()
        model(torch.randn(3, 4))
        model.eval()
        with torch.no_grad():
            model(torch.randn(5, 4))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(torch.randn(1, 4))
    training, evaluation, mixed = watch.calls
    assert training["training"] and training["grad_enabled"] and training["input_shape"] == [3, 4]
    assert not evaluation["training"] and not evaluation["grad_enabled"]
    assert mixed["autocast"] == {"cpu": True, "cuda": False} and not training["autocast"]["cpu"]
    assert training["param_dtypes"] == ["torch.float32"]
    model(torch.randn(1, 4))
    assert len(watch.calls) == 3 and "forward" not in vars(model)  # the watch is gone with its context


def _sequential(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


CALL_STYLES = {
    "call": lambda model, x: model(x),
    "forward": lambda model, x: model.forward(x),
    "functional_call": lambda model, x: torch.func.functional_call(model, dict(model.named_parameters()), (x,)),
    "layers": lambda model, x: model[2](model[1](model[0](x))),
    "functional": lambda model, x: torch.nn.functional.linear(
        torch.relu(torch.nn.functional.linear(x, model[0].weight, model[0].bias)), model[2].weight, model[2].bias),
}


@pytest.mark.parametrize("style", CALL_STYLES)
def test_model_watch_sees_every_way_of_running_the_model(style):
    """model(x), model.forward(x), functional_call, layer by layer, F.linear on its weights: one pass per
    batch each time, in the state it ran in."""
    model = _sequential()
    with ModelWatch(model, layers=True) as watch:
        for number in range(3):
            with torch.set_grad_enabled(number != 1):
                CALL_STYLES[style](model, torch.randn(2 + number, 4))
    assert [c["grad_enabled"] for c in watch.calls] == [True, False, True], watch.calls
    assert [c["input_shape"] for c in watch.calls] == [[2, 4], [3, 4], [4, 4]]
    how = {"functional_call": "call", "functional": "layers"}.get(style, style)
    assert [c["how"] for c in watch.calls] == [how] * 3
    assert [(layer["kind"], layer["layer"]) for layer in watch.layers] == [("Linear", "0"), ("Linear", "2")] * 3


def test_model_watch_says_how_the_model_was_called_and_ignores_other_uses_of_its_parameters():
    model = _sequential()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with ModelWatch(model) as watch:
        model(torch.randn(2, 4)).sum().backward()
        optimizer.step()  # uses every parameter, runs no forward pass
        model.to(torch.float64).to(torch.float32)
        model.forward(torch.randn(2, 4))
        model[0](torch.randn(2, 4))
    assert [c["how"] for c in watch.calls] == ["call", "forward", "layers"]


def test_a_copy_of_a_watched_model_is_a_model_of_its_own():
    import copy

    model = _sequential()
    with ModelWatch(model) as watch:
        twin = copy.deepcopy(model)
        with torch.no_grad():
            twin[0].weight.add_(1.0)
        assert not torch.equal(twin(torch.ones(1, 4)), model(torch.ones(1, 4)))
    assert len(watch.calls) == 1  # the copy's pass is not the model's


def test_model_watch_notes_device_mismatches_and_what_forward_called():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return nn.Dropout(0.5)(torch.nn.functional.relu(self.fc(x)))

    model = Net().to("meta")
    with ModelWatch(model) as watch:
        model(torch.randn(3, 4, device="meta"))
        with pytest.raises(RuntimeError):
            model(torch.randn(3, 4))
    assert watch.device_mismatches == [{"layer": "fc (Linear)", "input": "cpu", "weights": "meta"}]
    assert {"layer": None, "kind": "Dropout"} in watch.module_calls and {"layer": "fc", "kind": "Linear"} in watch.module_calls
    assert "relu" in watch.functions and "linear" not in watch.functions  # inside self.fc, not forward's own


# ----------------------------------------------------------------------------- batch independence


def test_independent_model_passes_through_gradients():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5)).eval()
    facts = input_dependence(model, torch.randn(6, 3, 4))
    assert facts["method"] == "gradient" and facts["rows"] == list(range(6))
    assert mixed_samples(facts) == []


def test_rows_mixed_by_a_wrong_view_are_found():
    torch.manual_seed(0)
    layer = nn.Linear(12, 5)

    def wrong(x):  # the right shape, numbers from several samples in each row
        return layer(x.reshape(12, -1).t())

    broken = mixed_samples(input_dependence(wrong, torch.randn(6, 3, 4)))
    assert broken and broken[0]["row"] == 0 and broken[0]["others"]


def test_mixing_is_found_without_gradients_too():
    def centred(x):
        with torch.no_grad():
            return x - x.mean(dim=0)

    facts = input_dependence(centred, torch.randn(10, 3))
    assert facts["method"] == "change" and facts["rows"] == [0, 1, 5, 9]
    assert {b["row"] for b in mixed_samples(facts)} == {0, 1, 5, 9}


def test_a_row_that_ignores_its_sample_and_a_wrong_shape():
    facts = input_dependence(lambda x: torch.zeros(x.shape[0], 2) + x.sum() * 0, torch.randn(3, 2))
    assert [b["own"] for b in mixed_samples(facts)] == [False] * 3
    assert mixed_samples(input_dependence(lambda x: x.sum(0), torch.randn(3, 2))) == []
