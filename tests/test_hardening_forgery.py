"""Cheap in-process forgery (issue 18, class 9): a probe watches the student's code in the student's own
process, so what it records must not change when that code reassigns one of PyTorch's functions or flips
one attribute. Each forgery below is a known mistake (a mutant of `solutions/NN-*/mutants/`) with a few
lines appended that tried to hide it, graded through the real CLI: the check that names the mistake must
still fail. Every one of them passed that check before the spies and probes read PyTorch through
`grader.checks.pristine` (bound before the student's module is imported), judged every layer's mode, and
compared clipped steps with a reference clipped the same way.

The fast tests below look at the spies themselves, in this process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from grader.checks import pristine
from grader.checks.spies import ModelWatch, OptimizerSpy, mode_of, replay_clipping

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "solutions"

_SCALE_GRADS_BEFORE_EACH_STEP = """
    _real = {function}
    def {function}({arguments}):
        step = optimizer.step
        def scaled_step(*a, **k):
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.mul_({factor})
            return step(*a, **k)
        optimizer.step = scaled_step
        try:
            return _real({arguments})
        finally:
            optimizer.step = step
"""


def _scaling(function: str, arguments: str, factor: str) -> str:
    return _SCALE_GRADS_BEFORE_EACH_STEP.format(function=function, arguments=arguments, factor=factor)


# name: (exercise, mutant, the check that names its mistake, words its failure must hold, the forgery)
FORGERIES = {
    # (a) the model's own `training` flag flipped by hand, its layers left in the other mode
    "train_mode_flag_set_by_hand": ("3", "03-training-loop/mutants/no_train_mode.py", "train-mode", "model.training", """
        _real = train_one_epoch
        def train_one_epoch(model, loader, loss_fn, optimizer):
            model.training = True
            return _real(model, loader, loss_fn, optimizer)
    """),
    "eval_mode_flag_set_by_hand_with_batch_norm_frozen": ("3", "03-training-loop/mutants/no_eval_mode.py", "eval-mode",
                                                          "Dropout", """
        _real = evaluate
        def evaluate(model, loader, loss_fn):
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.eval()
            model.training = False
            return _real(model, loader, loss_fn)
    """),
    "train_overridden_and_torch_equal_patched": ("3", "03-training-loop/mutants/no_eval_mode.py", "eval-mode",
                                                 "still in training mode", """
        torch.nn.Module.train = lambda self, mode=True: (object.__setattr__(self, "training", False), self)[1]
        torch.equal = lambda *a, **k: True
    """),
    "eval_made_a_no_op_before_the_probe_sets_it": ("3", "03-training-loop/mutants/no_train_mode.py", "train-mode",
                                                   "evaluation mode", """
        torch.nn.Module.eval = lambda self: self
    """),
    # (b) grad mode asked through a reassigned function
    "is_grad_enabled_patched_in_evaluate": ("3", "03-training-loop/mutants/no_no_grad.py", "no-grad-in-eval",
                                            "Gradient tracking was on", """
        _real = evaluate
        def evaluate(model, loader, loss_fn):
            real, real_c = torch.is_grad_enabled, torch._C.is_grad_enabled
            torch.is_grad_enabled = torch._C.is_grad_enabled = lambda: False
            try:
                return _real(model, loader, loss_fn)
            finally:
                torch.is_grad_enabled, torch._C.is_grad_enabled = real, real_c
    """),
    # (c) every step's gradients scaled a little (or to almost nothing), so the weights were never compared
    "gradients_scaled_to_skip_the_weight_comparison": ("3", "03-training-loop/mutants/first_batch_every_step.py",
                                                       "optimizer-steps", "clipped as yours were", _scaling(
        "train_one_epoch", "model, loader, loss_fn, optimizer", "0.999")),
    "gradients_scaled_to_almost_nothing": ("3", "03-training-loop/mutants/first_batch_every_step.py", "optimizer-steps",
                                           "clipped as yours were", _scaling(
        "train_one_epoch", "model, loader, loss_fn, optimizer", "1e-9")),
    "gradients_scaled_in_train_step": ("4", "04-device/mutants/loss_divided_by_batch.py", "train-step",
                                       "clipped them", _scaling(
        "train_step", "model, inputs, targets, loss_fn, optimizer, device", "0.999")),
    # Comparisons and measurements made in the worker, through reassignable functions
    "torch_allclose_patched_for_stale_gradients": ("3", "03-training-loop/mutants/no_zero_grad.py", "fresh-gradients",
                                                   "plus the gradients", """
        torch.allclose = lambda *a, **k: True
    """),
    "tensor_item_and_float_patched_for_the_epoch_loss": ("3", "03-training-loop/mutants/last_batch_loss.py",
                                                         "epoch-loss", "train_one_epoch returned 1", """
        torch.Tensor.__float__ = lambda self: 1.0
        torch.Tensor.item = lambda self: 1.0
    """),
    "tensor_item_int_float_patched_for_the_accuracy": ("3", "03-training-loop/mutants/accuracy_count.py",
                                                       "evaluate-results", "evaluate returned", """
        torch.Tensor.__float__ = lambda self: 0.0
        torch.Tensor.__int__ = lambda self: 0
        torch.Tensor.item = lambda self: 0
    """),
    "cross_entropy_patched_to_a_constant": ("3", "03-training-loop/mutants/last_batch_loss.py", "epoch-loss",
                                            "train_one_epoch returned", """
        import torch.nn.functional as F
        _ce = F.cross_entropy
        F.cross_entropy = lambda *a, **k: _ce(*a, **k) * 0 + 1.0
    """),
    "tensor_device_property_reassigned": ("4", "04-device/mutants/inputs_not_assigned.py", "inputs-on-device",
                                          "`inputs.to(device)`", """
        torch.Tensor.device = property(lambda self: torch.device("meta"))
    """),
    "autocast_state_and_tensor_dtype_reassigned": ("5", "05-amp/mutants/no_autocast.py", "autocast-forward",
                                                   "Autocast was off", """
        torch.is_autocast_enabled = lambda *a, **k: True
        _dtype = torch._C.TensorBase.dtype.__get__
        torch.Tensor.dtype = property(lambda self: torch.bfloat16 if _dtype(self) == torch.float32 else _dtype(self))
    """),
    "torch_allclose_patched_in_amp": ("5", "05-amp/mutants/no_zero_grad.py", "fresh-gradients", "plus those left", """
        torch.allclose = lambda *a, **k: True
    """),
    "tensor_item_patched_for_the_amp_loss": ("5", "05-amp/mutants/returns_scaled_loss.py", "returns-loss",
                                             "train_step_amp returned", """
        torch.Tensor.item = lambda self: 1.0
        torch.Tensor.__float__ = lambda self: 1.0
    """),
    "register_hook_calls_the_hook_with_the_scale": ("5", "05-amp/mutants/unscaled_backward.py", "scaled-backward",
                                                    "not on the scaled loss", """
        _real = train_step_amp
        def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
            _hook = torch.Tensor.register_hook
            torch.Tensor.register_hook = lambda self, h: h(torch.tensor(scaler.get_scale()))
            try:
                return _real(model, inputs, targets, loss_fn, optimizer, scaler, device_type)
            finally:
                torch.Tensor.register_hook = _hook
    """),
    "is_floating_point_patched_for_a_float_label": ("1", "01-dataset/mutants/label_float.py", "labels", "float32", """
        _get = CsvImageDataset.__getitem__
        def _getitem(self, idx):
            image, label = _get(self, idx)
            return image, torch.tensor(label)
        CsvImageDataset.__getitem__ = _getitem
        torch.Tensor.is_floating_point = lambda self: False
    """),
    "f_linear_wrapped_so_layers_go_unseen": ("2", "02-forward/mutants/relu_on_logits.py", "raw-logits", "ReLU", """
        import torch.nn.functional as _F
        _F.linear = (lambda real: lambda *a, **k: real(*a, **k))(_F.linear)
    """),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_cheap_forgery_still_fails_the_check_that_names_the_mistake(grade, tmp_path, name):
    exercise, mutant, check, words, forgery = FORGERIES[name]
    source = MUTANTS / mutant
    submission = tmp_path / source.name
    submission.write_text(source.read_text() + "\n" + textwrap.dedent(forgery))
    ran = grade("exercise", exercise, "--submission", str(submission), "--format", "json")
    result = ran.json()
    assert ran.code == 1 and not result["passed"]
    named = next(c for c in result["checks"] if c["id"] == check)
    assert named["status"] == "failed", named
    assert words in named["message"], named["message"]


# ----------------------------------------------------------------------------- the spies themselves


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))


def test_model_watch_records_every_layers_mode():
    model = _model()
    model.eval()
    model.training = True  # the model's own flag only
    x = torch.randn(5, 4)
    with ModelWatch(model) as watch:
        model(x)
        model.train()
        model(x)
    first, second = watch.calls
    assert first["training"] and mode_of(first) == "mixed"
    assert set(first["layers_in_other_mode"]) == {"0 (Linear)", "1 (BatchNorm1d)", "2 (ReLU)", "3 (Dropout)",
                                                  "4 (Linear)"}
    assert mode_of(second) == "train" and second["layers_in_other_mode"] == []


def test_model_watch_reads_grad_mode_from_pytorch_itself(monkeypatch):
    model = _model().eval()
    x = torch.randn(5, 4)
    monkeypatch.setattr(torch, "is_grad_enabled", lambda: False)
    monkeypatch.setattr(torch._C, "is_grad_enabled", lambda: False)
    monkeypatch.setattr(torch, "is_autocast_enabled", lambda *a, **k: True)
    try:
        with ModelWatch(model) as watch:
            model(x)
            with torch.no_grad():  # its exit restores what the patched torch.is_grad_enabled said: off
                model(x)
    finally:
        torch._C._set_grad_enabled(True)
    tracked, untracked = watch.calls
    assert tracked["grad_enabled"] and tracked["output_graph"]
    assert not tracked["autocast"]["cpu"]
    assert not untracked["grad_enabled"] and untracked["output_graph"] is False


def test_pristine_reads_tensors_past_reassigned_attributes_and_modes(monkeypatch):
    t = torch.ones(3)
    monkeypatch.setattr(torch.Tensor, "device", property(lambda self: torch.device("meta")))
    monkeypatch.setattr(torch.Tensor, "item", lambda self: 42.0)
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    with ModelWatch(_model()):  # a TorchFunctionMode is active: C getters would ask torch.Tensor's attributes
        assert pristine.device(t).type == "cpu"
        assert pristine.number(pristine.VF.sum(t)) == 3.0
        assert not pristine.allclose(t, t * 2)


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_a_run_replayed_with_the_recorded_clipping_lands_on_the_same_weights(clip):
    """What lets optimizer-steps compare a clipping loop with the reference: the reference, clipped as the
    student's steps were seen to be clipped, takes the same steps."""
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randn(8, 4, generator=g), torch.randint(0, 2, (8,), generator=g)) for _ in range(4)]

    def run(clipping=None, clips=True):
        model = _model()
        model[3].p = 0.0  # no randomness between the two runs
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        spy = OptimizerSpy(optimizer, keep_grads=True)
        if clipping is not None:
            replay_clipping(optimizer, clipping)
        for inputs, targets in batches:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs), targets).backward()
            if clips and clip == "norm":
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.05)
            elif clips:
                nn.utils.clip_grad_value_(model.parameters(), 0.01)
            optimizer.step()
        return spy, [p.detach().clone() for p in model.parameters()]

    spy, clipped = run()
    assert "scaled" in spy.verdicts
    kinds = {how[0] for step in spy.steps for how in step["clipping"] if how is not None}
    assert ("scale" if clip == "norm" else "cap") in kinds  # (a parameter of one value fits both descriptions)
    replayed_spy, replayed = run([step["clipping"] for step in spy.steps], clips=False)
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(clipped, replayed))
    _, unclipped = run(clips=False)
    assert not all(torch.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(clipped, unclipped))
    # The gradients backward computed are the same step by step, before any clipping.
    for ours, theirs in zip(spy.steps, replayed_spy.steps):
        assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(ours["fresh"], theirs["fresh"]))
